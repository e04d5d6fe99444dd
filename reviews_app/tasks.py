import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from . import checks
from .models import Notification

log = logging.getLogger(__name__)
SUBJECTS = {
    "submitted": "Review requested",
    "approve": "Version approved",
    "request_changes": "Changes requested",
    "reject": "Version rejected",
    "deprecated": "Version deprecated",
    "alias_deprecated": "An alias points at a deprecated version",
}


@shared_task(acks_late=True, ignore_result=True)
def send_notification_emails(notification_ids: list[int]) -> int:
    """Email each notification not emailed yet. Claiming with a conditional update means a
    notification enqueued twice (by the request and by the sweep) is sent once."""
    sent = 0
    for notification in Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related(
        "user"
    ):
        with transaction.atomic():
            claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
                emailed_at=timezone.now()
            )
        if not claimed:
            continue
        if not notification.user.email:
            continue
        url = f"{settings.SITE_URL.rstrip('/')}{notification.url}" if notification.url else settings.SITE_URL
        try:
            send_mail(
                subject=f"[Model Registry] {SUBJECTS.get(notification.verb, 'Notification')}",
                message=f"{notification.message}\n\n{url}\n",
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[notification.user.email],
            )
        except Exception:
            # Give it back to the sweep rather than lose it.
            Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
            log.warning("sending notification %s failed; the sweep will retry", notification.pk, exc_info=True)
            continue
        sent += 1
    return sent


@shared_task(acks_late=True, ignore_result=True)
def sweep_unsent_notifications() -> int:
    """Send what the request could not enqueue (the broker was down)."""
    cutoff = timezone.now() - timedelta(seconds=settings.NOTIFICATION_SWEEP_AFTER_SECONDS)
    ids = list(
        Notification.objects.filter(emailed_at__isnull=True, created_at__lt=cutoff, user__email__gt="").values_list(
            "pk", flat=True
        )[:500]
    )
    return send_notification_emails(ids) if ids else 0


@shared_task(acks_late=True, ignore_result=True)
def refresh_review_checks(version_id: int) -> None:
    """An evaluation of the version finished: store its open review's checks anew."""
    checks.review_refresh_checks(version_id=version_id)


# Celery's autodiscovery imports this module only: the webhooks' tasks are registered from here.
from .webhooks.tasks import deliver_webhook, sweep_webhook_deliveries  # noqa: E402, F401
