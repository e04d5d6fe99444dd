"""The audit trail: one append-only event per transition, with who, from, to, why, IP and
user agent, surviving the actor's deletion; staff read it through GET /api/v1/audit/."""

import datetime

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from reviews_app import services
from reviews_app.models import AuditEvent
from tests.models.api.helpers import assert_error

from .conftest import reload
from .helpers import AUDIT, decision_url, deprecate_url, submit_url, undeprecate_url

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (ReviewTest)", "REMOTE_ADDR": "203.0.113.9"}


def test_every_transition_through_the_api_records_who_from_to_why_ip_and_user_agent(
    draft, owner, reviewer, owner_api, reviewer_api
):
    review = owner_api.post(submit_url(), {"note": "First try."}, format="json", **BROWSER).json()
    reviewer_api.post(
        decision_url(review["id"]),
        {"decision": "request_changes", "comment": "Add a license."},
        format="json",
        **BROWSER,
    )
    review = owner_api.post(submit_url(), {}, format="json", **BROWSER).json()
    reviewer_api.post(decision_url(review["id"]), {"decision": "approve", "comment": "Good."}, format="json", **BROWSER)
    owner_api.post(deprecate_url(), {"reason": "Superseded by 2.0.0."}, format="json", **BROWSER)
    owner_api.post(undeprecate_url(), format="json", **BROWSER)

    events = list(AuditEvent.objects.order_by("pk"))
    assert [(e.action, e.actor, e.actor_username, e.from_status, e.to_status, e.reason) for e in events] == [
        ("version.submit", owner, "olivia", "draft", "in_review", "First try."),
        ("review.request_changes", reviewer, "rita", "in_review", "changes_requested", "Add a license."),
        ("version.submit", owner, "olivia", "changes_requested", "in_review", ""),
        ("review.approve", reviewer, "rita", "in_review", "published", "Good."),
        ("version.deprecate", owner, "olivia", "published", "deprecated", "Superseded by 2.0.0."),
        ("version.undeprecate", owner, "olivia", "deprecated", "published", ""),
    ]
    for event in events:
        assert (event.ip_address, event.user_agent) == ("203.0.113.9", "Mozilla/5.0 (ReviewTest)")
        assert (event.model_full_name, event.version_label, event.version_id) == (
            "olivia/iris-classifier",
            "1.0.0",
            draft.pk,
        )
    assert events[3].data == {"pinned_files": reload(events[3].review).pinned_files}


def test_a_refused_transition_records_nothing(submitted, owner_api, outsider_api):
    owner_api.post(submit_url(), {}, format="json")
    owner_api.post(decision_url(submitted.pk), {"decision": "approve"}, format="json")
    outsider_api.post(decision_url(submitted.pk), {"decision": "approve"}, format="json")

    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["version.submit"]


def test_a_user_agent_is_cut_to_300_characters_and_a_service_call_records_no_request(draft, owner, owner_api):
    owner_api.post(submit_url(), {}, format="json", HTTP_USER_AGENT="A" * 1000)

    assert AuditEvent.objects.get().user_agent == "A" * 300
    meta = services.RequestMeta.from_request(None)
    assert (meta.ip_address, meta.user_agent) == (None, "")


def test_the_trail_keeps_the_actors_username_after_the_account_is_deleted(published, owner, reviewer):
    reviewer.delete()

    event = AuditEvent.objects.get(action="review.approve")
    assert (event.actor, event.actor_username) == (None, "rita")
    review = reload(event.review)
    assert (review.reviewer, review.reviewer_username) == (None, "rita")


def test_the_trail_outlives_the_version(submitted, owner, reviewer):
    services.review_decide(review=submitted, actor=reviewer, decision="reject", comment="Not useful.")
    version_pk = submitted.version_id
    submitted.version.model.delete()

    events = AuditEvent.objects.filter(model_full_name="olivia/iris-classifier", version_label="1.0.0")
    assert [(e.action, e.version_id) for e in events.order_by("pk")] == [
        ("version.submit", None),
        ("review.reject", None),
    ]
    assert version_pk is not None


class TestAppendOnly:
    def test_an_event_cannot_be_saved_again(self, submitted):
        event = AuditEvent.objects.get()
        event.reason = "rewritten"

        with pytest.raises(PermissionError):
            event.save()

        assert AuditEvent.objects.get().reason == ""

    def test_an_event_cannot_be_deleted(self, submitted):
        with pytest.raises(PermissionError):
            AuditEvent.objects.get().delete()
        assert AuditEvent.objects.count() == 1

    @pytest.mark.parametrize(
        "change",
        [
            lambda qs: qs.update(reason="rewritten"),
            lambda qs: qs.delete(),
            lambda qs: qs.filter(action="version.submit").update(actor_username="someone"),
            lambda qs: qs.filter(action="version.submit").delete(),
            lambda qs: qs.bulk_update([setattr(e, "reason", "x") or e for e in qs], ["reason"]),
        ],
        ids=["update", "delete", "filtered-update", "filtered-delete", "bulk-update"],
    )
    def test_a_queryset_cannot_change_or_remove_events(self, change, submitted):
        # bulk_update fails inside its own atomic block; the savepoint keeps the test's transaction usable.
        with pytest.raises(PermissionError), transaction.atomic():
            change(AuditEvent.objects.all())

        event = AuditEvent.objects.get()
        assert (event.reason, event.actor_username) == ("", "olivia")

    def test_the_admin_shows_events_but_cannot_add_change_or_delete_them(self, submitted, superuser):
        model_admin = admin.site._registry[AuditEvent]
        request = RequestFactory().get("/admin/")
        request.user = superuser
        event = AuditEvent.objects.get()

        assert model_admin.has_view_permission(request, event)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, event)
        assert not model_admin.has_delete_permission(request, event)
        assert "delete_selected" not in model_admin.get_actions(request)

    def test_the_admin_refuses_a_change_or_delete_post(self, submitted, superuser, client):
        client.force_login(superuser)
        event = AuditEvent.objects.get()

        client.post(f"/admin/reviews_app/auditevent/{event.pk}/change/", {"reason": "rewritten"})
        assert client.post(f"/admin/reviews_app/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403

        assert AuditEvent.objects.get().reason == ""


# --- GET /api/v1/audit/ ---------------------------------------------------------------------


@pytest.fixture
def trail(published, owner, reviewer):
    """submit (olivia) → approve (rita) → deprecate (olivia), plus another model's submit."""
    from tests.factories import make_model, make_version

    services.version_deprecate(version=published, actor=owner, reason="Old.")
    other = make_version(make_model(owner, "other-model"), "0.1.0", files={"a.bin": b"a"})
    services.version_submit(version=other, actor=owner)


def test_only_staff_read_the_audit_log(trail, staff_api, superuser_api, reviewer_api, owner_api, api):
    assert staff_api.get(AUDIT).json()["count"] == 4
    assert superuser_api.get(AUDIT).status_code == 200
    assert_error(reviewer_api.get(AUDIT), 403)
    assert_error(owner_api.get(AUDIT), 403)
    assert_error(api.get(AUDIT), 401)


def test_the_audit_log_is_newest_first_with_every_field(trail, staff_api):
    results = staff_api.get(AUDIT).json()["results"]

    assert [(r["action"], r["model"]) for r in results] == [
        ("version.submit", "olivia/other-model"),
        ("version.deprecate", "olivia/iris-classifier"),
        ("review.approve", "olivia/iris-classifier"),
        ("version.submit", "olivia/iris-classifier"),
    ]
    assert set(results[1]) == {
        "id", "created_at", "actor", "action", "model", "version", "from_status", "to_status",
        "reason", "data", "ip_address", "user_agent",
    }  # fmt: skip
    assert (results[1]["actor"], results[1]["version"], results[1]["reason"]) == ("olivia", "1.0.0", "Old.")


@pytest.mark.parametrize(
    ("params", "actions"),
    [
        ({"action": "review.approve"}, ["review.approve"]),
        ({"actor": "rita"}, ["review.approve"]),
        ({"actor": "olivia", "model": "olivia/iris-classifier"}, ["version.deprecate", "version.submit"]),
        ({"model": "olivia/other-model"}, ["version.submit"]),
        ({"action": "version.submit", "model": "nobody/nothing"}, []),
    ],
)
def test_the_audit_log_filters(params, actions, trail, staff_api):
    results = staff_api.get(AUDIT, params).json()["results"]

    assert [r["action"] for r in results] == actions


def test_the_audit_log_filters_by_time(trail, staff_api):
    now = timezone.now()
    hour = datetime.timedelta(hours=1)

    assert staff_api.get(AUDIT, {"since": (now - hour).isoformat()}).json()["count"] == 4
    assert staff_api.get(AUDIT, {"since": (now + hour).isoformat()}).json()["count"] == 0
    assert staff_api.get(AUDIT, {"until": (now - hour).isoformat()}).json()["count"] == 0
    assert_error(staff_api.get(AUDIT, {"since": "yesterday"}), 400)
