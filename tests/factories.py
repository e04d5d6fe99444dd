"""Factories for the cast of every test: owner, reviewer, outsider, staff.

They build the world a test starts from through the services, as production does. The
accounts', catalog's and evaluation's own audit events of that set-up (a role granted, a
token made, a model registered, a draft created, a file uploaded) are not written: they are
the state before the test, not what it does, and tests of the trail walk those actions
through the API and the pages (tests/reviews/test_audit_of_every_action.py). The review
workflow's steps (make_version's submit and decision) are recorded as always.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import factory
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from accounts_app.roles import Role, role_grant
from accounts_app.services import token_create
from evaluations_app import scanning
from models_app import services
from models_app.models import ModelVersion, RegisteredModel, ScanStatus, VersionStatus
from registry_site import audit as audit_hook
from reviews_app import checks as review_checks
from reviews_app import services as review_services


@contextmanager
def set_up_unaudited() -> Iterator[None]:
    """The audit hook's writers, set aside while a factory builds the starting state."""
    saved = list(audit_hook._writers)
    audit_hook._writers.clear()
    try:
        yield
    finally:
        audit_hook._writers[:] = saved


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


def make_user(username: str, *roles: Role, **fields):
    """A user holding the given roles, granted the way an administrator grants them."""
    return grant(UserFactory(username=username, **fields), *roles)


def grant(user, *roles: Role):
    with set_up_unaudited():
        for role in roles:
            role_grant(user=user, role=role, actor=None)
    return user


def make_reviewer(username: str, **fields):
    return make_user(username, Role.REVIEWER, **fields)


def login_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client_for(user) -> APIClient:
    """An API client with a fresh Bearer token of the user (anonymous for None)."""
    client = APIClient()
    if user is not None:
        with set_up_unaudited():
            _, raw = token_create(user=user, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def make_model(owner, name: str = "iris-classifier", **fields) -> RegisteredModel:
    defaults = {
        "task": "tabular-classification",
        "framework": "scikit-learn",
        "license": "MIT",
        "summary": "Classifies iris flowers",
        "description": "# Iris classifier\n\nA logistic regression.",
        "tags": ["iris", "tabular"],
        "visibility": "public",
    }
    defaults.update(fields)
    with set_up_unaudited():
        return services.model_create(owner=owner, name=name, **defaults)


def make_released_model(owner, name: str = "iris-classifier", **fields) -> RegisteredModel:
    """A model with a published 1.0.0 (made as make_version makes it): what the public sees.
    A model without a release is hidden from all but its owner, reviewers and staff."""
    model = make_model(owner, name, **fields)
    make_version(model, "1.0.0", status=VersionStatus.PUBLISHED)
    model.refresh_from_db()
    return model


# The reviewer who decides on the submissions make_version makes (get-or-create by username).
RELEASE_REVIEWER = "release-reviewer"
# The file a version gets when a test asks for a submitted status but gives no files:
# a version without files cannot be submitted.
PLACEHOLDER_FILES = {"model.bin": b"placeholder weights"}


def tiny_onnx_bytes(features: int = 4) -> bytes:
    """A real, valid ONNX model (Identity on a float32 [N, features] tensor): bytes that the
    format detection and the files check accept as a model, built in milliseconds."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["features"], ["scores"])],
        "tiny",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, features])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, features])],
    )
    model = helper.make_model(graph, producer_name="tests", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


# The decision that leads from an open review to each status (deprecated is published first).
_DECISIONS = {
    VersionStatus.PUBLISHED: "approve",
    VersionStatus.DEPRECATED: "approve",
    VersionStatus.CHANGES_REQUESTED: "request_changes",
    VersionStatus.REJECTED: "reject",
}
_COMMENTS = {
    "request_changes": "Please address the review comments.",
    "reject": "Not suitable for the registry.",
}


def release_reviewer(model: RegisteredModel):
    """The factory's reviewer for the model: `release-reviewer`, or another if the owner is that user."""
    username = RELEASE_REVIEWER if model.owner.username != RELEASE_REVIEWER else f"{RELEASE_REVIEWER}-2"
    return make_reviewer(username)


def make_version(
    model: RegisteredModel,
    version: str = "1.0.0",
    status: str = VersionStatus.DRAFT,
    files: dict | None = None,
    **fields,
) -> ModelVersion:
    """A version with files, brought to `status` the way production does.

    The owner creates the draft and uploads `files`; for any other status the owner submits
    it (in review), and `release_reviewer` then approves it (published: published_at set,
    hashes pinned, the regression gate overridden if it blocks), or requests changes or
    rejects it with a comment; for deprecated the owner then deprecates the published version
    ("Superseded."). Every step records its reviews, audit events and notifications (to the
    reviewers on submission, to the owner on the decision), as in production.

    A version cannot be submitted without a file: asked for a submitted status with no
    `files`, the version gets one small file, `model.bin` (PLACEHOLDER_FILES).
    """
    status = VersionStatus(status)
    if status != VersionStatus.DRAFT and not files:
        files = PLACEHOLDER_FILES
    with set_up_unaudited():
        instance = services.version_create(model=model, version=version, created_by=model.owner, **fields)
        for path, content in (files or {}).items():
            services.file_upload(
                version=instance,
                uploaded_file=SimpleUploadedFile(path.rsplit("/", 1)[-1], content),
                actor=model.owner,
                path=path,
            )
    return move_to(instance, status)


def move_to(instance: ModelVersion, status: str) -> ModelVersion:
    """Bring a draft with files to `status` through the review services (see make_version)."""
    status, model = VersionStatus(status), instance.model
    if status == VersionStatus.DRAFT:
        return instance
    reviewer = release_reviewer(model) if status in _DECISIONS else None
    # The scans a worker runs after each upload, here and now, as they would have finished
    # before anyone submitted.
    for file_id in instance.files.filter(scan_status=ScanStatus.PENDING).values_list("pk", flat=True):
        scanning.file_scan(file_id=file_id)
    review = review_services.version_submit(version=instance, actor=model.owner)
    if reviewer is not None:
        decision = _DECISIONS[status]
        comment = _COMMENTS.get(decision, "")
        # A factory never fails on the regression gate: a test asking for a published version
        # gets one, whatever its evaluations say. Overriding needs a comment saying why.
        blocked = decision == "approve" and (
            review_checks.regressions(instance, review_checks.previous_published(instance))
            or review_checks.scan_blockers(instance)
        )
        if blocked:
            comment = "Published by the test factory over the regression gate or the scan."
        review_services.review_decide(
            review=review, actor=reviewer, decision=decision, comment=comment,
            override_regression=True, override_scan=True,
        )  # fmt: skip
    if status == VersionStatus.DEPRECATED:
        review_services.version_deprecate(version=instance, actor=model.owner, reason="Superseded.")
    instance.refresh_from_db()
    assert instance.status == status, f"make_version reached {instance.status}, not {status}"
    return instance
