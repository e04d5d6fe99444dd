"""The cast and the data of the evaluation pages: small CSV test sets, real ONNX models
(for the tests that run the sandbox) and finished evaluations recorded through the same
service the worker calls (for the tests that only read)."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from evaluations_app import services as ev
from evaluations_app import worker
from evaluations_app.models import Evaluation, EvaluationStatus, TestSet
from models_app.models import ModelVersion
from tests.factories import set_up_unaudited

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def csv_bytes(X, y, names=FEATURES, target="target") -> bytes:
    frame = pd.DataFrame(X, columns=names)
    frame[target] = y
    return frame.to_csv(index=False).encode()


def onnx_bytes(estimator, X) -> bytes:
    from skl2onnx import to_onnx

    options = {"zipmap": False} if hasattr(estimator, "predict_proba") else None
    return to_onnx(
        estimator, X[:1].astype(np.float32), options=options, target_opset={"": 17, "ai.onnx.ml": 3}
    ).SerializeToString()


def make_test_set(owner, name: str = "iris-test", rows: int = 40, **fields) -> TestSet:
    """A classification test set of `rows` rows, labels 0/1/2 in turn."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(rows, len(FEATURES))).round(3)
    y = np.arange(rows) % 3
    with set_up_unaudited():
        return ev.test_set_create(
            owner=owner,
            name=name,
            task="classification",
            target_column="target",
            uploaded_file=SimpleUploadedFile(f"{name}.csv", csv_bytes(X, y)),
            **fields,
        )


def truth(test_set: TestSet) -> np.ndarray:
    return np.arange(test_set.rows) % 3


def finish(version: ModelVersion, test_set: TestSet, *, accuracy: float, wrong: int = 0, **extra) -> Evaluation:
    """A succeeded evaluation recorded through evaluation_succeed, predictions included (so
    McNemar's test can run): the first `wrong` rows are mispredicted."""
    y = truth(test_set)
    pred = y.copy()
    pred[:wrong] = (pred[:wrong] + 1) % 3
    evaluation = Evaluation.objects.create(
        version=version, test_set=test_set, status=EvaluationStatus.RUNNING, started_at=timezone.now(), model_size=10
    )
    outcome = SimpleNamespace(
        predictions=pred,
        metrics={"accuracy": accuracy, "f1_macro": accuracy - 0.01, **extra},
        intervals={"accuracy": [accuracy - 0.05, min(1.0, accuracy + 0.05)]},
        per_class={str(c): {"precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 10} for c in range(3)},
        confusion_matrix={"labels": ["0", "1", "2"], "matrix": [[9, 1, 0], [0, 10, 0], [1, 0, 9]]},
        feature_importance=[
            {"feature": name, "importance": 0.3 - i * 0.05, "std": 0.01} for i, name in enumerate(FEATURES)
        ],
        provenance={
            "model_sha256": "ab" * 32,
            "test_set_sha256": test_set.sha256,
            "libraries": {"onnxruntime": "1.0", "scikit-learn": "1.5"},
            "limits": {"memory_bytes": 2 * 1024**3, "cpu_seconds": 300},
            "seed": 20261126,
            "network_isolated": False,
            "sandbox_notes": ["unshare is not permitted here: the network was not isolated."],
        },
        rows_per_second=12345.0,
        wall_seconds=0.5,
    )
    worker.evaluation_succeed(evaluation_id=evaluation.pk, outcome=outcome)
    evaluation.refresh_from_db()
    return evaluation
