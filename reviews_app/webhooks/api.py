"""The webhooks' API under models/<owner>/<name>/webhooks/: only who may edit the model (404
when they cannot see it, 403 when they only see it). The secret is in the answers to create
and rotate-secret, and nowhere else."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from models_app.lookups import CatalogAPIView
from registry_site.audit import RequestMeta

from . import selectors, services
from .models import SUBSCRIBABLE, DeliveryStatus, EventType, Webhook, WebhookDelivery


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE), allow_empty=False)
    created_by = serializers.CharField(source="created_by.username", default="", read_only=True)

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "active", "created_by", "created_at", "updated_at"]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]
        extra_kwargs = {"url": {"max_length": 2000}}


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret: shown only in this answer.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE), allow_empty=False, required=False
    )
    active = serializers.BooleanField(required=False)


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event.id", read_only=True)
    event_type = serializers.ChoiceField(source="event.type", choices=EventType.choices, read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "response_code",
            "duration_ms",
            "error",
            "response_excerpt",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
        ]
        read_only_fields = fields


class _WebhookView(CatalogAPIView):
    permission_classes = [IsAuthenticated]
    filter_backends: list = []

    def get_webhook(self) -> Webhook:
        return selectors.webhook_get(model=self.get_editable_model(), pk=self.kwargs["pk"])


class WebhookListView(_WebhookView):
    serializer_class = WebhookSerializer

    @extend_schema(operation_id="webhooks_list", summary="A model's webhooks (whoever may edit the model)")
    def get(self, request, *args, **kwargs):
        queryset = selectors.webhook_list(model=self.get_editable_model()).select_related("created_by")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="webhooks_create",
        summary="Add a webhook; the answer carries its signing secret, once",
        responses={201: WebhookCreatedSerializer},
    )
    def post(self, request, *args, **kwargs):
        model = self.get_editable_model()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = services.webhook_create(
            model=model, actor=request.user, meta=RequestMeta.from_request(request), **serializer.validated_data
        )
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(_WebhookView):
    serializer_class = WebhookSerializer

    @extend_schema(operation_id="webhooks_retrieve", summary="One webhook")
    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_webhook()).data)

    @extend_schema(
        operation_id="webhooks_partial_update",
        summary="Change a webhook's URL, events or whether it is active",
        request=WebhookUpdateSerializer,
        responses={200: WebhookSerializer},
    )
    def patch(self, request, *args, **kwargs):
        webhook = self.get_webhook()
        serializer = WebhookUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = services.webhook_update(
            webhook=webhook, actor=request.user, meta=RequestMeta.from_request(request), **serializer.validated_data
        )
        return Response(self.get_serializer(webhook).data)

    @extend_schema(operation_id="webhooks_destroy", summary="Delete a webhook and its delivery log")
    def delete(self, request, *args, **kwargs):
        services.webhook_delete(webhook=self.get_webhook(), actor=request.user, meta=RequestMeta.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateView(_WebhookView):
    serializer_class = WebhookCreatedSerializer

    @extend_schema(
        operation_id="webhooks_rotate_secret",
        summary="Replace the signing secret; the answer carries the new one, once",
        request=None,
        responses={200: WebhookCreatedSerializer},
    )
    def post(self, request, *args, **kwargs):
        webhook = services.webhook_rotate_secret(
            webhook=self.get_webhook(), actor=request.user, meta=RequestMeta.from_request(request)
        )
        return Response(self.get_serializer(webhook).data)


class WebhookTestView(_WebhookView):
    serializer_class = DeliverySerializer

    @extend_schema(
        operation_id="webhooks_test",
        summary="Send a ping event through the delivery path",
        request=None,
        responses={202: DeliverySerializer},
    )
    def post(self, request, *args, **kwargs):
        delivery = services.webhook_send_test(webhook=self.get_webhook(), actor=request.user)
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryListView(_WebhookView):
    serializer_class = DeliverySerializer

    @extend_schema(operation_id="webhooks_deliveries_list", summary="A webhook's delivery log, newest first")
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(selectors.delivery_list(webhook=self.get_webhook()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class RedeliverView(_WebhookView):
    serializer_class = DeliverySerializer

    @extend_schema(
        operation_id="webhooks_deliveries_redeliver",
        summary="Send a failed or refused delivery again (same event id and body)",
        request=None,
        responses={202: DeliverySerializer},
    )
    def post(self, request, *args, **kwargs):
        delivery = selectors.delivery_get(webhook=self.get_webhook(), pk=self.kwargs["delivery"])
        delivery = services.delivery_redeliver(delivery=delivery, actor=request.user)
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)
