"""A reviewer decides from the one review page, in Chromium: rita opens a first version
whose evaluation finished, reads its verified metrics, confusion matrix, the file that was
evaluated (path and SHA-256) and each file's scan verdict, and requests changes; the owner
replaces the model file and resubmits; rita sees "Changed since your last review" listing
the file and approves. Then the queue and the review page on a phone (390 px): nothing
scrolls sideways and the decision link, the checks and the decision form are in view.

The worker's part (scans, evaluations) runs in the test thread, as a worker would: task
messages go to a list standing in for the broker."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from evaluations_app import scanning
from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationStatus
from evaluations_app.tasks import run_evaluation
from models_app.models import ModelFile, ScanStatus, VersionStatus
from reviews_app import services as reviews
from reviews_app.models import Review
from tests.e2e.conftest import ARTIFACTS
from tests.evaluations.web.conftest import csv_bytes, onnx_bytes
from tests.factories import make_model, make_version
from tests.reviews.web.conftest import GOOD_CARD, SIGNATURE

pytestmark = pytest.mark.django_db(transaction=True)

COMMENT = "Accuracy is fine, but retrain with balanced classes, please."
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def broker(monkeypatch):
    """Evaluation task messages, kept in order instead of sent to a broker."""
    sent: list[int] = []
    monkeypatch.setattr(run_evaluation, "delay", lambda evaluation_id: sent.append(evaluation_id))
    return sent


def work(broker: list[int]) -> None:
    """What a worker would do now: scan every pending file, run every queued evaluation."""
    for file_id in ModelFile.objects.filter(scan_status=ScanStatus.PENDING).values_list("pk", flat=True):
        scanning.file_scan(file_id=file_id)
    while broker:
        run_evaluation(broker.pop(0))


@pytest.fixture
def iris(db):
    data = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(data.data, data.target, test_size=0.4, random_state=1)
    first = LogisticRegression(C=0.05, max_iter=500).fit(X_train, y_train)
    second = LogisticRegression(max_iter=500).fit(X_train, y_train)
    return onnx_bytes(first, X_test), onnx_bytes(second, X_test), csv_bytes(X_test, y_test)


@pytest.fixture
def submitted(owner, reviewer, iris, broker):
    """olivia's first version, 1.0.0, submitted; its declared test set evaluated it on submission."""
    first, _, table = iris
    test_set = ev.test_set_create(
        owner=owner, name="iris-holdout", task="classification", target_column="target",
        uploaded_file=SimpleUploadedFile("iris-holdout.csv", table),
    )  # fmt: skip
    model = make_model(owner, "iris-classifier", description=GOOD_CARD, summary="Tells three iris species apart")
    model.evaluate_on.add(test_set)
    version = make_version(
        model, "1.0.0", files={"model.onnx": first, "labels.txt": b"setosa\nversicolor\nvirginica\n"},
        signature=SIGNATURE, changelog="First release.",
    )  # fmt: skip
    work(broker)  # the scans of the uploads
    reviews.version_submit(version=version, actor=owner, note="Our first release.")
    assert len(broker) == 1  # the declared test set, queued on submission
    work(broker)
    assert Evaluation.objects.get(version=version).status == EvaluationStatus.SUCCEEDED
    return version


def _switch_user(page, login, username: str) -> None:
    page.context.clear_cookies()
    login(username)


def test_reviewer_decides_from_the_review_page(page, live_server, problems, screenshot, login, submitted, iris, broker):
    base = live_server.url
    version = submitted
    version_url = f"{base}/models/olivia/iris-classifier/versions/1.0.0/"
    onnx = version.files.get(path="model.onnx")

    # rita opens the queue and the first version's review.
    login("rita")
    page.goto(f"{base}/reviews/")
    row = page.locator(".queue-table tbody tr").filter(has_text="olivia/iris-classifier")
    expect(row).to_have_count(1)
    row.get_by_role("link", name="Review").click()
    expect(page).to_have_url(re.compile(r"/reviews/\d+/$"))

    # Everything to decide on is here: the verified metrics with their intervals...
    results = page.locator("#verified-results")
    expect(results).to_contain_text("First version to be published: no deltas")
    accuracy = results.locator(".metrics-table tr", has_text="Accuracy")
    expect(accuracy.locator("td").nth(0)).to_have_text(re.compile(r"^0\.\d{4}$|^1\.0000$"))
    expect(accuracy.locator("td").nth(1)).to_have_text(re.compile(r"^\d\.\d{3}–\d\.\d{3}$"))
    # ... the confusion matrix (three classes) and per-class F1...
    expect(results.locator("svg.chart-heat rect")).to_have_count(9)
    expect(results.locator("figure", has_text="F1 per class").locator("svg")).to_have_count(1)
    # ... the file that was evaluated, by path and SHA-256...
    evaluated = results.locator("[data-evaluated-file]")
    expect(evaluated).to_contain_text("model.onnx")
    expect(evaluated.locator(".sha")).to_have_text(onnx.sha256)
    expect(evaluated.locator(".badge-check-fail")).to_have_count(0)
    # ... and each file's scan verdict.
    scans = page.locator("#scans")
    expect(scans.locator("[data-scan-file='model.onnx'] .badge-scan-clean")).to_have_text("Clean")
    expect(scans.locator("[data-scan-file='labels.txt'] .badge-scan-clean")).to_have_text("Clean")
    expect(scans.locator("[data-scan-file='labels.txt']")).to_contain_text("A data format")
    # A first submission has nothing to compare with a last review.
    expect(page.locator("#since-last-review")).to_have_count(0)
    screenshot("review-decide-first-version")

    # rita asks for changes.
    page.locator("label.decision-option-request_changes").click()
    page.fill("#id_comment", COMMENT)
    page.locator("#decision-submit").click()
    expect(page.locator(".message-success")).to_contain_text("Request changes: olivia/iris-classifier 1.0.0.")

    # The owner replaces model.onnx with the retrained model and resubmits.
    _switch_user(page, login, "olivia")
    page.goto(version_url)
    expect(page.locator("#latest-decision")).to_contain_text(COMMENT)
    page.locator("#file-list tr", has_text="model.onnx").get_by_role("link", name="Remove").click()
    page.get_by_role("button", name=re.compile("Remove")).click()
    expect(page.locator(".message-success")).to_contain_text("Removed model.onnx.")
    _, retrained, _ = iris
    page.set_input_files(
        "#upload-form input[type=file]",
        files=[{"name": "model.onnx", "mimeType": "application/octet-stream", "buffer": retrained}],
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#file-list table.files-table tbody tr")).to_have_count(2)
    work(broker)  # the new file's scan
    page.reload()
    page.fill("#id_note", "Retrained with balanced classes.")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("h1 .badge")).to_have_text("In review")
    assert len(broker) == 1  # the resubmission is evaluated again
    work(broker)

    # rita sees what changed since her review, the file first, and approves.
    _switch_user(page, login, "rita")
    page.goto(f"{base}/reviews/")
    page.locator(".queue-table tbody tr").filter(has_text="olivia/iris-classifier").get_by_role(
        "link", name="Review"
    ).click()
    since = page.locator("#since-last-review")
    expect(since.get_by_role("heading")).to_have_text("Changed since your last review")
    expect(since).to_contain_text(COMMENT)
    changed = since.locator("tr.diff-changed", has_text="model.onnx")
    expect(changed).to_have_count(1)
    new_onnx = ModelFile.objects.get(version=version, path="model.onnx")
    expect(changed.locator(".diff-new")).to_contain_text(new_onnx.sha256[:12])
    expect(changed.locator(".diff-old")).to_contain_text(onnx.sha256[:12])
    expect(since.locator("tr", has_text="labels.txt")).to_have_count(0)  # unchanged files are not listed
    # The results shown are the new file's.
    expect(page.locator("#verified-results [data-evaluated-file] .sha")).to_have_text(new_onnx.sha256)
    screenshot("review-decide-resubmission")

    # On a phone: the review page and the queue, before the decision.
    page.set_viewport_size(PHONE)
    page.reload()
    _expect_no_sideways_scroll(page)
    expect(page.locator("#checks")).to_be_in_viewport()
    expect(page.locator("#decision-form")).to_be_visible()
    _expect_within_width(page, page.locator("#decision-submit"))
    screenshot("review-decide-phone-review")
    for part in ("#since-last-review", "#verified-results", "#scans"):
        page.locator(part).screenshot(path=str(ARTIFACTS / f"review-decide-phone-{part[1:]}.png"))
    page.goto(f"{base}/reviews/")
    _expect_no_sideways_scroll(page)
    card = page.locator(".queue-table tbody tr").filter(has_text="olivia/iris-classifier")
    link = card.get_by_role("link", name="Review")
    expect(link).to_be_in_viewport()
    _expect_within_width(page, link)
    expect(card.locator(".checks")).to_be_in_viewport()
    _expect_within_width(page, card.locator(".checks .badge").last)
    screenshot("review-decide-phone-queue")

    link.click()
    page.locator("label.decision-option-approve").click()
    page.locator("#decision-submit").click()
    expect(page.locator(".message-success")).to_contain_text("Approve: olivia/iris-classifier 1.0.0.")
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    last = Review.objects.filter(version=version).order_by("-pk").first()
    assert last.decided_snapshot["files"]["model.onnx"]["sha256"] == new_onnx.sha256


def _expect_no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"


def _expect_within_width(page, locator) -> None:
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
