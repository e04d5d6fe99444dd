"""Server-rendered pages of trusted evaluation: test sets and their leaderboards, an
evaluation's page, the compare page, and the evaluation parts of the version and model
pages. Reads go through evaluation.selectors (visibility applied there), writes through
one evaluation service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts_app.roles import Action, may
from models_app import selectors as catalog
from models_app.lookups import get_model as _get_model
from models_app.lookups import version_url as _version_url
from models_app.models import ModelVersion
from registry_site.errors import DomainError, Forbidden, NotFound
from registry_site.forms import add_domain_error

from . import charts, selectors, services
from .engine.tables import InvalidTable
from .forms import EvaluateOnForm, EvaluationRequestForm, TestSetBenchmarkForm, TestSetUploadForm
from .labels import LEADERBOARD_METRICS, metric_label, verdict
from .models import Evaluation, EvaluationSource, TestSet


def _get_test_set(request: HttpRequest, owner: str, name: str) -> TestSet:
    try:
        return selectors.test_set_get(user=request.user, owner=owner, name=name)
    except NotFound as error:
        raise Http404(error.detail) from None


def _get_version(request: HttpRequest, owner: str, name: str, version: str) -> ModelVersion:
    try:
        return catalog.version_get(user=request.user, model=_get_model(request, owner, name), version=version)
    except NotFound as error:
        raise Http404(error.detail) from None


# --- Test sets ---


@require_http_methods(["GET", "POST"])
def test_set_list(request: HttpRequest) -> HttpResponse:
    """Every test set the user may see; the upload form for the logged in."""
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    form, status = None, 200
    if request.user.is_authenticated:
        try:
            # Reading request.FILES runs the hashing upload handler, which raises TooLarge.
            form = TestSetUploadForm(request.POST or None, request.FILES or None)
            valid = request.method == "POST" and form.is_valid()
        except DomainError as error:
            form, valid = TestSetUploadForm(request.POST), False
            form.add_error("file", error.detail)
        if valid:
            data = dict(form.cleaned_data)
            try:
                test_set = services.test_set_create(owner=request.user, uploaded_file=data.pop("file"), **data)
            except InvalidTable as error:
                form.add_error("file", error.detail)  # the table is at fault: say so beside it
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Uploaded {test_set.full_name}: {test_set.rows} rows.")
                return redirect(test_set.get_absolute_url())
        if request.method == "POST":
            status = 400
    test_sets = list(selectors.test_set_list(user=request.user).order_by("-benchmark", "owner__username", "name"))
    context = {"test_sets": test_sets, "form": form, "benchmarks_only": False}
    return render(request, "evaluations_app/test_set_list.html", context, status=status)


@require_GET
def benchmark_list(request: HttpRequest) -> HttpResponse:
    test_sets = list(
        selectors.test_set_list(user=request.user).filter(benchmark=True).order_by("owner__username", "name")
    )
    return render(request, "evaluations_app/test_set_list.html", {"test_sets": test_sets, "benchmarks_only": True})


@require_GET
def test_set_detail(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    test_set = _get_test_set(request, owner, name)
    choices = LEADERBOARD_METRICS[test_set.task]
    wanted = request.GET.get("metric")
    metric, rows = selectors.leaderboard(
        user=request.user, test_set=test_set, metric=wanted if wanted in choices else None
    )
    staff_form = None
    if may(request.user, Action.MARK_BENCHMARK):
        staff_form = TestSetBenchmarkForm(
            initial={"benchmark": test_set.benchmark, "regression_threshold": test_set.regression_threshold}
        )
    context = {
        "test_set": test_set,
        "metric": metric,
        "metric_label": metric_label(metric),
        "metrics": [(m, metric_label(m)) for m in choices],
        "lower_is_better": metric in selectors.LOWER_IS_BETTER,
        "rows": [{"rank": rank, "evaluation": e, "value": e.metrics[metric]} for rank, e in enumerate(rows, start=1)],
        "staff_form": staff_form,
    }
    return render(request, "evaluations_app/test_set_detail.html", context)


@login_required
@require_POST
def test_set_benchmark(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    """Staff mark a test set as a benchmark and set its regression gate."""
    test_set = _get_test_set(request, owner, name)
    form = TestSetBenchmarkForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(test_set.get_absolute_url())
    try:
        services.test_set_update(test_set=test_set, actor=request.user, **form.cleaned_data)
    except Forbidden as error:
        raise PermissionDenied(error.detail) from None
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, "Saved." + (" It is a benchmark." if test_set.benchmark else ""))
    return redirect(test_set.get_absolute_url())


# --- Evaluations ---


@login_required
@require_POST
def evaluation_request(request: HttpRequest, owner: str, name: str, version: str) -> HttpResponse:
    instance = _get_version(request, owner, name, version)
    if not services.may_request_evaluation(request.user, instance):
        raise PermissionDenied("Only the owner, reviewers and staff can request evaluations.")
    test_sets = list(selectors.test_set_list(user=request.user))
    form = EvaluationRequestForm(request.POST, test_sets=test_sets, files=list(instance.files.all()))
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(_version_url(instance) + "#evaluations")
    test_set = next(t for t in test_sets if t.full_name == form.cleaned_data["test_set"])
    try:
        services.evaluation_request(
            version=instance,
            test_set=test_set,
            actor=request.user,
            predictions_path=form.cleaned_data["predictions_file"] or None,
        )
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"Queued an evaluation on {test_set.full_name}; this page updates when it is done.")
    return redirect(_version_url(instance) + "#evaluations")


@login_required
@require_POST
def evaluate_on_update(request: HttpRequest, owner: str, name: str, version: str) -> HttpResponse:
    """The owner's pick of the test sets each submitted version of the model is evaluated on."""
    instance = _get_version(request, owner, name, version)
    if not may(request.user, Action.EDIT, owner_id=instance.model.owner_id):
        raise PermissionDenied("Only the owner can choose the test sets of a model.")
    test_sets = list(selectors.test_set_list(user=request.user))
    form = EvaluateOnForm(request.POST, test_sets=test_sets)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(_version_url(instance) + "#evaluate-on")
    try:
        services.model_set_evaluate_on(model=instance.model, test_sets=form.chosen(), actor=request.user)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        chosen = ", ".join(t.full_name for t in form.chosen()) or "no test set of your choice"
        messages.success(request, f"Submitted versions of {instance.model.full_name} will be evaluated on {chosen}.")
    return redirect(_version_url(instance) + "#evaluate-on")


@require_GET
def evaluation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    except NotFound as error:
        raise Http404(error.detail) from None
    version = evaluation.version
    context = {
        "evaluation": evaluation,
        "version": version,
        "model": version.model,
        "test_set": evaluation.test_set,
        "result": result_context(evaluation, version.reported_metrics),
        "provenance": evaluation.provenance or {},
    }
    return render(request, "evaluations_app/evaluation_detail.html", context)


def result_context(evaluation: Evaluation, reported: dict) -> dict:
    """What the pages show of one successful evaluation: its metric rows and its charts."""
    reported = reported if isinstance(reported, dict) else {}
    rows = []
    for name, value in evaluation.metrics.items():
        if not isinstance(value, (int, float)):
            continue
        interval = evaluation.intervals.get(name)
        rows.append(
            {
                "name": name,
                "label": metric_label(name),
                "value": value,
                "interval": interval if isinstance(interval, list) and len(interval) == 2 else None,
                "reported": reported.get(name),
            }
        )
    order = {
        name: i for i, name in enumerate(LEADERBOARD_METRICS["classification"] + LEADERBOARD_METRICS["regression"])
    }
    rows.sort(key=lambda r: (order.get(r["name"], len(order)), r["name"]))
    title = f"{evaluation.version.model.full_name} {evaluation.version.version} on {evaluation.test_set.full_name}"
    matrix = evaluation.confusion_matrix or {}
    per_class = evaluation.per_class or {}
    importance = evaluation.feature_importance or []
    return {
        "evaluation": evaluation,
        "rows": rows,
        "from_predictions": evaluation.source == EvaluationSource.PREDICTIONS,
        "heat_map": charts.heat_map(matrix["labels"], matrix["matrix"], label=f"Confusion matrix of {title}")
        if matrix.get("labels")
        else None,
        "class_bars": charts.horizontal_bars(
            [(label, float(values.get("f1", 0.0))) for label, values in per_class.items()],
            label=f"F1 per class of {title}",
            max_value=1.0,
        )
        if per_class
        else None,
        "importance_bars": charts.horizontal_bars(
            [(item["feature"], float(item["importance"])) for item in importance[:20]],
            errors=[float(item.get("std") or 0.0) for item in importance[:20]],
            label=f"Permutation feature importance of {title}",
        )
        if importance
        else None,
    }


# --- Compare ---


@require_GET
def model_compare(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    """Two versions of one model side by side on every test set both were evaluated on."""
    model = _get_model(request, owner, name)
    versions = catalog.version_history(user=request.user, model=model)
    by_label = {v.version: v for v in versions}
    a, b = by_label.get(request.GET.get("a", "")), by_label.get(request.GET.get("b", ""))
    if a is None and b is None and len(versions) >= 2:
        # Default: the newest against the one before it.
        b, a = versions[0], versions[1]
    rows = selectors.compare(user=request.user, a=a, b=b) if a and b and a != b else []
    for row in rows:
        for metric in row["metrics"]:
            metric["label"] = metric_label(metric["name"])
        row["verdict"] = verdict(row, a, b)
    context = {
        "model": model,
        "versions": versions,
        "a": a,
        "b": b,
        "rows": rows,
        "same": a is not None and a == b,
    }
    return render(request, "evaluations_app/model_compare.html", context)
