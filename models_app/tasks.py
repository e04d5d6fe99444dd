from celery import shared_task
from django.conf import settings

from . import services
from .errors import DomainError


@shared_task(acks_late=True, ignore_result=True)
def collect_unreferenced_blobs() -> int:
    return services.blobs_collect_unreferenced(older_than_seconds=settings.BLOB_GC_GRACE_SECONDS)


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
    from celery.exceptions import SoftTimeLimitExceeded

    from .evaluation import runner
    from .evaluation import services as evaluation_services
    from .models import Evaluation, EvaluationSource

    if not evaluation_services.evaluation_claim(evaluation_id=evaluation_id):
        return
    evaluation = (
        Evaluation.objects.select_related("test_set", "model_file__blob", "version__model")
        .filter(pk=evaluation_id)
        .first()
    )
    if evaluation is None or evaluation.model_file is None:
        evaluation_services.evaluation_fail(
            evaluation_id=evaluation_id, code="gone", reason="The model file was removed before the evaluation ran."
        )
        return
    try:
        if evaluation.source == EvaluationSource.PREDICTIONS:
            outcome = runner.run_predictions(evaluation)
        else:
            outcome = runner.run_model(evaluation)
    except runner.EvaluationError as error:
        evaluation_services.evaluation_fail(evaluation_id=evaluation_id, code=error.code, reason=error.message)
    except SoftTimeLimitExceeded:
        evaluation_services.evaluation_fail(
            evaluation_id=evaluation_id,
            code="timeout",
            reason=f"Timed out after {settings.EVAL_TASK_SOFT_TIME_LIMIT} s.",
        )
    except DomainError as error:
        evaluation_services.evaluation_fail(evaluation_id=evaluation_id, code=error.code, reason=error.detail)
    else:
        evaluation_services.evaluation_succeed(evaluation_id=evaluation_id, outcome=outcome)


@shared_task(acks_late=True, ignore_result=True)
def recover_evaluations() -> dict[str, int]:
    from .evaluation import services as evaluation_services

    return evaluation_services.evaluations_recover()
