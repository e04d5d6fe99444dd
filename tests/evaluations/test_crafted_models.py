"""Hostile model files, each a real file the runner gets: the sandbox or the output checks
stop it, the evaluation fails with a code and a sentence, and the worker runs the next job.

The task runs in this process, as a worker would run it (the sandbox is the real one).
Fork bombs, the network and huge writes are covered at the sandbox level in test_sandbox.py.
"""

import os
import uuid
from pathlib import Path

import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationStatus
from evaluations_app.tasks import run_evaluation
from registry_site.errors import DomainError
from tests.factories import make_model, make_version

from . import crafted
from .conftest import iris_test_set


@pytest.fixture(autouse=True)
def _small_limits(settings):
    # Importing scikit-learn and skops in the child alone takes a few CPU seconds.
    settings.EVAL_MEMORY_BYTES = 1024**3
    settings.EVAL_CPU_SECONDS = 20
    settings.EVAL_WALL_SECONDS = 30
    settings.EVAL_FILE_BYTES = 256 * 1024**2


@pytest.fixture
def test_set(owner, iris_data):
    return iris_test_set(owner, iris_data)


@pytest.fixture
def evaluate(owner, test_set):
    """Upload `content` as a version's only file, request an evaluation, run the task."""
    counter = iter(range(1, 100))

    def run(content: bytes, file_name: str = "model.onnx") -> Evaluation:
        model = make_model(owner, name=f"crafted-{next(counter)}")
        version = make_version(model, files={file_name: content})
        evaluation = ev.evaluation_request(version=version, test_set=test_set, actor=owner)
        run_evaluation(evaluation.pk)
        evaluation.refresh_from_db()
        return evaluation

    return run


def assert_failed(evaluation: Evaluation, code: str, words: str) -> None:
    assert evaluation.status == EvaluationStatus.FAILED, (evaluation.status, evaluation.metrics)
    assert evaluation.error_code == code, (evaluation.error_code, evaluation.error)
    assert words in evaluation.error, evaluation.error


def test_a_model_that_allocates_without_bound_fails_with_the_memory_limit(evaluate):
    evaluation = evaluate(crafted.allocating_model())
    assert_failed(evaluation, "memory", "The model ran out of the 1.0\xa0GB memory limit.")


def test_a_model_that_loops_forever_is_stopped_by_its_cpu_time(evaluate, settings):
    settings.EVAL_CPU_SECONDS = 2
    evaluation = evaluate(crafted.looping_model())
    assert_failed(evaluation, "cpu", "The model used more than its 2 s of CPU time.")


def test_a_model_that_sleeps_past_the_deadline_times_out(evaluate, settings):
    # CPU time would never run out first: the wall clock stops it.
    settings.EVAL_CPU_SECONDS = 60
    settings.EVAL_WALL_SECONDS = 2
    evaluation = evaluate(crafted.looping_model())
    assert_failed(evaluation, "timeout", "Timed out after 2 s.")


def test_a_huge_prediction_tensor_is_invalid_output(evaluate):
    evaluation = evaluate(crafted.expanding_model(width=20_000))  # 45 × 20,000 floats as "labels"
    assert_failed(evaluation, "invalid_output", "The model returned predictions of shape (45, 20000) for 45 rows.")


def test_a_huge_probability_tensor_is_refused_by_the_output_cap(evaluate, settings):
    settings.EVAL_MAX_OUTPUT_BYTES = 1024**2
    evaluation = evaluate(crafted.wide_probabilities_model(width=20_000))  # 3.6 MB
    assert_failed(evaluation, "invalid_output", "The model's probabilities are larger than the output cap.")


def test_a_huge_probability_tensor_is_stopped_by_the_file_size_limit(evaluate, settings):
    settings.EVAL_FILE_BYTES = 2 * 1024**2
    evaluation = evaluate(crafted.wide_probabilities_model(width=200_000))  # 36 MB
    assert_failed(evaluation, "file_size", "The model tried to write more than 2.0\xa0MB to disk.")


def test_a_skops_file_needing_an_untrusted_type_is_refused_naming_it(evaluate, iris_data):
    X_train, _, y_train, _ = iris_data
    pipeline = make_pipeline(FunctionTransformer(os.system), LogisticRegression(max_iter=300))
    pipeline.steps[1][1].fit(X_train, y_train)
    evaluation = evaluate(sio.dumps(pipeline), file_name="model.skops")
    assert_failed(evaluation, "refused", "not on the trusted list")
    assert f"{os.system.__module__}.system" in evaluation.error


@pytest.fixture
def marker():
    path = Path("/tmp") / f"pwned-{uuid.uuid4().hex}"
    yield path
    path.unlink(missing_ok=True)


def test_a_malicious_pickle_is_never_loaded_when_pickle_is_off(owner, test_set, marker, settings):
    settings.EVALUATE_PICKLE = False
    version = make_version(make_model(owner), files={"model.pkl": crafted.malicious_pickle(f"touch {marker}")})
    with pytest.raises(DomainError) as refused:
        ev.evaluation_request(version=version, test_set=test_set, actor=owner)
    assert refused.value.code == "no_runnable_file"
    assert not Evaluation.objects.exists()
    assert not marker.exists()


def test_a_malicious_pickle_is_refused_by_the_allow_list_unpickler(evaluate, marker, settings):
    settings.EVALUATE_PICKLE = True
    evaluation = evaluate(crafted.malicious_pickle(f"touch {marker}"), file_name="model.pkl")
    assert_failed(evaluation, "refused", f"{os.system.__module__}.system, which is not on the allow-list")
    assert not marker.exists()


@pytest.mark.parametrize("in_attribute", [False, True], ids=["initializer", "constant-attribute"])
@pytest.mark.parametrize("location", ["weights.bin", "../../../../etc/hostname", "/etc/hostname"])
def test_an_onnx_model_with_external_data_is_refused(evaluate, location, in_attribute):
    evaluation = evaluate(crafted.external_data_model(location, in_attribute=in_attribute))
    assert_failed(evaluation, "refused", "keeps weights in external data files")


def test_nan_probabilities_are_invalid_output(evaluate):
    evaluation = evaluate(crafted.nan_probabilities_model())
    assert_failed(evaluation, "invalid_output", "probabilities are not all between 0 and 1")


def test_predictions_of_the_wrong_length_are_invalid_output(evaluate):
    evaluation = evaluate(crafted.wrong_length_model())
    assert_failed(evaluation, "invalid_output", "for 45 rows")


def test_the_worker_lives_on_and_the_next_evaluation_succeeds(evaluate, iris_data, settings):
    _, X_test, _, y_test = iris_data
    settings.EVAL_CPU_SECONDS = 2
    stopped = [evaluate(crafted.allocating_model()), evaluate(crafted.looping_model())]
    settings.EVAL_CPU_SECONDS = 20
    assert [e.status for e in stopped] == [EvaluationStatus.FAILED] * 2
    evaluation = evaluate(crafted.argmax_model())
    assert evaluation.status == EvaluationStatus.SUCCEEDED, evaluation.error
    expected = (crafted.argmax_predictions(X_test) == y_test).mean()
    assert evaluation.metrics["accuracy"] == pytest.approx(expected)
