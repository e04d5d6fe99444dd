"""Trusted evaluation end to end in Chromium: the owner uploads a test set, requests an
evaluation of a real ONNX model on the version page, watches the status turn from queued
to succeeded (evaluation-status.js polls the API), and sees the charts; then the
leaderboard, the model page's line chart and the compare page with McNemar's verdict.

The worker's part runs in the test thread: the request's task message goes to a list
standing in for the broker, and the test calls run_evaluation itself, as a worker would,
while the page in the browser keeps polling."""

import numpy as np
import pytest
from playwright.sync_api import expect
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, TestSet
from evaluations_app.tasks import run_evaluation
from models_app.models import ModelVersion, VersionStatus
from tests.evaluations.web.conftest import csv_bytes, onnx_bytes
from tests.factories import UserFactory, make_model, make_version, move_to

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker(monkeypatch):
    """Task messages, kept in order instead of sent to a broker nobody consumes in tests."""
    sent: list[int] = []
    monkeypatch.setattr(run_evaluation, "delay", lambda evaluation_id: sent.append(evaluation_id))
    return sent


@pytest.fixture
def iris(db):
    data = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(data.data, data.target, test_size=0.4, random_state=1)
    owner = UserFactory(username="olivia")
    model = make_model(owner, "iris-classifier", summary="Tells three iris species apart")
    # 1.0.0: a weak model (strong regularisation, one feature pair); 1.1.0: a good one.
    weak = LogisticRegression(C=0.01, max_iter=500).fit(X_train[:, :2], y_train)
    weak_full = _pad(weak)
    strong = LogisticRegression(max_iter=500).fit(X_train, y_train)
    make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"model.onnx": onnx_bytes(weak_full, X_test)})
    make_version(model, "1.1.0", files={"model.onnx": onnx_bytes(strong, X_test)}, reported_metrics={"accuracy": 0.99})
    return owner, model, csv_bytes(X_test, y_test)


def _pad(two_feature_model):
    """A 4-feature logistic regression that ignores the last two features."""
    padded = LogisticRegression()
    padded.classes_ = two_feature_model.classes_
    padded.coef_ = np.hstack([two_feature_model.coef_, np.zeros((len(padded.classes_), 2))])
    padded.intercept_ = two_feature_model.intercept_
    padded.n_features_in_ = 4
    return padded


def test_upload_request_watch_and_compare(page, live_server, problems, screenshot, login, iris, broker, tmp_path):
    base = live_server.url
    owner, model, table = iris

    # The owner uploads a test set from the nav bar's "Test sets".
    login("olivia")
    page.locator(".main-nav").get_by_role("link", name="Test sets").click()
    expect(page).to_have_url(f"{base}/test-sets/")
    page.fill("#id_name", "iris-holdout")
    page.select_option("#id_task", "classification")
    page.fill("#id_target_column", "target")
    csv_path = tmp_path / "iris-holdout.csv"
    csv_path.write_bytes(table)
    page.set_input_files("#id_file", str(csv_path))
    page.fill("#id_description", "The held-out 40% of Fisher's iris flowers.")
    page.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(f"{base}/test-sets/olivia/iris-holdout/")
    expect(page.locator(".message-success")).to_contain_text("Uploaded olivia/iris-holdout: 60 rows.")
    test_set = TestSet.objects.get(name="iris-holdout")
    expect(page.locator(".facts .sha")).to_have_text(test_set.sha256)

    # 1.0.0 was evaluated there already (by a worker).
    v1 = ModelVersion.objects.get(model=model, version="1.0.0")
    first = ev.evaluation_request(version=v1, test_set=test_set, actor=owner)
    run_evaluation(first.pk)

    # On 1.1.0's page the owner requests an evaluation and watches it finish.
    page.goto(f"{base}/models/olivia/iris-classifier/versions/1.1.0/")
    expect(page.locator("#evaluations")).to_contain_text("No evaluation has finished yet")
    page.select_option("#id_test_set", "olivia/iris-holdout")
    page.get_by_role("button", name="Request evaluation").click()
    expect(page.locator(".message-success")).to_contain_text("Queued an evaluation on olivia/iris-holdout")
    row = page.locator("#evaluations tr[data-evaluation]")
    expect(row.locator("[data-status-badge]")).to_have_text("Queued")
    evaluation = Evaluation.objects.get(version__version="1.1.0")
    assert broker == [first.pk, evaluation.pk]

    run_evaluation(evaluation.pk)  # the worker's turn; the page polls every 2 s

    expect(page.locator("#evaluations tr[data-evaluation] [data-status-badge]")).to_have_text(
        "Succeeded", timeout=15_000
    )
    result = page.locator("#evaluations .eval-result")
    expect(result).to_have_count(1)
    expect(result.locator(".badge-verified")).to_be_visible()
    expect(result.locator("svg.chart-heat rect")).to_have_count(9)
    expect(result.locator("svg.chart-bars")).to_have_count(2)
    accuracy = result.locator(".metrics-table tr", has_text="Accuracy")
    expect(accuracy.locator("td").nth(2)).to_have_text("0.99")  # reported, next to the verified number
    screenshot("evaluation-version-page")

    # The evaluation's own page: provenance.
    result.get_by_role("link", name=f"Evaluation #{evaluation.pk} →").click()
    expect(page.locator("#provenance")).to_contain_text(test_set.sha256)
    expect(page.locator("#provenance")).to_contain_text("onnxruntime")
    screenshot("evaluation-detail")

    # Once 1.1.0 is published: the leaderboard, the model page's chart and the compare page.
    move_to(ModelVersion.objects.get(pk=evaluation.version_id), VersionStatus.PUBLISHED)

    page.goto(f"{base}/test-sets/olivia/iris-holdout/")
    rows = page.locator(".leaderboard tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("v1.1.0")
    expect(rows.nth(1)).to_contain_text("v1.0.0")
    page.locator(".sort").get_by_role("link", name="Log loss").click()
    expect(page).to_have_url(f"{base}/test-sets/olivia/iris-holdout/?metric=log_loss#leaderboard")
    expect(rows.nth(0)).to_contain_text("v1.1.0")  # lower is better
    screenshot("evaluation-leaderboard")

    page.goto(f"{base}/models/olivia/iris-classifier/")
    expect(page.locator("#metric-history svg.chart-line circle")).to_have_count(2)
    screenshot("evaluation-model-page")
    page.locator("#metric-history").get_by_role("link", name="Compare versions →").click()
    expect(page).to_have_url(f"{base}/models/olivia/iris-classifier/compare/")
    expect(page.locator("#compare-a")).to_have_value("1.0.0")
    expect(page.locator("#compare-b")).to_have_value("1.1.0")
    expect(page.locator("[data-verdict]")).to_contain_text("1.1.0 is better than 1.0.0 on olivia/iris-holdout (p ")
    screenshot("evaluation-compare")

    # Backwards, the drop is highlighted as a regression.
    page.select_option("#compare-a", "1.1.0")
    page.select_option("#compare-b", "1.0.0")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator(".compare-table tr.row-regression").first).to_be_visible()
