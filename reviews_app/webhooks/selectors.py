"""Reading webhooks: always through the model the user may edit (views look it up first)."""

from django.db.models import Prefetch, QuerySet

from models_app.models import RegisteredModel
from registry_site.errors import NotFound

from .models import Webhook, WebhookDelivery

LOG_SHOWN = 20


def webhook_list(*, model: RegisteredModel, with_log: bool = False) -> QuerySet[Webhook]:
    queryset = Webhook.objects.filter(model=model).select_related("model__owner")
    if with_log:
        # The latest deliveries of each webhook, in one query for all of them (a window).
        recent = WebhookDelivery.objects.select_related("event").order_by("-created_at", "-pk")[:LOG_SHOWN]
        queryset = queryset.prefetch_related(Prefetch("deliveries", queryset=recent, to_attr="recent_deliveries"))
    return queryset


def webhook_get(*, model: RegisteredModel, pk) -> Webhook:
    webhook = webhook_list(model=model).filter(pk=pk).first() if str(pk).isdigit() else None
    if webhook is None:
        raise NotFound(f"No webhook {pk} on {model.full_name}.")
    return webhook


def delivery_list(*, webhook: Webhook) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(webhook=webhook).select_related("event").order_by("-created_at", "-pk")


def delivery_get(*, webhook: Webhook, pk) -> WebhookDelivery:
    delivery = delivery_list(webhook=webhook).filter(pk=pk).first() if str(pk).isdigit() else None
    if delivery is None:
        raise NotFound(f"No delivery {pk} of this webhook.")
    delivery.webhook = webhook
    return delivery
