"""Who may do what in the review workflow: owner, reviewer, other user, anonymous, staff
and superusers outside the reviewers group. A refusal changes nothing."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts_app.roles import is_reviewer, reviewers
from models_app.models import VersionStatus
from reviews_app import services
from reviews_app.models import AuditEvent, Review, ReviewStatus
from tests.conftest import client_for
from tests.factories import UserFactory, make_model, make_reviewer, make_version
from tests.models.api.helpers import assert_error

from .conftest import reload
from .helpers import decision_url, deprecate_url, review_url, submit_url, undeprecate_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(owner, reviewer, outsider, staff, superuser) -> dict[str, APIClient]:
    return {
        "owner": client_for(owner),
        "reviewer": client_for(reviewer),
        "outsider": client_for(outsider),
        "anonymous": APIClient(),
        "staff": client_for(staff),
        "superuser": client_for(superuser),
    }


# role → status code; the workflow's whole role-to-permission table. The draft's model has no
# release yet, so only its owner and staff can see it: the others get 404, as for a private model.
SUBMIT = {"owner": 201, "reviewer": 404, "outsider": 404, "anonymous": 401, "staff": 403, "superuser": 403}
DECIDE = {"owner": 403, "reviewer": 200, "outsider": 404, "anonymous": 401, "staff": 403, "superuser": 403}
SEE_REVIEW = {"owner": 200, "reviewer": 200, "outsider": 404, "anonymous": 401, "staff": 200, "superuser": 200}
DEPRECATE = {"owner": 200, "reviewer": 403, "outsider": 403, "anonymous": 401, "staff": 200, "superuser": 200}
UNDEPRECATE = DEPRECATE


@pytest.mark.parametrize("role", list(SUBMIT))
def test_only_the_owner_submits(role, clients, draft):
    response = clients[role].post(submit_url(), {}, format="json")

    assert response.status_code == SUBMIT[role], response.content
    expected = VersionStatus.IN_REVIEW if SUBMIT[role] == 201 else VersionStatus.DRAFT
    assert reload(draft).status == expected
    assert Review.objects.count() == (1 if SUBMIT[role] == 201 else 0)
    if SUBMIT[role] != 201:
        assert_error(response, SUBMIT[role])
        assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("role", list(DECIDE))
def test_only_a_reviewer_who_did_not_submit_decides(role, clients, submitted):
    response = clients[role].post(decision_url(submitted.pk), {"decision": "approve"}, format="json")

    assert response.status_code == DECIDE[role], response.content
    if DECIDE[role] == 200:
        assert reload(submitted.version).status == VersionStatus.PUBLISHED
    else:
        assert_error(response, DECIDE[role])
        assert reload(submitted).status == ReviewStatus.OPEN
        assert reload(submitted.version).status == VersionStatus.IN_REVIEW
        assert list(AuditEvent.objects.values_list("action", flat=True)) == ["version.submit"]


@pytest.mark.parametrize("role", list(SEE_REVIEW))
def test_who_sees_a_review(role, clients, submitted):
    response = clients[role].get(review_url(submitted.pk))

    assert response.status_code == SEE_REVIEW[role], response.content
    if SEE_REVIEW[role] == 200:
        assert response.json()["id"] == submitted.pk
        assert [check["name"] for check in response.json()["checks"]] == [
            "files",
            "license",
            "model_card",
            "version_order",
            "signature",
            "scan",
            "evaluations",
            "regression",
        ]


@pytest.mark.parametrize("role", list(DEPRECATE))
def test_who_deprecates(role, clients, published):
    response = clients[role].post(deprecate_url(), {"reason": "Superseded."}, format="json")

    assert response.status_code == DEPRECATE[role], response.content
    expected = VersionStatus.DEPRECATED if DEPRECATE[role] == 200 else VersionStatus.PUBLISHED
    assert reload(published).status == expected
    assert AuditEvent.objects.filter(action="version.deprecate").exists() == (DEPRECATE[role] == 200)


@pytest.mark.parametrize("role", list(UNDEPRECATE))
def test_who_undoes_a_deprecation(role, clients, published, owner):
    services.version_deprecate(version=published, actor=owner, reason="Superseded.")

    response = clients[role].post(undeprecate_url(), format="json")

    assert response.status_code == UNDEPRECATE[role], response.content
    expected = VersionStatus.PUBLISHED if UNDEPRECATE[role] == 200 else VersionStatus.DEPRECATED
    assert reload(published).status == expected


def test_a_reviewer_cannot_decide_on_their_own_submission(db):
    reviewing_owner = make_reviewer("rosa")
    model = make_model(reviewing_owner, "own-model")
    version = make_version(model, "1.0.0", files={"model.onnx": b"x"})
    review = services.version_submit(version=version, actor=reviewing_owner)

    body = assert_error(
        client_for(reviewing_owner).post(decision_url(review.pk), {"decision": "approve"}, format="json"), 403
    )

    assert "own submission" in body["detail"]
    assert reload(version).status == VersionStatus.IN_REVIEW
    assert reload(review).status == ReviewStatus.OPEN


def test_a_reviewer_cannot_decide_on_a_model_they_own_even_if_someone_else_submitted(db, reviewer):
    reviewing_owner = make_reviewer("rosa")
    model = make_model(reviewing_owner, "own-model")
    version = make_version(model, "1.0.0", files={"model.onnx": b"x"})
    review = services.version_submit(version=version, actor=reviewing_owner)
    # Suppose the submission were recorded under someone else: ownership alone still forbids it.
    Review.objects.filter(pk=review.pk).update(submitted_by=reviewer, submitted_by_username=reviewer.username)

    assert_error(client_for(reviewing_owner).post(decision_url(review.pk), {"decision": "reject", "comment": "x"}), 403)

    assert reload(review).status == ReviewStatus.OPEN


def test_another_reviewer_decides_on_a_reviewers_own_submission(db, reviewer_api):
    reviewing_owner = make_reviewer("rosa")
    model = make_model(reviewing_owner, "own-model")
    version = make_version(model, "1.0.0", files={"model.onnx": b"x"})
    review = services.version_submit(version=version, actor=reviewing_owner)

    response = reviewer_api.post(decision_url(review.pk), {"decision": "approve"}, format="json")

    assert response.status_code == 200
    assert reload(version).status == VersionStatus.PUBLISHED


def test_a_private_models_submission_is_invisible_to_others_and_decidable_by_reviewers(
    owner, outsider_api, reviewer_api
):
    model = make_model(owner, "secret", visibility="private")
    version = make_version(model, "1.0.0", files={"model.onnx": b"x"})

    assert_error(outsider_api.post(submit_url(name="secret"), {}, format="json"), 404)
    review = services.version_submit(version=version, actor=owner)
    assert_error(outsider_api.get(review_url(review.pk)), 404)
    assert_error(outsider_api.post(decision_url(review.pk), {"decision": "approve"}, format="json"), 404)
    assert_error(outsider_api.post(deprecate_url(name="secret"), {"reason": "x"}, format="json"), 404)

    assert reviewer_api.post(decision_url(review.pk), {"decision": "approve"}, format="json").status_code == 200
    assert reload(version).status == VersionStatus.PUBLISHED


def test_a_missing_review_is_a_404(reviewer_api):
    assert_error(reviewer_api.get(review_url(999_999)), 404)
    assert_error(reviewer_api.post(decision_url(999_999), {"decision": "approve"}, format="json"), 404)


def test_the_reviewers_are_the_groups_members_and_holders_of_the_permission(reviewer, staff, superuser, outsider):
    direct = UserFactory(username="dora")
    direct.user_permissions.add(Permission.objects.get(codename="decide_review"))
    inactive = make_reviewer("ina", is_active=False)

    assert set(reviewers()) == {reviewer, direct}
    assert [is_reviewer(u) for u in (reviewer, direct, staff, superuser, outsider, inactive)] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize("field", ["status", "decision", "reviewer", "pinned_files"])
def test_a_review_cannot_be_changed_through_the_api_outside_the_decision(field, submitted, reviewer_api):
    for method in (reviewer_api.patch, reviewer_api.put, reviewer_api.delete):
        assert method(review_url(submitted.pk), {field: "closed"}, format="json").status_code == 405

    assert reload(submitted).status == ReviewStatus.OPEN


def test_version_status_cannot_be_patched_around_the_workflow(draft, owner_api):
    from tests.models.api.helpers import version_url

    owner_api.patch(version_url(), {"status": "published", "deprecation_reason": "x"}, format="json")

    version = reload(draft)
    assert (version.status, version.deprecation_reason) == (VersionStatus.DRAFT, "")
