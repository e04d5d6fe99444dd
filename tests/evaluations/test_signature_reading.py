"""The signature of an uploaded model is read in the scan's sandbox: an ONNX graph's inputs
and outputs (with the classes of its classifier node), a skops estimator's n_features_in_,
feature names and classes_, parsed from its schema and never loaded. It becomes the draft's
signature when the draft has none, and never replaces one the owner declared."""

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from evaluations_app import scanning
from models_app import services
from models_app.models import ModelVersion, ScanStatus, VersionStatus
from tests.factories import make_model, make_version

from .web.conftest import onnx_bytes

pytestmark = pytest.mark.django_db

X = np.random.default_rng(0).normal(size=(30, 4))
Y = np.arange(30) % 3
DECLARED = {"inputs": [{"name": "typed", "type": "float64", "shape": [None, 7]}], "outputs": []}


def scan_all(version: ModelVersion) -> ModelVersion:
    for file_id in version.files.values_list("pk", flat=True):
        assert scanning.file_scan(file_id=file_id) == ScanStatus.CLEAN
    return ModelVersion.objects.get(pk=version.pk)


def test_an_onnx_upload_gives_the_draft_its_inputs_outputs_and_classes(owner):
    model = make_model(owner)
    estimator = LogisticRegression(max_iter=300).fit(X, Y)
    version = scan_all(make_version(model, files={"model.onnx": onnx_bytes(estimator, X)}))

    assert version.signature == {
        "inputs": [{"name": "X", "type": "float32", "shape": [None, 4]}],
        "outputs": [
            {"name": "label", "type": "int64", "shape": [None], "classes": [0, 1, 2]},
            {"name": "probabilities", "type": "float32", "shape": [None, 3]},
        ],
    }
    # The file keeps what it declares, so the page can say where the signature came from.
    assert version.files.get().scan_report["signature"] == version.signature


def test_a_skops_pipeline_gives_its_first_steps_inputs_and_its_last_steps_classes(owner):
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    labels = np.array(["setosa", "versicolor", "virginica"])[Y]
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(frame, labels)
    version = scan_all(make_version(make_model(owner), files={"model.skops": sio.dumps(pipeline)}))

    assert version.signature == {
        "inputs": [{"name": "X", "type": "float64", "shape": [None, 4], "columns": ["a", "b", "c", "d"]}],
        "outputs": [
            {"name": "label", "type": "string", "shape": [None], "classes": ["setosa", "versicolor", "virginica"]}
        ],
    }


def test_a_skops_classifier_with_integer_classes_reads_them_from_their_array(owner):
    estimator = LogisticRegression(max_iter=300).fit(X, Y + 10)
    version = scan_all(make_version(make_model(owner), files={"model.skops": sio.dumps(estimator)}))

    assert version.signature["inputs"] == [{"name": "X", "type": "float64", "shape": [None, 4]}]
    assert version.signature["outputs"] == [
        {"name": "label", "type": "int64", "shape": [None], "classes": [10, 11, 12]}
    ]


def test_a_skops_regressor_declares_a_number(owner):
    estimator = LinearRegression().fit(X, X[:, 0])
    version = scan_all(
        make_version(make_model(owner, task="tabular-regression"), files={"m.skops": sio.dumps(estimator)})
    )

    assert version.signature["outputs"] == [{"name": "prediction", "type": "float64", "shape": [None]}]


def test_a_declared_signature_is_never_replaced(owner):
    estimator = LogisticRegression(max_iter=300).fit(X, Y)
    version = make_version(make_model(owner), signature=DECLARED, files={"model.onnx": onnx_bytes(estimator, X)})

    assert scan_all(version).signature == DECLARED


def test_a_version_frozen_meanwhile_keeps_its_signature(owner):
    estimator = LogisticRegression(max_iter=300).fit(X, Y)
    version = make_version(make_model(owner), files={"model.onnx": onnx_bytes(estimator, X)})
    ModelVersion.objects.filter(pk=version.pk).update(status=VersionStatus.IN_REVIEW)

    assert scan_all(version).signature == {}


def test_an_invalid_signature_is_not_adopted(owner):
    version = make_version(make_model(owner), files={"README.md": b"# notes"})
    bad = {"inputs": [{"name": "", "type": "float32"}]}

    assert services.version_adopt_signature(model_file_id=version.files.get().pk, signature=bad) is False
    assert ModelVersion.objects.get(pk=version.pk).signature == {}
