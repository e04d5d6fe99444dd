from celery import shared_task
from django.conf import settings

from . import services


@shared_task(acks_late=True, ignore_result=True)
def collect_unreferenced_blobs() -> int:
    return services.blobs_collect_unreferenced(older_than_seconds=settings.BLOB_GC_GRACE_SECONDS)
