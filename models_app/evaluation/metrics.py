"""Metrics computed in trusted code from the predictions a sandboxed model produced.

Everything here is scikit-learn's own metric functions, so the registry's numbers are
the numbers a user computes with scikit-learn on the same predictions. On top: seeded
bootstrap confidence intervals and McNemar's test for two classifiers on one test set.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import binom, chi2
from sklearn import metrics as skm

BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 20261126
CONFIDENCE = 0.95
HEADLINE = {"classification": ("accuracy", "f1_macro"), "regression": ("rmse", "r2")}


class InvalidOutput(ValueError):
    """The model's output cannot be scored (wrong length, NaN, probabilities off)."""


@dataclass
class MetricReport:
    metrics: dict[str, float]
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)
    confusion_matrix: dict[str, list] = field(default_factory=dict)
    intervals: dict[str, list[float]] = field(default_factory=dict)


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def validate_predictions(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, task: str) -> None:
    if y_pred.ndim != 1 or len(y_pred) != len(y_true):
        raise InvalidOutput(f"The model returned {y_pred.shape} predictions for {len(y_true)} rows.")
    if task == "regression":
        if not np.issubdtype(y_pred.dtype, np.number) or not np.all(np.isfinite(y_pred.astype(float))):
            raise InvalidOutput("The model's predictions contain NaN, infinity or non-numbers.")
    if proba is not None:
        if proba.ndim != 2 or proba.shape[0] != len(y_true):
            raise InvalidOutput(f"The model returned probabilities of shape {proba.shape} for {len(y_true)} rows.")
        if not np.all(np.isfinite(proba)) or proba.min() < -1e-6 or proba.max() > 1 + 1e-6:
            raise InvalidOutput("The model's probabilities are not all between 0 and 1.")
        if not np.allclose(proba.sum(axis=1), 1.0, atol=1e-3):
            raise InvalidOutput("The model's class probabilities do not sum to 1 for every row.")


def classification_report(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None, classes: list | None = None
) -> MetricReport:
    """Accuracy, precision/recall/F1 (macro, weighted, per class), confusion matrix, ROC AUC and log loss."""
    validate_predictions(y_true, y_pred, proba, "classification")
    labels = sorted(set(np.unique(y_true)) | set(np.unique(y_pred)), key=str)
    values = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision_macro": skm.precision_score(y_true, y_pred, average="macro", zero_division=0),
        "recall_macro": skm.recall_score(y_true, y_pred, average="macro", zero_division=0),
        "f1_macro": skm.f1_score(y_true, y_pred, average="macro", zero_division=0),
        "precision_weighted": skm.precision_score(y_true, y_pred, average="weighted", zero_division=0),
        "recall_weighted": skm.recall_score(y_true, y_pred, average="weighted", zero_division=0),
        "f1_weighted": skm.f1_score(y_true, y_pred, average="weighted", zero_division=0),
    }
    if proba is not None and classes is not None and len(classes) == proba.shape[1]:
        class_list = list(classes)
        present = set(np.unique(y_true))
        if present <= set(class_list) and len(present) > 1:
            if len(class_list) == 2:
                values["roc_auc"] = skm.roc_auc_score(y_true, proba[:, 1], labels=None)
            else:
                values["roc_auc"] = skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=class_list)
            values["log_loss"] = skm.log_loss(y_true, proba, labels=class_list)
    precision, recall, f1, support = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per_class = {
        str(label): {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }
    matrix = skm.confusion_matrix(y_true, y_pred, labels=labels)
    return MetricReport(
        metrics={key: _finite(value) for key, value in values.items()},
        per_class=per_class,
        confusion_matrix={"labels": [str(label) for label in labels], "matrix": matrix.tolist()},
    )


def regression_report(y_true: np.ndarray, y_pred: np.ndarray) -> MetricReport:
    validate_predictions(y_true, y_pred, None, "regression")
    y_pred = y_pred.astype(float)
    values = {
        "mae": skm.mean_absolute_error(y_true, y_pred),
        "rmse": skm.root_mean_squared_error(y_true, y_pred),
        "r2": skm.r2_score(y_true, y_pred),
    }
    return MetricReport(metrics={key: _finite(value) for key, value in values.items()})


_BOOTSTRAP_FUNCTIONS = {
    "accuracy": lambda t, p: skm.accuracy_score(t, p),
    "f1_macro": lambda t, p: skm.f1_score(t, p, average="macro", zero_division=0),
    "rmse": lambda t, p: skm.root_mean_squared_error(t, p),
    "r2": lambda t, p: skm.r2_score(t, p),
    "mae": lambda t, p: skm.mean_absolute_error(t, p),
}


def bootstrap_intervals(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    task: str,
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
    max_rows: int = 50_000,
) -> dict[str, list[float]]:
    """95% percentile intervals of the headline metrics, seeded so a re-run gives the same numbers.

    Large test sets are resampled from a fixed, seeded subset of `max_rows` rows: the
    interval then describes that subset, which at this size is already narrow.
    """
    rng = np.random.default_rng(seed)
    n = len(y_true)
    if n > max_rows:
        keep = rng.choice(n, size=max_rows, replace=False)
        y_true, y_pred, n = y_true[keep], y_pred[keep], max_rows
    intervals: dict[str, list[float]] = {}
    indices = rng.integers(0, n, size=(samples, n))
    for name in HEADLINE[task]:
        function = _BOOTSTRAP_FUNCTIONS[name]
        scores = np.array([function(y_true[idx], y_pred[idx]) for idx in indices])
        scores = scores[np.isfinite(scores)]
        if len(scores):
            low, high = np.percentile(scores, [(1 - CONFIDENCE) / 2 * 100, (1 + CONFIDENCE) / 2 * 100])
            intervals[name] = [float(low), float(high)]
    return intervals


@dataclass(frozen=True)
class McNemarResult:
    a_only_correct: int
    b_only_correct: int
    p_value: float
    significant: bool
    better: str | None  # "a", "b" or None when the data does not support a winner


def mcnemar(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, *, alpha: float = 0.05) -> McNemarResult:
    """McNemar's test on the rows where exactly one of two classifiers is right.

    Exact binomial test when the discordant count is small (< 25), the chi-squared test
    with continuity correction otherwise (the usual textbook rule).
    """
    correct_a = pred_a == y_true
    correct_b = pred_b == y_true
    b = int(np.sum(correct_a & ~correct_b))
    c = int(np.sum(~correct_a & correct_b))
    discordant = b + c
    if discordant == 0:
        p_value = 1.0
    elif discordant < 25:
        p_value = float(min(1.0, 2 * binom.cdf(min(b, c), discordant, 0.5)))
    else:
        statistic = (abs(b - c) - 1) ** 2 / discordant
        p_value = float(chi2.sf(statistic, df=1))
    significant = p_value < alpha
    better = ("a" if b > c else "b") if significant else None
    return McNemarResult(a_only_correct=b, b_only_correct=c, p_value=p_value, significant=significant, better=better)
