"""The news of the apps below (evaluation, scans, aliases) as webhook events.

Their signals are sent after the change committed, so each receiver records the event in a
transaction of its own; the deliveries are enqueued when it commits. A receiver never lets
an error reach the sender: the catalog's or evaluation's work is done whatever happens here.
"""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction

from evaluations_app.models import Evaluation, EvaluationStatus
from models_app.models import ModelFile, ModelVersion, ScanStatus

from .events import emit, version_payload
from .models import EventType

log = logging.getLogger(__name__)


def evaluation_finished(sender, *, evaluation_id: int, **kwargs) -> None:
    try:
        with transaction.atomic():
            evaluation = (
                Evaluation.objects.select_related("version__model__owner", "test_set__owner")
                .filter(pk=evaluation_id)
                .first()
            )
            if evaluation is None:
                return
            succeeded = evaluation.status == EvaluationStatus.SUCCEEDED
            emit(
                EventType.EVALUATION_FINISHED,
                model_id=evaluation.version.model_id,
                payload=version_payload(
                    evaluation.version,
                    evaluation={
                        "id": evaluation.pk,
                        "test_set": evaluation.test_set.full_name,
                        "status": evaluation.status,
                        # Computed by the registry itself, never the owner's reported numbers.
                        "verified_metrics": evaluation.metrics if succeeded else {},
                        "error_code": "" if succeeded else evaluation.error_code,
                        "finished_at": evaluation.finished_at,
                    },
                ),
            )
    except Exception:
        log.warning("could not record the webhook event of evaluation %s", evaluation_id, exc_info=True)


def file_scanned(sender, *, file_id: int, status: str, **kwargs) -> None:
    if status != ScanStatus.FLAGGED:
        return
    try:
        with transaction.atomic():
            model_file = ModelFile.objects.select_related("version__model__owner").filter(pk=file_id).first()
            if model_file is None:
                return
            emit(
                EventType.SCAN_FLAGGED,
                model_id=model_file.version.model_id,
                payload=version_payload(
                    model_file.version,
                    file={
                        "path": model_file.path,
                        "sha256": model_file.sha256,
                        "scan_status": status,
                        "findings": list(model_file.scan_findings or [])[:20],
                    },
                ),
            )
    except Exception:
        log.warning("could not record the webhook event of the scan of file %s", file_id, exc_info=True)


def alias_moved(
    sender,
    *,
    model_id: int,
    alias: str,
    from_version_id: int | None = None,
    to_version_id: int | None = None,
    actor_id: int | None = None,
    **kwargs,
) -> None:
    try:
        with transaction.atomic():
            labels = dict(
                ModelVersion.objects.filter(pk__in=[pk for pk in (from_version_id, to_version_id) if pk]).values_list(
                    "pk", "version"
                )
            )
            actor = get_user_model().objects.filter(pk=actor_id).values_list("username", flat=True).first()
            emit(
                EventType.ALIAS_MOVED,
                model_id=model_id,
                payload={
                    "alias": alias,
                    "from_version": labels.get(from_version_id),
                    "to_version": labels.get(to_version_id),
                    "moved_by": actor or "",
                },
            )
    except Exception:
        log.warning("could not record the webhook event of alias %s of model %s", alias, model_id, exc_info=True)
