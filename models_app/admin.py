"""The admin site, held to the rules of the services: a version's files change only while
it is a draft, status only through the review workflow, a model's tags and visibility only
through `model_update` (which keeps the search fields in step and audits visibility), and a
model is deleted only through `model_delete`."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from registry_site.errors import DomainError

from . import services
from .models import Blob, ModelFile, ModelVersion, RegisteredModel, Tag


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    fields = ["version", "status", "created_by", "created_at", "download_count"]
    readonly_fields = ["version", "status", "created_by", "created_at", "download_count"]
    extra = 0
    can_delete = False  # a version is deleted from its own page, where a published one is refused
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # versions are created through version_create (SemVer parsed, order checked)


class RegisteredModelAdminForm(forms.ModelForm):
    def clean_tags(self):
        tags = self.cleaned_data["tags"]
        try:
            services.normalize_tags([tag.name for tag in tags])
        except DomainError as error:
            raise ValidationError(error.detail) from None
        return tags


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    form = RegisteredModelAdminForm
    list_display = ["__str__", "task", "framework", "license", "visibility", "download_count", "updated_at"]
    list_filter = ["task", "framework", "license", "visibility", "tags"]
    search_fields = ["name", "summary", "owner__username", "tags__name"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    filter_horizontal = ["tags"]
    readonly_fields = ["download_count", "created_at", "updated_at"]
    inlines = [ModelVersionInline]

    def save_model(self, request, obj, form, change) -> None:
        """Through model_update: tags_text and the search vector follow the tags, and a change
        of visibility is audited (the admin's own transaction holds both)."""
        if not change:
            super().save_model(request, obj, form, change)  # the row must exist before its tags
        fields = {field: getattr(obj, field) for field in services.MODEL_FIELDS if field in form.changed_data}
        tags = [tag.name for tag in form.cleaned_data["tags"]] if "tags" in form.cleaned_data else None
        services.model_update(model=obj, actor=request.user, tags=tags, **fields)

    def save_related(self, request, form, formsets, change) -> None:
        # Not form.save_m2m(): that would set the tags behind model_update's back.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or not obj.versions.public().exists())

    def delete_model(self, request, obj) -> None:
        services.model_delete(model=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for model in queryset:
            services.model_delete(model=model, actor=request.user)


class ModelFileInline(admin.TabularInline):
    model = ModelFile
    fields = ["path", "blob", "scan_status", "download_count"]
    # The verdict is the scanner's: nobody marks a flagged file clean by hand.
    readonly_fields = ["path", "blob", "scan_status", "download_count"]
    extra = 0

    # `obj` is the version. Its files change only while it is editable: once submitted,
    # path and blob are what the reviewer saw (and approval pins them).
    def has_add_permission(self, request, obj=None) -> bool:
        return False  # files come through the upload, which stores, hashes and scans them

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.is_editable)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_editable)


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

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            # Submitted, published or deprecated: what was (or is being) reviewed stays as it is.
            return [field.name for field in ModelVersion._meta.fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or not obj.is_public)

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not ModelFile:
            return super().save_formset(request, form, formset, change)
        # Files leave a draft through file_delete, which locks the version and re-checks it.
        instances = formset.save(commit=False)
        for model_file in formset.deleted_objects:
            services.file_delete(model_file=model_file)
        for model_file in instances:
            model_file.save()


@admin.register(ModelFile)
class ModelFileAdmin(admin.ModelAdmin):
    list_display = ["path", "version", "blob", "scan_status", "download_count", "created_at"]
    list_filter = ["scan_status", "blob__format"]
    search_fields = ["path", "blob__sha256", "version__model__name"]
    list_select_related = ["version__model__owner", "blob"]
    raw_id_fields = ["version", "blob"]
    # The path is display text the upload sanitized; the blob and the version are what was
    # uploaded where. None of them is changed here.
    readonly_fields = [
        "version", "path", "blob", "scan_status", "scan_findings", "scan_report", "scanned_at", "download_count",
        "created_at",
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.version.is_editable:
            return [field.name for field in ModelFile._meta.fields]
        return self.readonly_fields

    def has_add_permission(self, request) -> bool:
        return False  # files come through the upload, which stores, hashes and scans them

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.version.is_editable)

    def delete_model(self, request, obj) -> None:
        services.file_delete(model_file=obj)

    def delete_queryset(self, request, queryset) -> None:
        for model_file in queryset.select_related("version"):
            services.file_delete(model_file=model_file)


@admin.register(Blob)
class BlobAdmin(admin.ModelAdmin):
    list_display = ["sha256", "size", "format", "created_at"]
    list_filter = ["format"]
    search_fields = ["sha256"]
    readonly_fields = ["sha256", "size", "format", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # blobs are written by uploads

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the collection removes unreferenced blobs; a referenced one must stay


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]

    def get_readonly_fields(self, request, obj=None):
        return ["name"] if obj is not None else []  # a rename would leave each model's tags_text behind

    def delete_model(self, request, obj) -> None:
        self.delete_queryset(request, Tag.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset) -> None:
        """Take the tags off their models through model_update, then delete them."""
        names = set(queryset.values_list("name", flat=True))
        for model in RegisteredModel.objects.filter(tags__name__in=names).distinct().prefetch_related("tags"):
            kept = [tag.name for tag in model.tags.all() if tag.name not in names]
            services.model_update(model=model, actor=request.user, tags=kept)
        queryset.delete()
