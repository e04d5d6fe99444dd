"""The alias pages: set, move and delete from the model page, and an alias's history with
"what did it point at on <date>". Changes go through models_app.aliases, as the API's do."""

from datetime import UTC, datetime, time

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts_app.roles import Action, may
from registry_site.audit import RequestMeta
from registry_site.errors import DomainError

from . import aliases, selectors
from .forms import AliasSetForm
from .lookups import get_model
from .models import ModelVersion, RegisteredModel, VersionStatus


def alias_controls(request: HttpRequest, model: RegisteredModel, versions: list[ModelVersion]) -> dict:
    """The model page's alias section: the aliases (from the versions' prefetch, no query),
    and the form for those who may change them."""
    current = sorted((a for v in versions for a in v.aliases.all()), key=lambda a: a.name)
    may_edit = may(request.user, Action.EDIT, owner_id=model.owner_id)
    can_protect = may(request.user, Action.PROTECT_ALIAS, owner_id=model.owner_id)
    published = [v.version for v in versions if v.status == VersionStatus.PUBLISHED]
    form = AliasSetForm(versions=published, can_protect=can_protect) if (may_edit or can_protect) else None
    return {
        "aliases": current,
        "alias_form": form if published else None,
        "alias_may_edit": may_edit,
        "alias_can_protect": can_protect,
    }


def _model_for_alias_change(request: HttpRequest, owner: str, name: str) -> RegisteredModel:
    """404 if the user cannot see the model, 403 if they may change none of its aliases."""
    model = get_model(request, owner, name)
    if not (
        may(request.user, Action.EDIT, owner_id=model.owner_id)
        or may(request.user, Action.PROTECT_ALIAS, owner_id=model.owner_id)
    ):
        raise PermissionDenied(f"Only the owner or a reviewer can change the aliases of {model.full_name}.")
    return model


def _back(model: RegisteredModel) -> HttpResponse:
    return redirect(model.get_absolute_url() + "#aliases")


@login_required
@require_POST
def alias_set(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _model_for_alias_change(request, owner, name)
    versions = selectors.version_list(user=request.user, model=model).filter(status=VersionStatus.PUBLISHED)
    can_protect = may(request.user, Action.PROTECT_ALIAS, owner_id=model.owner_id)
    form = AliasSetForm(
        request.POST, versions=list(versions.values_list("version", flat=True)), can_protect=can_protect
    )
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        messages.error(request, f"{form.fields[field].label if field in form.fields else ''}: {errors[0]}".lstrip(": "))
        return _back(model)
    try:
        version = selectors.version_get(user=request.user, model=model, version=form.cleaned_data["version"])
        alias = aliases.alias_set(
            model=model, name=form.cleaned_data["name"], version=version, actor=request.user,
            protected=form.protected(), meta=RequestMeta.from_request(request),
        )  # fmt: skip
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"@{alias.name} now points at {alias.version.version}.")
    return _back(model)


@login_required
@require_POST
def alias_delete(request: HttpRequest, owner: str, name: str, alias: str) -> HttpResponse:
    model = _model_for_alias_change(request, owner, name)
    try:
        aliases.alias_delete(model=model, name=alias, actor=request.user, meta=RequestMeta.from_request(request))
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"Deleted @{alias}; its history stays on its page.")
    return _back(model)


class AliasAtForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="On")
    time = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}), help_text="UTC; empty: the end of the day."
    )

    def instant(self) -> datetime:
        moment = self.cleaned_data.get("time") or time(23, 59, 59, 999999)
        return datetime.combine(self.cleaned_data["date"], moment, tzinfo=UTC)


@require_GET
def alias_history(request: HttpRequest, owner: str, name: str, alias: str) -> HttpResponse:
    """The alias's timeline, newest first, and what it pointed at on a date someone asks about."""
    model = get_model(request, owner, name)
    changes = list(aliases.alias_history(model=model, name=alias))
    current = aliases.alias_list(model).filter(name=alias.strip().lower()).first()
    if not changes and current is None:
        raise Http404(f"{model.full_name} has no alias '{alias}'.")
    at_form = AliasAtForm(request.GET if "date" in request.GET else None)
    answer = None
    if at_form.is_valid():
        at = at_form.instant()
        answer = {"at": at, "version": aliases.alias_history(model=model, name=alias, at=at)}
    context = {
        "model": model,
        "alias": changes[0].alias if changes else alias.strip().lower(),
        "current": current,
        "changes": changes,
        "at_form": at_form,
        "answer": answer,
        "api_url": reverse("api-alias-history", kwargs={"owner": owner, "name": name, "alias": alias}),
    }
    return render(request, "models_app/alias_history.html", context)
