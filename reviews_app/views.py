"""Server-rendered pages of the review workflow: the queue, a review, my submissions, the
audit log, notifications, and the version page's lifecycle buttons. Each view reads through
the selectors and changes things only through one service call."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts_app.roles import Action, may
from evaluations_app import selectors as evaluations
from evaluations_app.labels import metric_label, verdict
from models_app import selectors as catalog
from models_app.cards import version_card
from models_app.lookups import get_version as _get_version
from models_app.lookups import version_url as _version_url
from models_app.models import ModelVersion
from models_app.pages import page_parts
from registry_site.errors import Conflict, DomainError, Forbidden, NotFound
from registry_site.forms import add_domain_error

from . import checks, selectors, services
from .diff import changes_since, decision_snapshot, diff_snapshots, version_snapshot
from .forms import AuditFilterForm, DecisionForm, DeprecateForm, QueueFilterForm, SubmitForm
from .models import AuditEvent, Review

QUEUE_PAGE_SIZE = 25
PAGE_SIZE = 50


def _get_review(request: HttpRequest, pk: int) -> Review:
    try:
        return selectors.review_get(user=request.user, pk=pk)
    except NotFound as error:
        raise Http404(error.detail) from None


def event_url(event: AuditEvent) -> str:
    """The version page an audit event is about, from the copied names (the rows may be gone)."""
    owner, _, name = event.model_full_name.partition("/")
    if not (owner and name and event.version_label):
        return ""
    return reverse("version-detail", kwargs={"owner": owner, "name": name, "version": event.version_label})


# --- The queue and a review ---


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    if not may(request.user, Action.SEE_QUEUE):
        # Owners land on what they can see: their own submissions.
        return redirect("my-submissions")
    form = QueueFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    queryset = selectors.review_queue(
        user=request.user,
        task=filters.get("task") or "",
        submitter=filters.get("submitter") or "",
        failing=bool(filters.get("failing")),
    )
    page = Paginator(queryset, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    for review in page.object_list:
        _label_checks(review)
    return render(request, "reviews_app/queue.html", {"page": page, "form": form, "filters": filters})


@login_required
@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = _get_review(request, pk)
    form = DecisionForm(request.POST or None)
    status, decision_error = 200, ""
    if request.method == "POST" and form.is_valid():
        try:
            decided = services.review_decide(
                review=review,
                actor=request.user,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
                override_regression=form.cleaned_data["override_regression"],
                override_scan=form.cleaned_data["override_scan"],
                meta=services.RequestMeta.from_request(request),
            )
        except Conflict as error:
            if error.code in ("regression_gate", "scan_gate"):
                # Not a race: the reviewer can still decide, by overriding or asking for changes.
                form.add_error(
                    "override_regression" if error.code == "regression_gate" else "override_scan", error.detail
                )
                status, decision_error = error.status, error.detail
                context = {**_review_context(request, review, form), "decision_error": decision_error}
                return render(request, "reviews_app/review_detail.html", context, status=status)
            # Someone else was faster (or the version moved on): show what happened, not the form.
            return _already_decided(request, pk, error)
        except DomainError as error:
            add_domain_error(form, error)
            status = error.status
            decision_error = error.detail
        else:
            version = decided.version
            messages.success(request, f"{decided.get_decision_display()}: {version.model.full_name} {version.version}.")
            return redirect(_next_in_queue(request.user))
    elif request.method == "POST":
        status = 400
    context = {**_review_context(request, review, form), "decision_error": decision_error}
    return render(request, "reviews_app/review_detail.html", context, status=status)


def _label_checks(review: Review) -> Review:
    """A readable label per check ("model_card" → "model card"), for the badges."""
    for check in review.checks:
        check["label"] = str(check.get("name", "check")).replace("_", " ")
    return review


def _next_in_queue(user) -> str:
    """After a decision, straight on to the oldest open submission the reviewer may decide."""
    following = selectors.review_queue(user=user).exclude(submitted_by=user).exclude(version__model__owner=user).first()
    return reverse("review-detail", kwargs={"pk": following.pk}) if following else reverse("review-queue")


def _already_decided(request: HttpRequest, pk: int, error: Conflict) -> HttpResponse:
    review = _get_review(request, pk)
    context = {"review": review, "error": error, "version": review.version}
    return render(request, "reviews_app/already_decided.html", context, status=409)


def _review_context(request: HttpRequest, review: Review, form: DecisionForm) -> dict:
    version = (
        ModelVersion.objects.select_related("model__owner")
        .prefetch_related(catalog.files_prefetch())
        .get(pk=review.version_id)
    )
    previous = selectors.previous_published(version=version)
    history = list(selectors.reviews_of_version(version=version))
    user = request.user
    may_decide = (
        review.is_open
        and may(user, Action.DECIDE, owner_id=version.model.owner_id)
        and review.submitted_by_id != user.pk
    )
    if review.is_open:
        # An open review shows the checks as they stand now, from the same report the
        # approval reads; a closed one what the reviewer saw when deciding.
        report = checks.report(version, previous=previous)
        review.checks, regressions, scan_blocked = report.checks, report.regressions, bool(report.scan_blockers)
    else:
        regressions, scan_blocked = [], False
    return {
        "review": _label_checks(review),
        "version": version,
        "model": version.model,
        "card": version_card(version),  # what this version carries, and its approval publishes
        "files": list(version.files.all()),
        "previous": previous,
        "diff": diff_snapshots(selectors.approved_snapshot(previous), version_snapshot(version)) if previous else None,
        "history": [r for r in history if r.pk != review.pk],
        "events": list(selectors.audit_list(version=version)[:PAGE_SIZE]),
        "form": form if may_decide else None,
        "is_own": review.submitted_by_id == user.pk or version.model.owner_id == user.pk,
        "scan_gate_closed": scan_blocked,
        **_changes_since_last_decision(request, review, version, history),
        **_metric_deltas(request, version, previous, regressions),
        # Evaluation's part of the page (its own results of the version), through the hook.
        **page_parts("review", request, version=version, review=review, previous=previous),
    }


def _changes_since_last_decision(
    request: HttpRequest, review: Review, version: ModelVersion, history: list[Review]
) -> dict:
    """On a resubmission: what changed since the last decision on this version, preferring the
    viewer's own, against the snapshot kept when it was made. An open review compares the
    version as it is now; a closed one what its own reviewer saw."""
    earlier = [r for r in history if r.decided_at and (r.created_at, r.pk) < (review.created_at, review.pk)]
    if not earlier:
        return {"since": None, "since_review": None}
    mine = [r for r in earlier if r.reviewer_id == request.user.pk]
    last = (mine or earlier)[-1]
    current = decision_snapshot(version) if review.is_open else review.decided_snapshot
    since = changes_since(last.decided_snapshot, current) if last.decided_snapshot and current else None
    return {
        "since": since,
        "since_review": last,
        "since_mine": bool(mine),
        "since_label": f"At #{last.pk}",
        "since_new_label": "Now" if review.is_open else f"At #{review.pk}",
    }


def _metric_deltas(
    request: HttpRequest, version: ModelVersion, previous: ModelVersion | None, regressions: list[checks.Regression]
) -> dict:
    """The verified metrics against the latest published version (b − a), regressions and
    McNemar's verdict included; the gate's verdict is the report's, not computed again."""
    rows = evaluations.compare(user=request.user, a=previous, b=version) if previous else []
    beyond = {(r.test_set_id, r.metric) for r in regressions}
    for row in rows:
        for metric in row["metrics"]:
            metric["label"] = metric_label(metric["name"])
            metric["beyond_gate"] = (row["test_set"].pk, metric["name"]) in beyond
        row["verdict"] = verdict(row, previous, version)
    return {"metric_deltas": rows, "regression_gate_closed": bool(regressions)}


# --- Owners ---


@login_required
@require_GET
def my_submissions(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.my_submissions(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reviews_app/mine.html", {"page": page})


@login_required
@require_POST
def version_submit(request: HttpRequest, owner: str, name: str, version: str) -> HttpResponse:
    instance = _get_version(request, owner, name, version)
    form = SubmitForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        review = services.version_submit(
            version=instance, actor=request.user, note=note, meta=services.RequestMeta.from_request(request)
        )
    except Forbidden as error:
        raise PermissionDenied(error.detail) from None
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        failing = len(review.failing_checks)
        messages.success(
            request,
            f"Submitted {instance.version} for review."
            + (f" {failing} automated check{'s' if failing != 1 else ''} failed: see below." if failing else ""),
        )
    return redirect(_version_url(instance))


@login_required
@require_POST
def version_deprecate(request: HttpRequest, owner: str, name: str, version: str) -> HttpResponse:
    instance = _get_version(request, owner, name, version)
    form = DeprecateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the version is deprecated, so its users know what to do.")
        return redirect(_version_url(instance))
    try:
        services.version_deprecate(
            version=instance,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            meta=services.RequestMeta.from_request(request),
        )
    except Forbidden as error:
        raise PermissionDenied(error.detail) from None
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"Deprecated {instance.version}; it stays downloadable, with your reason shown.")
    return redirect(_version_url(instance))


@login_required
@require_POST
def version_undeprecate(request: HttpRequest, owner: str, name: str, version: str) -> HttpResponse:
    instance = _get_version(request, owner, name, version)
    try:
        services.version_undeprecate(
            version=instance, actor=request.user, meta=services.RequestMeta.from_request(request)
        )
    except Forbidden as error:
        raise PermissionDenied(error.detail) from None
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"{instance.version} is no longer deprecated.")
    return redirect(_version_url(instance))


# --- Staff and everyone's inbox ---


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    if not may(request.user, Action.READ_AUDIT):
        raise PermissionDenied("Only staff can read the audit log.")
    form = AuditFilterForm(request.GET, actions=selectors.audit_actions())
    filters = form.cleaned_data if form.is_valid() else {}
    queryset = selectors.audit_list(
        action=filters.get("action") or "", actor=filters.get("actor") or "", model=filters.get("model") or ""
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.url = event_url(event)
    return render(request, "reviews_app/audit_log.html", {"page": page, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        count = services.notifications_mark_read(user=request.user)
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
        return redirect("notification-list")
    page = Paginator(selectors.notification_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reviews_app/notifications.html", {"page": page})
