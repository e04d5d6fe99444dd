"""The pickle allow-list admits exact (module, name) pairs and nothing else.

The gadgets are the kind the public advisories against deny-list scanners used (picklescan,
2025–2026): re-exports of subprocess and os functions inside trusted packages, protocol-4
dotted names that walk attributes, interpreters hidden in the standard library, and numpy
helpers that load a second, unchecked pickle. Each is refused before anything is imported.
Real scikit-learn pickles and joblib dumps, plain and compressed, load and evaluate.
"""

import io
import pickle
import uuid
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from evaluations_app import services as ev
from evaluations_app.engine.child import RefusedModel, load_pickle
from evaluations_app.models import EvaluationStatus
from evaluations_app.tasks import run_evaluation
from tests.factories import make_model, make_version

from .conftest import iris_test_set

GADGETS = [
    ("sklearn.utils._testing", "check_output"),  # a re-export of subprocess.check_output
    ("numpy.testing._private.utils", "os.system"),  # a protocol-4 dotted name
    ("numpy.testing._private.utils", "runstring"),
    ("numpy", "load"),  # np.load(allow_pickle=True) of a second, unchecked pickle
    ("numpy.lib.npyio", "load"),
    ("numpy", "frompyfunc"),
    ("os", "system"),
    ("posix", "system"),
    ("nt", "system"),
    ("subprocess", "Popen"),
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("builtins", "getattr"),
    ("builtins", "__import__"),
    ("__builtin__", "eval"),
    ("operator", "attrgetter"),
    ("operator", "methodcaller"),
    ("functools", "partial"),
    ("runpy", "_run_code"),
    ("pydoc", "locate"),
    ("code", "InteractiveInterpreter.runcode"),
    ("idlelib.pyshell", "ModifiedInterpreter.runcode"),
    ("timeit", "timeit"),
    ("cProfile", "run"),
    ("pdb", "Pdb"),
    ("ctypes", "CDLL"),
    ("asyncio.unix_events", "_UnixSubprocessTransport._start"),
    ("pip._internal", "main"),
    ("torch", "load"),
    ("joblib", "load"),
    ("sklearn", "__builtins__"),
    ("sklearn.linear_model._logistic", "LogisticRegression.__init__.__globals__"),
]


def _global_pickle(module: str, name: str, protocol: int) -> bytes:
    """A pickle that imports module.name and calls it: GLOBAL for protocol 0, STACK_GLOBAL for 4."""
    if protocol == 0:
        return f"c{module}\n{name}\n(S'id'\ntR.".encode()
    frame = (
        pickle.PROTO + bytes([4])
        + pickle.SHORT_BINUNICODE + bytes([len(module)]) + module.encode()
        + pickle.SHORT_BINUNICODE + bytes([len(name)]) + name.encode()
        + pickle.STACK_GLOBAL
        + pickle.SHORT_BINUNICODE + bytes([2]) + b"id" + pickle.TUPLE1 + pickle.REDUCE + pickle.STOP
    )  # fmt: skip
    return frame


@pytest.mark.parametrize("protocol", [0, 4])
@pytest.mark.parametrize("module,name", GADGETS)
def test_a_gadget_is_refused_before_it_is_imported(tmp_path, module, name, protocol):
    path = tmp_path / "model.pkl"
    path.write_bytes(_global_pickle(module, name, protocol))
    with pytest.raises(RefusedModel, match="not on the allow-list"):
        load_pickle(str(path), "pickle")


def test_a_gadget_inside_a_joblib_object_array_is_refused(tmp_path):
    """joblib stores object arrays as a nested pickle; it goes through the same check."""

    class Boom:
        def __reduce__(self):
            return (eval, ("1+1",))

    path = tmp_path / "model.joblib"
    joblib.dump({"weights": np.array([Boom()], dtype=object)}, path)
    with pytest.raises(RefusedModel, match="builtins.eval"):
        load_pickle(str(path), "joblib")


def _fitted(estimator):
    X, y = np.random.default_rng(0).normal(size=(60, 4)), np.arange(60) % 3
    return estimator.fit(X, y), X


@pytest.mark.parametrize(
    "estimator",
    [
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)),
        RandomForestClassifier(n_estimators=3, random_state=0),
        HistGradientBoostingClassifier(max_iter=3),
    ],
    ids=["pipeline", "forest", "hist-gradient-boosting"],
)
@pytest.mark.parametrize("kind,compress", [("pickle", 0), ("joblib", 0), ("joblib", 3)])
def test_real_scikit_learn_files_load_and_predict_as_the_original(tmp_path, estimator, kind, compress):
    fitted, X = _fitted(estimator)
    path = tmp_path / f"model.{kind}"
    if kind == "pickle":
        path.write_bytes(pickle.dumps(fitted, protocol=5))
    else:
        joblib.dump(fitted, path, compress=compress)
    labels, proba, classes = load_pickle(str(path), kind)(X.astype(np.float32))
    assert np.array_equal(labels, fitted.predict(X.astype(np.float32)))
    assert proba is not None and proba.shape == (60, 3)


@pytest.fixture
def evaluate(owner, iris_data, settings):
    settings.EVALUATE_PICKLE = True
    settings.EVAL_CPU_SECONDS, settings.EVAL_WALL_SECONDS = 30, 60
    test_set = iris_test_set(owner, iris_data)

    def run(content: bytes, file_name: str):
        version = make_version(make_model(owner, f"m-{uuid.uuid4().hex[:8]}"), files={file_name: content})
        evaluation = ev.evaluation_request(version=version, test_set=test_set, actor=owner)
        run_evaluation(evaluation.pk)
        evaluation.refresh_from_db()
        return evaluation

    return run


def test_a_joblib_dump_of_a_scikit_learn_model_evaluates_in_the_sandbox(evaluate, iris_data):
    X_train, X_test, y_train, y_test = iris_data
    model = LogisticRegression(max_iter=500).fit(X_train, y_train)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    evaluation = evaluate(buffer.getvalue(), "model.joblib")
    assert evaluation.status == EvaluationStatus.SUCCEEDED, evaluation.error
    assert evaluation.metrics["accuracy"] == pytest.approx((model.predict(X_test) == y_test).mean())


def test_a_gadget_pickle_fails_with_the_registrys_sentence(evaluate, tmp_path):
    marker = Path("/tmp") / f"gadget-{uuid.uuid4().hex}"
    content = _global_pickle("sklearn.utils._testing", "check_output", 4).replace(b"id", b"..")
    evaluation = evaluate(content, "model.pkl")
    assert evaluation.status == EvaluationStatus.FAILED
    assert evaluation.error_code == "refused"
    assert evaluation.error.startswith("The registry refused to load the model: ")
    assert "sklearn.utils._testing.check_output" in evaluation.error
    assert not marker.exists()
