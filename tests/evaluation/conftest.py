"""The evaluation tests' cast and shared tables: an iris test set, reviewers, an eager broker."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from models_app.evaluation import services as ev
from registry_site.celery import app as celery_app
from reviews_app.permissions import DECIDE_PERMISSION, REVIEWERS_GROUP

from ..factories import UserFactory
from . import crafted


def make_reviewer(username: str, **fields):
    user = UserFactory(username=username, **fields)
    group, created = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    if created:  # a transactional test's flush removes the group migration 0002 made
        app_label, codename = DECIDE_PERMISSION
        group.permissions.add(Permission.objects.get(codename=codename, content_type__app_label=app_label))
    group.user_set.add(user)
    return user


@pytest.fixture(autouse=True)
def _fresh_cache_and_fast_passwords(settings):
    """Throttle counters live in the cache; the cast's passwords are hashed on every test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def reviewer(db):
    return make_reviewer("rita")


@pytest.fixture
def eager_broker():
    """`.delay` runs the task in this process, as a worker would."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = True, True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture(scope="session")
def iris_data():
    return crafted.iris_split()


def iris_test_set(owner, iris_data, name: str = "iris-test", **fields):
    _, X_test, _, y_test = iris_data
    return ev.test_set_create(
        owner=owner, name=name, task="classification", target_column="target",
        uploaded_file=SimpleUploadedFile(f"{name}.csv", crafted.csv_bytes(X_test, y_test)), **fields,
    )  # fmt: skip
