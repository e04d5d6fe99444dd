from django.contrib import admin

from .models import Blob, ModelFile, ModelVersion, RegisteredModel, Tag


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    fields = ["version", "status", "created_by", "created_at", "download_count"]
    readonly_fields = ["version", "created_by", "created_at", "download_count"]
    extra = 0
    show_change_link = True


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ["__str__", "task", "framework", "license", "visibility", "download_count", "updated_at"]
    list_filter = ["task", "framework", "license", "visibility", "tags"]
    search_fields = ["name", "summary", "owner__username", "tags__name"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    filter_horizontal = ["tags"]
    readonly_fields = ["download_count", "created_at", "updated_at"]
    inlines = [ModelVersionInline]


class ModelFileInline(admin.TabularInline):
    model = ModelFile
    fields = ["path", "blob", "scan_status", "download_count"]
    readonly_fields = ["path", "blob", "download_count"]
    extra = 0


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["model", "version", "status", "created_by", "created_at", "download_count"]
    list_filter = ["status", "model__task", "model__framework"]
    search_fields = ["version", "model__name", "model__owner__username"]
    list_select_related = ["model__owner", "created_by"]
    raw_id_fields = ["model", "created_by"]
    # Status changes only through the review workflow (submit, decide, deprecate).
    readonly_fields = [
        "status",
        "status_changed_at",
        "submitted_at",
        "published_at",
        "deprecation_reason",
        "major",
        "minor",
        "patch",
        "prerelease_key",
        "created_at",
        "updated_at",
        "download_count",
    ]
    inlines = [ModelFileInline]


@admin.register(ModelFile)
class ModelFileAdmin(admin.ModelAdmin):
    list_display = ["path", "version", "blob", "scan_status", "download_count", "created_at"]
    list_filter = ["scan_status", "blob__format"]
    search_fields = ["path", "blob__sha256", "version__model__name"]
    list_select_related = ["version__model__owner", "blob"]
    raw_id_fields = ["version", "blob"]


@admin.register(Blob)
class BlobAdmin(admin.ModelAdmin):
    list_display = ["sha256", "size", "format", "created_at"]
    list_filter = ["format"]
    search_fields = ["sha256"]
    readonly_fields = ["sha256", "size", "format", "created_at"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]
