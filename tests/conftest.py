import shutil

import pytest
from rest_framework.test import APIClient

from accounts_app.services import token_create

from .factories import UserFactory


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


@pytest.fixture
def owner(db):
    return UserFactory(username="olivia")


@pytest.fixture
def outsider(db):
    return UserFactory(username="oscar")


@pytest.fixture
def reviewer(db):
    return UserFactory(username="rita")


@pytest.fixture
def staff(db):
    return UserFactory(username="sam", is_staff=True)


@pytest.fixture
def api():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        _, raw = token_create(user=user, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def owner_api(owner):
    return client_for(owner)


@pytest.fixture
def outsider_api(outsider):
    return client_for(outsider)


@pytest.fixture
def staff_api(staff):
    return client_for(staff)
