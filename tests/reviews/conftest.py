"""The review workflow's cast: the owner submits, two reviewers decide, others may not."""

from collections.abc import Callable

import pytest

from models_app.models import ModelVersion, RegisteredModel, ScanStatus, VersionStatus
from registry_site.celery import app as celery_app
from reviews_app import services
from reviews_app.models import Review
from tests.factories import make_model, make_version, tiny_onnx_bytes

GOOD_CARD = (
    "# Iris classifier\n\n"
    "A logistic regression trained on the 150 flowers of Fisher's iris data set, with the four "
    "petal and sepal measurements in centimetres as inputs and the species as output. It reaches "
    "about 96 percent accuracy on a held-out split.\n\n"
    "## Intended use\n\nTeaching and quick baselines for tabular classification; not for botany research.\n"
)
SIGNATURE = {
    "inputs": [{"name": "features", "type": "float32", "shape": [None, 4]}],
    "outputs": [{"name": "species", "type": "int64", "shape": [None]}],
}


@pytest.fixture(autouse=True)
def _no_broker():
    """No test talks to a real broker: `.delay` runs the task in-process (eager)."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = True, True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture
def model(owner) -> RegisteredModel:
    return make_model(owner, description=GOOD_CARD)


@pytest.fixture
def draft(model) -> ModelVersion:
    version = make_version(
        model, "1.0.0", files={"model.onnx": tiny_onnx_bytes(), "README.md": b"# readme"}, signature=SIGNATURE
    )
    version.files.update(scan_status=ScanStatus.CLEAN)  # as the worker's scan of a plain ONNX graph finds
    return version


@pytest.fixture
def submitted(draft, owner, reviewer) -> Review:
    """Submitted while a reviewer exists, so there is someone to notify."""
    return services.version_submit(version=draft, actor=owner)


@pytest.fixture
def published(submitted, reviewer) -> ModelVersion:
    services.review_decide(review=submitted, actor=reviewer, decision="approve")
    return reload(submitted.version)


@pytest.fixture
def version_in(model, owner, reviewer) -> Callable[[str, str], ModelVersion]:
    """A version brought to `status` through the real services (so its reviews exist)."""

    def build(status: str, version: str = "1.0.0") -> ModelVersion:
        instance = make_version(model, version, files={"model.onnx": b"bytes of " + version.encode()})
        if status == VersionStatus.DRAFT:
            return instance
        review = services.version_submit(version=instance, actor=owner)
        if status == VersionStatus.IN_REVIEW:
            return reload(instance)
        decision = {
            VersionStatus.PUBLISHED: "approve",
            VersionStatus.DEPRECATED: "approve",
            VersionStatus.CHANGES_REQUESTED: "request_changes",
            VersionStatus.REJECTED: "reject",
        }[status]
        services.review_decide(review=review, actor=reviewer, decision=decision, comment="Because.")
        if status == VersionStatus.DEPRECATED:
            services.version_deprecate(version=instance, actor=owner, reason="Superseded.")
        instance = reload(instance)
        assert instance.status == status
        return instance

    return build


def reload(instance):
    return type(instance).objects.get(pk=instance.pk)
