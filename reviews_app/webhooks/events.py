"""Events: what the services tell the webhooks, inside their own transaction.

`emit(...)` records the event and one pending delivery per active webhook of the model that
subscribes to it, in the caller's transaction (an event of a rolled-back change is never
sent), and enqueues the deliveries only after commit. A delivery the broker refused stays
pending and the sweep (tasks.py) sends it later.
"""

import json
import logging

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from models_app.lookups import version_url
from models_app.models import ModelVersion, RegisteredModel

from .models import SUBSCRIBABLE, EventType, Webhook, WebhookDelivery, WebhookEvent
from .tasks import enqueue_delivery

log = logging.getLogger(__name__)


def emit(event_type: str, *, model_id: int, payload: dict) -> WebhookEvent | None:
    """Record the event for the model's subscribed webhooks; None when nobody listens."""
    if event_type not in SUBSCRIBABLE:
        raise ValueError(f"{event_type!r} is not a webhook event; events are {', '.join(SUBSCRIBABLE)}.")
    hooks = [hook for hook in Webhook.objects.filter(model_id=model_id, active=True) if hook.subscribes_to(event_type)]
    if not hooks:
        return None  # no rows for events nobody listens to
    return _record(event_type, model_id=model_id, payload=payload, webhooks=hooks)


def emit_ping(*, webhook: Webhook, actor) -> WebhookDelivery:
    """The test event: to this webhook only, through the same delivery path."""
    payload = {"message": "A test event from the model registry.", "sent_by": getattr(actor, "username", "")}
    event = _record(EventType.PING, model_id=webhook.model_id, payload=payload, webhooks=[webhook])
    return WebhookDelivery.objects.get(event=event, webhook=webhook)


def _record(event_type: str, *, model_id: int, payload: dict, webhooks: list[Webhook]) -> WebhookEvent:
    model = RegisteredModel.objects.select_related("owner").get(pk=model_id)
    # Dates and decimals as JSON text now, so the stored payload and the body say the same.
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    now = timezone.now()
    event = WebhookEvent(type=event_type, model=model, payload=payload, created_at=now)
    event.body = event_body(event, model)
    event.save(force_insert=True)
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(webhook=hook, event=event, next_attempt_at=now) for hook in webhooks]
    )
    ids = [delivery.pk for delivery in deliveries if delivery.pk is not None]
    if not ids:  # backends that return no ids from bulk_create
        ids = list(WebhookDelivery.objects.filter(event=event).values_list("pk", flat=True))
    transaction.on_commit(lambda: enqueue_deliveries(ids))
    return event


def enqueue_deliveries(ids: list[int]) -> None:
    for delivery_id in ids:
        enqueue_delivery(delivery_id)


def event_body(event: WebhookEvent, model: RegisteredModel) -> str:
    """The JSON every attempt sends, byte for byte (ASCII only, so text and bytes agree)."""
    document = {
        "id": str(event.id),
        "type": event.type,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "model": {"owner": model.owner.username, "name": model.name, "url": absolute(model.get_absolute_url())},
        "data": event.payload,
    }
    return json.dumps(document, ensure_ascii=True, separators=(",", ":"))


def absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def version_payload(version: ModelVersion, **extra) -> dict:
    """What every version event says of its version."""
    return {
        "version": version.version,
        "status": version.status,
        "url": absolute(version_url(version)),
        **extra,
    }
