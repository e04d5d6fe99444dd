"""Notifications: in-app rows now, emails by a Celery task after commit: on submission to
the reviewers, on each decision and on deprecation to the owner. A broker that is down
delays the email, it never loses it or fails the request; a notification is emailed once."""

import pytest
from django.core import mail

from reviews_app import services, tasks
from reviews_app.models import Notification
from tests.factories import make_reviewer
from tests.models.api.helpers import API

from .conftest import reload
from .helpers import decision_url, deprecate_url, submit_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run what the request enqueued on commit, as production does once the transaction ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def emails() -> list[tuple[str, list[str]]]:
    return [(message.subject, message.to) for message in mail.outbox]


def test_a_submission_emails_every_reviewer_after_commit(draft, reviewer, second_reviewer, owner_api, committing):
    with committing() as callbacks:
        response = owner_api.post(submit_url(), {}, format="json")
        assert mail.outbox == []  # nothing leaves before the transaction commits

    # after commit: queue the submission's evaluations, and send the reviewers' emails
    assert response.status_code == 201 and len(callbacks) == 2
    assert sorted(emails()) == [
        ("[Model Registry] Review requested", ["ravi@example.com"]),
        ("[Model Registry] Review requested", ["rita@example.com"]),
    ]
    review_id = response.json()["id"]
    assert (
        f"/reviews/{review_id}/" in mail.outbox[0].body
        and "olivia submitted olivia/iris-classifier 1.0.0" in mail.outbox[0].body
    )
    rows = Notification.objects.order_by("user__username")
    assert [(n.user.username, n.verb, n.emailed_at is not None) for n in rows] == [
        ("ravi", "submitted", True),
        ("rita", "submitted", True),
    ]


def test_a_reviewer_who_submits_is_not_told_about_their_own_submission(db, reviewer, committing):
    from tests.factories import make_model, make_version

    rosa = make_reviewer("rosa")
    version = make_version(make_model(rosa, "own"), "1.0.0", files={"a.bin": b"a"})

    with committing():
        services.version_submit(version=version, actor=rosa)

    assert emails() == [("[Model Registry] Review requested", ["rita@example.com"])]


@pytest.mark.parametrize(
    ("decision", "subject"),
    [("approve", "Version approved"), ("request_changes", "Changes requested"), ("reject", "Version rejected")],
)
def test_each_decision_emails_the_owner_with_the_comment(decision, subject, submitted, reviewer_api, committing):
    with committing():
        reviewer_api.post(decision_url(submitted.pk), {"decision": decision, "comment": "See the card."}, format="json")

    assert emails() == [(f"[Model Registry] {subject}", ["olivia@example.com"])]
    assert "See the card." in mail.outbox[0].body
    assert "/models/olivia/iris-classifier/versions/1.0.0/" in mail.outbox[0].body
    notification = Notification.objects.get(user__username="olivia")
    assert (notification.verb, notification.read_at) == (decision, None)


def test_a_deprecation_emails_the_owner(published, staff_api, committing):
    mail.outbox.clear()

    with committing():
        response = staff_api.post(deprecate_url(), {"reason": "A licence problem."}, format="json")

    assert response.status_code == 200
    assert emails() == [("[Model Registry] Version deprecated", ["olivia@example.com"])]
    assert "A licence problem." in mail.outbox[0].body


def test_a_refused_transition_notifies_nobody(submitted, owner_api, committing):
    Notification.objects.all().delete()

    with committing():
        owner_api.post(decision_url(submitted.pk), {"decision": "approve"}, format="json")

    assert not Notification.objects.exists() and mail.outbox == []


def test_when_the_broker_is_down_the_request_succeeds_and_the_sweep_sends_the_email_later(
    draft, reviewer, owner_api, committing, monkeypatch, settings
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.send_notification_emails, "delay", broker_down)

    with committing():
        response = owner_api.post(submit_url(), {}, format="json")

    assert response.status_code == 201
    assert reload(draft).status == "in_review"
    notification = Notification.objects.get()
    assert (notification.user, notification.emailed_at, mail.outbox) == (reviewer, None, [])

    settings.NOTIFICATION_SWEEP_AFTER_SECONDS = 0  # the broker is back, time has passed
    assert tasks.sweep_unsent_notifications() == 1
    assert emails() == [("[Model Registry] Review requested", ["rita@example.com"])]
    assert reload(notification).emailed_at is not None
    assert tasks.sweep_unsent_notifications() == 0
    assert len(mail.outbox) == 1


def test_the_sweep_leaves_fresh_notifications_to_the_task_the_request_enqueued(submitted, settings):
    settings.NOTIFICATION_SWEEP_AFTER_SECONDS = 120

    assert tasks.sweep_unsent_notifications() == 0
    assert mail.outbox == [] and Notification.objects.get().emailed_at is None


def test_a_notification_is_emailed_once_even_if_the_task_runs_twice(submitted, settings):
    ids = list(Notification.objects.values_list("pk", flat=True))

    assert tasks.send_notification_emails(ids) == 1
    assert tasks.send_notification_emails(ids) == 0
    settings.NOTIFICATION_SWEEP_AFTER_SECONDS = 0
    assert tasks.sweep_unsent_notifications() == 0

    assert len(mail.outbox) == 1


def test_a_task_that_loaded_the_row_before_another_worker_claimed_it_does_not_send_again(submitted, monkeypatch):
    """Two workers read the same unsent row; the conditional update lets only one send."""
    notification = Notification.objects.get()
    real_filter = Notification.objects.filter
    stale = list(real_filter(pk=notification.pk).select_related("user"))

    assert tasks.send_notification_emails([notification.pk]) == 1

    class StaleManager:
        # The second worker's list was read before the first worker claimed the row.
        def filter(self, *args, **kwargs):
            if "emailed_at__isnull" in kwargs and "pk__in" in kwargs:
                return type("Rows", (), {"select_related": lambda self, *a: stale})()
            return real_filter(*args, **kwargs)

    monkeypatch.setattr(tasks.Notification, "objects", StaleManager())
    assert tasks.send_notification_emails([notification.pk]) == 0
    assert len(mail.outbox) == 1


def test_a_failed_send_is_given_back_to_the_sweep(submitted, monkeypatch, settings):
    def smtp_down(**kwargs):
        raise OSError("SMTP server unreachable")

    monkeypatch.setattr(tasks, "send_mail", smtp_down)
    assert tasks.send_notification_emails(list(Notification.objects.values_list("pk", flat=True))) == 0
    assert Notification.objects.get().emailed_at is None

    monkeypatch.undo()
    settings.NOTIFICATION_SWEEP_AFTER_SECONDS = 0
    assert tasks.sweep_unsent_notifications() == 1
    assert emails() == [("[Model Registry] Review requested", ["rita@example.com"])]


def test_a_user_without_an_email_address_gets_the_in_app_notification_only(submitted, reviewer):
    reviewer.email = ""
    reviewer.save()

    assert tasks.send_notification_emails(list(Notification.objects.values_list("pk", flat=True))) == 0
    assert mail.outbox == []
    assert Notification.objects.filter(user=reviewer).exists()


def test_a_task_for_notifications_that_are_gone_returns_quietly(db):
    assert tasks.send_notification_emails([123456, 654321]) == 0


def test_users_read_their_own_notifications_through_the_api(submitted, reviewer_api, owner_api, api):
    listed = reviewer_api.get(f"{API}/notifications/").json()["results"]
    assert [(n["verb"], n["read_at"]) for n in listed] == [("submitted", None)]
    assert owner_api.get(f"{API}/notifications/").json()["results"] == []
    assert api.get(f"{API}/notifications/").status_code == 401

    assert reviewer_api.post(f"{API}/notifications/read/").json() == {"marked_read": 1}

    assert Notification.objects.get().read_at is not None
