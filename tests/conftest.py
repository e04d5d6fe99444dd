"""The fixed cast of every test, and their clients.

- `owner` (olivia) owns the models the tests make;
- `outsider` (oscar) is a signed-in user with nothing to do with them;
- `reviewer` (rita) and `second_reviewer` (ravi) are in the reviewers group;
- `staff` (sam) runs the registry but is not a reviewer: may look, may not decide;
- `superuser` (sue) is a superuser outside the reviewers group.

Each has a logged-in web client (`owner_client`, ...) and an API client with a Bearer
token (`owner_api`, ...); `api` is anonymous.
"""

import shutil

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts_app.roles import Role
from registry_site.celery import app as celery_app

from .factories import api_client_for, login_client, make_reviewer, make_user

# The older name of the API helper, kept for the many tests that use it.
client_for = api_client_for


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Each test stores files in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture(autouse=True)
def _fast_passwords_and_fresh_throttles(settings):
    """The cast's passwords are hashed in every test; throttle counters live in the cache."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def eager_broker():
    """`.delay` runs the task in this process, as a worker would."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = True, True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


# --- The cast ---


@pytest.fixture
def owner(db):
    return make_user("olivia")


@pytest.fixture
def outsider(db):
    return make_user("oscar")


@pytest.fixture
def reviewer(db):
    return make_reviewer("rita")


@pytest.fixture
def second_reviewer(db):
    return make_reviewer("ravi")


@pytest.fixture
def staff(db):
    return make_user("sam", Role.STAFF)


@pytest.fixture
def superuser(db):
    return make_user("sue", Role.STAFF, is_superuser=True)


# --- Their clients ---


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def owner_api(owner) -> APIClient:
    return api_client_for(owner)


@pytest.fixture
def outsider_api(outsider) -> APIClient:
    return api_client_for(outsider)


@pytest.fixture
def reviewer_api(reviewer) -> APIClient:
    return api_client_for(reviewer)


@pytest.fixture
def second_reviewer_api(second_reviewer) -> APIClient:
    return api_client_for(second_reviewer)


@pytest.fixture
def staff_api(staff) -> APIClient:
    return api_client_for(staff)


@pytest.fixture
def superuser_api(superuser) -> APIClient:
    return api_client_for(superuser)


@pytest.fixture
def owner_client(owner):
    return login_client(owner)


@pytest.fixture
def outsider_client(outsider):
    return login_client(outsider)


@pytest.fixture
def reviewer_client(reviewer):
    return login_client(reviewer)


@pytest.fixture
def staff_client(staff):
    return login_client(staff)
