"""The worker's side of evaluation: claim a job, record its outcome, recover the stuck.

Status changes are conditional updates (`filter(status=...).update(...)`), never
read-modify-write, so two workers or a worker and the sweep can never both win.
"""

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .arrays import array_blob
from .engine.runner import Outcome
from .models import Evaluation, EvaluationStatus
from .signals import evaluation_finished


def evaluation_claim(*, evaluation_id: int) -> bool:
    """Move queued → running if no one else has; exactly one worker wins."""
    return (
        Evaluation.objects.filter(pk=evaluation_id, status=EvaluationStatus.QUEUED).update(
            status=EvaluationStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
        )
        == 1
    )


def evaluation_succeed(*, evaluation_id: int, outcome: Outcome) -> None:
    # One transaction: the predictions' blob row stays locked until the evaluation that
    # references it commits, so the blob collection cannot remove it in between.
    with transaction.atomic():
        predictions = array_blob(outcome.predictions)
        Evaluation.objects.filter(pk=evaluation_id, status=EvaluationStatus.RUNNING).update(
            status=EvaluationStatus.SUCCEEDED,
            predictions_blob=predictions,
            metrics=outcome.metrics,
            intervals=outcome.intervals,
            per_class=outcome.per_class,
            confusion_matrix=outcome.confusion_matrix,
            feature_importance=outcome.feature_importance,
            provenance=outcome.provenance,
            rows_per_second=outcome.rows_per_second,
            wall_seconds=outcome.wall_seconds,
            error="",
            error_code="",
            finished_at=timezone.now(),
        )
        _announce(evaluation_id)


def evaluation_fail(*, evaluation_id: int, code: str, reason: str) -> bool:
    """Record the failure of a running evaluation; return whether it was still running.

    Only `running` moves: a late failure from a worker the sweep gave up on must not
    overwrite the job it requeued (queued), another worker's run, or a finished outcome.
    """
    failed = Evaluation.objects.filter(pk=evaluation_id, status=EvaluationStatus.RUNNING).update(
        status=EvaluationStatus.FAILED, error_code=code[:32], error=reason, finished_at=timezone.now()
    )
    if failed:
        _announce(evaluation_id)
    return bool(failed)


def _announce(evaluation_id: int) -> None:
    """Tell whoever listens (the review of the version) once the outcome is committed."""
    version_id = Evaluation.objects.filter(pk=evaluation_id).values_list("version_id", flat=True).first()
    if version_id is not None:
        transaction.on_commit(
            lambda: evaluation_finished.send(sender=Evaluation, evaluation_id=evaluation_id, version_id=version_id)
        )


def evaluations_recover(*, resend: Callable[[int], bool]) -> dict[str, int]:
    """The periodic sweep: nothing stays stuck.

    1. Running past the hard time limit (its worker died): back to queued, or failed after
       the attempt cap.
    2. Queued but never sent (broker down), or sent long ago and not picked up: handed to
       `resend` again (the task layer's enqueue).
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.EVAL_TASK_TIME_LIMIT + settings.EVAL_STALE_MARGIN_SECONDS)
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    for evaluation in Evaluation.objects.filter(status=EvaluationStatus.RUNNING, started_at__lt=stale):
        if evaluation.attempts >= settings.EVAL_MAX_ATTEMPTS:
            failed = Evaluation.objects.filter(pk=evaluation.pk, status=EvaluationStatus.RUNNING).update(
                status=EvaluationStatus.FAILED,
                error_code="worker_lost",
                error=(
                    f"The worker running this evaluation stopped {evaluation.attempts} "
                    f"time{'' if evaluation.attempts == 1 else 's'}; giving up."
                ),
                finished_at=now,
            )
            counts["failed"] += failed
            if failed:
                _announce(evaluation.pk)
        else:
            counts["requeued"] += Evaluation.objects.filter(pk=evaluation.pk, status=EvaluationStatus.RUNNING).update(
                status=EvaluationStatus.QUEUED, enqueued_at=None
            )
    resend_before = now - timedelta(seconds=settings.EVAL_RESEND_AFTER_SECONDS)
    waiting = Evaluation.objects.filter(status=EvaluationStatus.QUEUED).filter(
        Q(enqueued_at__isnull=True, created_at__lt=now - timedelta(seconds=5)) | Q(enqueued_at__lt=resend_before)
    )
    for evaluation_id in waiting.values_list("pk", flat=True)[:500]:
        counts["resent"] += int(resend(evaluation_id))
    return counts
