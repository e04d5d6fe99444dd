"""Webhooks, their events and the delivery log."""

import secrets
import uuid

from django.conf import settings
from django.db import models

from models_app.models import RegisteredModel


class EventType(models.TextChoices):
    VERSION_SUBMITTED = "version.submitted", "A version was submitted for review"
    VERSION_DECIDED = "version.decided", "A reviewer decided on a version"
    VERSION_PUBLISHED = "version.published", "A version was published"
    VERSION_DEPRECATED = "version.deprecated", "A version was deprecated"
    EVALUATION_FINISHED = "evaluation.finished", "An evaluation finished"
    ALIAS_MOVED = "alias.moved", "An alias moved"
    SCAN_FLAGGED = "scan.flagged", "A file scan flagged a file"
    PING = "ping", "Test event"


# What a webhook may subscribe to; `ping` is the test event, always delivered when asked for.
SUBSCRIBABLE = tuple(value for value in EventType.values if value != EventType.PING)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Webhook(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=2000)
    # Kept in clear because HMAC needs it; shown to the owner once, at creation or rotation.
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Webhook #{self.pk} of {self.model_id} → {self.url}"

    def subscribes_to(self, event_type: str) -> bool:
        return event_type == EventType.PING or event_type in (self.events or [])


class WebhookEvent(models.Model):
    """Something that happened to a model. The body is serialised once, so every attempt of
    every delivery sends the same bytes (and the same signature for one secret)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField(default=dict)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"  # the URL may not be called (SSRF rules): never retried


class WebhookDelivery(models.Model):
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker sends an attempt: a second task for the same delivery (the sweep's, a
    # redelivered message) finds it claimed and leaves it alone.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One delivery per webhook and event: emitting or enqueuing twice sends once.
            models.UniqueConstraint(fields=["webhook", "event"], name="one_delivery_per_webhook_event"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["webhook", "-created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"Delivery #{self.pk} of {self.event_id} to webhook #{self.webhook_id}: {self.status}"

    @property
    def may_redeliver(self) -> bool:
        return self.status in (DeliveryStatus.FAILED, DeliveryStatus.REFUSED)
