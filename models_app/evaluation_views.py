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

from . import charts
from . import selectors as catalog
from .errors import DomainError, Forbidden, NotFound
from .evaluation import selectors, services
from .evaluation.tables import InvalidTable
from .forms import EvaluationRequestForm, TestSetBenchmarkForm, TestSetUploadForm, add_domain_error
from .lookups import get_model as _get_model
from .lookups import version_url as _version_url
from .models import Evaluation, EvaluationSource, EvaluationStatus, ModelVersion, TestSet
from .querysets import PUBLIC_STATUSES

# The metrics a leaderboard can be ranked by, in the order the links show them.
LEADERBOARD_METRICS = {
    "classification": ["accuracy", "f1_macro", "f1_weighted", "precision_macro", "recall_macro", "roc_auc", "log_loss"],
    "regression": ["rmse", "mae", "r2"],
}
METRIC_LABELS = {
    "accuracy": "Accuracy",
    "f1_macro": "F1 (macro)",
    "f1_weighted": "F1 (weighted)",
    "precision_macro": "Precision (macro)",
    "recall_macro": "Recall (macro)",
    "precision_weighted": "Precision (weighted)",
    "recall_weighted": "Recall (weighted)",
    "roc_auc": "ROC AUC",
    "log_loss": "Log loss",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
}
ACTIVE = (EvaluationStatus.QUEUED, EvaluationStatus.RUNNING)


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name.replace("_", " "))


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
    return render(request, "models_app/test_set_list.html", context, status=status)


@require_GET
def benchmark_list(request: HttpRequest) -> HttpResponse:
    test_sets = list(
        selectors.test_set_list(user=request.user).filter(benchmark=True).order_by("owner__username", "name")
    )
    return render(request, "models_app/test_set_list.html", {"test_sets": test_sets, "benchmarks_only": True})


@require_GET
def test_set_detail(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    test_set = _get_test_set(request, owner, name)
    choices = LEADERBOARD_METRICS[test_set.task]
    wanted = request.GET.get("metric")
    metric, rows = selectors.leaderboard(
        user=request.user, test_set=test_set, metric=wanted if wanted in choices else None
    )
    user = request.user
    staff_form = None
    if user.is_authenticated and user.is_staff:
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
    return render(request, "models_app/test_set_detail.html", context)


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
        "result": _result(evaluation, version.reported_metrics),
        "provenance": evaluation.provenance or {},
    }
    return render(request, "models_app/evaluation_detail.html", context)


def _result(evaluation: Evaluation, reported: dict) -> dict:
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


def version_evaluation_context(request: HttpRequest, version: ModelVersion) -> dict:
    """The version page's evaluation part: verified results per test set, every evaluation's
    status (for the poller), and the request form for those allowed to ask.

    One query for the evaluations, one for the test sets of the form (when shown), plus the
    reviewer check inside may_request_evaluation.
    """
    evaluations = list(selectors.evaluations_of_version(user=request.user, version=version))
    latest: dict[int, Evaluation] = {}
    for evaluation in sorted(
        (e for e in evaluations if e.status == EvaluationStatus.SUCCEEDED),
        key=lambda e: (e.finished_at or e.created_at, e.pk),
        reverse=True,
    ):
        latest.setdefault(evaluation.test_set_id, evaluation)
    results = [
        _result(e, version.reported_metrics)
        for e in sorted(latest.values(), key=lambda e: (not e.test_set.benchmark, e.test_set.full_name))
    ]
    form = None
    if services.may_request_evaluation(request.user, version):
        test_sets = list(selectors.test_set_list(user=request.user).order_by("-benchmark", "owner__username", "name"))
        form = EvaluationRequestForm(test_sets=test_sets, files=list(version.files.all()))
    return {
        "evaluations": evaluations,
        "results": results,
        "evaluations_active": any(e.status in ACTIVE for e in evaluations),
        "evaluation_form": form,
        "reported_only": {
            k: v
            for k, v in (version.reported_metrics or {}).items()
            if not any(k == row["name"] for result in results for row in result["rows"])
        }
        if isinstance(version.reported_metrics, dict)
        else {},
    }


def model_chart_context(request: HttpRequest, versions: list[ModelVersion]) -> list[dict]:
    """The model page's line charts: the headline metric of each published version (oldest
    first) on each test set."""
    published = [v for v in reversed(versions) if v.status in PUBLIC_STATUSES]
    history = selectors.metric_history(user=request.user, versions=published) if published else []
    for item in history:
        item["metric_label"] = metric_label(item["metric"])
        item["chart"] = charts.line_chart(
            item["points"],
            label=f"{item['metric_label']} of each version on {item['test_set'].full_name}",
            y_label=item["metric_label"]
            + (" (lower is better)" if item["metric"] in selectors.LOWER_IS_BETTER else ""),
        )
    return history


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
    return render(request, "models_app/model_compare.html", context)


def verdict(row: dict, a: ModelVersion, b: ModelVersion) -> str:
    """McNemar's test in words; a winner is named only when the data supports it."""
    test = row["mcnemar"]
    if test is None:
        return ""
    p = _p_value(test.p_value)
    if test.significant and test.better in ("a", "b"):
        winner, loser = (b, a) if test.better == "b" else (a, b)
        return f"{winner.version} is better than {loser.version} on {row['test_set'].full_name} (p {p})."
    return f"The data does not show a difference (p {p})."


def _p_value(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}" if p < 0.1 else f"= {p:.2f}"
