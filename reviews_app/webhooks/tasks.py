"""The deliveries' Celery tasks: thin, by id, claimed in delivery.py."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import delivery
from .models import DeliveryStatus, WebhookDelivery

log = logging.getLogger(__name__)
SWEEP_BATCH = 500


def enqueue_delivery(delivery_id: int, *, countdown: float | None = None) -> bool:
    """Hand the delivery to a worker; if the broker refuses, it stays pending for the sweep."""
    try:
        deliver_webhook.apply_async((delivery_id,), countdown=countdown)
    except Exception:
        log.warning("could not enqueue webhook delivery %s; the sweep will send it", delivery_id, exc_info=True)
        return False
    return True


# Above both timeouts: an attempt never outlives its claim (delivery._claim_seconds).
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=30, time_limit=40)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt; a failed one schedules the next after its backoff."""
    outcome = delivery.attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        enqueue_delivery(delivery_id, countdown=outcome.retry_in)
    return outcome.status


@shared_task(acks_late=True, ignore_result=True)
def sweep_webhook_deliveries() -> int:
    """Send the pending deliveries that are overdue: their message was refused by a broker
    that was down, lost with a worker, or their worker died during the attempt."""
    now = timezone.now()
    late = now - timedelta(seconds=settings.WEBHOOK_SWEEP_AFTER_SECONDS)
    ids = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=late)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    return sum(enqueue_delivery(delivery_id) for delivery_id in ids)
