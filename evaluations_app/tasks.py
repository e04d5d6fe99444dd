"""Celery tasks of evaluation: thin, they take ids and call the worker's functions."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from registry_site.errors import DomainError

from . import scanning, worker
from .engine import runner
from .models import Evaluation, EvaluationSource

log = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,  # a killed worker's job goes back to the queue
    ignore_result=True,
    soft_time_limit=settings.EVAL_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.EVAL_TASK_TIME_LIMIT,
)
def run_evaluation(evaluation_id: int) -> None:
    """Claim the evaluation (exactly one worker wins), run it, record the outcome.

    Expected failures (a model that cannot be run, a limit hit, bad output) are recorded
    with a sentence for the user and not retried; a worker that dies is covered by the
    periodic sweep, which requeues up to the attempt cap.
    """
    if not worker.evaluation_claim(evaluation_id=evaluation_id):
        return
    evaluation = (
        Evaluation.objects.select_related("test_set", "model_file__blob", "version__model")
        .filter(pk=evaluation_id)
        .first()
    )
    if evaluation is None or evaluation.model_file is None:
        worker.evaluation_fail(
            evaluation_id=evaluation_id, code="gone", reason="The model file was removed before the evaluation ran."
        )
        return
    try:
        if evaluation.source == EvaluationSource.PREDICTIONS:
            outcome = runner.run_predictions(evaluation)
        else:
            outcome = runner.run_model(evaluation)
    except runner.EvaluationError as error:
        worker.evaluation_fail(evaluation_id=evaluation_id, code=error.code, reason=error.message)
    except SoftTimeLimitExceeded:
        worker.evaluation_fail(
            evaluation_id=evaluation_id,
            code="timeout",
            reason=f"Timed out after {settings.EVAL_TASK_SOFT_TIME_LIMIT} s.",
        )
    except DomainError as error:
        worker.evaluation_fail(evaluation_id=evaluation_id, code=error.code, reason=error.detail)
    else:
        worker.evaluation_succeed(evaluation_id=evaluation_id, outcome=outcome)


def evaluation_enqueue(*, evaluation_id: int) -> bool:
    """Send the task; if the broker is down the evaluation stays queued for the sweep."""
    try:
        run_evaluation.delay(evaluation_id)
    except Exception:
        log.warning("could not enqueue evaluation %s; the sweep will", evaluation_id, exc_info=True)
        return False
    Evaluation.objects.filter(pk=evaluation_id).update(enqueued_at=timezone.now())
    return True


@shared_task(acks_late=True, ignore_result=True)
def recover_evaluations() -> dict[str, int]:
    return worker.evaluations_recover(resend=lambda evaluation_id: evaluation_enqueue(evaluation_id=evaluation_id))


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, time_limit=settings.EVAL_TASK_TIME_LIMIT)
def scan_file(file_id: int) -> None:
    """Scan a file still waiting for its verdict (an upload's message and the sweep's may
    both arrive, and a scan run meanwhile, by the demo data say, need not run twice)."""
    scanning.file_scan(file_id=file_id, only_pending=True)


def scan_enqueue(*, file_id: int) -> bool:
    """Send the scan; if the broker is down the file stays pending and the sweep sends it."""
    try:
        scan_file.delay(file_id)
    except Exception:
        log.warning("could not enqueue the scan of file %s; the sweep will", file_id, exc_info=True)
        return False
    return True


@shared_task(acks_late=True, ignore_result=True)
def sweep_pending_scans() -> int:
    """A broker outage delays scans but never skips them: resend every file still pending."""
    pending = scanning.files_pending(older_than_seconds=settings.SCAN_RESEND_AFTER_SECONDS)
    return sum(scan_enqueue(file_id=file_id) for file_id in pending.values_list("pk", flat=True)[:500])
