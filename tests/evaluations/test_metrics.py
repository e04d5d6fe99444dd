"""The registry's metrics equal scikit-learn's on the same predictions."""

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split

from evaluations_app.engine.metrics import (
    InvalidOutput,
    bootstrap_intervals,
    classification_report,
    mcnemar,
    regression_report,
)


def fitted(loader, estimator):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    estimator.fit(X_train, y_train)
    return estimator, X_test, y_test


def test_multiclass_metrics_equal_scikit_learn():
    model, X, y = fitted(load_iris, LogisticRegression(max_iter=500))
    pred, proba = model.predict(X), model.predict_proba(X)
    report = classification_report(y, pred, proba, classes=list(model.classes_))
    assert report.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert report.metrics["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert report.metrics["f1_weighted"] == pytest.approx(skm.f1_score(y, pred, average="weighted"))
    assert report.metrics["precision_macro"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert report.metrics["recall_weighted"] == pytest.approx(skm.recall_score(y, pred, average="weighted"))
    assert report.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert report.metrics["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert report.confusion_matrix["matrix"] == skm.confusion_matrix(y, pred).tolist()
    assert report.per_class["0"]["recall"] == pytest.approx(skm.recall_score(y, pred, average=None)[0])


def test_averages_match_scikit_learn_when_a_class_is_never_predicted_or_never_true():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    pred = np.array([0, 3, 1, 0, 0, 2, 2])  # 3 is never true, nothing predicts... every class appears somewhere
    report = classification_report(y, pred)
    for average in ("macro", "weighted"):
        assert report.metrics[f"precision_{average}"] == pytest.approx(
            skm.precision_score(y, pred, average=average, zero_division=0)
        )
        assert report.metrics[f"recall_{average}"] == pytest.approx(
            skm.recall_score(y, pred, average=average, zero_division=0)
        )
        assert report.metrics[f"f1_{average}"] == pytest.approx(skm.f1_score(y, pred, average=average, zero_division=0))


def test_binary_roc_auc_uses_the_positive_class_probability():
    model, X, y = fitted(load_breast_cancer, LogisticRegression(max_iter=5000))
    proba = model.predict_proba(X)
    report = classification_report(y, model.predict(X), proba, classes=list(model.classes_))
    assert report.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba[:, 1]))


def test_regression_metrics_equal_scikit_learn():
    model, X, y = fitted(load_diabetes, LinearRegression())
    pred = model.predict(X)
    report = regression_report(y, pred)
    assert report.metrics == pytest.approx(
        {
            "mae": skm.mean_absolute_error(y, pred),
            "rmse": skm.root_mean_squared_error(y, pred),
            "r2": skm.r2_score(y, pred),
        }
    )


@pytest.mark.parametrize(
    "pred, proba, message",
    [
        (np.array([0, 1]), None, "predictions for 3 rows"),
        (np.array([0, 1, 1]), np.array([[0.5, 0.5], [7.0, -6.0], [0.5, 0.5]]), "between 0 and 1"),
        (np.array([0, 1, 1]), np.array([[0.5, 0.2], [0.5, 0.5], [0.5, 0.5]]), "sum to 1"),
    ],
)
def test_it_refuses_output_it_cannot_score(pred, proba, message):
    with pytest.raises(InvalidOutput, match=message):
        classification_report(np.array([0, 1, 1]), pred, proba, classes=[0, 1])


def test_it_refuses_nan_regression_output():
    with pytest.raises(InvalidOutput, match="NaN"):
        regression_report(np.array([1.0, 2.0]), np.array([1.0, np.nan]))


def test_bootstrap_intervals_are_seeded_and_contain_the_point_estimate():
    model, X, y = fitted(load_iris, LogisticRegression(max_iter=500))
    pred = model.predict(X)
    first = bootstrap_intervals(y, pred, "classification", samples=200)
    again = bootstrap_intervals(y, pred, "classification", samples=200)
    assert first == again
    low, high = first["accuracy"]
    assert low <= skm.accuracy_score(y, pred) <= high


def test_mcnemar_finds_a_real_difference_and_not_a_fake_one():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=2000)
    good = np.where(rng.random(2000) < 0.9, y, 1 - y)
    bad = np.where(rng.random(2000) < 0.7, y, 1 - y)
    assert mcnemar(y, good, bad).better == "a"
    slightly = good.copy()
    slightly[:3] = 1 - slightly[:3]
    result = mcnemar(y, good, slightly)
    assert not result.significant and result.better is None


def test_macro_f1_from_a_confusion_matrix_equals_scikit_learn():
    from evaluations_app.engine.metrics import f1_macro_from_confusion

    rng = np.random.default_rng(1)
    for _ in range(5):
        y = rng.integers(0, 4, size=300)
        pred = np.where(rng.random(300) < 0.6, y, rng.integers(0, 5, size=300))
        counts = skm.confusion_matrix(y, pred, labels=range(5))
        assert f1_macro_from_confusion(counts) == pytest.approx(skm.f1_score(y, pred, average="macro", zero_division=0))


def test_the_multinomial_bootstrap_agrees_with_resampling_rows():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, size=2000)
    pred = np.where(rng.random(2000) < 0.8, y, rng.integers(0, 3, size=2000))
    exact = bootstrap_intervals(y, pred, "classification", samples=2000)
    resampled = [skm.accuracy_score(y[idx], pred[idx]) for idx in rng.integers(0, 2000, size=(2000, 2000))]
    low, high = np.percentile(resampled, [2.5, 97.5])
    assert exact["accuracy"] == pytest.approx([low, high], abs=0.004)


def test_regression_intervals_on_a_subset_are_rescaled_to_the_full_size():
    rng = np.random.default_rng(3)
    y = rng.normal(size=40_000)
    pred = y + rng.normal(scale=0.5, size=40_000)
    full = bootstrap_intervals(y, pred, "regression", samples=300, max_rows=40_000)
    sub = bootstrap_intervals(y, pred, "regression", samples=300, max_rows=10_000)
    width = full["rmse"][1] - full["rmse"][0]
    assert sub["rmse"][1] - sub["rmse"][0] == pytest.approx(width, rel=0.25)


def test_the_accuracy_interval_stays_honest_at_a_perfect_score():
    """30 of 30 right: the bootstrap says 1.000–1.000; Wilson's interval says what 30 rows can show."""
    from evaluations_app.engine.metrics import INTERVAL_METHODS, bootstrap_intervals, wilson_interval

    y = np.arange(30) % 3
    low, high = bootstrap_intervals(y, y.copy(), "classification")["accuracy"]
    assert high == pytest.approx(1.0) and low == pytest.approx(0.8865, abs=1e-4)
    assert wilson_interval(0, 30)[0] == 0.0 and wilson_interval(0, 30)[1] == pytest.approx(0.1135, abs=1e-4)
    assert wilson_interval(15, 30) == pytest.approx([0.3315, 0.6685], abs=1e-4)
    assert INTERVAL_METHODS["accuracy"] == "Wilson score"
