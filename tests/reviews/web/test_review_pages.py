"""The queue and a review page, for every member of the cast; deciding through the page."""

import pytest
from django.urls import reverse

from accounts_app.roles import Role
from models_app.models import VersionStatus
from reviews_app import services
from reviews_app.models import AuditEvent, Review
from tests.factories import grant, login_client, make_model, make_version

pytestmark = pytest.mark.django_db


def _url(review) -> str:
    return reverse("review-detail", args=[review.pk])


# --- The queue ---


def test_queue_lists_open_submissions_oldest_first_for_a_reviewer(reviewer_client, review, owner):
    other = make_model(owner, "penguins", task="tabular-regression")
    later = services.version_submit(version=make_version(other, "0.1.0", files={"p.bin": b"p"}), actor=owner)
    response = reviewer_client.get(reverse("review-queue"))
    assert response.status_code == 200
    assert [r.pk for r in response.context["page"].object_list] == [review.pk, later.pk]
    html = response.content.decode()
    assert "olivia/iris-classifier" in html and "v1.1.0" in html and "Tabular classification" in html
    assert "badge-check-pass" in html  # the checks as badges
    assert _url(review) in html


def test_queue_filters_by_task_submitter_and_failing_checks(reviewer_client, review, owner, outsider):
    failing = make_model(outsider, "no-card", description="", task="translation")
    failing_review = services.version_submit(
        version=make_version(failing, "1.0.0", files={"m.bin": b"m"}), actor=outsider
    )
    assert failing_review.failing_check_count > 0 and review.failing_check_count == 0

    def listed(**params) -> list[int]:
        return [r.pk for r in reviewer_client.get(reverse("review-queue"), params).context["page"].object_list]

    assert listed() == [review.pk, failing_review.pk]
    assert listed(task="translation") == [failing_review.pk]
    assert listed(submitter="olivia") == [review.pk]
    assert listed(failing="on") == [failing_review.pk]
    assert listed(task="not-a-task") == [review.pk, failing_review.pk]  # a junk filter is ignored, not a 500


def test_queue_leaves_out_decided_submissions(reviewer_client, review, reviewer):
    services.review_decide(review=review, actor=reviewer, decision="approve")
    response = reviewer_client.get(reverse("review-queue"))
    assert list(response.context["page"].object_list) == []
    assert "Nothing waiting" in response.content.decode()


def test_queue_is_for_staff_even_outside_the_reviewers_group(staff_client, review):
    response = staff_client.get(reverse("review-queue"))
    assert response.status_code == 200
    assert [r.pk for r in response.context["page"].object_list] == [review.pk]


@pytest.mark.parametrize("who", ["owner", "outsider"])
def test_queue_sends_other_users_to_their_own_submissions(request, review, who):
    response = login_client(request.getfixturevalue(who)).get(reverse("review-queue"))
    assert response.status_code == 302 and response["Location"] == reverse("my-submissions")


def test_queue_asks_the_anonymous_to_log_in(client, review):
    response = client.get(reverse("review-queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- A review page ---


def test_review_page_has_everything_to_decide(reviewer_client, review, draft):
    response = reviewer_client.get(_url(review))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h3>Iris classifier</h3>" in html  # the model card, rendered below the page's own headings
    assert "Retrained on <strong>more</strong> data" in html  # the changelog
    assert "Please look at the new solver." in html  # the submission note
    for model_file in draft.files.all():
        assert model_file.sha256 in html and model_file.path in html
    for check in review.checks:
        assert check["message"] in html
    diff = response.context["diff"]
    assert diff.against == "1.0.0"
    assert {(c.name, c.kind) for c in diff.params} == {("C", "changed"), ("penalty", "removed"), ("max_iter", "added")}
    assert {(c.name, c.kind) for c in diff.files} == {
        ("README.txt", "added"),
        ("labels.txt", "removed"),
        ("model.onnx", "changed"),
    }
    assert not diff.inputs and not diff.outputs
    assert response.context["form"] is not None
    assert 'name="comment"' in html and "autofocus" not in html  # the page opens at its top
    assert "Alt+A" in html and "js/review-keys.js" in html
    assert "<script>" not in html  # no inline script: the CSP forbids it


def test_owner_sees_their_review_read_only(owner_client, review):
    response = owner_client.get(_url(review))
    assert response.status_code == 200
    assert response.context["form"] is None
    html = response.content.decode()
    assert 'id="decision-form"' not in html and "Waiting for a reviewer" in html


def test_staff_outside_the_group_sees_the_review_but_cannot_decide(staff_client, review):
    response = staff_client.get(_url(review))
    assert response.status_code == 200 and response.context["form"] is None
    assert "Only members of the reviewers group" in response.content.decode()
    response = staff_client.post(_url(review), {"decision": "approve"})
    assert response.status_code == 403
    assert "Only members of the reviewers group can decide" in response.content.decode()
    assert Review.objects.get(pk=review.pk).is_open


def test_outsider_gets_404_for_a_review(outsider_client, review):
    assert outsider_client.get(_url(review)).status_code == 404
    assert outsider_client.post(_url(review), {"decision": "approve"}).status_code == 404
    assert Review.objects.get(pk=review.pk).is_open


def test_anonymous_is_asked_to_log_in_for_a_review(client, review):
    response = client.get(_url(review))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_missing_review_is_a_404(reviewer_client, db):
    assert reviewer_client.get(reverse("review-detail", args=[999999])).status_code == 404


# --- Deciding through the page ---


def test_reviewer_requests_changes_with_a_comment_through_the_page(reviewer_client, review, draft, owner):
    response = reviewer_client.post(
        _url(review), {"decision": "request_changes", "comment": "Add an intended-use section."},
        HTTP_USER_AGENT="pytest-browser", REMOTE_ADDR="10.1.2.3",
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == reverse("review-queue")  # the queue is empty now
    draft.refresh_from_db()
    assert draft.status == VersionStatus.CHANGES_REQUESTED
    decided = Review.objects.get(pk=review.pk)
    assert (decided.decision, decided.comment, decided.reviewer_username) == (
        "request_changes", "Add an intended-use section.", "rita",
    )  # fmt: skip
    event = AuditEvent.objects.get(review=review, action="review.request_changes")
    assert (event.actor_username, event.ip_address, event.user_agent) == ("rita", "10.1.2.3", "pytest-browser")
    # The owner sees the comment on the version page and on My submissions.
    owner_client = login_client(owner)
    version_page = owner_client.get(
        reverse("version-detail", args=["olivia", "iris-classifier", "1.1.0"])
    ).content.decode()
    assert "Add an intended-use section." in version_page and "Request changes" in version_page
    assert "Add an intended-use section." in owner_client.get(reverse("my-submissions")).content.decode()


def test_after_a_decision_the_reviewer_goes_on_to_the_next_open_submission(reviewer_client, review, owner):
    other = make_model(owner, "penguins")
    following = services.version_submit(version=make_version(other, "0.1.0", files={"p.bin": b"p"}), actor=owner)
    response = reviewer_client.post(_url(review), {"decision": "approve"})
    assert response["Location"] == _url(following)


def test_approve_through_the_page_publishes_and_pins_files(reviewer_client, review, draft):
    assert reviewer_client.post(_url(review), {"decision": "approve", "comment": ""}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert Review.objects.get(pk=review.pk).pinned_files == {f.path: f.sha256 for f in draft.files.all()}
    html = reviewer_client.get(_url(review)).content.decode()
    assert "Approve" in html and 'id="decision-form"' not in html


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_a_comment_is_required_to_request_changes_or_reject(reviewer_client, review, draft, decision):
    response = reviewer_client.post(_url(review), {"decision": decision, "comment": "  "})
    assert response.status_code == 400
    assert "a comment is required" in response.content.decode()
    assert response.context["form"].errors["comment"]
    draft.refresh_from_db()
    assert draft.status == VersionStatus.IN_REVIEW


def test_a_decision_must_be_chosen(reviewer_client, review):
    response = reviewer_client.post(_url(review), {"comment": "hm"})
    assert response.status_code == 400
    assert "Choose approve, request changes or reject." in response.content.decode()


def test_a_second_decision_gets_a_409_page_that_says_what_happened(reviewer_client, review, second_reviewer, draft):
    services.review_decide(review=review, actor=second_reviewer, decision="reject", comment="Wrong data set.")
    response = reviewer_client.post(_url(review), {"decision": "approve"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "ravi" in html and "Reject" in html and "Wrong data set." in html
    assert "Your decision was not recorded." in html
    draft.refresh_from_db()
    assert draft.status == VersionStatus.REJECTED


def test_a_reviewer_cannot_decide_on_their_own_submission(reviewer):
    own = make_model(reviewer, "my-own")
    own_review = services.version_submit(version=make_version(own, "1.0.0", files={"x.bin": b"x"}), actor=reviewer)
    client = login_client(reviewer)
    page = client.get(_url(own_review))
    assert page.context["form"] is None and "your own submission" in page.content.decode()
    response = client.post(_url(own_review), {"decision": "approve"})
    assert response.status_code == 403
    assert "You cannot decide on your own submission" in response.content.decode()
    assert Review.objects.get(pk=own_review.pk).is_open


# --- My submissions ---


def test_my_submissions_lists_status_decision_and_comment(owner_client, review, reviewer):
    services.review_decide(review=review, actor=reviewer, decision="request_changes", comment="Needs a license file.")
    response = owner_client.get(reverse("my-submissions"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "olivia/iris-classifier" in html and "Changes requested" in html and "Needs a license file." in html


def test_my_submissions_shows_nothing_of_other_users(outsider_client, review):
    response = outsider_client.get(reverse("my-submissions"))
    assert response.status_code == 200 and list(response.context["page"].object_list) == []


def test_my_submissions_asks_the_anonymous_to_log_in(client, db):
    assert client.get(reverse("my-submissions")).status_code == 302


def test_nav_shows_open_reviews_for_reviewers_only(reviewer_client, owner_client, review, outsider):
    html = reviewer_client.get(reverse("home")).content.decode()
    assert reverse("review-queue") in html and 'title="1 open submission"' in html
    assert f'href="{reverse("review-queue")}"' not in owner_client.get(reverse("home")).content.decode()
    grant(outsider, Role.REVIEWER)
    assert 'title="1 open submission"' in login_client(outsider).get(reverse("home")).content.decode()
