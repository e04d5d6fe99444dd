"""Every lifecycle transition from every state: the allowed ones change the state and
record an event; the refused ones answer 409 naming the current state and change nothing."""

import pytest

from models_app.models import VersionStatus
from reviews_app.models import AuditEvent, Review, ReviewStatus
from tests.models.api.helpers import assert_error

from .conftest import reload
from .helpers import STATE_WORDS, decision_url, deprecate_url, submit_url, undeprecate_url

pytestmark = pytest.mark.django_db

ALL_STATES = [s.value for s in VersionStatus]
SUBMITTABLE = {VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED}


# --- submit ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", sorted(SUBMITTABLE))
def test_the_owner_submits_a_draft_or_a_version_with_changes_requested(state, version_in, owner_api):
    version = version_in(state)
    reviews_before = Review.objects.filter(version=version).count()

    response = owner_api.post(submit_url(), {"note": "Please have a look."}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "open" and body["version_status"] == "in_review"
    assert body["submission_note"] == "Please have a look."
    version = reload(version)
    assert version.status == VersionStatus.IN_REVIEW
    assert version.submitted_at is not None and version.status_changed_at is not None
    # A resubmission opens a new review; the earlier one stays closed with its decision.
    assert Review.objects.filter(version=version).count() == reviews_before + 1
    assert Review.objects.filter(version=version, status=ReviewStatus.OPEN).count() == 1
    event = AuditEvent.objects.get(action="version.submit", version=version, from_status=state)
    assert event.to_status == VersionStatus.IN_REVIEW


@pytest.mark.parametrize("state", sorted(set(ALL_STATES) - SUBMITTABLE))
def test_submitting_from_any_other_state_is_a_conflict_naming_the_state(state, version_in, owner_api):
    version = version_in(state)
    events_before = AuditEvent.objects.count()
    reviews_before = Review.objects.count()

    body = assert_error(owner_api.post(submit_url(), {}, format="json"), 409, "invalid_state")

    assert STATE_WORDS[state] in body["detail"]
    assert reload(version).status == state
    assert AuditEvent.objects.count() == events_before
    assert Review.objects.count() == reviews_before


def test_submitting_needs_at_least_one_file(model, owner_api):
    from tests.factories import make_version

    version = make_version(model, "1.0.0")

    body = assert_error(owner_api.post(submit_url(), {}, format="json"), 409, "no_files")

    assert "file" in body["detail"]
    assert reload(version).status == VersionStatus.DRAFT
    assert not Review.objects.exists() and not AuditEvent.objects.exists()


# --- decisions ---------------------------------------------------------------------------

DECISIONS = {
    "approve": VersionStatus.PUBLISHED,
    "request_changes": VersionStatus.CHANGES_REQUESTED,
    "reject": VersionStatus.REJECTED,
}


@pytest.mark.parametrize("decision", list(DECISIONS))
def test_a_reviewer_decides_an_open_review(decision, submitted, reviewer, reviewer_api):
    response = reviewer_api.post(
        decision_url(submitted.pk), {"decision": decision, "comment": "Checked the card."}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "closed" and body["decision"] == decision and body["reviewer"] == "rita"
    assert body["comment"] == "Checked the card." and body["decided_at"]
    review = reload(submitted)
    assert (review.status, review.decision, review.reviewer, review.comment) == (
        ReviewStatus.CLOSED,
        decision,
        reviewer,
        "Checked the card.",
    )
    version = reload(submitted.version)
    assert version.status == DECISIONS[decision]
    assert (version.published_at is not None) == (decision == "approve")
    event = AuditEvent.objects.get(action=f"review.{decision}")
    assert (event.from_status, event.to_status, event.review_id) == ("in_review", DECISIONS[decision], review.pk)


@pytest.mark.parametrize("state", sorted(set(ALL_STATES) - {VersionStatus.DRAFT, VersionStatus.IN_REVIEW}))
@pytest.mark.parametrize("decision", list(DECISIONS))
def test_deciding_again_on_a_decided_review_is_a_conflict_naming_the_state(
    state, decision, version_in, second_reviewer_api
):
    version = version_in(state)
    review = Review.objects.get(version=version)
    events_before = AuditEvent.objects.count()

    body = assert_error(
        second_reviewer_api.post(decision_url(review.pk), {"decision": decision, "comment": "Late."}, format="json"),
        409,
        "already_decided",
    )

    assert STATE_WORDS[state] in body["detail"] and "rita" in body["detail"]
    assert reload(version).status == state
    assert reload(review).reviewer_username == "rita"
    assert AuditEvent.objects.count() == events_before


def test_a_decision_on_the_previous_review_of_a_resubmitted_version_is_refused(version_in, owner, second_reviewer_api):
    from reviews_app import services

    version = version_in(VersionStatus.CHANGES_REQUESTED)
    first = Review.objects.get(version=version)
    second = services.version_submit(version=version, actor=owner)

    assert_error(second_reviewer_api.post(decision_url(first.pk), {"decision": "approve"}, format="json"), 409)

    assert reload(version).status == VersionStatus.IN_REVIEW
    assert reload(second).status == ReviewStatus.OPEN


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
@pytest.mark.parametrize("comment", [None, "", "   \n "])
def test_request_changes_and_reject_need_a_comment(decision, comment, submitted, reviewer_api):
    data = {"decision": decision} if comment is None else {"decision": decision, "comment": comment}

    body = assert_error(reviewer_api.post(decision_url(submitted.pk), data, format="json"), 400)

    assert body.get("field") == "comment"
    assert reload(submitted).status == ReviewStatus.OPEN
    assert reload(submitted.version).status == VersionStatus.IN_REVIEW
    assert not AuditEvent.objects.exclude(action="version.submit").exists()


def test_approve_may_go_without_a_comment(submitted, reviewer_api):
    response = reviewer_api.post(decision_url(submitted.pk), {"decision": "approve"}, format="json")

    assert response.status_code == 200
    assert reload(submitted.version).status == VersionStatus.PUBLISHED


@pytest.mark.parametrize("data", [{}, {"decision": "merge"}, {"decision": ""}, {"decision": ["approve"]}])
def test_an_unknown_decision_is_a_400(data, submitted, reviewer_api):
    assert_error(reviewer_api.post(decision_url(submitted.pk), data, format="json"), 400)

    assert reload(submitted).status == ReviewStatus.OPEN


def test_an_over_long_comment_is_a_400(submitted, reviewer_api):
    data = {"decision": "reject", "comment": "x" * 10_001}

    assert_error(reviewer_api.post(decision_url(submitted.pk), data, format="json"), 400)

    assert reload(submitted).status == ReviewStatus.OPEN


# --- deprecate and undeprecate -----------------------------------------------------------


def test_the_owner_deprecates_a_published_version_with_a_reason(published, owner_api):
    response = owner_api.post(deprecate_url(), {"reason": "Use 2.0.0: better calibrated."}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "deprecated" and body["deprecated"] is True
    assert body["deprecation_reason"] == "Use 2.0.0: better calibrated."
    version = reload(published)
    assert (version.status, version.deprecation_reason) == ("deprecated", "Use 2.0.0: better calibrated.")
    event = AuditEvent.objects.get(action="version.deprecate")
    assert (event.from_status, event.to_status, event.reason) == (
        "published",
        "deprecated",
        "Use 2.0.0: better calibrated.",
    )


@pytest.mark.parametrize("data", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 1001}])
def test_deprecating_needs_a_reason(data, published, owner_api):
    assert_error(owner_api.post(deprecate_url(), data, format="json"), 400)

    assert reload(published).status == VersionStatus.PUBLISHED
    assert not AuditEvent.objects.filter(action="version.deprecate").exists()


@pytest.mark.parametrize("state", sorted(set(ALL_STATES) - {VersionStatus.PUBLISHED}))
def test_deprecating_from_any_other_state_is_a_conflict_naming_the_state(state, version_in, owner_api):
    version = version_in(state)
    events_before = AuditEvent.objects.count()

    body = assert_error(owner_api.post(deprecate_url(), {"reason": "Old."}, format="json"), 409, "invalid_state")

    assert STATE_WORDS[state] in body["detail"]
    assert reload(version).status == state
    assert AuditEvent.objects.count() == events_before


def test_the_owner_undoes_a_deprecation(version_in, owner_api):
    version = version_in(VersionStatus.DEPRECATED)

    response = owner_api.post(undeprecate_url(), format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "published" and body["deprecated"] is False and body["deprecation_reason"] == ""
    assert reload(version).status == VersionStatus.PUBLISHED
    event = AuditEvent.objects.get(action="version.undeprecate")
    assert (event.from_status, event.to_status, event.data) == (
        "deprecated",
        "published",
        {"previous_reason": "Superseded."},
    )


@pytest.mark.parametrize("state", sorted(set(ALL_STATES) - {VersionStatus.DEPRECATED}))
def test_undeprecating_from_any_other_state_is_a_conflict_naming_the_state(state, version_in, owner_api):
    version = version_in(state)
    events_before = AuditEvent.objects.count()

    body = assert_error(owner_api.post(undeprecate_url(), format="json"), 409, "invalid_state")

    assert STATE_WORDS[state] in body["detail"]
    assert reload(version).status == state
    assert AuditEvent.objects.count() == events_before


def test_the_full_round_trip_submit_request_changes_resubmit_approve(draft, owner, reviewer, owner_api, reviewer_api):
    first = owner_api.post(submit_url(), {}, format="json").json()
    reviewer_api.post(
        decision_url(first["id"]), {"decision": "request_changes", "comment": "Add a card."}, format="json"
    )
    second = owner_api.post(submit_url(), {"note": "Card added."}, format="json").json()
    reviewer_api.post(decision_url(second["id"]), {"decision": "approve"}, format="json")

    assert reload(draft).status == VersionStatus.PUBLISHED
    assert list(Review.objects.filter(version=draft).values_list("decision", flat=True)) == [
        "request_changes",
        "approve",
    ]
    assert list(AuditEvent.objects.order_by("pk").values_list("action", "from_status", "to_status")) == [
        ("version.submit", "draft", "in_review"),
        ("review.request_changes", "in_review", "changes_requested"),
        ("version.submit", "changes_requested", "in_review"),
        ("review.approve", "in_review", "published"),
    ]
