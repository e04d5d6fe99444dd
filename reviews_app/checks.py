"""Automated checks on a submitted version: a small registry of functions.

Each check takes the version (and the latest published version of the same model, if
any) and returns a CheckResult with a status and one sentence. Later features (scans,
evaluations) add their checks with `@register`.
"""

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from evaluations_app.models import ACTIVE_STATUSES, Evaluation, EvaluationStatus
from evaluations_app.selectors import DEFAULT_METRIC, LOWER_IS_BETTER, latest_by_test_set
from models_app.cards import version_card
from models_app.formats import format_label
from models_app.models import ModelVersion, ScanStatus

from .models import CheckStatus, Review, ReviewStatus


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


CheckFunction = Callable[[ModelVersion, ModelVersion | None], CheckResult]
CHECKS: list[tuple[str, CheckFunction]] = []


def register(name: str) -> Callable[[CheckFunction], CheckFunction]:
    def decorator(function: CheckFunction) -> CheckFunction:
        CHECKS.append((name, function))
        return function

    return decorator


def run_checks(
    version: ModelVersion, previous: ModelVersion | None, *, found: list["Regression"] | None = None
) -> list[dict[str, str]]:
    """Every registered check; `found` passes the regressions already computed (by report())."""
    results = []
    for name, function in CHECKS:
        if name == "regression" and found is not None:
            results.append(regression_result(found, previous).as_dict())
        else:
            results.append(function(version, previous).as_dict())
    return results


@register("files")
def check_files(version: ModelVersion, previous: ModelVersion | None) -> CheckResult:
    files = list(version.files.all())
    if not files:
        return CheckResult("files", CheckStatus.FAIL, "The version has no files.")
    too_big = [f.path for f in files if f.size > settings.MAX_UPLOAD_SIZE]
    if too_big:
        return CheckResult("files", CheckStatus.FAIL, f"Larger than the upload limit: {', '.join(too_big)}.")
    # The bytes decide, not the names: unknown bytes, or a name that claims another format
    # (garbage.onnx holding text), cannot be scanned or run as what they say they are.
    mismatched = [f.format_warning for f in files if f.format_warning]
    if mismatched:
        return CheckResult("files", CheckStatus.FAIL, " ".join(mismatched)[:900])
    if not any(f.is_model for f in files):
        kinds = ", ".join(sorted({format_label(f.format) for f in files}))
        return CheckResult(
            "files", CheckStatus.FAIL,
            f"No file holds a model (found only {kinds}); upload the model itself, such as an ONNX or skops file.",
        )  # fmt: skip
    empty = [f.path for f in files if f.size == 0]
    if empty:
        return CheckResult("files", CheckStatus.WARN, f"Empty files: {', '.join(empty)}.")
    total = sum(f.size for f in files)
    return CheckResult("files", CheckStatus.PASS, f"{len(files)} file(s), {filesizeformat(total)} in all.")


@register("license")
def check_license(version: ModelVersion, previous: ModelVersion | None) -> CheckResult:
    license_id = version_card(version).license  # the card the version carries, as approval publishes it
    if not license_id:
        return CheckResult(
            "license", CheckStatus.FAIL, "No license is set; users cannot know how they may use the model."
        )
    return CheckResult("license", CheckStatus.PASS, f"Licensed under {license_id}.")


# Phrases that show the card still holds placeholder text.
_TEMPLATE_MARKERS = re.compile(r"\b(lorem ipsum|TODO|TBD|fill (this|me) in|describe your model)\b", re.IGNORECASE)
_INTENDED_USE = re.compile(r"(^|\n)#+\s*(intended|uses?\b|how to use|usage)", re.IGNORECASE)
MIN_CARD_WORDS = 30


@register("model_card")
def check_model_card(version: ModelVersion, previous: ModelVersion | None) -> CheckResult:
    card = version_card(version).description
    words = len(re.findall(r"\w+", card))
    if words == 0:
        return CheckResult("model_card", CheckStatus.FAIL, "The model card is empty.")
    if _TEMPLATE_MARKERS.search(card):
        return CheckResult(
            "model_card", CheckStatus.FAIL, "The model card still contains placeholder text (TODO, lorem ipsum...)."
        )
    if words < MIN_CARD_WORDS:
        return CheckResult(
            "model_card",
            CheckStatus.FAIL,
            f"The model card has {words} words; describe the model in at least {MIN_CARD_WORDS}.",
        )
    if not _INTENDED_USE.search(card):
        return CheckResult("model_card", CheckStatus.WARN, "The model card has no 'Intended use' section.")
    return CheckResult("model_card", CheckStatus.PASS, f"The model card has {words} words and an intended-use section.")


def _ordering(version: ModelVersion) -> tuple[int, int, int, str]:
    return (version.major, version.minor, version.patch, version.prerelease_key)


@register("version_order")
def check_version_order(version: ModelVersion, previous: ModelVersion | None) -> CheckResult:
    if previous is None:
        return CheckResult("version_order", CheckStatus.PASS, "First version to be published.")
    if _ordering(version) <= _ordering(previous):
        return CheckResult(
            "version_order",
            CheckStatus.FAIL,
            f"{version.version} is not greater than {previous.version}, the latest published version.",
        )
    return CheckResult("version_order", CheckStatus.PASS, f"{version.version} follows {previous.version}.")


def _inputs(version: ModelVersion) -> dict[str, dict]:
    signature = version.signature if isinstance(version.signature, dict) else {}
    return {spec["name"]: spec for spec in signature.get("inputs", []) if isinstance(spec, dict) and "name" in spec}


def signature_breaking_changes(version: ModelVersion, previous: ModelVersion) -> list[str]:
    """How the inputs changed in ways that break existing callers."""
    old, new = _inputs(previous), _inputs(version)
    changes = [f"input '{name}' was removed" for name in old if name not in new]
    changes += [f"input '{name}' was added" for name in new if name not in old and old]
    for name in old.keys() & new.keys():
        if old[name].get("type") != new[name].get("type"):
            changes.append(f"input '{name}' changed type from {old[name].get('type')} to {new[name].get('type')}")
        if old[name].get("shape") != new[name].get("shape"):
            changes.append(f"input '{name}' changed shape from {old[name].get('shape')} to {new[name].get('shape')}")
    return changes


@register("signature")
def check_signature(version: ModelVersion, previous: ModelVersion | None) -> CheckResult:
    if not _inputs(version):
        return CheckResult(
            "signature", CheckStatus.WARN, "No input signature is declared; callers cannot check their inputs."
        )
    if previous is None or not _inputs(previous):
        return CheckResult("signature", CheckStatus.PASS, "Input signature declared.")
    changes = signature_breaking_changes(version, previous)
    if not changes:
        return CheckResult("signature", CheckStatus.PASS, f"Inputs compatible with {previous.version}.")
    if version.major > previous.major:
        return CheckResult(
            "signature",
            CheckStatus.PASS,
            f"Breaking input change ({changes[0]}) with a major version bump, as it should be.",
        )
    return CheckResult(
        "signature",
        CheckStatus.FAIL,
        f"Breaking input change against {previous.version} ({'; '.join(changes)}) needs a new major version, not {version.version}.",
    )


def scan_blockers(version: ModelVersion) -> list[str]:
    """The files whose scan blocks approval: flagged, could not be scanned, or not scanned yet."""
    blockers = []
    for model_file in version.files.all():
        if model_file.scan_status == ScanStatus.FLAGGED:
            found = "; ".join(model_file.scan_findings[:2]) or "flagged"
            blockers.append(f"{model_file.path} is flagged ({found})")
        elif model_file.scan_status == ScanStatus.ERROR:
            found = "; ".join(model_file.scan_findings[:1]) or "the scanner failed"
            blockers.append(f"{model_file.path} could not be scanned ({found})")
        elif model_file.scan_status == ScanStatus.PENDING:
            blockers.append(f"{model_file.path} is not scanned yet")
    return blockers


@register("scan")
def check_scan(version: ModelVersion, previous: ModelVersion | None) -> CheckResult:
    blockers = scan_blockers(version)
    if blockers:
        return CheckResult(
            "scan", CheckStatus.FAIL, "; ".join(blockers)[:900] + ". Approval needs an override with a comment."
        )
    runs_code = [f.path for f in version.files.all() if f.can_run_code]
    if runs_code:
        return CheckResult(
            "scan",
            CheckStatus.WARN,
            f"Every file scanned clean, but {', '.join(runs_code)} can run code when loaded (pickle); "
            "ONNX, skops or safetensors cannot.",
        )
    return CheckResult("scan", CheckStatus.PASS, "Every file scanned clean.")


def _latest_runs(version: ModelVersion) -> dict[int, Evaluation]:
    """The latest evaluation of the version on each test set, whatever its status."""
    return latest_by_test_set(Evaluation.objects.filter(version=version).select_related("test_set"))


def _latest_successes(version: ModelVersion) -> dict[int, Evaluation]:
    """The latest successful evaluation on each test set: the verified numbers a release shows.

    A failed or re-queued re-run does not hide an earlier success, and the review page shows
    these same evaluations, so what it marks beyond the gate is what blocks approval.
    """
    return latest_by_test_set(
        Evaluation.objects.filter(version=version, status=EvaluationStatus.SUCCEEDED).select_related("test_set")
    )


@register("evaluations")
def check_evaluations(version: ModelVersion, previous: ModelVersion | None) -> CheckResult:
    latest = _latest_runs(version)
    if not latest:
        return CheckResult("evaluations", CheckStatus.WARN, "No evaluation was run; there are no verified metrics.")
    failed = [e.test_set.full_name for e in latest.values() if e.status == EvaluationStatus.FAILED]
    waiting = [e.test_set.full_name for e in latest.values() if e.status in ACTIVE_STATUSES]
    if failed:
        return CheckResult("evaluations", CheckStatus.FAIL, f"Evaluation failed on {', '.join(failed)}.")
    if waiting:
        return CheckResult("evaluations", CheckStatus.WARN, f"Still evaluating on {', '.join(waiting)}.")
    return CheckResult("evaluations", CheckStatus.PASS, f"Evaluations finished on {len(latest)} test set(s).")


@dataclass(frozen=True)
class Regression:
    """A benchmark's headline metric fell by more than the benchmark's threshold."""

    test_set_id: int
    test_set_name: str
    metric: str
    before: float
    after: float
    drop: float  # relative, positive means worse
    threshold: float

    def sentence(self) -> str:
        return (
            f"{self.metric} on {self.test_set_name} went from {self.before:.4g} to {self.after:.4g} "
            f"({self.drop:.1%} worse; the gate is {self.threshold:.1%})"
        )


def regressions(version: ModelVersion, previous: ModelVersion | None) -> list[Regression]:
    """The regression gate: benchmarks on which the headline metric of the version's latest
    successful evaluation fell, relative to the latest published version's, by more than
    the benchmark's threshold. The one rule that the check, the review page and the
    approval all read."""
    if previous is None:
        return []
    old, new = _latest_successes(previous), _latest_successes(version)
    found = []
    for test_set_id, current in sorted(new.items()):
        before, test_set = old.get(test_set_id), current.test_set
        if not test_set.benchmark or before is None:
            continue
        metric = DEFAULT_METRIC[test_set.task]
        a, b = before.metrics.get(metric), current.metrics.get(metric)
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or a == 0:
            continue
        drop = (b - a) / abs(a) if metric in LOWER_IS_BETTER else (a - b) / abs(a)
        if drop > test_set.regression_threshold:
            found.append(Regression(test_set.pk, test_set.full_name, metric, a, b, drop, test_set.regression_threshold))
    return found


@register("regression")
def check_regression(version: ModelVersion, previous: ModelVersion | None) -> CheckResult:
    return regression_result(regressions(version, previous), previous)


def regression_result(found: list[Regression], previous: ModelVersion | None) -> CheckResult:
    if found:
        return CheckResult(
            "regression",
            CheckStatus.FAIL,
            "Regression: " + "; ".join(r.sentence() for r in found) + ". Approval needs an override with a comment.",
        )
    if previous is None:
        return CheckResult("regression", CheckStatus.PASS, "No published version to compare with.")
    return CheckResult(
        "regression", CheckStatus.PASS, f"No benchmark metric fell beyond its gate against {previous.version}."
    )


# --- The report a review shows and a decision reads ---


@dataclass(frozen=True)
class Report:
    previous: ModelVersion | None
    checks: list[dict[str, str]]
    regressions: list[Regression]
    scan_blockers: list[str]

    @property
    def failing_count(self) -> int:
        return sum(check["status"] == CheckStatus.FAIL for check in self.checks)


def previous_published(version: ModelVersion) -> ModelVersion | None:
    """The newest published (or deprecated) version of the same model, other than this one."""
    return version.model.versions.public().exclude(pk=version.pk).semver_order().first()


_LOOK_IT_UP = object()


def report(version: ModelVersion, *, previous: ModelVersion | None | object = _LOOK_IT_UP) -> Report:
    """Every check and the regression gate for the version, computed now (pass `previous`
    when the caller has the latest published version already)."""
    if previous is _LOOK_IT_UP:
        previous = previous_published(version)
    found = regressions(version, previous)
    checks = run_checks(version, previous, found=found)
    return Report(previous=previous, checks=checks, regressions=found, scan_blockers=scan_blockers(version))


def review_refresh_checks(*, version_id: int) -> None:
    """Store the open review's checks anew (an evaluation of the version finished), so the
    queue can filter on failing checks; pages and decisions compute the report themselves."""
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(version_id=version_id, status=ReviewStatus.OPEN).first()
        if review is None:
            return
        current = report(review.version)
        review.checks = current.checks
        review.failing_check_count = current.failing_count
        review.save(update_fields=["checks", "failing_check_count"])
