"""Worker-side evaluation: prepare the sandbox, run the model there, score its output here.

Nothing the child wrote is trusted: arrays are loaded with allow_pickle=False under a
size cap and checked for shape and values before scikit-learn scores them.
"""

import json
import platform
import re
import shutil
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from models_app.blobs import blob_open

from ..models import Evaluation, EvaluationSource
from . import metrics as m
from .sandbox import Limits, SandboxResult, SandboxUnavailable, run_in_sandbox, sandbox_workdir

CHILD = Path(__file__).with_name("child.py")
PERMUTATION_ROWS = 2000
PERMUTATION_REPEATS = 3
PERMUTATION_SEED = 20261126
LIBRARIES = ("numpy", "scikit-learn", "onnxruntime", "skops", "pandas", "scipy")


class EvaluationError(Exception):
    """The evaluation failed for a reason shown to the user; `code` is machine-readable."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Outcome:
    predictions: np.ndarray
    metrics: dict
    intervals: dict
    per_class: dict
    confusion_matrix: dict
    feature_importance: list
    provenance: dict
    rows_per_second: float | None
    wall_seconds: float
    notes: list[str] = field(default_factory=list)


def sandbox_limits() -> Limits:
    return Limits(
        memory_bytes=settings.EVAL_MEMORY_BYTES,
        cpu_seconds=settings.EVAL_CPU_SECONDS,
        wall_seconds=settings.EVAL_WALL_SECONDS,
        file_bytes=settings.EVAL_FILE_BYTES,
        open_files=256,
        processes=settings.EVAL_MAX_PROCESSES,
    )


def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _limit_sentence(result: SandboxResult, limits: Limits) -> tuple[str, str]:
    sentences = {
        "memory": f"The model ran out of the {filesizeformat(limits.memory_bytes)} memory limit.",
        "cpu": f"The model used more than its {limits.cpu_seconds} s of CPU time.",
        "wall_clock": f"Timed out after {limits.wall_seconds:g} s.",
        "file_size": f"The model tried to write more than {filesizeformat(limits.file_bytes)} to disk.",
        "processes": f"The model tried to start more than {limits.processes} processes.",
        "open_files": f"The model opened more than {limits.open_files} files.",
    }
    return result.limit_hit or "crashed", sentences.get(result.limit_hit or "", "")


# What the child prints is the model's to choose: an error shown to a user is the
# registry's own sentence for the failure, with at most this much of the child's text,
# reduced to plain characters, so that an error message is no channel out of the sandbox.
EXCERPT_CHARS = 160
_EXCERPT_ALLOWED = re.compile(r"[^A-Za-z0-9 _.,:;'()\[\]<>=+-]")
REFUSAL_SENTENCES = {
    "refused": "The registry refused to load the model",
    "invalid_output": "The model's output is not valid",
    "memory": "The model ran out of memory",
}


def excerpt(text: str) -> str:
    """A short, single-line, plain-character excerpt of what the child said."""
    line = " ".join(str(text).split())
    return _EXCERPT_ALLOWED.sub("?", line)[:EXCERPT_CHARS]


def _child_report(result: SandboxResult, limits: Limits) -> dict:
    lines = [line for line in result.stdout.strip().splitlines() if line.startswith("{")]
    report = None
    if lines:
        try:
            report = json.loads(lines[-1])
        except ValueError:
            report = None
    if result.limit_hit:
        code, sentence = _limit_sentence(result, limits)
        raise EvaluationError("timeout" if code == "wall_clock" else code, sentence)
    if isinstance(report, dict) and report.get("ok") is False:
        code = str(report.get("error"))
        code = code if code in REFUSAL_SENTENCES else "refused"
        raise EvaluationError(code, f"{REFUSAL_SENTENCES[code]}: {excerpt(report.get('message', ''))}")
    if result.returncode != 0 or not isinstance(report, dict):
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise EvaluationError("crashed", f"The model could not be run: {excerpt(last)}")
    return report


def _load_array(path: Path, *, rows: int, what: str) -> np.ndarray:
    if not path.exists():
        raise EvaluationError("invalid_output", f"The model produced no {what}.")
    if path.stat().st_size > settings.EVAL_MAX_OUTPUT_BYTES:
        raise EvaluationError("invalid_output", f"The model's {what} are larger than the output cap.")
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:
        raise EvaluationError("invalid_output", f"The model's {what} cannot be read: {error}.") from None
    if array.dtype.kind not in "biufU" or array.shape[:1] != (rows,) and what != "permuted predictions":
        raise EvaluationError("invalid_output", f"The model returned {what} of shape {array.shape} for {rows} rows.")
    return array


def _probability_like(proba: np.ndarray) -> bool:
    if proba.ndim != 2 or not np.all(np.isfinite(proba)):
        return True  # let validation reject it with its own sentence
    return bool(proba.min() >= -1e-6 and proba.max() <= 1 + 1e-6 and np.allclose(proba.sum(axis=1), 1.0, atol=1e-3))


def _permutation_importance(task: str, y: np.ndarray, permuted: np.ndarray, baseline: np.ndarray, columns: list[str]):
    score = (
        (lambda t, p: m.skm.accuracy_score(t, p)) if task == "classification" else (lambda t, p: m.skm.r2_score(t, p))
    )
    rows = permuted.shape[2]
    reference = score(y[:rows], baseline[:rows])
    importance = []
    for index, column in enumerate(columns):
        drops = [reference - score(y[:rows], permuted[index, repeat]) for repeat in range(permuted.shape[1])]
        importance.append({"feature": column, "importance": float(np.mean(drops)), "std": float(np.std(drops))})
    return sorted(importance, key=lambda item: -item["importance"])


def _score(task: str, y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, classes) -> m.MetricReport:
    try:
        if task == "regression":
            report = m.regression_report(y.astype(float), pred)
        else:
            if pred.dtype.kind in "iuf" and y.dtype.kind in "iuf":
                pred = pred.astype(y.dtype, copy=False) if np.all(np.mod(pred, 1) == 0) else pred
            elif y.dtype.kind in "OU":
                y, pred = y.astype(str), pred.astype(str)
                classes = [str(c) for c in classes] if classes else classes
            report = m.classification_report(y, pred, proba, classes=classes)
        report.intervals = m.bootstrap_intervals(y, pred, task)
    except m.InvalidOutput as error:
        raise EvaluationError("invalid_output", str(error)) from None
    return report


def load_target(test_set) -> np.ndarray:
    """The test set's target, from the .npy derived at upload (no pickle)."""
    with blob_open(test_set.target_blob_id) as handle:
        return np.load(handle, allow_pickle=False)


def run_model(evaluation: Evaluation) -> Outcome:
    """Evaluate the version's model file on the test set.

    1. Read the test set's target; copy its float32 feature matrix (derived at upload)
       and the model file into a private work folder.
    2. Run child.py in the sandbox: it predicts, with probabilities where it can, and
       predicts again on permuted columns of the first rows for feature importance.
    3. Load and check the arrays it wrote; score them with scikit-learn here.
    """
    test_set = evaluation.test_set
    model_file = evaluation.model_file
    limits = sandbox_limits()
    y = load_target(test_set)
    with sandbox_workdir() as folder:
        workdir = Path(folder)
        with blob_open(test_set.features_blob_id) as source, open(workdir / "features.npy", "wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        rows, columns = len(y), len(test_set.feature_columns)
        model_name = f"model.{model_file.format}"
        with blob_open(model_file.sha256) as source, open(workdir / model_name, "wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        request = {
            "format": model_file.format,
            "model": model_name,
            "features": "features.npy",
            "trusted_types": settings.SKOPS_TRUSTED_TYPES,
            "allow_pickle": settings.EVALUATE_PICKLE,
            "permutation": {
                "rows": min(rows, PERMUTATION_ROWS),
                "repeats": PERMUTATION_REPEATS,
                "seed": PERMUTATION_SEED,
            },
        }
        (workdir / "request.json").write_text(json.dumps(request))
        try:
            result = run_in_sandbox(
                CHILD, ["request.json"], workdir=workdir, limits=limits, allow_weak=settings.EVAL_ALLOW_WEAK_SANDBOX
            )
        except SandboxUnavailable as unavailable:
            raise EvaluationError("sandbox_unavailable", unavailable.message) from None
        report = _child_report(result, limits)
        pred = _load_array(workdir / "pred.npy", rows=rows, what="predictions")
        proba = _load_array(workdir / "proba.npy", rows=rows, what="probabilities") if report.get("has_proba") else None
        notes = list(result.notes)
        if proba is not None and not _probability_like(proba):
            # A second output of decision scores (an SVM without probability calibration):
            # score the labels, leave ROC AUC and log loss out, and say so.
            proba = None
            notes.append(
                "The model's second output holds scores, not probabilities: ROC AUC and log loss are not computed."
            )
        permuted = _load_array(workdir / "perm_pred.npy", rows=rows, what="permuted predictions")
    scored = _score(test_set.task, y, pred, proba, report.get("classes"))
    feature_columns = test_set.feature_columns
    importance = (
        _permutation_importance(test_set.task, y, permuted, pred, feature_columns)
        if permuted.shape[0] == len(feature_columns)
        else []
    )
    predict_seconds = float(report.get("predict_seconds") or 0.0)
    return Outcome(
        predictions=pred,
        metrics=scored.metrics,
        intervals=scored.intervals,
        per_class=scored.per_class,
        confusion_matrix=scored.confusion_matrix,
        feature_importance=importance,
        rows_per_second=rows / predict_seconds if predict_seconds > 0 else None,
        wall_seconds=result.wall_seconds,
        notes=notes,
        provenance={
            "model_file": model_file.path,
            "model_sha256": model_file.sha256,
            "test_set_sha256": test_set.sha256,
            "rows": rows,
            "columns": columns,
            "libraries": _library_versions(),
            "limits": limits.describe(),
            "seed": m.BOOTSTRAP_SEED,
            "interval_methods": m.INTERVAL_METHODS,
            "bootstrap_samples": m.BOOTSTRAP_SAMPLES,
            "network_isolated": result.network_isolated,
            "isolation": result.isolation,
            "missing_protections": result.missing_protections,
            "sandbox_notes": notes,
            "peak_child_memory_bytes": result.peak_memory_bytes,
            "load_seconds": report.get("load_seconds"),
            "predict_seconds": predict_seconds,
            "source": EvaluationSource.MODEL,
        },
    )


def run_predictions(evaluation: Evaluation) -> Outcome:
    """Score a predictions file the owner uploaded (for models the registry cannot run).

    The file is a CSV with a `prediction` column, one row per test-set row in order,
    and optional `proba_<class>` columns. It is data, read by pandas; no code runs.
    """
    test_set = evaluation.test_set
    model_file = evaluation.model_file
    y = load_target(test_set)
    with blob_open(model_file.sha256) as handle:
        try:
            frame = pd.read_csv(handle, encoding="utf-8", nrows=len(y) + 1)
        except (ValueError, UnicodeDecodeError) as error:
            raise EvaluationError(
                "invalid_output", f"The predictions file cannot be read as UTF-8 CSV: {error}."
            ) from None
    if "prediction" not in frame.columns:
        raise EvaluationError("invalid_output", "The predictions file needs a 'prediction' column.")
    if len(frame) != len(y):
        raise EvaluationError(
            "invalid_output", f"The predictions file has {len(frame)} rows; the test set has {len(y)}."
        )
    proba_columns = [column for column in frame.columns if str(column).startswith("proba_")]
    proba = frame[proba_columns].to_numpy(dtype=float) if proba_columns else None
    classes = [str(column)[len("proba_") :] for column in proba_columns] or None
    if classes and y.dtype.kind in "iu":
        try:
            classes = [int(c) for c in classes]
        except ValueError:
            pass
    predictions = frame["prediction"].to_numpy()
    if predictions.dtype == object:
        predictions = predictions.astype(str)
    scored = _score(test_set.task, y, predictions, proba, classes)
    return Outcome(
        predictions=predictions,
        metrics=scored.metrics,
        intervals=scored.intervals,
        per_class=scored.per_class,
        confusion_matrix=scored.confusion_matrix,
        feature_importance=[],
        rows_per_second=None,
        wall_seconds=0.0,
        provenance={
            "predictions_file": model_file.path,
            "predictions_sha256": model_file.sha256,
            "test_set_sha256": test_set.sha256,
            "rows": len(y),
            "libraries": _library_versions(),
            "seed": m.BOOTSTRAP_SEED,
            "interval_methods": m.INTERVAL_METHODS,
            "source": EvaluationSource.PREDICTIONS,
        },
    )
