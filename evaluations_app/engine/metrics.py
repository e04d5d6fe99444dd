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
    if proba is not None:
        if proba.dtype.kind != "f":
            proba = proba.astype(np.float64)
        proba /= proba.sum(axis=1, keepdims=True)  # float32 runtimes sum to 1 ± 1e-7; in place, it is large
    labels = np.unique(np.concatenate([np.unique(y_true), np.unique(y_pred)]))
    # One pass over the rows (the confusion matrix); everything else is derived from it
    # exactly as scikit-learn defines it: per-class precision tp/predicted, recall
    # tp/true, F1 2tp/(true+predicted), 0 for 0/0; macro = mean over the labels present
    # in the truth or the predictions; weighted = weighted by support.
    matrix = skm.confusion_matrix(y_true, y_pred, labels=labels)
    tp = np.diag(matrix).astype(float)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(support + predicted > 0, 2 * tp / (support + predicted), 0.0)
    weights = support / support.sum()
    values = {
        "accuracy": tp.sum() / matrix.sum(),
        "precision_macro": precision.mean(),
        "recall_macro": recall.mean(),
        "f1_macro": f1.mean(),
        "precision_weighted": float(np.dot(precision, weights)),
        "recall_weighted": float(np.dot(recall, weights)),
        "f1_weighted": float(np.dot(f1, weights)),
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
    per_class = {
        str(label): {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }
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


def f1_macro_from_confusion(counts: np.ndarray) -> np.ndarray:
    """Macro F1 from confusion matrices (..., labels, labels), as scikit-learn computes it:
    F1 = 2tp / (2tp + fp + fn), 0 for 0/0, averaged over labels present in either the
    truth or the predictions."""
    tp = np.diagonal(counts, axis1=-2, axis2=-1)
    denominator = counts.sum(axis=-1) + counts.sum(axis=-2)  # true count + predicted count = 2tp + fp + fn
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(denominator > 0, 2 * tp / denominator, 0.0)
    return f1.sum(axis=-1) / (denominator > 0).sum(axis=-1)


def _percentiles(scores: np.ndarray) -> list[float] | None:
    scores = scores[np.isfinite(scores)]
    if not len(scores):
        return None
    low, high = np.percentile(scores, [(1 - CONFIDENCE) / 2 * 100, (1 + CONFIDENCE) / 2 * 100])
    return [float(low), float(high)]


# How each interval is computed, for the provenance and the pages.
INTERVAL_METHODS = {
    "accuracy": "Wilson score",
    "f1_macro": "percentile bootstrap",
    "rmse": "percentile bootstrap",
    "r2": "percentile bootstrap",
}
Z_95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z_95) -> list[float]:
    """The Wilson score interval of a proportion: unlike the bootstrap (or the normal
    approximation), it stays honest at 0 and 1, where every resample agrees with the data."""
    if n <= 0:
        return [0.0, 1.0]
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return [max(0.0, centre - half), min(1.0, centre + half)]


def bootstrap_intervals(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    task: str,
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
    max_rows: int = 20_000,
) -> dict[str, list[float]]:
    """95% percentile bootstrap intervals of the headline metrics, seeded (a re-run gives the same).

    Classification: accuracy and macro F1 depend only on the confusion matrix, and
    resampling n rows with replacement draws that matrix from a multinomial over its
    cells, so each resample is one multinomial draw: the exact bootstrap, at any n, in
    milliseconds.

    Regression: rows are resampled; above `max_rows` rows from a fixed seeded subset of
    m rows, and the interval's distance from the estimate is scaled by sqrt(m/n) (the
    m-out-of-n bootstrap), since the spread of a mean shrinks as 1/sqrt(n).
    """
    rng = np.random.default_rng(seed)
    n = len(y_true)
    intervals: dict[str, list[float]] = {}
    if task == "classification":
        both = (
            np.concatenate([y_true, y_pred])
            if y_true.dtype.kind == y_pred.dtype.kind
            else np.concatenate([y_true.astype(str), y_pred.astype(str)])
        )
        labels, codes = np.unique(both, return_inverse=True)
        size = len(labels)
        cells = np.bincount(codes[:n] * size + codes[n:], minlength=size * size)
        draws = rng.multinomial(n, cells / n, size=samples).reshape(samples, size, size)
        # Accuracy is a proportion of correct rows: Wilson's interval, valid at 0 and 1.
        intervals["accuracy"] = wilson_interval(int(np.trace(cells.reshape(size, size))), n)
        interval = _percentiles(f1_macro_from_confusion(draws))
        if interval:
            intervals["f1_macro"] = interval
        return intervals
    truth, predicted = y_true.astype(float), y_pred.astype(float)
    scale = 1.0
    if n > max_rows:
        keep = rng.choice(n, size=max_rows, replace=False)
        truth, predicted, scale = truth[keep], predicted[keep], math.sqrt(max_rows / n)
    m_rows = len(truth)
    rmse_scores, r2_scores = [], []
    for start in range(0, samples, 100):
        indices = rng.integers(0, m_rows, size=(min(100, samples - start), m_rows))
        t, p = truth[indices], predicted[indices]
        squared = ((t - p) ** 2).sum(axis=1)
        total = ((t - t.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        rmse_scores.append(np.sqrt(squared / m_rows))
        with np.errstate(divide="ignore", invalid="ignore"):
            r2_scores.append(1 - squared / total)
    point = {
        "rmse": float(np.sqrt(np.mean((y_true.astype(float) - y_pred.astype(float)) ** 2))),
        "r2": float(skm.r2_score(y_true.astype(float), y_pred.astype(float))),
    }
    for name, parts in (("rmse", rmse_scores), ("r2", r2_scores)):
        interval = _percentiles(np.concatenate(parts))
        if interval:
            centre = point[name]
            intervals[name] = [centre - (centre - interval[0]) * scale, centre + (interval[1] - centre) * scale]
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
