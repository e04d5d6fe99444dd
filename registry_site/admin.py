"""The admin site, held to the audit trail: every change made there is an audit event.

`RegistryAdminSite` (the project's `admin.site`, see registry_site.apps) runs every admin
view in one transaction inside `audit_origin(request, via="admin")`, and mixes `AuditedAdmin`
into every ModelAdmin registered on it, whichever app registers it (Django's own User and
Group admins too). A change is recorded once:

- by the service the admin routes it through (`model_update`, `file_delete`, ...), whose
  event then carries the request's IP address, user agent and `"via": "admin"`;
- or, where no service recorded anything (a user's groups or staff flag, a tag, a draft
  deleted), by the admin itself as `admin.add`, `admin.change` or `admin.delete`, naming the
  object as people name it and each changed field's from and to.

A service's refusal (a draft submitted meanwhile, a model that gained a published version) is
shown as an error message on the page, never a 500: the whole change rolls back.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.http import HttpResponseRedirect

from .audit import audit, audit_origin, current_origin
from .errors import DomainError

# Values never copied into the trail, only named as changed.
SECRET_FIELD_WORDS = ("password", "secret", "key_hash", "token")


def _plain(value, field: forms.Field | None = None):
    """A form value as JSON the trail can keep: objects by their names, lists sorted."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        items = list(value or [])
        if items and not isinstance(items[0], models.Model):
            items = list(field.queryset.filter(pk__in=items))
        return sorted(str(item) for item in items)
    if isinstance(field, forms.ModelChoiceField) and value not in (None, "") and not isinstance(value, models.Model):
        value = field.queryset.filter(pk=value).first()  # the initial of a foreign key is its pk
    if isinstance(value, models.Model):
        return str(value)
    try:
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):
        return str(value)


def form_changes(form: forms.Form) -> dict:
    """{field: {"from": ..., "to": ...}} for the fields the admin's form changed."""
    changes: dict = {}
    for name in form.changed_data:
        if any(word in name for word in SECRET_FIELD_WORDS):
            changes["password" if "password" in name else name] = "changed"
            continue
        field = form.fields.get(name)
        changes[name] = {"from": _plain(form[name].initial, field), "to": _plain(form.cleaned_data.get(name), field)}
    return changes


def _formset_changes(formsets) -> dict:
    rows: dict[str, list[str]] = {}
    for formset in formsets or []:
        for key, objects in (
            ("added", getattr(formset, "new_objects", [])),
            ("changed", [obj for obj, _ in getattr(formset, "changed_objects", [])]),
            ("deleted", getattr(formset, "deleted_objects", [])),
        ):
            rows.setdefault(key, []).extend(str(obj) for obj in objects)
    return {key: names for key, names in rows.items() if names}


def _object_data(obj: models.Model) -> dict:
    return {"object": obj._meta.label_lower, "id": str(obj.pk), "name": str(obj)[:300]}


class AuditedAdmin:
    """Mixed into every ModelAdmin of the site (see the module's docstring)."""

    def construct_change_message(self, request, form, formsets, add=False):
        # Called after the save and before log_addition/log_change: the form still knows
        # what each changed field was and became.
        request._admin_audit_changes = {"changes": form_changes(form), "inlines": _formset_changes(formsets)}
        return super().construct_change_message(request, form, formsets, add)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit_saved(request, obj, "admin.add")
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._audit_saved(request, obj, "admin.change")
        return entry

    def log_deletions(self, request, queryset):
        # Called before the deletion: the objects are named now, the event written once the
        # view has deleted them, unless the service that deleted them recorded it.
        deleted = [_object_data(obj) for obj in queryset]
        entries = super().log_deletions(request, queryset)
        origin = current_origin()
        if origin is None:
            self._audit_deleted(request, deleted)
        else:
            recorded_before = origin.recorded

            def unless_a_service_recorded_it() -> None:
                if origin.recorded == recorded_before:
                    self._audit_deleted(request, deleted)

            origin.before_end.append(unless_a_service_recorded_it)
        return entries

    def _audit_saved(self, request, obj, action: str) -> None:
        details = getattr(request, "_admin_audit_changes", {})
        request._admin_audit_changes = {}
        origin = current_origin()
        mark = getattr(request, "_admin_audit_mark", 0)
        # Events since the last object this request logged belong to this one's save.
        changed = {key: value for key, value in details.items() if value}
        # A save that changed nothing (a read-only page posted back) is no change to record.
        if (origin is None or origin.recorded == mark) and (changed or action == "admin.add"):
            audit(actor=request.user, action=action, data={**_object_data(obj), **changed})
        request._admin_audit_mark = origin.recorded if origin is not None else 0

    def _audit_deleted(self, request, deleted: list[dict]) -> None:
        for data in deleted:
            audit(actor=request.user, action="admin.delete", data=data)


class RegistryAdminSite(admin.AdminSite):
    site_header = "Model Registry administration"
    site_title = "Model Registry admin"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdmin):
            admin_class = type(
                admin_class.__name__, (AuditedAdmin, admin_class), {"__module__": admin_class.__module__}
            )
        return super().register(model_or_iterable, admin_class, **options)

    def admin_view(self, view, cacheable=False):
        def audited(request, *args, **kwargs):
            try:
                with transaction.atomic(), audit_origin(request, via="admin"):
                    return view(request, *args, **kwargs)
            except DomainError as error:
                messages.error(request, error.detail)
                return HttpResponseRedirect(request.get_full_path())

        return super().admin_view(audited, cacheable)
