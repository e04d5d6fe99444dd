"""The review page shows the verified metric deltas against the latest published version,
and the regression gate: blocked approval as a form error, and the override checkbox."""

import pytest
from django.urls import reverse

from evaluations_app.models import TestSet
from models_app.models import VersionStatus
from reviews_app import services as reviews
from reviews_app.models import AuditEvent, Review
from tests.factories import login_client, make_model, make_version

from .conftest import finish, make_test_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def regressed(owner, reviewer):
    """1.1.0 in review: its accuracy on a benchmark fell from 0.95 to 0.80 against 1.0.0 (gate 2%)."""
    benchmark = make_test_set(owner, "bench")
    TestSet.objects.filter(pk=benchmark.pk).update(benchmark=True)
    benchmark.refresh_from_db()
    model = make_model(owner, "iris-classifier")
    v1 = make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"1"})
    v2 = make_version(model, "1.1.0", files={"m.onnx": b"2"})
    finish(v1, benchmark, accuracy=0.95, wrong=2)
    review = reviews.version_submit(version=v2, actor=owner)
    finish(v2, benchmark, accuracy=0.80, wrong=8)  # refreshes the open review's checks
    review.refresh_from_db()
    return review


def test_review_page_shows_deltas_with_the_regression_and_the_override(regressed, reviewer):
    response = login_client(reviewer).get(reverse("review-detail", kwargs={"pk": regressed.pk}))
    assert response.status_code == 200
    [row] = response.context["metric_deltas"]
    accuracy = next(m for m in row["metrics"] if m["name"] == "accuracy")
    assert accuracy["delta"] == pytest.approx(-0.15) and accuracy["regression"] and accuracy["beyond_gate"]
    assert response.context["regression_gate_closed"]
    assert "row-regression" in response.text and "beyond the gate" in response.text
    assert 'name="override_regression"' in response.text
    assert row["verdict"].startswith("1.0.0 is better than 1.1.0") or row["verdict"].startswith("The data does not")


def test_approval_blocked_by_the_gate_is_a_form_error(regressed, reviewer):
    client = login_client(reviewer)
    response = client.post(
        reverse("review-detail", kwargs={"pk": regressed.pk}), {"decision": "approve", "comment": ""}
    )
    assert response.status_code == 409
    assert "blocked by a metric regression" in " ".join(response.context["form"].errors["override_regression"])
    regressed.refresh_from_db()
    assert regressed.is_open


def test_override_with_a_comment_approves_and_is_audited(regressed, reviewer):
    client = login_client(reviewer)
    url = reverse("review-detail", kwargs={"pk": regressed.pk})
    no_comment = client.post(url, {"decision": "approve", "override_regression": "on", "comment": ""})
    assert no_comment.status_code == 400
    assert "needs a comment" in str(no_comment.context["form"].errors)
    response = client.post(
        url, {"decision": "approve", "override_regression": "on", "comment": "Known: relabelled data."}
    )
    assert response.status_code == 302
    review = Review.objects.get(pk=regressed.pk)
    assert review.decision == "approve"
    event = AuditEvent.objects.get(action="review.approve", review=review)
    assert event.data["regression_override"] and event.reason == "Known: relabelled data."


def test_first_version_has_no_deltas_and_no_override(owner, reviewer):
    version = make_version(make_model(owner, "fresh"), "1.0.0", files={"m.onnx": b"1"})
    review = reviews.version_submit(version=version, actor=owner)
    response = login_client(reviewer).get(reverse("review-detail", kwargs={"pk": review.pk}))
    assert response.context["metric_deltas"] == []
    assert "First version to be published: no deltas" in response.text
    assert 'name="override_regression"' not in response.text
