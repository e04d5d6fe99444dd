"""The workflow's parts of the version and model pages: submitting, the latest decision,
the history, frozen files, deprecation and its warnings."""

import pytest
from django.urls import reverse

from models_app.models import VersionStatus
from reviews_app import services
from reviews_app.models import AuditEvent, Review
from tests.factories import login_client, make_version

pytestmark = pytest.mark.django_db


def _version_url(version) -> str:
    return reverse("version-detail", args=[version.model.owner.username, version.model.name, version.version])


def _action_url(name: str, version) -> str:
    return reverse(name, args=[version.model.owner.username, version.model.name, version.version])


def test_owner_of_a_draft_with_files_sees_the_submit_form(owner_client, draft):
    html = owner_client.get(_version_url(draft)).content.decode()
    assert 'id="submit"' in html and _action_url("version-submit", draft) in html
    assert 'id="upload-form"' in html


def test_a_draft_without_files_says_to_upload_first(owner_client, model):
    empty = make_version(model, "2.0.0")
    html = owner_client.get(_version_url(empty)).content.decode()
    assert "Upload at least one file before submitting" in html
    assert _action_url("version-submit", empty) not in html


def test_owner_submits_through_the_version_page(owner_client, draft, reviewer):
    response = owner_client.post(_action_url("version-submit", draft), {"note": "New solver"}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302 and response["Location"] == _version_url(draft)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.IN_REVIEW
    review = Review.objects.get(version=draft)
    assert review.submission_note == "New solver" and review.is_open
    assert AuditEvent.objects.get(action="version.submit", version=draft).ip_address == "10.0.0.9"
    assert reviewer.notifications.count() == 1
    page = owner_client.get(_version_url(draft))
    html = page.content.decode()
    assert "Submitted for review" in html and "Files are frozen while the version is in review." in html
    assert 'id="upload-form"' not in html and 'id="submit"' not in html
    assert "version.submit" in html  # the history


def test_submitting_without_files_shows_the_services_sentence(owner_client, model):
    empty = make_version(model, "2.0.0")
    response = owner_client.post(_action_url("version-submit", empty), follow=True)
    assert "Add at least one file before submitting" in response.content.decode()
    empty.refresh_from_db()
    assert empty.status == VersionStatus.DRAFT


def test_submitting_twice_shows_the_state_not_a_500(owner_client, review, draft):
    response = owner_client.post(_action_url("version-submit", draft), follow=True)
    assert response.status_code == 200
    assert "Cannot submit version 1.1.0: it is in review." in response.content.decode()


def test_others_cannot_submit_someone_elses_version(outsider_client, staff_client, client, draft, model):
    published = model.versions.get(version="1.0.0")
    # A draft is invisible to the outsider: 404; a published version is visible: the service says 403.
    assert outsider_client.post(_action_url("version-submit", draft)).status_code == 404
    assert outsider_client.post(_action_url("version-submit", published)).status_code == 403
    assert staff_client.post(_action_url("version-submit", draft)).status_code == 403
    assert client.post(_action_url("version-submit", draft)).status_code == 302  # to the login page
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_resubmitting_after_changes_requested(owner_client, review, draft, reviewer):
    services.review_decide(review=review, actor=reviewer, decision="request_changes", comment="Rename the file.")
    html = owner_client.get(_version_url(draft)).content.decode()
    assert "Rename the file." in html and 'id="submit"' in html and 'id="upload-form"' in html
    owner_client.post(_action_url("version-submit", draft), {"note": "Renamed"})
    draft.refresh_from_db()
    assert draft.status == VersionStatus.IN_REVIEW
    assert Review.objects.filter(version=draft).count() == 2


def test_published_version_says_its_files_are_frozen(owner_client, model):
    html = owner_client.get(_version_url(model.versions.get(version="1.0.0"))).content.decode()
    assert "Files are frozen after publication" in html and 'id="upload-form"' not in html


def test_review_comments_are_not_shown_to_the_public(client, review, draft, reviewer):
    services.review_decide(review=review, actor=reviewer, decision="approve", comment="Internal: looks fine to me.")
    html = client.get(_version_url(draft)).content.decode()
    assert "review.approve" in html  # the history's transitions are public
    assert "Internal: looks fine to me." not in html


# --- Deprecation ---


def test_owner_deprecates_with_a_reason_and_every_page_warns(owner_client, client, model, owner):
    published = model.versions.get(version="1.0.0")
    assert 'id="deprecate"' in owner_client.get(_version_url(published)).content.decode()
    response = owner_client.post(
        _action_url("version-deprecate", published), {"reason": "Mislabels class 3; use 1.1.0."}
    )
    assert response.status_code == 302
    published.refresh_from_db()
    assert (
        published.status == VersionStatus.DEPRECATED and published.deprecation_reason == "Mislabels class 3; use 1.1.0."
    )
    assert AuditEvent.objects.filter(action="version.deprecate", version=published).exists()
    for url in (
        _version_url(published),
        model.get_absolute_url(),  # latest release, the versions table and the usage snippet
        reverse("version-list", args=["olivia", "iris-classifier"]),
    ):
        html = client.get(url).content.decode()
        assert "Mislabels class 3; use 1.1.0." in html, url
        assert 'class="warning" data-deprecated' in html, url
    model_page = client.get(model.get_absolute_url()).content.decode()
    usage = model_page[model_page.index('class="card usage"') :]
    assert "v1.0.0 is deprecated: Mislabels class 3" in usage
    # Still downloadable.
    assert (
        client.get(reverse("file-download", args=["olivia", "iris-classifier", "1.0.0", "model.onnx"])).status_code
        == 200
    )


def test_deprecating_needs_a_reason(owner_client, model):
    published = model.versions.get(version="1.0.0")
    response = owner_client.post(_action_url("version-deprecate", published), {"reason": ""}, follow=True)
    assert "Say why the version is deprecated" in response.content.decode()
    published.refresh_from_db()
    assert published.status == VersionStatus.PUBLISHED


def test_undeprecate_through_the_page(owner_client, model, owner):
    published = model.versions.get(version="1.0.0")
    services.version_deprecate(version=published, actor=owner, reason="Oops")
    html = owner_client.get(_version_url(published)).content.decode()
    assert 'id="undeprecate"' in html and 'id="deprecate"' not in html
    owner_client.post(_action_url("version-undeprecate", published))
    published.refresh_from_db()
    assert published.status == VersionStatus.PUBLISHED and published.deprecation_reason == ""


def test_staff_may_deprecate_but_outsiders_and_reviewers_may_not(staff_client, outsider_client, reviewer_client, model):
    published = model.versions.get(version="1.0.0")
    assert 'id="deprecate"' not in outsider_client.get(_version_url(published)).content.decode()
    assert outsider_client.post(_action_url("version-deprecate", published), {"reason": "x"}).status_code == 403
    assert reviewer_client.post(_action_url("version-deprecate", published), {"reason": "x"}).status_code == 403
    assert 'id="deprecate"' in staff_client.get(_version_url(published)).content.decode()
    staff_client.post(_action_url("version-deprecate", published), {"reason": "Licence problem"})
    published.refresh_from_db()
    assert published.status == VersionStatus.DEPRECATED


def test_deprecating_a_draft_shows_the_state(owner_client, draft):
    response = owner_client.post(_action_url("version-deprecate", draft), {"reason": "x"}, follow=True)
    assert "Cannot deprecate version 1.1.0: it is draft." in response.content.decode()


def test_lifecycle_endpoints_refuse_get(owner_client, draft):
    assert owner_client.get(_action_url("version-submit", draft)).status_code == 405
    assert login_client(draft.model.owner).get(_action_url("version-deprecate", draft)).status_code == 405
