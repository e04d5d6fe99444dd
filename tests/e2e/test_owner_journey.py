"""The owner's first hour in Chromium: create a model and a draft, upload a real ONNX file
(and a text file wrongly named .onnx) through the progress bars, see the signature read
from the ONNX graph and the submit panel appear without a reload, fill in the draft's
parameters and reported metrics in rows of fields, pick a test set, and submit.

The worker's part runs in the live server's thread: the scan task is called where it would
have been sent (it runs the real sandbox), and the evaluation tasks a submission sends are
kept in a list standing in for the broker."""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationSkip
from evaluations_app.tasks import run_evaluation, scan_file
from models_app.models import ModelVersion, RegisteredModel, VersionStatus
from tests.evaluations.web.conftest import csv_bytes, onnx_bytes
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(monkeypatch):
    """Scans run at once, in the sandbox, as a worker would; evaluations are only recorded as sent."""
    sent: list[int] = []
    monkeypatch.setattr(scan_file, "delay", lambda file_id: scan_file(file_id))
    monkeypatch.setattr(run_evaluation, "delay", lambda evaluation_id: sent.append(evaluation_id))
    return sent


def test_owner_registers_uploads_edits_picks_and_submits(
    page, live_server, problems, screenshot, login, worker, tmp_path
):
    base = live_server.url
    owner = make_user("olivia")
    X, y = load_iris(return_X_y=True)
    ev.test_set_create(
        owner=owner, name="iris-holdout", task="classification", target_column="target",
        uploaded_file=SimpleUploadedFile("iris.csv", csv_bytes(X[::3], y[::3])),
    )  # fmt: skip
    (tmp_path / "model.onnx").write_bytes(onnx_bytes(LogisticRegression(max_iter=500).fit(X, y), X.astype(np.float32)))
    (tmp_path / "garbage.onnx").write_bytes(b"this is not a model, only text\n")

    # A model, then a draft whose form has rows of fields and no JSON box.
    login("olivia")
    page.goto(f"{base}/models/new/")
    page.fill("#id_name", "iris-classifier")
    page.fill("#id_summary", "Tells three iris species apart")
    page.select_option("#id_task", "tabular-classification")
    page.select_option("#id_framework", "scikit-learn")
    page.select_option("#id_license", "MIT")
    page.get_by_role("button", name="Create model").click()
    expect(page).to_have_url(f"{base}/models/olivia/iris-classifier/")
    page.locator(".model-head").get_by_role("link", name="New version").click()
    expect(page.locator("textarea.mono")).to_have_count(0)
    expect(page.get_by_text("null")).to_have_count(0)
    page.fill("#id_version", "1.0.0")
    page.get_by_role("button", name="Create draft").click()
    version_url = f"{base}/models/olivia/iris-classifier/versions/1.0.0/"
    expect(page).to_have_url(version_url)
    expect(page.locator("#submit")).to_contain_text("Upload at least one file")

    # Two uploads through the progress bars: the text named .onnx is warned about at once.
    page.set_input_files(
        "#upload-form input[type=file]", [str(tmp_path / "model.onnx"), str(tmp_path / "garbage.onnx")]
    )
    page.get_by_role("button", name="Upload").click()
    # The first answer waits for the sandboxed scan, which the worker would run meanwhile.
    expect(page.locator("#upload-progress li.upload-ok")).to_have_count(1, timeout=60_000)
    expect(page.locator("#upload-progress li.upload-warning .upload-status")).to_have_text(
        "done, but: garbage.onnx is named like an ONNX file, but its bytes are Text."
    )
    # Without a reload: the file table with its warning, the submit panel, the signature read from the graph.
    expect(page.locator("#file-list [data-format-warning]")).to_have_count(1)
    expect(page.locator("#submit").get_by_role("button", name="Submit for review")).to_be_visible()
    expect(page.locator("[data-signature-source]")).to_contain_text("Read from model.onnx")
    signature = page.locator("#signature")
    expect(signature).to_contain_text("float32")
    expect(signature).to_contain_text("[null, 4]")
    expect(signature).to_contain_text("Classes: 0, 1, 2")
    screenshot("owner-draft-after-upload")

    # The misnamed file goes.
    page.locator("#file-list tr", has_text="garbage.onnx").get_by_role("link", name="Remove").click()
    page.get_by_role("button", name="Remove file").click()
    expect(page).to_have_url(version_url)
    expect(page.locator("#file-list")).not_to_contain_text("garbage.onnx")

    # The draft's details, in rows of fields; one mistake is reported beside its field.
    page.get_by_role("link", name="Edit details").click()
    expect(page.locator("#id_inputs-0-name")).to_have_value("X")
    expect(page.locator("#id_inputs-0-shape")).to_have_value("?, 4")
    page.fill("#id_changelog", "First release.")
    page.fill("#id_params-0-key", "C")
    page.fill("#id_params-0-value", "1.0")
    page.get_by_role("button", name="Add a parameter").click()
    page.fill("#id_params-1-key", "solver")
    page.fill("#id_params-1-value", "lbfgs")
    page.fill("#id_metrics-0-key", "accuracy")
    page.fill("#id_metrics-0-value", "high")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field-error")).to_have_text(["high is not a number; a reported metric is one, like 0.95."])
    screenshot("owner-draft-form-error")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("owner-draft-form-error-phone")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.fill("#id_metrics-0-value", "0.97")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(version_url)
    version = ModelVersion.objects.get(model__name="iris-classifier", version="1.0.0")
    assert version.params == {"C": 1.0, "solver": "lbfgs"} and version.reported_metrics == {"accuracy": 0.97}
    assert version.signature["inputs"] == [{"name": "X", "type": "float32", "shape": [None, 4]}]

    # The test set, picked on the version page; the page says it fits the signature.
    page.get_by_label("olivia/iris-holdout").check()
    page.get_by_role("button", name="Save test sets").click()
    expect(page.locator(".message-success")).to_contain_text("will be evaluated on olivia/iris-holdout")
    expect(page.locator('[data-test-set="olivia/iris-holdout"]')).to_contain_text("evaluated")
    screenshot("owner-draft-ready")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("owner-draft-ready-phone")
    page.set_viewport_size({"width": 1280, "height": 720})

    page.locator("#submit").get_by_role("button", name="Submit for review").click()
    expect(page.locator("h1 .badge")).to_contain_text("In review")
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW
    [evaluation] = Evaluation.objects.filter(version=version)
    assert evaluation.test_set.full_name == "olivia/iris-holdout" and worker == [evaluation.pk]
    assert not EvaluationSkip.objects.filter(version=version).exists()
    assert list(RegisteredModel.objects.get(name="iris-classifier").evaluate_on.values_list("name", flat=True)) == [
        "iris-holdout"
    ]
