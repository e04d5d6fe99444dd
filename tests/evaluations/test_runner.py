"""End to end in one process: a real model file, a real test set, the real sandbox."""

import io

import numpy as np
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from sklearn import metrics as skm
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationStatus
from evaluations_app.tasks import run_evaluation
from tests.factories import make_model, make_version


def _csv(X, y, names, target="target") -> bytes:
    frame = pd.DataFrame(X, columns=names)
    frame[target] = y
    return frame.to_csv(index=False).encode()


def _onnx(estimator, X) -> bytes:
    from skl2onnx import to_onnx

    options = {"zipmap": False} if hasattr(estimator, "predict_proba") else None
    return to_onnx(
        estimator, X[:1].astype(np.float32), options=options, target_opset={"": 17, "ai.onnx.ml": 3}
    ).SerializeToString()


def _skops(estimator) -> bytes:
    import skops.io as sio

    return sio.dumps(estimator)


@pytest.fixture
def iris():
    data = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(data.data, data.target, test_size=0.3, random_state=0)
    model = LogisticRegression(max_iter=500).fit(X_train, y_train)
    return model, X_test, y_test, [n.replace(" ", "_").replace("(", "").replace(")", "") for n in data.feature_names]


def run(evaluation: Evaluation) -> Evaluation:
    run_evaluation(evaluation.pk)
    evaluation.refresh_from_db()
    return evaluation


@pytest.mark.parametrize("file_name, builder", [("model.onnx", "onnx"), ("model.skops", "skops")])
def test_it_evaluates_a_classifier_and_matches_scikit_learn(
    owner, iris, file_name, builder, django_capture_on_commit_callbacks
):
    model, X_test, y_test, names = iris
    content = _onnx(model, X_test) if builder == "onnx" else _skops(model)
    version = make_version(make_model(owner), files={file_name: content})
    test_set = ev.test_set_create(
        owner=owner, name="iris-test", task="classification", target_column="target",
        uploaded_file=SimpleUploadedFile("iris.csv", _csv(X_test, y_test, names)),
    )  # fmt: skip
    evaluation = run(ev.evaluation_request(version=version, test_set=test_set, actor=owner))

    assert evaluation.status == EvaluationStatus.SUCCEEDED, evaluation.error
    pred = model.predict(X_test.astype(np.float32))
    assert evaluation.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y_test, pred))
    assert evaluation.metrics["f1_macro"] == pytest.approx(skm.f1_score(y_test, pred, average="macro"))
    assert evaluation.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y_test, model.predict_proba(X_test.astype(np.float32)), multi_class="ovr"), abs=1e-4
    )
    assert evaluation.confusion_matrix["matrix"] == skm.confusion_matrix(y_test, pred).tolist()
    low, high = evaluation.intervals["accuracy"]
    assert low <= evaluation.metrics["accuracy"] <= high
    assert {item["feature"] for item in evaluation.feature_importance} == set(names)
    assert evaluation.provenance["model_sha256"] == version.files.get().sha256
    assert evaluation.provenance["test_set_sha256"] == test_set.sha256
    assert "onnxruntime" in evaluation.provenance["libraries"]
    assert evaluation.rows_per_second > 0


def test_it_evaluates_a_regressor(owner):
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = LinearRegression().fit(X_train, y_train)
    version = make_version(make_model(owner, task="tabular-regression"), files={"model.onnx": _onnx(model, X_test)})
    test_set = ev.test_set_create(
        owner=owner, name="diabetes-test", task="regression", target_column="progression",
        uploaded_file=SimpleUploadedFile("d.csv", _csv(X_test, y_test, [f"f{i}" for i in range(10)], "progression")),
    )  # fmt: skip
    evaluation = run(ev.evaluation_request(version=version, test_set=test_set, actor=owner))
    assert evaluation.status == EvaluationStatus.SUCCEEDED, evaluation.error
    pred = model.predict(X_test.astype(np.float32).astype(np.float64))
    assert evaluation.metrics["r2"] == pytest.approx(skm.r2_score(y_test, pred), abs=1e-4)


def test_a_model_expecting_other_features_fails_with_a_sentence(owner, iris):
    model, X_test, y_test, names = iris
    version = make_version(make_model(owner), files={"model.onnx": _onnx(model, X_test)})
    wider = np.hstack([X_test, X_test])
    test_set = ev.test_set_create(
        owner=owner, name="wide", task="classification", target_column="target",
        uploaded_file=SimpleUploadedFile("w.csv", _csv(wider, y_test, [f"c{i}" for i in range(8)])),
    )  # fmt: skip
    evaluation = run(ev.evaluation_request(version=version, test_set=test_set, actor=owner))
    assert evaluation.status == EvaluationStatus.FAILED
    assert "expects 4 features, the test set has 8" in evaluation.error


def test_a_predictions_file_is_scored_and_labelled(owner, iris):
    model, X_test, y_test, names = iris
    pred = model.predict(X_test)
    buffer = io.StringIO()
    pd.DataFrame({"prediction": pred}).to_csv(buffer, index=False)
    version = make_version(make_model(owner), files={"predictions/iris.csv": buffer.getvalue().encode()})
    test_set = ev.test_set_create(
        owner=owner, name="iris-p", task="classification", target_column="target",
        uploaded_file=SimpleUploadedFile("iris.csv", _csv(X_test, y_test, names)),
    )  # fmt: skip
    evaluation = run(
        ev.evaluation_request(version=version, test_set=test_set, actor=owner, predictions_path="predictions/iris.csv")
    )
    assert evaluation.status == EvaluationStatus.SUCCEEDED, evaluation.error
    assert evaluation.source == "predictions"
    assert evaluation.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y_test, pred))
