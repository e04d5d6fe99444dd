"""Server-rendered catalog pages. Each view looks things up through the selectors (which
apply the visibility rules) and changes things only through one service call."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts_app.roles import Action, may
from registry_site.errors import DomainError, Forbidden, NotFound
from registry_site.forms import add_domain_error

from . import selectors, services, usage
from .alias_views import alias_controls
from .aliases import alias_warning
from .cards import CARD_LABELS, pending_fields, published_card, working_card
from .downloads import file_response
from .filters import ORDERING_LABELS, ModelFilter
from .forms import FileUploadForm, ModelCreateForm, ModelEditForm, VersionMetadata
from .lookups import get_model as _get_model
from .lookups import version_url as _version_url
from .models import ModelVersion, RegisteredModel, VersionStatus, Visibility
from .pages import page_parts

PAGE_SIZE = 20


def _get_editable_model(request: HttpRequest, owner: str, name: str) -> RegisteredModel:
    """404 when the user cannot see the model (existence is not leaked), 403 when they only can see it."""
    try:
        return selectors.model_get_editable(user=request.user, owner=owner, name=name)
    except NotFound as error:
        raise Http404(error.detail) from None
    except Forbidden as error:
        raise PermissionDenied(error.detail) from None


def _get_version(request: HttpRequest, model: RegisteredModel, version: str) -> ModelVersion:
    try:
        return selectors.version_get(user=request.user, model=model, version=version)
    except NotFound as error:
        raise Http404(error.detail) from None


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "recent": selectors.model_recent(user=request.user),
        "popular": selectors.model_most_downloaded(user=request.user),
    }
    return render(request, "models_app/home.html", context)


def _active_filters(request: HttpRequest, filters: dict[str, str]) -> list[tuple[str, str]]:
    """(chip text, link that removes it) per filter in use, with the labels people read, not slugs."""
    chips = []
    for key in ("task", "framework", "license", "tag", "owner"):
        value = filters[key]
        if value:
            params = request.GET.copy()
            for dropped in (key, "page"):
                params.pop(dropped, None)
            text = f"#{value}" if key == "tag" else selectors.FACET_LABELS.get(key, {}).get(value, value)
            chips.append((text if key != "owner" else f"by {value}", f"?{params.urlencode()}"))
    return chips


@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    filterset = ModelFilter(request.GET, queryset=selectors.model_list(user=request.user))
    queryset = filterset.qs
    # get_page() turns a junk or out-of-range ?page= into the first or last page, never an error.
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    data = filterset.form.cleaned_data if filterset.form.is_valid() else {}

    def without(field: str):
        params = request.GET.copy()
        params.pop(field, None)
        return ModelFilter(params, queryset=selectors.model_list(user=request.user)).qs

    filters = {key: data.get(key) or "" for key in ("q", "task", "framework", "license", "tag", "owner")}
    context = {
        "page": page,
        "facets": selectors.facet_counts(without),
        "filters": filters,
        "active_filters": _active_filters(request, filters),
        "ordering": data.get("ordering") or "relevance",
        "ordering_labels": ORDERING_LABELS,
        "errors": filterset.form.errors,
    }
    return render(request, "models_app/model_list.html", context)


@require_GET
def model_detail(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _get_model(request, owner, name)
    versions = selectors.version_history(user=request.user, model=model)
    latest = selectors.latest_public_in(versions)
    # The owner, reviewers and staff read the working copy, marked where it awaits review;
    # everyone else the card of the latest approval (models_app/cards.py).
    sees_pending = may(request.user, Action.SEE_SUBMITTED, owner_id=model.owner_id)
    card = working_card(model) if sees_pending else published_card(model)
    pending = pending_fields(model) if sees_pending else []
    context = {
        "model": model,
        "card": card,
        "pending_fields": [CARD_LABELS[name] for name in pending],
        # The version in review that would publish them, if one carries exactly these edits.
        "pending_carrier": next(
            (v for v in versions if pending and v.status == VersionStatus.IN_REVIEW and v.card == card.as_dict()), None
        ),
        "versions": versions,
        "latest": latest,
        "prerelease": selectors.latest_prerelease_in(versions),
        "usage": _usage(request, model, latest) if latest else [],
        "is_owner": may(request.user, Action.EDIT, owner_id=model.owner_id),
        "api_base": request.build_absolute_uri(reverse("api-model-detail", kwargs={"owner": owner, "name": name})),
        **alias_controls(request, model, versions),
        "site_root": request.build_absolute_uri("/").rstrip("/"),
        **page_parts("model", request, model=model, versions=versions),
    }
    return render(request, "models_app/model_detail.html", context)


def _usage(request: HttpRequest, model: RegisteredModel, version: ModelVersion) -> list[usage.FileUsage]:
    """The usage snippets of the version's files, with absolute download URLs; a private
    model's (or an unpublished version's) snippets send a token."""

    def file_url(model_file) -> str:
        kwargs = {"owner": model.owner.username, "name": model.name, "version": version.version}
        return request.build_absolute_uri(reverse("api-file-detail", kwargs={**kwargs, "path": model_file.path}))

    private = model.visibility == Visibility.PRIVATE or not version.is_public
    return usage.version_usage(version=version, file_url=file_url, private=private)


@require_GET
def version_list(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _get_model(request, owner, name)
    versions = selectors.version_history(user=request.user, model=model)
    return render(request, "models_app/version_list.html", {"model": model, "versions": versions})


@require_GET
def version_detail(request: HttpRequest, owner: str, name: str, version: str) -> HttpResponse:
    model = _get_model(request, owner, name)
    instance = _get_version(request, model, version)
    is_owner = may(request.user, Action.EDIT, owner_id=model.owner_id)
    can_upload = is_owner and instance.is_editable
    files = list(instance.files.all())
    model_files = [f for f in files if f.is_model]
    version_aliases = list(instance.aliases.order_by("name"))  # one query; warned about if deprecated
    context = {
        "evaluated_file": next((f for f in files if f.pk == instance.evaluated_file_id), None),
        "evaluated_choices": model_files if can_upload and len(model_files) > 1 else [],
        "model": model,
        "version": instance,
        "files": files,
        "is_owner": is_owner,
        "can_edit": is_owner and instance.is_editable,
        # The file the scan read the signature from, when the version's is still that one.
        "signature_source": next(
            (
                f
                for f in files
                if services.has_signature(instance) and f.scan_report.get("signature") == instance.signature
            ),
            None,
        ),
        "upload_form": FileUploadForm() if can_upload else None,
        "frozen_reason": FROZEN_REASONS.get(instance.status, ""),
        # Any public version can be used, a pre-release included (the model page offers the latest stable one).
        "usage": _usage(request, model, instance) if instance.is_public else [],
        "version_aliases": version_aliases,
        "alias_warnings": [warning for a in version_aliases if (warning := alias_warning(a.name, instance))],
        **page_parts("version", request, version=instance),
    }
    return render(request, "models_app/version_detail.html", context)


FROZEN_REASONS = {
    VersionStatus.IN_REVIEW: "Files are frozen while the version is in review.",
    VersionStatus.PUBLISHED: "Files are frozen after publication: a fix is a new version.",
    VersionStatus.DEPRECATED: "Files are frozen after publication: a fix is a new version.",
    VersionStatus.REJECTED: "Rejected versions are final: create a new version instead.",
}


@require_http_methods(["GET", "HEAD"])
def file_download(request: HttpRequest, owner: str, name: str, version: str, path: str) -> HttpResponse:
    instance = _get_version(request, _get_model(request, owner, name), version)
    try:
        model_file = selectors.file_get(version=instance, path=path)
        response = file_response(request, model_file)
    except NotFound as error:
        raise Http404(error.detail) from None
    except DomainError as error:
        return HttpResponse(error.detail, status=error.status, content_type="text/plain; charset=utf-8")
    # Count what was served (or redirected to), not HEAD probes or 304 revalidations.
    if request.method == "GET" and (response.status_code == 200 or isinstance(response, HttpResponseRedirect)):
        services.file_record_download(model_file=model_file)
    return response


@require_GET
def user_detail(request: HttpRequest, username: str) -> HttpResponse:
    try:
        person = selectors.user_get(username=username)
    except NotFound as error:
        raise Http404(error.detail) from None
    models = selectors.model_list(user=request.user).filter(owner=person).order_by("-updated_at", "pk")
    page = Paginator(models, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "models_app/user_detail.html", {"person": person, "page": page})


# --- Owner-only pages ---


@login_required
@require_http_methods(["GET", "POST"])
def model_create(request: HttpRequest) -> HttpResponse:
    form = ModelCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            model = services.model_create(owner=request.user, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Created {model.full_name}. Next, create its first version.")
            return redirect(model.get_absolute_url())
    return render(request, "models_app/model_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def model_edit(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _get_editable_model(request, owner, name)
    card = working_card(model)  # the owner edits their working copy, pending edits included
    initial = {field: getattr(card, field) for field in services.MODEL_FIELDS if field != "visibility"}
    initial |= {"visibility": model.visibility, "tags": list(card.tags)}
    form = ModelEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            updated = services.model_update(model=model, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            pending = " The public page keeps the approved card until a version carrying your edits is approved."
            messages.success(request, "Saved." + (pending if updated.pending_card else ""))
            return redirect(model.get_absolute_url())
    return render(request, "models_app/model_form.html", {"form": form, "model": model, "creating": False})


@login_required
@require_http_methods(["GET", "POST"])
def model_delete(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _get_editable_model(request, owner, name)
    if request.method == "POST":
        try:
            services.model_delete(model=model, actor=request.user)
        except DomainError as error:
            messages.error(request, error.detail)
            return redirect(model.get_absolute_url())
        messages.success(request, f"Deleted {model.full_name}.")
        return redirect("user-detail", username=request.user.username)
    return render(request, "models_app/model_confirm_delete.html", {"model": model})


@login_required
@require_http_methods(["GET", "POST"])
def version_create(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _get_editable_model(request, owner, name)
    metadata = VersionMetadata(request.POST or None, creating=True)
    if request.method == "POST" and metadata.is_valid():
        try:
            version = services.version_create(model=model, created_by=request.user, **metadata.cleaned())
        except DomainError as error:
            metadata.add_service_error(error)
        else:
            messages.success(request, f"Created draft {version.version}. Upload its files below.")
            return redirect(_version_url(version))
    return render(request, "models_app/version_form.html", {"metadata": metadata, "model": model, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def version_edit(request: HttpRequest, owner: str, name: str, version: str) -> HttpResponse:
    """A draft's changelog, parameters, reported metrics and signature, as rows of fields."""
    model = _get_editable_model(request, owner, name)
    instance = _get_version(request, model, version)
    if not instance.is_editable:
        messages.error(request, FROZEN_REASONS.get(instance.status, "This version can no longer be edited."))
        return redirect(_version_url(instance))
    metadata = VersionMetadata(request.POST or None, version=instance)
    if request.method == "POST" and metadata.is_valid():
        try:
            services.version_update(version=instance, actor=request.user, **metadata.cleaned())
        except DomainError as error:
            metadata.add_service_error(error)
        else:
            messages.success(request, f"Saved the details of {instance.version}.")
            return redirect(_version_url(instance))
    context = {"metadata": metadata, "model": model, "version": instance, "creating": False}
    return render(request, "models_app/version_form.html", context)


@login_required
@require_POST
def file_upload(request: HttpRequest, owner: str, name: str, version: str) -> HttpResponse:
    """The no-JavaScript path of the upload form (upload.js posts to the API instead)."""
    instance = _get_version(request, _get_editable_model(request, owner, name), version)
    try:
        # Reading request.FILES runs the hashing upload handler, which raises TooLarge.
        form = FileUploadForm(request.POST, request.FILES)
        files = form.cleaned_data["file"] if form.is_valid() else []
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect(_version_url(instance))
    if not files:
        messages.error(request, "Choose at least one file to upload.")
    for uploaded in files:
        try:
            model_file = services.file_upload(version=instance, uploaded_file=uploaded, actor=request.user)
        except DomainError as error:
            messages.error(request, f"{uploaded.name}: {error.detail}")
        else:
            messages.success(request, f"Uploaded {model_file.path}.")
            if model_file.format_warning:
                messages.warning(request, model_file.format_warning)
    return redirect(_version_url(instance))


@login_required
@require_POST
def version_evaluated_file(request: HttpRequest, owner: str, name: str, version: str) -> HttpResponse:
    """The owner's choice of the file the registry runs, when a draft holds several models."""
    instance = _get_version(request, _get_editable_model(request, owner, name), version)
    try:
        services.version_choose_evaluated_file(version=instance, path=request.POST.get("path", ""), actor=request.user)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"The registry will evaluate {request.POST.get('path')}.")
    return redirect(_version_url(instance) + "#files")


@login_required
@require_http_methods(["GET", "POST"])
def file_remove(request: HttpRequest, owner: str, name: str, version: str) -> HttpResponse:
    """GET asks for confirmation; POST removes the file from the draft."""
    instance = _get_version(request, _get_editable_model(request, owner, name), version)
    try:
        model_file = selectors.file_get(version=instance, path=request.POST.get("path") or request.GET.get("path", ""))
    except NotFound as error:
        raise Http404(error.detail) from None
    if request.method == "GET":
        return render(request, "models_app/file_confirm_remove.html", {"version": instance, "file": model_file})
    try:
        services.file_delete(model_file=model_file, actor=request.user)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"Removed {model_file.path}.")
    return redirect(_version_url(instance))
