"""Everything a reviewer needs to decide is on the review page: a version's own verified
results (metrics with intervals, confusion matrix, per class) and the file they were computed
from, every file's scan verdict, and on a resubmission what changed since the last decision."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluations_app.models import Evaluation
from models_app import services as catalog
from models_app.models import ModelFile, ScanStatus
from reviews_app import services
from reviews_app.models import Review
from tests.evaluations.web.conftest import finish, make_test_set
from tests.factories import login_client, make_model, make_version

from .conftest import GOOD_CARD, SIGNATURE

pytestmark = pytest.mark.django_db

COMMENT = "Retrain with balanced classes, please."


def _url(review) -> str:
    return reverse("review-detail", args=[review.pk])


def finish_on(version, test_set, path: str, **kwargs) -> Evaluation:
    """A succeeded evaluation of the version's file `path`, recorded as the runner records it."""
    evaluation = finish(version, test_set, **kwargs)
    model_file = version.files.get(path=path)
    provenance = {**evaluation.provenance, "model_file": path, "model_sha256": model_file.sha256}
    Evaluation.objects.filter(pk=evaluation.pk).update(model_file=model_file, provenance=provenance)
    return evaluation


@pytest.fixture
def first(owner, reviewer):
    """The open review of a first version (nothing published before), with two files."""
    model = make_model(owner, "fresh", description=GOOD_CARD)
    version = make_version(
        model, "1.0.0", files={"model.onnx": b"onnx-1", "labels.txt": b"a\nb\nc"}, signature=SIGNATURE,
        changelog="First release.",
    )  # fmt: skip
    return services.version_submit(version=version, actor=owner)


# --- A version's own results ---


def test_first_version_shows_its_own_results_open_with_the_evaluated_file(first, owner, reviewer_client):
    version = first.version
    finish_on(version, make_test_set(owner, "holdout"), "model.onnx", accuracy=0.9, wrong=4)
    response = reviewer_client.get(_url(first))
    assert response.status_code == 200
    [result] = response.context["review_results"]
    assert response.context["review_results_open"]
    accuracy = next(row for row in result["rows"] if row["name"] == "accuracy")
    assert accuracy["value"] == 0.9 and accuracy["interval"] == pytest.approx([0.85, 0.95])
    assert result["heat_map"] and result["class_bars"]
    sha256 = version.files.get(path="model.onnx").sha256
    assert result["evaluated_file"] == {
        "path": "model.onnx",
        "sha256": sha256,
        "predictions": False,
        "in_version": True,
    }
    html = response.content.decode()
    assert 'id="verified-results"' in html and '<details class="review-results"' not in html
    assert "First version to be published: no deltas" in html
    assert 'data-evaluated-file="model.onnx"' in html and sha256 in html
    assert "0.850–0.950" in html  # the interval, as the version page prints it
    assert "chart-heat" in html  # the confusion matrix
    assert "not in the version any more" not in html
    assert 'id="metric-deltas"' not in html  # nothing to compare with


def test_results_of_bytes_no_longer_in_the_version_are_marked(first, owner, reviewer):
    version = first.version
    finish_on(version, make_test_set(owner, "holdout"), "model.onnx", accuracy=0.9)
    services.review_decide(review=first, actor=reviewer, decision="request_changes", comment=COMMENT)
    catalog.file_delete(model_file=version.files.get(path="model.onnx"), actor=version.model.owner)
    catalog.file_upload(
        version=version,
        uploaded_file=SimpleUploadedFile("model.onnx", b"onnx-2"),
        path="model.onnx",
        actor=version.model.owner,
    )
    again = services.version_submit(version=version, actor=owner)
    response = login_client(reviewer).get(_url(again))
    [result] = response.context["review_results"]
    # The evaluation's file row is gone; its run still says which bytes it scored.
    assert result["evaluated_file"]["path"] == "model.onnx" and not result["evaluated_file"]["in_version"]
    assert "not in the version any more" in response.content.decode()


def test_a_later_version_folds_its_results_beside_the_deltas(review, owner, reviewer_client):
    test_set = make_test_set(owner, "holdout")
    finish_on(review.version, test_set, "model.onnx", accuracy=0.9)
    response = reviewer_client.get(_url(review))
    assert not response.context["review_results_open"] and len(response.context["review_results"]) == 1
    html = response.content.decode()
    assert '<details class="review-results">' in html and 'id="metric-deltas"' in html


def test_no_finished_evaluation_and_a_task_the_registry_cannot_evaluate_say_so(first, owner, reviewer_client):
    assert "No evaluation of v1.0.0 has finished yet" in reviewer_client.get(_url(first)).content.decode()
    odd = make_model(owner, "odd", task="anomaly-detection", description=GOOD_CARD)
    other = services.version_submit(version=make_version(odd, "1.0.0", files={"m.onnx": b"m"}), actor=owner)
    html = reviewer_client.get(_url(other)).content.decode()
    assert "cannot evaluate anomaly detection models yet" in html and "has finished yet" not in html


# --- Scan verdicts ---


def test_scan_verdicts_list_every_finding_scanner_and_note(first, reviewer_client):
    findings = [f"imports posix.system ({i})" for i in range(6)]
    ModelFile.objects.filter(version=first.version, path="model.onnx").update(
        scan_status=ScanStatus.FLAGGED,
        scan_findings=findings,
        scan_report={"scanners": {"picklescan": "1.0.5"}, "notes": ["modelscan could not read the file."],
                     "isolation": "bubblewrap", "imports": ["posix.system", "numpy.dtype"]},
    )  # fmt: skip
    html = reviewer_client.get(_url(first)).content.decode()
    section = html[html.index('id="scans"') :]
    assert all(finding in section for finding in findings)  # all of them, not the file table's first three
    assert "picklescan 1.0.5" in section and "modelscan could not read the file." in section
    assert "sandbox: bubblewrap" in section and "Imports 2 names when loaded" in section
    assert 'data-scan-file="labels.txt"' in section and "A data format" in section  # labels.txt: clean on upload


def test_a_file_not_scanned_yet_says_approval_waits(owner, reviewer_client):
    version = make_version(
        make_model(owner, "pending", description=GOOD_CARD), "1.0.0", files={"w.bin": b"\x00\xff\x13\x37 weights"}
    )
    review = services.version_submit(version=version, actor=owner)  # no worker scanned it
    html = reviewer_client.get(_url(review)).content.decode()
    assert "The scan has not finished; approval waits for it." in html


# --- What changed since the last decision ---


@pytest.mark.parametrize("decision", ["approve", "request_changes", "reject"])
def test_every_decision_keeps_what_was_decided_on(first, reviewer, decision):
    services.review_decide(review=first, actor=reviewer, decision=decision, comment=COMMENT)
    snapshot = Review.objects.get(pk=first.pk).decided_snapshot
    files = {f.path: f.sha256 for f in first.version.files.all()}
    assert {path: entry["sha256"] for path, entry in snapshot["files"].items()} == files
    assert snapshot["card"] == GOOD_CARD and snapshot["changelog"] == "First release."
    assert snapshot["metadata"]["license"] == "MIT" and snapshot["metadata"]["framework"] == "scikit-learn"


def _resubmit_with_changes(review, owner, reviewer) -> Review:
    """rita requests changes; the owner replaces model.onnx, changes the license, the card and
    the changelog, and resubmits."""
    services.review_decide(review=review, actor=reviewer, decision="request_changes", comment=COMMENT)
    version = review.version
    catalog.file_delete(model_file=version.files.get(path="model.onnx"), actor=version.model.owner)
    catalog.file_upload(
        version=version,
        uploaded_file=SimpleUploadedFile("model.onnx", b"onnx-2"),
        path="model.onnx",
        actor=version.model.owner,
    )
    catalog.model_update(
        model=version.model, actor=owner, license="Apache-2.0",
        description=GOOD_CARD.replace("Teaching and smoke tests", "Teaching, demos and smoke tests"),
    )  # fmt: skip
    catalog.version_update(version=version, changelog="Balanced classes.", actor=version.model.owner)
    return services.version_submit(version=version, actor=owner)


def test_resubmission_lists_what_changed_since_your_last_review(first, owner, reviewer):
    old_sha = first.version.files.get(path="model.onnx").sha256
    again = _resubmit_with_changes(first, owner, reviewer)
    new_sha = again.version.files.get(path="model.onnx").sha256
    response = login_client(reviewer).get(_url(again))
    since = response.context["since"]
    assert response.context["since_review"].pk == first.pk and response.context["since_mine"]
    [changed] = since.versions.files
    assert (changed.name, changed.kind, changed.old["sha256"], changed.new["sha256"]) == (
        "model.onnx", "changed", old_sha, new_sha,
    )  # fmt: skip
    assert [(c.name, c.old, c.new) for c in since.versions.metadata] == [("license", "MIT", "Apache-2.0")]
    assert [t.name for t in since.texts] == ["card", "changelog"]
    html = response.content.decode()
    section = html[html.index('id="since-last-review"') : html.index('id="diff"')]
    assert "Changed since your last review" in section and COMMENT in section
    assert "model.onnx" in section and old_sha[:12] in section and new_sha[:12] in section
    assert "labels.txt" not in section  # unchanged
    assert "Teaching, demos and smoke tests" in section and 'class="text-diff-added"' in section


def test_another_reviewer_and_the_owner_see_the_changes_since_rita_decided(
    first, owner, reviewer, second_reviewer, owner_client
):
    again = _resubmit_with_changes(first, owner, reviewer)
    for client in (login_client(second_reviewer), owner_client):
        response = client.get(_url(again))
        assert not response.context["since_mine"] and response.context["since"].versions.files
        assert "Changed since rita's review" in response.content.decode()


def test_a_resubmission_without_changes_says_nothing_changed(first, owner, reviewer, reviewer_client):
    services.review_decide(review=first, actor=reviewer, decision="request_changes", comment=COMMENT)
    again = services.version_submit(version=first.version, actor=owner)
    response = reviewer_client.get(_url(again))
    assert response.context["since"].is_empty
    assert "Nothing changed: the same files, metadata, model card and changelog" in response.content.decode()


def test_the_reviewers_own_last_decision_is_preferred(first, owner, reviewer, second_reviewer):
    """rita asked for changes, then ravi; rita sees the changes since her own decision."""
    services.review_decide(review=first, actor=reviewer, decision="request_changes", comment=COMMENT)
    catalog.version_update(version=first.version, changelog="Second try.", actor=first.version.model.owner)
    second = services.version_submit(version=first.version, actor=owner)
    services.review_decide(review=second, actor=second_reviewer, decision="request_changes", comment="And more.")
    third = services.version_submit(version=first.version, actor=owner)
    assert login_client(reviewer).get(_url(third)).context["since_review"].pk == first.pk
    response = login_client(second_reviewer).get(_url(third))
    assert response.context["since_review"].pk == second.pk and response.context["since"].is_empty


def test_a_decision_made_before_snapshots_were_kept_says_so(first, owner, reviewer, reviewer_client):
    services.review_decide(review=first, actor=reviewer, decision="request_changes", comment=COMMENT)
    Review.objects.filter(pk=first.pk).update(decided_snapshot={})  # as rows decided before migration 0003
    again = services.version_submit(version=first.version, actor=owner)
    response = reviewer_client.get(_url(again))
    assert response.context["since"] is None
    assert "kept no snapshot" in response.content.decode()


def test_a_closed_review_compares_what_its_own_reviewer_saw(first, owner, reviewer, reviewer_client):
    again = _resubmit_with_changes(first, owner, reviewer)
    services.review_decide(review=again, actor=reviewer, decision="approve")
    catalog.model_update(model=first.version.model, actor=owner, description=GOOD_CARD + "\n\nEdited later.")
    since = reviewer_client.get(_url(again)).context["since"]
    card = next(t for t in since.texts if t.name == "card")
    assert not any("Edited later." in line.text for line in card.lines)
    assert since.versions.files


def test_a_first_submission_has_no_changes_since_section(first, reviewer_client):
    response = reviewer_client.get(_url(first))
    assert response.context["since_review"] is None and 'id="since-last-review"' not in response.content.decode()


def test_the_outsider_cannot_open_the_review(first, outsider):
    assert login_client(outsider).get(_url(first)).status_code == 404


# --- Cost ---


def test_the_page_costs_the_same_with_one_or_many_results(first, owner, reviewer_client):
    finish_on(first.version, make_test_set(owner, "set-0"), "model.onnx", accuracy=0.9)
    reviewer_client.get(_url(first))  # warm the per-process caches (content types, templates)
    with CaptureQueriesContext(connection) as one:
        reviewer_client.get(_url(first))
    for i in range(1, 4):
        finish_on(first.version, make_test_set(owner, f"set-{i}"), "model.onnx", accuracy=0.8)
    with CaptureQueriesContext(connection) as many:
        response = reviewer_client.get(_url(first))
    assert len(response.context["review_results"]) == 4
    assert len(many) == len(one)
