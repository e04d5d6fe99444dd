"""Settings every test run shares; fixtures live in tests/conftest.py."""

import os

import django

# Tests always run with a known secret and never touch the developer's var/ folder.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("VAR_DIR", os.path.join(os.path.dirname(__file__), "var", "test"))
# Under pytest-xdist each worker process gets its own var/ folder and its own Redis database
# for the broker, so one worker's Celery tests never take another's tasks (PostgreSQL and
# SQLite test databases are already per worker: pytest-django suffixes them).
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER:
    os.environ["VAR_DIR"] = os.path.join(os.environ["VAR_DIR"], _XDIST_WORKER)
    _broker = os.environ.get("CELERY_BROKER_URL", "")
    if _broker.startswith(("redis://", "rediss://")):
        from urllib.parse import urlparse as _urlparse

        _index = 1 + int(_XDIST_WORKER.removeprefix("gw") or 0)
        os.environ["CELERY_BROKER_URL"] = _urlparse(_broker)._replace(path=f"/{_index}").geturl()
# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls
# from a thread with a running loop unless told this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Named here rather than in pyproject.toml: pytest-django loads the settings named there
# before any conftest runs, so the defaults above would come too late.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry_site.settings")
django.setup()

import shutil  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

import pytest  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _group_problems() -> dict[str, str]:
    """Which optional test groups cannot run here, and why (empty when all can)."""
    problems = {}
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        problems["browser"] = f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run installs it)"
    if urlparse(os.environ.get("DATABASE_URL", "")).scheme not in ("postgres", "postgresql", "pgsql"):
        problems["postgres"] = "DATABASE_URL does not point at PostgreSQL (.ci/run sets it)"
    if urlparse(os.environ.get("CELERY_BROKER_URL", "")).scheme not in ("redis", "rediss"):
        problems["redis"] = "CELERY_BROKER_URL does not point at Redis (.ci/run sets it)"
    return problems


def _in_group(item, group: str) -> bool:
    return group in item.keywords or (group == "browser" and "tests/e2e/" in item.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    problems = _group_problems()
    strict = os.environ.get("REQUIRE_ALL_GROUPS") == "1"
    if strict and problems:
        raise pytest.UsageError(
            "REQUIRE_ALL_GROUPS=1 but some test groups cannot run: "
            + "; ".join(f"{k}: {v}" for k, v in problems.items())
        )
    config._skipped_groups = {}
    for item in items:
        for group, reason in problems.items():
            if _in_group(item, group):
                item.add_marker(pytest.mark.skip(reason=f"{group} group skipped: {reason}"))
                config._skipped_groups[group] = config._skipped_groups.get(group, 0) + 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = getattr(config, "_skipped_groups", {})
    if not skipped:
        return
    problems = _group_problems()
    terminalreporter.section("test groups skipped on this machine")
    for group, count in skipped.items():
        terminalreporter.write_line(f"{group}: {count} tests skipped, because {problems[group]}")
    terminalreporter.write_line("Run .ci/run to provide every group.")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On SQLite, the test database is a file, not Django's shared-cache in-memory database:
    there, concurrent writers (a live server's threads, as the mlflow client downloads a
    model's files in parallel) fail at once with "table is locked" instead of waiting for
    the lock as they do on the file database `make run` uses."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        os.makedirs(os.environ["VAR_DIR"], exist_ok=True)
        database.setdefault("TEST", {})["NAME"] = os.path.join(os.environ["VAR_DIR"], "test-database.sqlite3")
