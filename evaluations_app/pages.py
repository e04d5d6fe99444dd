"""Evaluation's parts of the catalog's model and version pages and of the review page
(registered in apps.py)."""

from django.http import HttpRequest

from accounts_app.roles import Action, may
from models_app.models import ModelVersion
from models_app.querysets import PUBLIC_STATUSES

from . import charts, selectors, services
from .forms import EvaluateOnForm, EvaluationRequestForm
from .labels import metric_label
from .models import ACTIVE_STATUSES, Evaluation, EvaluationSource, EvaluationStatus
from .views import result_context


def version_part(request: HttpRequest, *, version: ModelVersion, **_: object) -> dict:
    """The version page's evaluation part: verified results per test set, every evaluation's
    status (for the poller), and the request form for those allowed to ask.

    One query for the evaluations, one for the test sets of the form (when shown), plus the
    reviewer check inside may_request_evaluation.
    """
    evaluations = list(selectors.evaluations_of_version(user=request.user, version=version))
    latest: dict[int, Evaluation] = {}
    # Results computed on a file since removed are withdrawn: they describe no file of the version.
    for evaluation in sorted(
        (e for e in evaluations if e.status == EvaluationStatus.SUCCEEDED and not e.is_withdrawn),
        key=lambda e: (e.finished_at or e.created_at, e.pk),
        reverse=True,
    ):
        latest.setdefault(evaluation.test_set_id, evaluation)
    results = [
        result_context(e, version.reported_metrics)
        for e in sorted(latest.values(), key=lambda e: (not e.test_set.benchmark, e.test_set.full_name))
    ]
    form = None
    test_sets: list = []
    if services.may_request_evaluation(request.user, version):
        test_sets = list(selectors.test_set_list(user=request.user).order_by("-benchmark", "owner__username", "name"))
        form = EvaluationRequestForm(test_sets=test_sets, files=list(version.files.all()))
    return {
        **_submission_plan(request, version, test_sets),
        "evaluations": evaluations,
        "results": results,
        # Tasks whose test sets are tables of numbers with a label or a value; the others
        # (anomaly detection, ranking, images, text...) get their own test-set formats later.
        "task_evaluable": version.model.task in EVALUATED_TASKS,
        "evaluations_active": any(e.status in ACTIVE_STATUSES for e in evaluations),
        "evaluation_form": form,
        "reported_only": {
            k: v
            for k, v in (version.reported_metrics or {}).items()
            if not any(k == row["name"] for result in results for row in result["rows"])
        }
        if isinstance(version.reported_metrics, dict)
        else {},
    }


def _submission_plan(request: HttpRequest, version: ModelVersion, test_sets: list) -> dict:
    """For the owner of a draft: the test-set picker and what a submission would run or skip.
    For everyone who sees the version: what its last submission skipped, and why."""
    context: dict = {"evaluation_skips": list(version.evaluation_skips.select_related("test_set__owner"))}
    if not (version.is_editable and may(request.user, Action.EDIT, owner_id=version.model.owner_id)):
        return context
    picked = [t.full_name for t in version.model.evaluate_on.select_related("owner")]
    context["evaluate_on_form"] = EvaluateOnForm(initial={"test_sets": picked}, test_sets=test_sets)
    context["submission_plan"] = [
        {"test_set": test_set, "chosen_by": chosen_by, "skip": reason}
        for test_set, chosen_by, reason in services.submission_candidates(version)
    ]
    return context


def model_part(request: HttpRequest, *, versions: list[ModelVersion], **_: object) -> dict:
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
    return {"metric_charts": history}


def evaluated_file(evaluation: Evaluation, present: set[str]) -> dict:
    """The file an evaluation ran (or the predictions it scored), by path and SHA-256, as the
    run recorded them; `in_version` says whether those bytes are still among the version's files."""
    provenance = evaluation.provenance if isinstance(evaluation.provenance, dict) else {}
    predictions = evaluation.source == EvaluationSource.PREDICTIONS
    path = provenance.get("predictions_file" if predictions else "model_file")
    sha256 = provenance.get("predictions_sha256" if predictions else "model_sha256")
    if evaluation.model_file is not None:
        path = path or evaluation.model_file.path
        sha256 = sha256 or evaluation.model_file.sha256
    return {"path": path or "", "sha256": sha256 or "", "predictions": predictions, "in_version": sha256 in present}


def review_part(request: HttpRequest, *, version: ModelVersion, previous: ModelVersion | None = None, **_) -> dict:
    """The review page's evaluation part: the version's own verified results on each test set
    (metrics with their intervals, the confusion matrix, per-class F1), each with the file it
    was computed from. A first version has no deltas, so these are what the reviewer decides
    on and are shown open; beside a previous version's deltas they are folded.

    One query (the latest successful evaluation per test set, file and test set joined); the
    version's files are prefetched by the review page.
    """
    latest = selectors.latest_successful(user=request.user, version=version)
    present = {f.sha256 for f in version.files.all()}
    results = []
    for evaluation in sorted(latest.values(), key=lambda e: (not e.test_set.benchmark, e.test_set.full_name)):
        result = result_context(evaluation, version.reported_metrics)
        result["evaluated_file"] = evaluated_file(evaluation, present)
        results.append(result)
    return {
        "review_results": results,
        "review_results_open": previous is None,
        "review_task_evaluable": version.model.task in EVALUATED_TASKS,
    }


EVALUATED_TASKS = {"tabular-classification", "tabular-regression"}
VERSION_TEMPLATES = {"results": "evaluations_app/_version_evaluations.html"}
MODEL_TEMPLATES = {"results": "evaluations_app/_model_metric_history.html"}
REVIEW_TEMPLATES = {"results": "evaluations_app/_review_evaluations.html"}
