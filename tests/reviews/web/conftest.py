"""The cast for the review pages: the `reviewer` of tests/conftest.py joins the reviewers
group here (the group comes from a data migration)."""

import pytest

from models_app.models import ScanStatus, VersionStatus
from reviews_app import services
from tests.factories import make_model, make_version, tiny_onnx_bytes

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
    version = make_version(
        model, "1.1.0", files={"model.onnx": tiny_onnx_bytes(), "README.txt": b"read me"},
        changelog="Retrained on **more** data", params={"C": 0.5, "max_iter": 200}, signature=SIGNATURE,
    )  # fmt: skip
    version.files.update(scan_status=ScanStatus.CLEAN)  # as the worker's scan of a plain ONNX graph finds
    return version


@pytest.fixture
def review(draft, owner, reviewer):
    """The open review of 1.1.0, submitted by its owner (the reviewer is in the group, so notified)."""
    return services.version_submit(version=draft, actor=owner, note="Please look at the new solver.")
