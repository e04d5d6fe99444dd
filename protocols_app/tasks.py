from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import Artifact


def artifacts_expire(*, older_than_seconds: int) -> int:
    """Forget uploads never registered in time; their blobs go with the next collection
    unless a registered version's files (or anything else) use the same bytes."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    deleted, _ = Artifact.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(acks_late=True, ignore_result=True)
def expire_mlflow_artifacts() -> int:
    return artifacts_expire(older_than_seconds=settings.MLFLOW_ARTIFACT_RETENTION_SECONDS)
