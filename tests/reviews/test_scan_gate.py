"""A flagged, unscanned or not-yet-scanned file blocks approval unless the reviewer overrides
the scan with a comment, which the audit event records; the verdict is in front of them."""

import os
import pickle

import pytest
from django.urls import reverse

from evaluations_app import scanning
from models_app.models import VersionStatus
from registry_site.errors import Conflict, DomainError
from reviews_app import services
from reviews_app.models import AuditEvent
from tests.factories import login_client, make_model, make_version
from tests.models.api.helpers import API, assert_error

from .conftest import GOOD_CARD, SIGNATURE


class RunsCommand:
    def __reduce__(self):
        return (os.system, ("echo owned",))


@pytest.fixture
def flagged_review(owner, reviewer):
    model = make_model(owner, description=GOOD_CARD)
    version = make_version(
        model, "1.0.0", files={"model.pkl": pickle.dumps(RunsCommand(), protocol=4)}, signature=SIGNATURE
    )
    scanning.file_scan(file_id=version.files.get().pk)
    return services.version_submit(version=version, actor=owner)


def test_a_flagged_file_fails_the_scan_check_and_blocks_approval(flagged_review, reviewer):
    check = next(c for c in flagged_review.checks if c["name"] == "scan")
    assert check["status"] == "fail"
    assert "model.pkl is flagged" in check["message"] and "posix.system" in check["message"]
    with pytest.raises(Conflict) as blocked:
        services.review_decide(review=flagged_review, actor=reviewer, decision="approve")
    assert blocked.value.code == "scan_gate"
    with pytest.raises(DomainError, match="needs a comment"):
        services.review_decide(review=flagged_review, actor=reviewer, decision="approve", override_scan=True)
    flagged_review.version.refresh_from_db()
    assert flagged_review.version.status == VersionStatus.IN_REVIEW
    assert not AuditEvent.objects.filter(action="review.approve").exists()


def test_the_reviewer_overrides_the_scan_with_a_comment_and_the_audit_records_it(flagged_review, reviewer_api):
    url = f"{API}/reviews/{flagged_review.pk}/decision/"
    assert_error(reviewer_api.post(url, {"decision": "approve"}, format="json"), 409, "scan_gate")
    response = reviewer_api.post(
        url, {"decision": "approve", "override_scan": True, "comment": "Our own test fixture."}, format="json"
    )
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.get(action="review.approve", review=flagged_review)
    assert event.reason == "Our own test fixture."
    assert "model.pkl is flagged" in event.data["scan_override"][0]


def test_a_file_not_scanned_yet_blocks_approval_too(owner, reviewer):
    model = make_model(owner, description=GOOD_CARD)
    version = make_version(model, "1.0.0", files={"weights.bin": b"\x00\x01binary"}, signature=SIGNATURE)
    review = services.version_submit(version=version, actor=owner)
    assert "weights.bin is not scanned yet" in next(c for c in review.checks if c["name"] == "scan")["message"]
    with pytest.raises(Conflict, match="not scanned yet"):
        services.review_decide(review=review, actor=reviewer, decision="approve")


def test_the_review_page_shows_the_verdict_and_offers_the_override(flagged_review, reviewer):
    html = login_client(reviewer).get(reverse("review-detail", kwargs={"pk": flagged_review.pk})).content.decode()
    assert "Override the file scan" in html
    assert "badge-scan-flagged" in html and "can run code when loaded" in html
    response = login_client(reviewer).post(
        reverse("review-detail", kwargs={"pk": flagged_review.pk}), {"decision": "approve"}
    )
    assert response.status_code == 409
    assert "Approval is blocked by the file scan" in response.content.decode()


def test_the_file_list_and_api_carry_the_findings(flagged_review, owner_api):
    version = flagged_review.version
    body = owner_api.get(f"{API}/models/olivia/{version.model.name}/versions/1.0.0/files/").json()
    assert body[0]["scan_status"] == "flagged" and body[0]["can_run_code"] is True
    assert any("posix.system" in finding for finding in body[0]["scan_findings"])
