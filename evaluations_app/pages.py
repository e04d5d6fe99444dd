"""Evaluation's parts of the catalog's model and version pages (registered in apps.py)."""

from django.http import HttpRequest

from accounts_app.roles import Action, may
from models_app.models import ModelVersion
from models_app.querysets import PUBLIC_STATUSES

from . import charts, selectors, services
from .forms import EvaluateOnForm, EvaluationRequestForm
from .labels import metric_label
from .models import ACTIVE_STATUSES, Evaluation, EvaluationStatus
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


EVALUATED_TASKS = {"tabular-classification", "tabular-regression"}
VERSION_TEMPLATES = {"results": "evaluations_app/_version_evaluations.html"}
MODEL_TEMPLATES = {"results": "evaluations_app/_model_metric_history.html"}
