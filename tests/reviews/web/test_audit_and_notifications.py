"""The staff audit log and the notifications page."""

import pytest
from django.urls import reverse

from reviews_app import services
from reviews_app.models import Notification
from tests.factories import login_client

pytestmark = pytest.mark.django_db


def test_staff_reads_and_filters_the_audit_log(staff_client, review, reviewer):
    services.review_decide(review=review, actor=reviewer, decision="approve")
    response = staff_client.get(reverse("audit-log"))
    assert response.status_code == 200
    # Newest first: rita's approval of 1.1.0, its submission, then how the fixture published 1.0.0.
    everything = [
        ("review.approve", "1.1.0", "rita"),
        ("version.submit", "1.1.0", "olivia"),
        ("review.approve", "1.0.0", "release-reviewer"),
        ("version.submit", "1.0.0", "olivia"),
    ]
    page = response.context["page"].object_list
    assert [(e.action, e.version_label, e.actor_username) for e in page] == everything
    html = response.content.decode()
    assert reverse("version-detail", args=["olivia", "iris-classifier", "1.1.0"]) in html

    def listed(**params) -> list[tuple[str, str, str]]:
        page = staff_client.get(reverse("audit-log"), params).context["page"].object_list
        return [(e.action, e.version_label, e.actor_username) for e in page]

    assert listed(action="version.submit") == [everything[1], everything[3]]
    assert listed(actor="rita") == [everything[0]]
    assert listed(model="olivia/iris-classifier") == everything
    assert listed(model="someone/else") == []
    assert listed(action="no.such.action") == everything  # junk filter ignored


@pytest.mark.parametrize("who", ["owner", "outsider", "reviewer"])
def test_audit_log_is_for_staff_only(request, who, review):
    assert login_client(request.getfixturevalue(who)).get(reverse("audit-log")).status_code == 403


def test_audit_log_asks_the_anonymous_to_log_in(client, db):
    assert client.get(reverse("audit-log")).status_code == 302


def test_notifications_list_and_mark_all_read(reviewer_client, review, reviewer):
    # Rita may have been notified when the fixture submitted 1.0.0 too (if she existed by
    # then); she read that long ago. Only the submission of 1.1.0 is new to her.
    earlier = Notification.objects.filter(user=reviewer).exclude(url=reverse("review-detail", args=[review.pk]))
    services.notifications_mark_read(user=reviewer, ids=list(earlier.values_list("pk", flat=True)))
    home = reviewer_client.get(reverse("home")).content.decode()
    assert 'nav-count-unread">1<' in home
    response = reviewer_client.get(reverse("notification-list"))
    html = response.content.decode()
    assert "olivia submitted olivia/iris-classifier 1.1.0 for review." in html
    assert reverse("review-detail", args=[review.pk]) in html and "is-unread" in html
    response = reviewer_client.post(reverse("notification-list"), follow=True)
    assert "Marked 1 notification as read." in response.content.decode()
    assert not Notification.objects.filter(user=reviewer, read_at__isnull=True).exists()
    assert "nav-count-unread" not in reviewer_client.get(reverse("home")).content.decode()


def test_notifications_are_private(outsider_client, review, reviewer):
    assert Notification.objects.exists()  # the reviewers' and the owner's, from the fixtures
    response = outsider_client.get(reverse("notification-list"))
    assert response.status_code == 200 and list(response.context["page"].object_list) == []
    outsider_client.post(reverse("notification-list"))
    assert not Notification.objects.filter(read_at__isnull=False).exists()  # nobody else's was marked read
    assert Notification.objects.filter(user=reviewer, read_at__isnull=True).count() == 1  # the reviewer's stays unread


def test_owner_is_notified_of_the_decision(owner_client, review, reviewer):
    services.review_decide(review=review, actor=reviewer, decision="request_changes", comment="Fix the card.")
    html = owner_client.get(reverse("notification-list")).content.decode()
    assert "rita requested changes to olivia/iris-classifier 1.1.0: Fix the card." in html


def test_notifications_ask_the_anonymous_to_log_in(client, db):
    assert client.get(reverse("notification-list")).status_code == 302
