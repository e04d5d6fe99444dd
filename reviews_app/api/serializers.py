from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import AuditEvent, CheckStatus, Decision, Notification, Review


class CheckSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=CheckStatus.choices)
    message = serializers.CharField()


class ReviewSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="version.model.full_name")
    version = serializers.CharField(source="version.version")
    version_status = serializers.CharField(source="version.status")
    task = serializers.CharField(source="version.model.task")
    submitted_by = serializers.CharField(source="submitted_by_username")
    reviewer = serializers.CharField(source="reviewer_username", allow_blank=True)
    decision = serializers.CharField(allow_blank=True)
    checks = CheckSerializer(many=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "model",
            "version",
            "version_status",
            "task",
            "status",
            "decision",
            "comment",
            "submission_note",
            "submitted_by",
            "reviewer",
            "checks",
            "pinned_files",
            "created_at",
            "decided_at",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_url(self, obj) -> str:
        path = reverse("api-review-detail", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class SubmitSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    override_regression = serializers.BooleanField(required=False, default=False)
    override_scan = serializers.BooleanField(
        required=False, default=False, help_text="Approve although a file is flagged or could not be scanned."
    )


class DeprecateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username")
    model = serializers.CharField(source="model_full_name")
    version = serializers.CharField(source="version_label")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "model",
            "version",
            "from_status",
            "to_status",
            "reason",
            "data",
            "ip_address",
            "user_agent",
        ]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "verb", "message", "url", "created_at", "read_at"]
        read_only_fields = fields
