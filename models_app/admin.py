"""The admin site, held to the rules of the services: a submitted, published, deprecated or
rejected version and its files are read-only (every field, no delete); a draft's metadata
changes only through `version_update` (its validation shown as form errors) and its files leave
only through `file_delete`; status changes only through the review workflow; a model's card,
tags and visibility change only through `model_update` (which keeps the search fields in step),
and a model is deleted only through `model_delete`. Each of those records its audit event; the
site (registry_site.admin) records the rest."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from registry_site.errors import DomainError
from registry_site.forms import add_domain_error

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
    # The owner and the name are read-only here, so the form never carries them.
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
    filter_horizontal = ["tags"]
    # A model's address (owner/name) is in every URL, client and audit event: not renamed here.
    readonly_fields = ["owner", "name", "download_count", "created_at", "updated_at"]
    inlines = [ModelVersionInline]

    def has_add_permission(self, request) -> bool:
        return False  # models are registered on the site, which checks the name in the owner's namespace

    def save_model(self, request, obj, form, change) -> None:
        """Through model_update: tags_text and the search vector follow the tags, and the change
        is audited (the admin's own transaction holds both)."""
        fields = {field: getattr(obj, field) for field in services.MODEL_FIELDS if field in form.changed_data}
        tags = [tag.name for tag in form.cleaned_data["tags"]] if "tags" in form.changed_data else None
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


class ModelVersionAdminForm(forms.ModelForm):
    def clean(self):
        """The checks of version_update, as form errors: a bad signature is refused here, beside
        its field, never saved unvalidated nor answered with a 500."""
        cleaned = super().clean()
        if self.instance.pk is None or not self.instance.is_editable:
            return cleaned
        candidate = ModelVersion(
            **{field: cleaned.get(field, getattr(self.instance, field)) for field in services.VERSION_FIELDS}
        )
        try:
            services._validate_version_data(candidate)  # the very checks version_update runs
        except DomainError as error:
            add_domain_error(self, error)
        return cleaned


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    form = ModelVersionAdminForm
    list_display = ["__str__", "status", "created_by", "created_at", "download_count"]
    list_filter = ["status", "model__task", "model__framework"]
    search_fields = ["version", "model__name", "model__owner__username"]
    list_select_related = ["model__owner", "created_by"]
    # A draft's metadata is edited here; what it is a version of, its number and who made it
    # are not (the number is parsed as SemVer and ordered by version_create).
    readonly_fields = [
        "model",
        "version",
        "created_by",
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

    def has_add_permission(self, request) -> bool:
        return False  # versions are created through version_create (SemVer parsed, order checked)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            # Submitted, published, deprecated or rejected: what was (or is being) reviewed stays as it is.
            return [field.name for field in ModelVersion._meta.fields]
        return self.readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        # What was (or is being) reviewed is shown, not offered for editing: a view-only page.
        return super().has_change_permission(request, obj) and (obj is None or obj.is_editable)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Only a draft (or one sent back for changes) goes; what was reviewed stays on the record.
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_editable)

    def save_model(self, request, obj, form, change) -> None:
        """Through version_update, which locks the version, checks it is still a draft (else
        the page shows the refusal), validates and audits the change."""
        fields = {field: getattr(obj, field) for field in services.VERSION_FIELDS if field in form.changed_data}
        if fields:
            services.version_update(version=obj, actor=request.user, **fields)

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not ModelFile:
            return super().save_formset(request, form, formset, change)
        # Files leave a draft through file_delete, which locks the version and re-checks it;
        # the inline's fields are read-only, so nothing else of a file changes here.
        formset.save(commit=False)
        for model_file in formset.deleted_objects:
            services.file_delete(model_file=model_file, actor=request.user)


@admin.register(ModelFile)
class ModelFileAdmin(admin.ModelAdmin):
    list_display = ["__str__", "blob", "scan_status", "download_count", "created_at"]
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

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.version.is_editable)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.version.is_editable)

    def delete_model(self, request, obj) -> None:
        services.file_delete(model_file=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for model_file in queryset.select_related("version"):
            services.file_delete(model_file=model_file, actor=request.user)


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
