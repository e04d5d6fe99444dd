"""The demo catalog `make run` loads, seeded once for every test in this folder (it trains
models and runs evaluations: minutes), committed as `make run` commits it so a live server's
own connection sees it, and removed afterwards so the tests that follow start clean."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts_app.services import token_create
from models_app.models import RegisteredModel


def pytest_collection_modifyitems(items):
    """Under pytest-xdist (`--dist loadgroup`) every demo test runs on one worker, which seeds
    the demo once; spread over two, each would seed it (minutes each)."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.xdist_group("demo"))


@pytest.fixture(scope="package")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo catalog, committed as `make run` commits it (a live server's own database
    connection sees it), plus a token for bob, who owns the private model."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    from evaluations_app.models import TestSet
    from models_app.models import Blob
    from reviews_app.models import AuditEvent

    media = tmp_path_factory.mktemp("demo-media")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}},
        # The pages are rendered too: static files come from the finders (collectstatic never ran).
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES={**settings.STORAGES, **storages}), django_db_blocker.unblock():
        call_command("seed_demo", stdout=io.StringIO())
        _, token = token_create(user=get_user_model().objects.get(username="bob"), name="snippets")
        yield {"bob_token": token}
        AuditEvent._base_manager.all().delete()
        RegisteredModel.objects.all().delete()
        TestSet.objects.all().delete()
        Blob.objects.all().delete()
        get_user_model().objects.filter(username__in=["alice", "bob", "rita", "admin"]).delete()


@pytest.fixture(autouse=True)
def _media_root():
    """The demo's files live in the module's folder, not a per-test one."""
    yield
