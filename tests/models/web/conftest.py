import pytest

from models_app.models import VersionStatus
from tests.factories import make_model, make_version


@pytest.fixture
def public_model(owner):
    """A public model with a published 1.0.0 (one file) and a draft 1.1.0."""
    model = make_model(owner, "iris-classifier")
    make_version(
        model, "1.0.0", status=VersionStatus.PUBLISHED, files={"model.onnx": b"onnx-bytes"}, changelog="First release"
    )
    make_version(model, "1.1.0", files={"draft.bin": b"draft"}, changelog="Work in progress")
    return model


@pytest.fixture
def private_model(owner):
    model = make_model(owner, "secret-model", visibility="private", summary="Nobody else sees this")
    make_version(model, "0.1.0", status=VersionStatus.PUBLISHED, files={"w.bin": b"weights"})
    return model
