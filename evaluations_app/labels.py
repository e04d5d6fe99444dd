"""How evaluation results read: metric names, which way is better, McNemar's verdict in
words. Shared by the evaluation pages and the review page."""

from models_app.models import ModelVersion

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


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name.replace("_", " "))


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
