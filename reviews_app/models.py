import json

from django.conf import settings
from django.db import models

from accounts_app.roles import Action, may
from models_app.models import ModelVersion


class CheckStatus(models.TextChoices):
    PASS = "pass", "Pass"
    WARN = "warn", "Warning"
    FAIL = "fail", "Fail"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REQUEST_CHANGES = "request_changes", "Request changes"
    REJECT = "reject", "Reject"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ReviewQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ReviewQuerySet":
        """Reviewers and staff see every review; others see those of their own models."""
        if user is None or not user.is_authenticated:
            return self.none()
        if may(user, Action.SEE_QUEUE):
            return self.all()
        return self.filter(models.Q(submitted_by=user) | models.Q(version__model__owner=user))

    def open(self) -> "ReviewQuerySet":
        return self.filter(status=ReviewStatus.OPEN)


class Review(models.Model):
    """One submission of a version and, once decided, the reviewer's decision."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="reviews")
    status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="submitted_reviews"
    )
    submitted_by_username = models.CharField(max_length=150)
    submission_note = models.TextField(blank=True)
    checks = models.JSONField(default=list, blank=True)
    # Counted when the checks run, so the queue can filter on it with an index.
    failing_check_count = models.PositiveSmallIntegerField(default=0)
    decision = models.CharField(max_length=32, choices=Decision.choices, blank=True)
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="decided_reviews"
    )
    reviewer_username = models.CharField(max_length=150, blank=True)
    # The files approved, path → SHA-256: what "published" promises never changes.
    pinned_files = models.JSONField(default=dict, blank=True)
    # The version and its model's metadata as approved, so later diffs compare against
    # what the reviewer saw, even after the model card or license changed.
    approved_snapshot = models.JSONField(default=dict, blank=True)
    # What the reviewer saw when deciding, whatever the decision (files, metadata, card,
    # changelog), so a resubmission shows what changed since that decision.
    decided_snapshot = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        permissions = [("decide_review", "Can approve, reject or request changes on submissions")]
        constraints = [
            # At most one open review per version: a resubmission opens a new one.
            models.UniqueConstraint(
                fields=["version"], condition=models.Q(status="open"), name="one_open_review_per_version"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Review #{self.pk} of {self.version}"  # Review #3 of alice/iris-classifier 1.1.0

    @property
    def is_open(self) -> bool:
        return self.status == ReviewStatus.OPEN

    @property
    def failing_checks(self) -> list[dict]:
        return [check for check in self.checks if check.get("status") == CheckStatus.FAIL]

    @property
    def warning_checks(self) -> list[dict]:
        return [check for check in self.checks if check.get("status") == CheckStatus.WARN]


def _short(value, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AuditEventQuerySet(models.QuerySet):
    """Append-only: rows are created, never changed or removed through the app."""

    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")


class AuditEvent(models.Model):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # Copied, so the trail still names who did it after the account is deleted.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    model_full_name = models.CharField(max_length=260, blank=True)
    version_label = models.CharField(max_length=64, blank=True)
    version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    review = models.ForeignKey(Review, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events")
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["action", "created_at"]), models.Index(fields=["actor_username", "created_at"])]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_username or 'system'} {self.action} {self.subject}".strip()
        )

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")

    @property
    def subject(self) -> str:
        """What the event is about, as people name it: a model and version, a test set, a
        user's token, a user, or the object changed in the admin."""
        named = f"{self.model_full_name} {self.version_label}".strip()
        data = self.data if isinstance(self.data, dict) else {}
        if named:
            return named
        if data.get("test_set"):
            return str(data["test_set"])
        if data.get("token"):
            return f"{data.get('user', '')}: {data['token']}"
        return str(data.get("name") or data.get("user") or "")

    @property
    def changes(self) -> list[tuple[str, str, str]]:
        """(field, from, to) of an edit, each value cut to a line for the log's table."""
        changes = self.data.get("changes") if isinstance(self.data, dict) else None
        rows = []
        for field, change in (changes or {}).items():
            if isinstance(change, dict):
                rows.append((field, _short(change.get("from")), _short(change.get("to"))))
            else:
                rows.append((field, "", _short(change)))
        return rows


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    verb = models.CharField(max_length=64)
    message = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"To {self.user}: {self.message}"


# The webhooks' models live in their package, and are this app's models.
from .webhooks.models import Webhook, WebhookDelivery, WebhookEvent  # noqa: E402, F401
