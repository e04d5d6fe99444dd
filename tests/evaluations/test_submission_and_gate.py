"""Submitting a version queues its evaluations; finished evaluations update the review's
checks; a benchmark regression blocks approval unless overridden with a comment."""

import pytest
from django.utils import timezone

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationStatus
from evaluations_app.tasks import run_evaluation
from models_app.models import VersionStatus
from reviews_app import checks as review_checks
from reviews_app import services as review_services
from reviews_app.models import AuditEvent, Review
from tests.conftest import client_for
from tests.factories import make_model, make_version
from tests.models.api.helpers import API, assert_error
from tests.reviews.conftest import GOOD_CARD, SIGNATURE

from . import crafted
from .conftest import iris_test_set


@pytest.fixture
def model(owner):
    return make_model(owner, description=GOOD_CARD)


@pytest.fixture
def sent(monkeypatch):
    """Evaluation ids handed to the broker (none runs until a test runs it)."""
    ids = []
    monkeypatch.setattr(run_evaluation, "delay", lambda evaluation_id: ids.append(evaluation_id))
    return ids


def checks_of(review: Review) -> dict[str, dict]:
    review.refresh_from_db()
    return {check["name"]: check for check in review.checks}


def test_submitting_queues_evaluations_on_declared_and_benchmark_test_sets_only(
    owner, staff, model, iris_data, sent, eager_broker, django_capture_on_commit_callbacks
):
    declared = iris_test_set(owner, iris_data, name="declared")
    benchmark = iris_test_set(staff, iris_data, name="benchmark")
    ev.test_set_update(test_set=benchmark, actor=staff, benchmark=True)
    iris_test_set(owner, iris_data, name="unrelated")
    prices = ev.test_set_create(
        owner=staff, name="prices", task="regression", target_column="price",
        uploaded_file=crafted_prices(),
    )  # fmt: skip
    ev.test_set_update(test_set=prices, actor=staff, benchmark=True)  # a benchmark of another task
    model.evaluate_on.add(declared)
    version = make_version(model, files={"model.onnx": crafted.argmax_model()}, signature=SIGNATURE)

    with django_capture_on_commit_callbacks(execute=True):
        review = review_services.version_submit(version=version, actor=owner)

    queued = Evaluation.objects.filter(version=version)
    assert {e.test_set.full_name for e in queued} == {"olivia/declared", "sam/benchmark"}
    assert sorted(sent) == sorted(e.pk for e in queued)
    assert all(e.requested_by is None and e.enqueued_at is not None for e in queued)
    assert checks_of(review)["evaluations"]["status"] == "warn"
    assert "Still evaluating" in checks_of(review)["evaluations"]["message"]

    # Each finished evaluation announces itself after commit; the review's receiver enqueues
    # the refresh of its checks, which the eager broker runs here.
    for evaluation in queued:
        with django_capture_on_commit_callbacks(execute=True):
            run_evaluation(evaluation.pk)
    check = checks_of(review)["evaluations"]
    assert (check["status"], check["message"]) == ("pass", "Evaluations finished on 2 test set(s).")


def crafted_prices():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.csv", b"a,b,c,d,price\n1,2,3,4,10.5\n5,6,7,8,2\n")


def test_a_failed_evaluation_fails_the_check(
    owner, model, iris_data, sent, eager_broker, django_capture_on_commit_callbacks
):
    model.evaluate_on.add(iris_test_set(owner, iris_data))
    version = make_version(model, files={"model.onnx": crafted.wrong_length_model()}, signature=SIGNATURE)
    with django_capture_on_commit_callbacks(execute=True):
        review = review_services.version_submit(version=version, actor=owner)
    with django_capture_on_commit_callbacks(execute=True):
        run_evaluation(Evaluation.objects.get().pk)
    check = checks_of(review)["evaluations"]
    assert (check["status"], check["message"]) == ("fail", "Evaluation failed on olivia/iris-test.")


def _succeeded(version, test_set, accuracy: float) -> Evaluation:
    return Evaluation.objects.create(
        version=version, test_set=test_set, status=EvaluationStatus.SUCCEEDED,
        metrics={"accuracy": accuracy, "f1_macro": accuracy}, finished_at=timezone.now(),
    )  # fmt: skip


@pytest.fixture
def regressed(owner, staff, model, reviewer, iris_data):
    """1.0.0 published at 0.90 accuracy on a benchmark gated at 5%; 1.1.0 in review at 0.80."""
    benchmark = iris_test_set(staff, iris_data, name="benchmark")
    ev.test_set_update(test_set=benchmark, actor=staff, benchmark=True, regression_threshold=0.05)
    published = make_version(
        model, "1.0.0", files={"model.onnx": b"one"}, signature=SIGNATURE, status=VersionStatus.PUBLISHED
    )
    _succeeded(published, benchmark, 0.90)
    candidate = make_version(model, "1.1.0", files={"model.onnx": b"two"}, signature=SIGNATURE)
    review = review_services.version_submit(version=candidate, actor=owner)
    _succeeded(candidate, benchmark, 0.80)
    review_checks.review_refresh_checks(version_id=candidate.pk)
    return review


def decide(user, review: Review, **body):
    return client_for(user).post(f"{API}/reviews/{review.pk}/decision/", body, format="json")


def test_a_benchmark_regression_fails_the_check_and_blocks_approval(regressed, reviewer):
    check = checks_of(regressed)["regression"]
    assert check["status"] == "fail"
    assert "accuracy on sam/benchmark went from 0.9 to 0.8 (11.1% worse; the gate is 5.0%)" in check["message"]
    body = assert_error(decide(reviewer, regressed, decision="approve"), 409, "regression_gate")
    assert "Approval is blocked by a metric regression" in body["detail"]
    body = assert_error(decide(reviewer, regressed, decision="approve", override_regression=True), 400)
    assert "needs a comment" in body["detail"]
    regressed.refresh_from_db()
    assert regressed.version.status == VersionStatus.IN_REVIEW
    # The factory's approval of 1.0.0 is recorded; the blocked one of 1.1.0 is not.
    assert not AuditEvent.objects.filter(action="review.approve", review=regressed).exists()


def test_a_reviewer_can_override_the_gate_with_a_comment_and_the_audit_records_it(regressed, reviewer):
    response = decide(
        reviewer, regressed, decision="approve", override_regression=True, comment="The drop is noise on 45 rows."
    )
    assert response.status_code == 200, response.content
    regressed.refresh_from_db()
    assert regressed.version.status == VersionStatus.PUBLISHED
    event = AuditEvent.objects.get(action="review.approve", review=regressed)
    assert event.reason == "The drop is noise on 45 rows."
    assert event.actor == reviewer
    assert len(event.data["regression_override"]) == 1
    assert "accuracy on sam/benchmark went from 0.9 to 0.8" in event.data["regression_override"][0]


def test_a_drop_within_the_gate_does_not_block(owner, staff, model, reviewer, iris_data):
    benchmark = iris_test_set(staff, iris_data, name="benchmark")
    ev.test_set_update(test_set=benchmark, actor=staff, benchmark=True, regression_threshold=0.05)
    _succeeded(make_version(model, "1.0.0", signature=SIGNATURE, status=VersionStatus.PUBLISHED), benchmark, 0.90)
    candidate = make_version(model, "1.1.0", files={"model.onnx": b"two"}, signature=SIGNATURE)
    review = review_services.version_submit(version=candidate, actor=owner)
    _succeeded(candidate, benchmark, 0.88)
    review_checks.review_refresh_checks(version_id=candidate.pk)
    assert checks_of(review)["regression"]["status"] == "pass"
    assert decide(reviewer, review, decision="approve").status_code == 200
    assert "regression_override" not in AuditEvent.objects.get(action="review.approve", review=review).data
