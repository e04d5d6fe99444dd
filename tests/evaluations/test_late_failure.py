"""A failure is recorded only on an evaluation that is still running: a worker the sweep
gave up on cannot overwrite the job it requeued, another run, or a finished outcome."""

import pytest
from django.utils import timezone

from evaluations_app import services as ev
from evaluations_app import tasks, worker
from evaluations_app.engine import runner
from evaluations_app.models import Evaluation, EvaluationStatus
from tests.evaluations.web.conftest import finish, make_test_set
from tests.factories import make_model, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluation(owner) -> Evaluation:
    version = make_version(make_model(owner), files={"predictions.csv": b"target\n0\n"})
    return ev.evaluation_request(
        version=version, test_set=make_test_set(owner), actor=owner, predictions_path="predictions.csv"
    )


def status_of(evaluation: Evaluation) -> Evaluation:
    return Evaluation.objects.get(pk=evaluation.pk)


def test_a_running_evaluation_fails_with_its_code_and_sentence(evaluation):
    assert worker.evaluation_claim(evaluation_id=evaluation.pk)

    assert worker.evaluation_fail(evaluation_id=evaluation.pk, code="features", reason="Wrong columns.")

    failed = status_of(evaluation)
    assert (failed.status, failed.error_code, failed.error) == ("failed", "features", "Wrong columns.")
    assert failed.finished_at is not None


def test_a_late_failure_does_not_overwrite_the_job_the_sweep_requeued(evaluation):
    assert worker.evaluation_claim(evaluation_id=evaluation.pk)
    # The sweep found it running past the time limit and put it back in the queue.
    Evaluation.objects.filter(pk=evaluation.pk).update(status=EvaluationStatus.QUEUED, enqueued_at=None)

    assert not worker.evaluation_fail(evaluation_id=evaluation.pk, code="timeout", reason="Timed out.")

    requeued = status_of(evaluation)
    assert (requeued.status, requeued.error_code, requeued.error, requeued.finished_at) == ("queued", "", "", None)
    assert worker.evaluation_claim(evaluation_id=evaluation.pk)  # the next worker still gets it


def test_a_queued_evaluation_is_not_failed(evaluation):
    assert not worker.evaluation_fail(evaluation_id=evaluation.pk, code="gone", reason="Gone.")

    assert status_of(evaluation).status == EvaluationStatus.QUEUED


def test_a_succeeded_evaluation_is_not_failed(owner):
    version = make_version(make_model(owner, "done"), status="published")
    done = finish(version, make_test_set(owner, "done-set"), accuracy=0.9)

    assert not worker.evaluation_fail(evaluation_id=done.pk, code="worker_lost", reason="Lost.")

    assert status_of(done).status == EvaluationStatus.SUCCEEDED and status_of(done).metrics["accuracy"] == 0.9


def test_the_task_still_fails_a_run_whose_file_was_removed_it_claims_first(evaluation):
    Evaluation.objects.filter(pk=evaluation.pk).update(model_file=None)

    tasks.run_evaluation(evaluation.pk)

    gone = status_of(evaluation)
    assert (gone.status, gone.error_code) == ("failed", "gone")


def test_the_task_leaves_a_requeued_job_alone_when_its_run_fails_late(evaluation, monkeypatch):
    def sweep_requeues_then_the_run_fails(evaluation):
        Evaluation.objects.filter(pk=evaluation.pk).update(status=EvaluationStatus.QUEUED, enqueued_at=timezone.now())
        raise runner.EvaluationError("features", "The model expects 4 features.")

    monkeypatch.setattr(runner, "run_predictions", sweep_requeues_then_the_run_fails)

    tasks.run_evaluation(evaluation.pk)

    assert status_of(evaluation).status == EvaluationStatus.QUEUED
    assert status_of(evaluation).error == ""
