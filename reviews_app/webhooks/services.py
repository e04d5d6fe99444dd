"""Changes to webhooks: each one function, checked, audited in its transaction.

Who may manage a model's webhooks is who may edit the model (accounts_app/roles.py, EDIT);
the views look the model up with `model_get_editable`, and each service asks again.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts_app.roles import Action, may
from models_app.models import RegisteredModel
from registry_site.audit import RequestMeta, audit
from registry_site.errors import Conflict, DomainError, Forbidden

from . import ssrf
from .events import emit_ping, enqueue_deliveries
from .models import SUBSCRIBABLE, DeliveryStatus, Webhook, WebhookDelivery, new_secret


def _check_may_manage(actor, model: RegisteredModel) -> None:
    if not may(actor, Action.EDIT, owner_id=model.owner_id):
        raise Forbidden(f"Only the owner of {model.full_name} can manage its webhooks.")


def clean_events(events) -> list[str]:
    """The subscribed events, from the allow-list, in its order, at least one."""
    if not isinstance(events, list | tuple) or not all(isinstance(event, str) for event in events):
        raise DomainError("events must be a list of event names.", field="events")
    unknown = sorted(set(events) - set(SUBSCRIBABLE))
    if unknown:
        raise DomainError(f"Unknown event {', '.join(unknown)}; events are {', '.join(SUBSCRIBABLE)}.", field="events")
    if not events:
        raise DomainError("Choose at least one event to send.", field="events")
    return [event for event in SUBSCRIBABLE if event in events]


def _shown_url(url: str) -> str:
    """The URL as the audit trail keeps it: without its query, where receivers put tokens."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _audit(actor, action: str, webhook: Webhook, meta: RequestMeta | None, **data) -> None:
    audit(
        actor=actor,
        action=action,
        model_full_name=webhook.model.full_name,
        data={"webhook": webhook.pk, "url": _shown_url(webhook.url), **data},
        meta=meta,
    )


@transaction.atomic
def webhook_create(
    *, model: RegisteredModel, url: str, events: list[str], actor, active: bool = True, meta: RequestMeta | None = None
) -> Webhook:
    """A new webhook with a fresh secret (the caller shows `webhook.secret` once)."""
    _check_may_manage(actor, model)
    events = clean_events(events)
    url = ssrf.validate_url(url.strip() if isinstance(url, str) else url)
    # Counted under the model's lock: two creations at once cannot pass the cap together.
    RegisteredModel.objects.select_for_update().filter(pk=model.pk).first()
    if Webhook.objects.filter(model=model).count() >= settings.WEBHOOK_MAX_PER_MODEL:
        raise Conflict(
            f"A model has at most {settings.WEBHOOK_MAX_PER_MODEL} webhooks; delete one first.",
            code="too_many_webhooks",
        )
    webhook = Webhook.objects.create(model=model, url=url, events=events, active=active, created_by=actor)
    _audit(actor, "webhook.create", webhook, meta, events=events)
    return webhook


_UNSET = object()


@transaction.atomic
def webhook_update(
    *, webhook: Webhook, actor, url=_UNSET, events=_UNSET, active=_UNSET, meta: RequestMeta | None = None
) -> Webhook:
    _check_may_manage(actor, webhook.model)
    locked = Webhook.objects.select_for_update().select_related("model__owner").get(pk=webhook.pk)
    changes: dict = {}
    if url is not _UNSET:
        url = ssrf.validate_url(url.strip() if isinstance(url, str) else url)
        if url != locked.url:
            changes["url"] = {"from": _shown_url(locked.url), "to": _shown_url(url)}
            locked.url = url
    if events is not _UNSET:
        events = clean_events(events)
        if events != locked.events:
            changes["events"] = {"from": locked.events, "to": events}
            locked.events = events
    if active is not _UNSET:
        if not isinstance(active, bool):
            raise DomainError("active must be true or false.", field="active")
        if active != locked.active:
            changes["active"] = {"from": locked.active, "to": active}
            locked.active = active
    if changes:
        locked.save()
        _audit(actor, "webhook.update", locked, meta, changes=changes)
    return locked


@transaction.atomic
def webhook_delete(*, webhook: Webhook, actor, meta: RequestMeta | None = None) -> None:
    _check_may_manage(actor, webhook.model)
    _audit(actor, "webhook.delete", webhook, meta, events=webhook.events)
    Webhook.objects.filter(pk=webhook.pk).delete()


@transaction.atomic
def webhook_rotate_secret(*, webhook: Webhook, actor, meta: RequestMeta | None = None) -> Webhook:
    """A new secret, effective for every attempt from now on (pending retries included)."""
    _check_may_manage(actor, webhook.model)
    locked = Webhook.objects.select_for_update().select_related("model__owner").get(pk=webhook.pk)
    locked.secret = new_secret()
    locked.save(update_fields=["secret", "updated_at"])
    _audit(actor, "webhook.rotate_secret", locked, meta)
    return locked


@transaction.atomic
def webhook_send_test(*, webhook: Webhook, actor) -> WebhookDelivery:
    """A `ping` event to this webhook, sent after commit like any event."""
    _check_may_manage(actor, webhook.model)
    return emit_ping(webhook=webhook, actor=actor)


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """A failed or refused delivery, sent again with the same event id and body and a fresh
    attempt budget. A succeeded one is never sent twice; a pending one is still on its way."""
    _check_may_manage(actor, delivery.webhook.model)
    reset = WebhookDelivery.objects.filter(
        pk=delivery.pk, status__in=(DeliveryStatus.FAILED, DeliveryStatus.REFUSED)
    ).update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None, error="")
    if not reset:
        current = WebhookDelivery.objects.get(pk=delivery.pk)
        raise Conflict(
            f"Only a failed or refused delivery can be sent again; this one is {current.get_status_display().lower()}.",
            code="invalid_state",
        )
    transaction.on_commit(lambda: enqueue_deliveries([delivery.pk]))
    delivery.refresh_from_db()
    return delivery
