"""Each lifecycle event is recorded once, in the change's transaction, for the webhooks that
subscribe to it; the signals of the apps below become their events."""

import json
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from evaluations_app.models import Evaluation, EvaluationStatus
from evaluations_app.signals import evaluation_finished, file_scanned
from models_app.models import ModelFile, ScanStatus
from models_app.signals import alias_moved
from reviews_app import services
from reviews_app.webhooks import events, receivers, tasks
from reviews_app.webhooks.models import WebhookDelivery, WebhookEvent
from tests.evaluations.web.conftest import make_test_set
from tests.reviews.conftest import reload

from .conftest import hook_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued():
    """The delivery ids handed to the broker (nothing is sent in these tests)."""
    with mock.patch.object(events, "enqueue_delivery") as enqueue:
        yield enqueue


def types() -> list[str]:
    return list(WebhookEvent.objects.order_by("created_at").values_list("type", flat=True))


def test_each_lifecycle_transition_is_emitted_once(model, draft, owner, reviewer, enqueued, committing):
    hook = hook_on(model)
    with committing():
        review = services.version_submit(version=draft, actor=owner)
    assert types() == ["version.submitted"]
    assert enqueued.call_count == 1  # on commit, one delivery

    with committing():
        services.review_decide(review=review, actor=reviewer, decision="approve", comment="Fine.")
    assert types() == ["version.submitted", "version.decided", "version.published"]

    with committing():
        services.version_deprecate(version=reload(draft), actor=owner, reason="Use 2.0.0.")
    assert types() == ["version.submitted", "version.decided", "version.published", "version.deprecated"]
    assert WebhookDelivery.objects.filter(webhook=hook).count() == 4 == enqueued.call_count

    by_type = {event.type: event for event in WebhookEvent.objects.all()}
    assert by_type["version.submitted"].payload == {
        "version": "1.0.0",
        "status": "in_review",
        "url": "http://127.0.0.1:8000/models/olivia/iris-classifier/versions/1.0.0/",
        "submitted_by": "olivia",
    }
    decided = by_type["version.decided"].payload
    assert (decided["decision"], decided["comment"], decided["reviewer"], decided["status"]) == (
        "approve", "Fine.", "rita", "published",
    )  # fmt: skip
    assert by_type["version.published"].payload["published_at"]
    assert by_type["version.deprecated"].payload["reason"] == "Use 2.0.0."
    # The body is stored once, and says what the payload says.
    body = json.loads(by_type["version.decided"].body)
    assert (
        body["data"] == decided
        and body["type"] == "version.decided"
        and body["id"] == str(by_type["version.decided"].id)
    )


def test_a_request_for_changes_is_decided_but_not_published(draft, model, owner, reviewer, enqueued):
    hook_on(model)
    review = services.version_submit(version=draft, actor=owner)
    services.review_decide(review=review, actor=reviewer, decision="request_changes", comment="Add a card.")
    assert types() == ["version.submitted", "version.decided"]
    assert WebhookEvent.objects.get(type="version.decided").payload["decision"] == "request_changes"


def test_only_subscribed_active_webhooks_of_the_model_get_the_event(draft, model, owner, reviewer, enqueued):
    wanted = hook_on(model, events=["version.submitted"])
    hook_on(model, events=["version.published"])
    hook_on(model, events=["version.submitted"], active=False)
    services.version_submit(version=draft, actor=owner)
    assert list(WebhookDelivery.objects.values_list("webhook", flat=True)) == [wanted.pk]


def test_no_event_is_recorded_when_nobody_listens(draft, owner, enqueued):
    services.version_submit(version=draft, actor=owner)
    assert not WebhookEvent.objects.exists()


def test_a_rolled_back_change_sends_nothing(draft, model, owner, enqueued, committing):
    hook_on(model)
    with committing(), pytest.raises(RuntimeError):
        with transaction.atomic():
            services.version_submit(version=draft, actor=owner)
            raise RuntimeError("the request failed after the transition")
    assert not WebhookEvent.objects.exists()
    enqueued.assert_not_called()


def test_the_broker_being_down_does_not_fail_the_transition(draft, model, owner, committing):
    hook_on(model)
    with mock.patch.object(tasks.deliver_webhook, "apply_async", side_effect=OSError("broker down")):
        with committing():
            services.version_submit(version=draft, actor=owner)
    assert reload(draft).status == "in_review"
    assert WebhookDelivery.objects.get().status == "pending"  # for the sweep


def test_an_evaluation_finished_is_emitted_with_its_verified_metrics(draft, model, owner, enqueued, committing):
    hook_on(model)
    test_set = make_test_set(owner)
    evaluation = Evaluation.objects.create(
        version=draft, test_set=test_set, status=EvaluationStatus.SUCCEEDED,
        metrics={"accuracy": 0.96, "f1_macro": 0.95}, finished_at=timezone.now(),
    )  # fmt: skip
    with committing():
        evaluation_finished.send(sender=Evaluation, evaluation_id=evaluation.pk, version_id=draft.pk)
    event = WebhookEvent.objects.get()
    assert event.type == "evaluation.finished"
    assert event.payload["evaluation"]["status"] == "succeeded"
    assert event.payload["evaluation"]["verified_metrics"] == {"accuracy": 0.96, "f1_macro": 0.95}
    assert event.payload["evaluation"]["test_set"] == test_set.full_name
    assert event.payload["version"] == "1.0.0"
    assert enqueued.call_count == 1


def test_a_failed_evaluation_carries_no_metrics(draft, model, owner, enqueued):
    hook_on(model)
    evaluation = Evaluation.objects.create(
        version=draft, test_set=make_test_set(owner), status=EvaluationStatus.FAILED,
        metrics={}, error_code="timeout", finished_at=timezone.now(),
    )  # fmt: skip
    evaluation_finished.send(sender=Evaluation, evaluation_id=evaluation.pk, version_id=draft.pk)
    evaluation_payload = WebhookEvent.objects.get().payload["evaluation"]
    assert (evaluation_payload["status"], evaluation_payload["verified_metrics"]) == ("failed", {})
    assert evaluation_payload["error_code"] == "timeout"


def test_only_a_flagged_scan_is_emitted(draft, model, enqueued):
    hook_on(model)
    model_file = draft.files.get(path="model.onnx")
    for status in (ScanStatus.CLEAN, ScanStatus.ERROR, ScanStatus.PENDING):
        file_scanned.send(sender=ModelFile, file_id=model_file.pk, version_id=draft.pk, status=status)
    assert not WebhookEvent.objects.exists()

    ModelFile.objects.filter(pk=model_file.pk).update(scan_findings=["imports posix.system"])
    file_scanned.send(sender=ModelFile, file_id=model_file.pk, version_id=draft.pk, status=ScanStatus.FLAGGED)
    event = WebhookEvent.objects.get()
    assert event.type == "scan.flagged"
    assert event.payload["file"] == {
        "path": "model.onnx",
        "sha256": model_file.blob_id,
        "scan_status": "flagged",
        "findings": ["imports posix.system"],
    }


def test_an_alias_move_is_emitted(model, draft, owner, enqueued, committing):
    hook_on(model, events=["alias.moved"])
    with committing():
        alias_moved.send(
            sender=None, model_id=model.pk, alias="production", from_version_id=None, to_version_id=draft.pk,
            actor_id=owner.pk,
        )  # fmt: skip
    event = WebhookEvent.objects.get()
    assert event.type == "alias.moved"
    assert event.payload == {"alias": "production", "from_version": None, "to_version": "1.0.0", "moved_by": "olivia"}
    assert enqueued.call_count == 1


def test_a_receiver_never_breaks_the_sender(model, enqueued):
    hook_on(model)
    # An evaluation that is gone, and an error inside emit: both are swallowed and logged.
    evaluation_finished.send(sender=Evaluation, evaluation_id=987654, version_id=1)
    with mock.patch.object(receivers, "emit", side_effect=RuntimeError("boom")):
        alias_moved.send(sender=None, model_id=model.pk, alias="x", from_version_id=None, to_version_id=None)
    assert not WebhookEvent.objects.exists()


def test_emit_refuses_an_event_outside_the_allow_list(model):
    with pytest.raises(ValueError, match="not a webhook event"):
        events.emit("version.exploded", model_id=model.pk, payload={})
    with pytest.raises(ValueError):
        events.emit("ping", model_id=model.pk, payload={})  # only the test button sends a ping
