"""Tokens in the admin: seen, and revoked through token_revoke (audited), never edited. A
token's secret is shown once, on the tokens page that creates it; an edit here could revive
a revoked token or stretch its expiry behind its user's back.

Django's own User and Group admins stay as they are: the site (registry_site.admin) records
every change made through them, a user's groups and staff flag included, with from and to."""

from django.contrib import admin, messages

from . import services
from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at", "created_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "prefix", "key_hash", "created_at", "last_used_at", "expires_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # a token's secret is shown once, on the tokens page that creates it

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row is what tells a client's 401 apart from a typo

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset) -> None:
        revoked = sum(services.token_revoke(token=token, actor=request.user) for token in queryset)
        self.message_user(request, f"Revoked {revoked} token{'s' if revoked != 1 else ''}.", messages.SUCCESS)
