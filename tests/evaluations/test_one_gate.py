"""One gate: the review page, the API and the approval read the same regression result.

A failed re-run of the candidate used to hide its earlier success from the stored check
(the latest evaluation of any status) while the review page showed the drop from the
latest success: the page said "beyond the gate" and approval went through.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from evaluations_app import services as ev
from evaluations_app.models import Evaluation, EvaluationStatus
from models_app.models import VersionStatus
from registry_site.errors import Conflict
from reviews_app import checks
from reviews_app import services as review_services
from tests.factories import login_client, make_model, make_version
from tests.reviews.conftest import GOOD_CARD, SIGNATURE

from .conftest import iris_test_set


def _evaluation(version, test_set, status: str, accuracy: float | None = None) -> Evaluation:
    return Evaluation.objects.create(
        version=version, test_set=test_set, status=status, finished_at=timezone.now(),
        metrics={"accuracy": accuracy} if accuracy is not None else {},
        error="The sandbox ran out of memory." if status == EvaluationStatus.FAILED else "",
    )  # fmt: skip


@pytest.fixture
def rerun_failed(owner, staff, reviewer, iris_data):
    """1.0.0 published at 0.90 on a benchmark gated at 5%; 1.1.0 in review scored 0.80, then
    a re-run of it on the same benchmark failed."""
    benchmark = iris_test_set(staff, iris_data, name="benchmark")
    ev.test_set_update(test_set=benchmark, actor=staff, benchmark=True, regression_threshold=0.05)
    model = make_model(owner, description=GOOD_CARD)
    published = make_version(model, "1.0.0", files={"model.onnx": b"one"}, signature=SIGNATURE)
    review = review_services.version_submit(version=published, actor=owner)
    review_services.review_decide(review=review, actor=reviewer, decision="approve")
    _evaluation(published, benchmark, EvaluationStatus.SUCCEEDED, 0.90)
    candidate = make_version(model, "1.1.0", files={"model.onnx": b"two"}, signature=SIGNATURE)
    review = review_services.version_submit(version=candidate, actor=owner)
    _evaluation(candidate, benchmark, EvaluationStatus.SUCCEEDED, 0.80)
    _evaluation(candidate, benchmark, EvaluationStatus.FAILED)
    checks.review_refresh_checks(version_id=candidate.pk)
    review.refresh_from_db()
    return review


def test_after_a_failed_rerun_page_check_and_approval_agree(rerun_failed, reviewer):
    stored = {check["name"]: check for check in rerun_failed.checks}
    assert stored["regression"]["status"] == "fail"
    assert stored["evaluations"]["status"] == "fail"  # the re-run failed, and says so

    response = login_client(reviewer).get(reverse("review-detail", kwargs={"pk": rerun_failed.pk}))
    assert response.status_code == 200
    assert response.context["regression_gate_closed"] is True
    accuracy = next(
        metric for row in response.context["metric_deltas"] for metric in row["metrics"] if metric["name"] == "accuracy"
    )
    assert accuracy["beyond_gate"] is True
    assert "beyond the gate" in response.content.decode()

    with pytest.raises(Conflict) as blocked:
        review_services.review_decide(review=rerun_failed, actor=reviewer, decision="approve")
    assert blocked.value.code == "regression_gate"
    rerun_failed.version.refresh_from_db()
    assert rerun_failed.version.status == VersionStatus.IN_REVIEW


def test_the_page_shows_the_checks_as_they_stand_not_as_stored(rerun_failed, reviewer):
    """A stored check that a refresh has not caught up with yet does not mislead the reviewer."""
    type(rerun_failed).objects.filter(pk=rerun_failed.pk).update(checks=[], failing_check_count=0)
    response = login_client(reviewer).get(reverse("review-detail", kwargs={"pk": rerun_failed.pk}))
    shown = {check["name"]: check["status"] for check in response.context["review"].checks}
    assert shown["regression"] == "fail"
    assert response.context["regression_gate_closed"] is True
