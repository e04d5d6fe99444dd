from django.contrib import admin

from .models import AuditEvent, Notification, Review


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Read-only: decisions are made on the review page, where the four-eyes rule applies."""

    list_display = [
        "__str__",
        "status",
        "decision",
        "submitted_by_username",
        "reviewer_username",
        "created_at",
        "decided_at",
    ]
    list_filter = ["status", "decision", "version__model__task"]
    search_fields = ["version__model__name", "version__version", "submitted_by_username", "reviewer_username"]
    list_select_related = ["version__model__owner"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Append-only: visible, never changed or removed."""

    list_display = [
        "created_at",
        "actor_username",
        "action",
        "subject",
        "from_status",
        "to_status",
    ]
    list_filter = ["action", "created_at"]
    search_fields = ["actor_username", "model_full_name", "version_label", "reason"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "verb", "message", "read_at", "emailed_at"]
    list_select_related = ["user"]
    list_filter = ["verb", "read_at"]
    search_fields = ["user__username", "message"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request):
        return False  # notifications come from the workflow's own events, never typed in
