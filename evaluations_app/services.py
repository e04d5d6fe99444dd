"""Writes of the request side of evaluation: test sets, and evaluations asked for by a
user or by a submission. What a worker does with them is in worker.py."""

import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts_app.roles import Action, may
from models_app.blobs import blob_sha256_of, blob_store
from models_app.formats import Format
from models_app.models import Blob, ModelFile, ModelVersion, Visibility
from models_app.services import blob_record, lock_version
from registry_site.audit import audit
from registry_site.errors import Conflict, DomainError, Forbidden, full_clean

from .arrays import array_store
from .engine.tables import features_and_target, read_table, validate_table
from .models import Evaluation, EvaluationSkip, EvaluationSource, EvaluationStatus, SkipChooser, TestSet, TestSetTask
from .tasks import evaluation_enqueue

log = logging.getLogger(__name__)
RUNNABLE_FORMATS = (Format.ONNX, Format.SKOPS)
PICKLE_FORMATS = (Format.PICKLE, Format.JOBLIB)


# Tasks whose models predict a labelled target, so benchmarks can be matched to them
# automatically; others (anomaly detection, recommendation...) only by declaration.
AUTO_MATCHED_TASKS = {
    "tabular-classification",
    "tabular-regression",
    "image-classification",
    "text-classification",
    "sentiment-analysis",
}


class TooManyEvaluations(DomainError):
    status = 429
    code = "too_many_evaluations"


def test_set_create(
    *,
    owner,
    name: str,
    task: str,
    target_column: str,
    uploaded_file,
    description: str = "",
    visibility: str = Visibility.PUBLIC,
) -> TestSet:
    """Validate the table and store it content-addressed; refuse with the column or row at fault."""
    if task not in TestSetTask.values:
        raise DomainError("task must be classification or regression.", field="task")
    test_set = TestSet(
        owner=owner, name=(name or "").strip(), task=task, target_column=target_column,
        description=description, visibility=visibility, rows=0, file_format="csv",
    )  # fmt: skip
    full_clean(test_set, exclude=["owner", "blob", "features_blob", "target_blob", "rows", "columns", "file_format"])
    if TestSet.objects.filter(owner=owner, name=test_set.name).exists():
        raise Conflict(f"You already have a test set named '{test_set.name}'.", code="name_taken")
    fileobj = uploaded_file.file if hasattr(uploaded_file, "file") else uploaded_file
    table = read_table(fileobj)
    validate_table(table, target_column=target_column, task=task)
    sha256 = getattr(uploaded_file, "sha256", None) or blob_sha256_of(uploaded_file)
    blob_store(sha256=sha256, size=uploaded_file.size, fileobj=fileobj)
    test_set.rows = len(table.frame)
    test_set.columns = table.columns
    test_set.file_format = table.file_format
    features, target = features_and_target(table, target_column=target_column)
    del table
    arrays = {name: array_store(array) for name, array in (("features", features), ("target", target))}
    with transaction.atomic():
        test_set.blob = blob_record(
            sha256=sha256,
            size=uploaded_file.size,
            file_format=Format.PARQUET if test_set.file_format == "parquet" else Format.TEXT,
            fileobj=fileobj,
        )
        for name, (array_sha, array_size) in arrays.items():
            blob, _ = Blob.objects.get_or_create(
                sha256=array_sha, defaults={"size": array_size, "format": Format.NUMPY}
            )
            setattr(test_set, f"{name}_blob", blob)
        try:
            with transaction.atomic():
                test_set.save()
        except IntegrityError:
            raise Conflict(f"You already have a test set named '{test_set.name}'.", code="name_taken") from None
        audit(
            actor=owner, action="test_set.create", to_status=test_set.visibility,
            data={"test_set": test_set.full_name, "rows": test_set.rows, "sha256": sha256},
        )  # fmt: skip
    return test_set


@transaction.atomic
def test_set_update(*, test_set: TestSet, actor, **fields) -> TestSet:
    """Owners change the description and visibility; staff also the benchmark flag and gate."""
    staff_only = {"benchmark", "regression_threshold"}
    allowed = {"description", "visibility"} | (staff_only if may(actor, Action.MARK_BENCHMARK) else set())
    refused = set(fields) - allowed
    if refused & staff_only:
        raise Forbidden("Only staff can mark benchmarks and set their regression gate.")
    if refused:
        raise DomainError(f"These fields cannot be changed: {', '.join(sorted(refused))}.")
    owner_id = test_set.owner_id
    if not (may(actor, Action.EDIT, owner_id=owner_id) or may(actor, Action.MARK_BENCHMARK, owner_id=owner_id)):
        raise Forbidden("Only the owner or staff can change a test set.")
    before = (
        TestSet.objects.select_for_update()
        .values("benchmark", "regression_threshold", "description", "visibility")
        .get(pk=test_set.pk)
    )
    for field, value in fields.items():
        setattr(test_set, field, value)
    full_clean(test_set, exclude=["owner", "blob", "features_blob", "target_blob"])
    test_set.save()
    _audit_benchmark_changes(test_set=test_set, actor=actor, before=before)
    changes = {
        field: {"from": before[field], "to": getattr(test_set, field)}
        for field in ("description", "visibility")
        if getattr(test_set, field) != before[field]
    }
    if changes:
        audit(
            actor=actor, action="test_set.update", data={"test_set": test_set.full_name, "changes": changes},
        )  # fmt: skip
    return test_set


def _audit_benchmark_changes(*, test_set: TestSet, actor, before: dict) -> None:
    """A benchmark marked or unmarked, and its regression gate moved, each leave an event."""
    data = {"test_set": test_set.full_name}
    if test_set.benchmark != before["benchmark"]:
        audit(
            actor=actor, action="test_set.mark_benchmark" if test_set.benchmark else "test_set.unmark_benchmark",
            from_status="benchmark" if before["benchmark"] else "not_benchmark",
            to_status="benchmark" if test_set.benchmark else "not_benchmark", data=data,
        )  # fmt: skip
    if test_set.regression_threshold != before["regression_threshold"]:
        audit(
            actor=actor, action="test_set.regression_threshold",
            from_status=str(before["regression_threshold"]), to_status=str(test_set.regression_threshold),
            data={**data, "from": before["regression_threshold"], "to": test_set.regression_threshold},
        )  # fmt: skip


def _pick_model_file(version: ModelVersion) -> ModelFile:
    """The file the owner chose to be evaluated, or else the first runnable one."""
    files = list(version.files.select_related("blob"))
    allowed = RUNNABLE_FORMATS + (PICKLE_FORMATS if settings.EVALUATE_PICKLE else ())
    chosen = next((f for f in files if f.pk == version.evaluated_file_id), None)
    if chosen is not None:
        if chosen.format not in allowed:
            raise DomainError(
                f"{chosen.path}, the file chosen to be evaluated, is {chosen.format}: the registry runs only "
                f"{', '.join(allowed)} files. Choose another file.",
                code="no_runnable_file",
            )
        return chosen
    for wanted in allowed:
        for model_file in files:
            if model_file.format == wanted:
                return model_file
    names = "ONNX or skops" + (", pickle or joblib" if settings.EVALUATE_PICKLE else "")
    raise DomainError(
        f"Version {version.version} has no file the registry can run ({names}); upload one, or a predictions file.",
        code="no_runnable_file",
    )


def _compatible(version: ModelVersion, test_set: TestSet) -> None:
    regression_model = version.model.task == "tabular-regression"
    if regression_model != (test_set.task == TestSetTask.REGRESSION):
        raise DomainError(
            f"{version.model.full_name} is a {version.model.get_task_display().lower()} model and "
            f"{test_set.full_name} is a {test_set.task} test set.",
            code="task_mismatch",
        )


def signature_misfit(version: ModelVersion, test_set: TestSet) -> str:
    """Why the version's declared inputs cannot read the test set's table ("" when they can):
    a different number of features, or named columns the table does not have."""
    declared, columns = _declared_feature_count(version), len(test_set.feature_columns)
    name = f"{version.model.full_name} {version.version}"
    if declared is not None and declared != columns:
        return (
            f"{name} declares {declared} input features and {test_set.full_name} has {columns} feature columns; "
            "pick a test set with the columns the model takes."
        )
    wanted = _declared_columns(version)
    missing = [column for column in wanted if column not in test_set.feature_columns]
    if wanted and missing:
        return f"{name} reads the columns {', '.join(missing[:5])}, which {test_set.full_name} does not have."
    return ""


def misfit(version: ModelVersion, test_set: TestSet) -> str:
    """Why the registry cannot run the version on the test set ("" when it can): the task, or the signature."""
    try:
        _compatible(version, test_set)
    except DomainError as error:
        return error.detail
    return signature_misfit(version, test_set)


def _fits_signature(version: ModelVersion, test_set: TestSet) -> None:
    """Refused when asked, not failed later: the version's declared inputs must match the table."""
    reason = signature_misfit(version, test_set)
    if reason:
        raise DomainError(reason, code="signature_mismatch")


def may_request_evaluation(user, version: ModelVersion) -> bool:
    return may(user, Action.EVALUATE, owner_id=version.model.owner_id)


def _refuse_predictions_on_benchmark(test_set: TestSet) -> None:
    # Scoring uploaded predictions answers "how many of these labels are right?" for any
    # labels one likes: seven files, each changing one row, recovered a benchmark's labels.
    raise Forbidden(
        f"{test_set.full_name} is a benchmark: its labels are kept secret, so it does not score uploaded "
        "predictions. Let the registry run the model itself: upload an ONNX or skops file and request "
        "the evaluation without a predictions file.",
        code="benchmark_predictions",
    )


BENCHMARK_WINDOW = timedelta(days=1)


def _check_benchmark_cap(*, version: ModelVersion, test_set: TestSet) -> None:
    """At most EVAL_BENCHMARK_RUNS_PER_DAY evaluations of the version on the benchmark in
    24 hours; the caller holds the version's row lock, so two requests cannot both pass."""
    cap = settings.EVAL_BENCHMARK_RUNS_PER_DAY
    now = timezone.now()
    # A failed evaluation produced no metrics, so it told nobody anything about the labels.
    recent = list(
        Evaluation.objects.filter(version=version, test_set=test_set, created_at__gt=now - BENCHMARK_WINDOW)
        .exclude(status=EvaluationStatus.FAILED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(recent) < cap:
        return
    name = f"{version.model.full_name} {version.version}"
    if cap <= 0:
        raise TooManyEvaluations(
            f"The registry does not evaluate versions on the benchmark {test_set.full_name} on request.",
            code="benchmark_daily_cap",
        )
    again = recent[len(recent) - cap] + BENCHMARK_WINDOW
    raise TooManyEvaluations(
        f"{name} was evaluated {len(recent)} time{'' if len(recent) == 1 else 's'} on the benchmark "
        f"{test_set.full_name} in the last 24 hours, "
        f"the most a benchmark allows so that its labels stay secret; try again after "
        f"{again.astimezone(UTC):%Y-%m-%d %H:%M} UTC.",
        code="benchmark_daily_cap",
    )


def _check_active_quota(*, actor) -> None:
    """The user's quota of queued and running evaluations, counted under the user's row
    lock: two requests at once would otherwise both count one below the quota."""
    list(get_user_model().objects.select_for_update().filter(pk=actor.pk).values_list("pk", flat=True))
    active = Evaluation.objects.filter(
        requested_by=actor, status__in=[EvaluationStatus.QUEUED, EvaluationStatus.RUNNING]
    )
    if active.count() >= settings.EVAL_MAX_ACTIVE_PER_USER:
        raise TooManyEvaluations(
            f"You have {settings.EVAL_MAX_ACTIVE_PER_USER} evaluations queued or running; wait for some to finish."
        )


def evaluation_request(
    *, version: ModelVersion, test_set: TestSet, actor, predictions_path: str | None = None, enforce_quota: bool = True
) -> Evaluation:
    """Queue an evaluation of the version on the test set; the task is sent after commit.

    1. Check who asks and that the task types fit; a benchmark scores no uploaded predictions.
    2. Pick the file: a named predictions file, or the first runnable model file.
    3. In one transaction: on a benchmark, lock the version's row and check its daily cap;
       lock the asking user's row and check their quota of active jobs (always in this
       order, so two requests never wait on each other's locks); record the evaluation
       (one active per version and test set). Enqueue after commit.
    """
    if actor is not None and not may_request_evaluation(actor, version):
        raise Forbidden("Only the owner, reviewers and staff can request evaluations.")
    _compatible(version, test_set)
    if predictions_path:
        if test_set.benchmark:
            _refuse_predictions_on_benchmark(test_set)
        model_file = version.files.select_related("blob").filter(path=predictions_path).first()
        if model_file is None:
            raise DomainError(f"Version {version.version} has no file '{predictions_path}'.", field="predictions_file")
        source = EvaluationSource.PREDICTIONS
    else:
        _fits_signature(version, test_set)
        model_file = _pick_model_file(version)
        source = EvaluationSource.MODEL
    with transaction.atomic():
        if test_set.benchmark:
            lock_version(version)
            _check_benchmark_cap(version=version, test_set=test_set)
        if actor is not None and enforce_quota:
            _check_active_quota(actor=actor)
        try:
            with transaction.atomic():
                evaluation = Evaluation.objects.create(
                    version=version, test_set=test_set, model_file=model_file, model_file_path=model_file.path,
                    source=source,
                    requested_by=actor if actor is not None and actor.is_authenticated else None,
                    model_size=model_file.size,
                )  # fmt: skip
        except IntegrityError:
            raise Conflict(
                f"{version.model.full_name} {version.version} is already being evaluated on {test_set.full_name}.",
                code="evaluation_active",
            ) from None
        if actor is not None:  # a submission's own evaluations are the registry's, recorded with it
            audit(
                actor=actor, action="evaluation.request", version=version, to_status=evaluation.status,
                data={"evaluation": evaluation.pk, "test_set": test_set.full_name, "source": source,
                      "file": model_file.path},
            )  # fmt: skip
    transaction.on_commit(lambda: evaluation_enqueue(evaluation_id=evaluation.pk))
    return evaluation


def _declared_feature_count(version: ModelVersion) -> int | None:
    signature = version.signature if isinstance(version.signature, dict) else {}
    inputs = signature.get("inputs") or []
    if len(inputs) == 1 and isinstance(inputs[0], dict):
        shape = inputs[0].get("shape")
        if isinstance(shape, list) and len(shape) == 2 and isinstance(shape[1], int):
            return shape[1]
    return None


def _declared_columns(version: ModelVersion) -> list[str]:
    signature = version.signature if isinstance(version.signature, dict) else {}
    inputs = signature.get("inputs") or []
    if len(inputs) == 1 and isinstance(inputs[0], dict) and isinstance(inputs[0].get("columns"), list):
        return [column for column in inputs[0]["columns"] if isinstance(column, str)]
    return []


def submission_candidates(version: ModelVersion) -> list[tuple[TestSet, str, str]]:
    """(test set, who chose it, why it will be skipped or "") for every test set a submission
    of the version considers: those the owner picked, then the benchmarks of a task the
    registry matches automatically. A benchmark of another task is not considered at all."""
    declared = set(version.model.evaluate_on.values_list("pk", flat=True))
    wanted = TestSet.objects.filter(Q(pk__in=declared) | Q(benchmark=True)).select_related("owner")
    found = []
    for test_set in wanted:
        chosen_by = SkipChooser.OWNER if test_set.pk in declared else SkipChooser.REGISTRY
        if chosen_by == SkipChooser.REGISTRY and version.model.task not in AUTO_MATCHED_TASKS:
            continue
        found.append((test_set, chosen_by, misfit(version, test_set)))
    return found


def evaluations_for_submission(*, version: ModelVersion) -> list[Evaluation]:
    """Queue evaluations on the test sets the owner picked and on the benchmarks that fit.

    1. Consider the owner's picks and the benchmarks of the model's task (submission_candidates).
    2. A test set whose task or columns do not fit the signature is skipped, with a note;
       so is one the registry cannot run now (its daily cap reached, no runnable file). A
       skip records no evaluation, so it counts against no cap.
    3. The notes replace those of the previous submission.
    """
    started, skipped = [], []
    for test_set, chosen_by, reason in submission_candidates(version):
        if not reason:
            try:
                with transaction.atomic():
                    started.append(
                        evaluation_request(version=version, test_set=test_set, actor=None, enforce_quota=False)
                    )
            except TooManyEvaluations as error:
                # The benchmark's daily cap counts these too; the submission goes on without it.
                log.warning("not evaluating %s on %s: %s", version.pk, test_set.full_name, error.detail)
                reason = error.detail
            except DomainError as error:
                reason = error.detail
        if reason:
            log.info("not evaluating %s on %s: %s", version.pk, test_set.full_name, reason)
            skipped.append(EvaluationSkip(version=version, test_set=test_set, chosen_by=chosen_by, reason=reason))
    with transaction.atomic():
        EvaluationSkip.objects.filter(version=version).delete()
        EvaluationSkip.objects.bulk_create(skipped)
    return started


@transaction.atomic
def model_set_evaluate_on(*, model, test_sets: list[TestSet], actor) -> None:
    """The test sets every submitted version of the model is evaluated on (the owner's pick);
    only test sets the owner may see, and the change is an audit event."""
    if not may(actor, Action.EDIT, owner_id=model.owner_id):
        raise Forbidden(f"Only the owner of {model.full_name} can choose its test sets.")
    visible = set(
        TestSet.objects.visible_to(actor).filter(pk__in=[t.pk for t in test_sets]).values_list("pk", flat=True)
    )
    hidden = [t.full_name for t in test_sets if t.pk not in visible]
    if hidden:
        raise DomainError(f"No test set named {', '.join(hidden)}.", field="test_sets")
    before = sorted(model.evaluate_on.values_list("pk", flat=True))
    model.evaluate_on.set(test_sets)
    after = sorted(t.pk for t in test_sets)
    if before != after:
        audit(
            actor=actor, action="model.evaluate_on", model_full_name=model.full_name,
            data={"from": before, "to": after, "test_sets": sorted(t.full_name for t in test_sets)},
        )  # fmt: skip
