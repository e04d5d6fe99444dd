"""The cast for the review pages: the `reviewer` of tests/conftest.py joins the reviewers
group here (the group comes from a data migration)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from models_app.models import VersionStatus
from reviews_app import services
from reviews_app.permissions import DECIDE_PERMISSION, REVIEWERS_GROUP
from tests.factories import UserFactory, make_model, make_version

GOOD_CARD = (
    "# Iris classifier\n\nA logistic regression trained on the 150 iris flowers of Fisher's data set, "
    "with four measurements of sepals and petals per flower and three species to tell apart. It reaches "
    "high accuracy on a held-out split and is meant as a small, well understood baseline.\n\n"
    "## Intended use\n\nTeaching and smoke tests of classification pipelines."
)
SIGNATURE = {
    "inputs": [{"name": "features", "type": "float32", "shape": [-1, 4]}],
    "outputs": [{"name": "label", "type": "int64"}],
}


def login_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reviewers_group() -> Group:
    """The group of the data migration; re-created if a transactional test flushed it away."""
    group, created = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    if created:
        app_label, codename = DECIDE_PERMISSION
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group


def make_reviewer(user):
    reviewers_group().user_set.add(user)
    return user


@pytest.fixture
def reviewer_in_group(reviewer):
    return make_reviewer(reviewer)


@pytest.fixture
def second_reviewer(db):
    return make_reviewer(UserFactory(username="rafael"))


@pytest.fixture
def reviewer_client(reviewer_in_group) -> Client:
    return login_client(reviewer_in_group)


@pytest.fixture
def owner_client(owner) -> Client:
    return login_client(owner)


@pytest.fixture
def outsider_client(outsider) -> Client:
    return login_client(outsider)


@pytest.fixture
def staff_client(staff) -> Client:
    """Staff, but not in the reviewers group: may look, may not decide."""
    return login_client(staff)


@pytest.fixture
def model(owner):
    """A public model with a published 1.0.0."""
    model = make_model(owner, "iris-classifier", description=GOOD_CARD)
    make_version(
        model, "1.0.0", status=VersionStatus.PUBLISHED, files={"model.onnx": b"onnx-v1", "labels.txt": b"a\nb\nc"},
        params={"C": 1.0, "penalty": "l2"}, signature=SIGNATURE,
    )  # fmt: skip
    return model


@pytest.fixture
def draft(model):
    """1.1.0, a draft with files, ready to submit."""
    return make_version(
        model, "1.1.0", files={"model.onnx": b"onnx-v2", "README.txt": b"read me"}, changelog="Retrained on **more** data",
        params={"C": 0.5, "max_iter": 200}, signature=SIGNATURE,
    )  # fmt: skip


@pytest.fixture
def review(draft, owner, reviewer_in_group):
    """The open review of 1.1.0, submitted by its owner (the reviewer is in the group, so notified)."""
    return services.version_submit(version=draft, actor=owner, note="Please look at the new solver.")
