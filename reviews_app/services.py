"""Lifecycle transitions of a version. Until the review workflow arrives, staff set a
version's status in the admin through `version_set_status`; the same function records
the timestamps the catalog shows."""

from django.db import transaction
from django.utils import timezone

from models_app.errors import DomainError, Forbidden
from models_app.models import ModelVersion, VersionStatus


@transaction.atomic
def version_set_status(*, version: ModelVersion, status: str, actor) -> ModelVersion:
    if not (actor and actor.is_staff):
        raise Forbidden("Only staff can set a version's status directly.")
    if status not in VersionStatus.values:
        raise DomainError(f"'{status}' is not a version status.", field="status")
    locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status == status:
        return locked
    now = timezone.now()
    locked.status = status
    locked.status_changed_at = now
    if status == VersionStatus.IN_REVIEW and not locked.submitted_at:
        locked.submitted_at = now
    if status == VersionStatus.PUBLISHED and not locked.published_at:
        locked.published_at = now
    locked.save(update_fields=["status", "status_changed_at", "submitted_at", "published_at", "updated_at"])
    return locked
