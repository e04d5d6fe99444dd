"""Reads of test sets, evaluations and leaderboards."""

from django.db.models import QuerySet

from models_app.models import ModelVersion, RegisteredModel
from models_app.querysets import PUBLIC_STATUSES
from registry_site.errors import NotFound

from .arrays import array_load
from .engine.metrics import mcnemar
from .engine.runner import load_target
from .models import Evaluation, EvaluationStatus, TestSet

LOWER_IS_BETTER = {"mae", "rmse", "log_loss"}
DEFAULT_METRIC = {"classification": "accuracy", "regression": "rmse"}


def test_set_list(*, user) -> QuerySet[TestSet]:
    return TestSet.objects.visible_to(user).select_related("owner", "blob")


def test_set_get(*, user, owner: str, name: str) -> TestSet:
    test_set = test_set_list(user=user).filter(owner__username=owner, name=name).first()
    if test_set is None:
        raise NotFound(f"No test set {owner}/{name} exists, or you cannot see it.")
    return test_set


def test_set_by_full_name(*, user, full_name: str) -> TestSet:
    owner, _, name = (full_name or "").partition("/")
    if not owner or not name:
        raise NotFound(f"'{full_name}' is not a test set name; write it as owner/name.")
    return test_set_get(user=user, owner=owner, name=name)


def evaluation_list(*, user) -> QuerySet[Evaluation]:
    """Evaluations of versions the user may see, on test sets the user may see."""
    return Evaluation.objects.filter(
        version__in=ModelVersion.objects.visible_to(user), test_set__in=TestSet.objects.visible_to(user)
    ).select_related("version__model__owner", "test_set__owner", "model_file")


def evaluation_get(*, user, pk: int) -> Evaluation:
    evaluation = evaluation_list(user=user).filter(pk=pk).first()
    if evaluation is None:
        raise NotFound(f"No evaluation #{pk} exists, or you cannot see it.")
    return evaluation


def evaluations_of_version(*, user, version: ModelVersion) -> QuerySet[Evaluation]:
    return evaluation_list(user=user).filter(version=version).order_by("-created_at", "-pk")


def leaderboard(*, user, test_set: TestSet, metric: str | None = None) -> tuple[str, list[Evaluation]]:
    """Published versions' latest successful evaluation on the test set, best first."""
    metric = metric or DEFAULT_METRIC[test_set.task]
    rows = (
        Evaluation.objects.filter(
            test_set=test_set,
            status=EvaluationStatus.SUCCEEDED,
            version__status__in=PUBLIC_STATUSES,
            version__model__in=RegisteredModel.objects.visible_to(user),
        )
        .select_related("version__model__owner")
        .order_by("version_id", "-finished_at", "-pk")
    )
    latest: dict[int, Evaluation] = {}
    for evaluation in rows:
        latest.setdefault(evaluation.version_id, evaluation)
    scored = [e for e in latest.values() if isinstance(e.metrics.get(metric), (int, float))]
    scored.sort(key=lambda e: e.metrics[metric], reverse=metric not in LOWER_IS_BETTER)
    return metric, scored


def latest_by_test_set(evaluations: QuerySet[Evaluation]) -> dict[int, Evaluation]:
    """The newest of the given evaluations on each test set, by test set id (one query)."""
    latest: dict[int, Evaluation] = {}
    for evaluation in evaluations.order_by("test_set_id", "-created_at", "-pk"):
        latest.setdefault(evaluation.test_set_id, evaluation)
    return latest


def latest_successful(*, user, version: ModelVersion) -> dict[int, Evaluation]:
    """The latest successful evaluation of the version on each test set the user may see."""
    return latest_by_test_set(evaluation_list(user=user).filter(version=version, status=EvaluationStatus.SUCCEEDED))


def _load_predictions(evaluation: Evaluation):
    if not evaluation.predictions_blob_id:
        return None
    return array_load(evaluation.predictions_blob_id)


def compare(*, user, a: ModelVersion, b: ModelVersion) -> list[dict]:
    """Side by side on every test set both versions were evaluated on: metrics, deltas
    (b - a), whether each delta is a regression, and McNemar's test for classifiers."""
    left, right = latest_successful(user=user, version=a), latest_successful(user=user, version=b)
    rows = []
    for test_set_id in sorted(left.keys() & right.keys()):
        ea, eb = left[test_set_id], right[test_set_id]
        metrics = []
        for name in sorted(ea.metrics.keys() & eb.metrics.keys()):
            va, vb = ea.metrics[name], eb.metrics[name]
            if not isinstance(va, (int, float)) or not isinstance(vb, (int, float)):
                continue
            delta = vb - va
            worse = delta > 0 if name in LOWER_IS_BETTER else delta < 0
            metrics.append({"name": name, "a": va, "b": vb, "delta": delta, "regression": worse and abs(delta) > 1e-12})
        test = None
        if ea.test_set.task == "classification":
            pa, pb = _load_predictions(ea), _load_predictions(eb)
            if pa is not None and pb is not None and len(pa) == len(pb):
                y = load_target(ea.test_set)
                if len(y) == len(pa):
                    if y.dtype.kind in "OU" or pa.dtype.kind in "OU":
                        y, pa, pb = y.astype(str), pa.astype(str), pb.astype(str)
                    test = mcnemar(y, pa, pb)
        rows.append({"test_set": ea.test_set, "a": ea, "b": eb, "metrics": metrics, "mcnemar": test})
    return rows


def metric_history(*, user, versions: list[ModelVersion]) -> list[dict]:
    """Per test set, the headline metric of each given version (in the order given), from
    each version's latest successful evaluation there: the model page's line charts.

    One query for all test sets and versions.
    """
    rows = (
        evaluation_list(user=user)
        .filter(version__in=[v.pk for v in versions], status=EvaluationStatus.SUCCEEDED)
        .order_by("test_set_id", "version_id", "-finished_at", "-pk")
    )
    latest: dict[tuple[int, int], Evaluation] = {}
    test_sets: dict[int, TestSet] = {}
    for evaluation in rows:
        latest.setdefault((evaluation.test_set_id, evaluation.version_id), evaluation)
        test_sets.setdefault(evaluation.test_set_id, evaluation.test_set)
    history = []
    for test_set in sorted(test_sets.values(), key=lambda t: (not t.benchmark, t.full_name)):
        metric = DEFAULT_METRIC[test_set.task]
        points = []
        for version in versions:
            evaluation = latest.get((test_set.pk, version.pk))
            value = evaluation.metrics.get(metric) if evaluation else None
            if isinstance(value, (int, float)):
                points.append((version.version, float(value)))
        if points:
            history.append({"test_set": test_set, "metric": metric, "points": points})
    return history
