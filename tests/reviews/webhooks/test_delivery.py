"""Deliveries to a real local receiver: signed, retried with backoff, never twice, no redirects."""

import hashlib
import hmac
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from reviews_app.webhooks import delivery, services, ssrf, tasks
from reviews_app.webhooks.models import DeliveryStatus, WebhookDelivery

pytestmark = pytest.mark.django_db


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (the README's snippet)."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def make_due(delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def webhook(model, owner, receiver):
    return services.webhook_create(model=model, url=receiver.url(), events=["version.submitted"], actor=owner)


def test_a_delivery_reaches_the_receiver_signed_with_the_webhooks_secret(webhook, owner, receiver, committing):
    with committing():
        sent = services.webhook_send_test(webhook=webhook, actor=owner)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.path == "/hook"
    assert verify(webhook.secret, request.body, request.headers["x-registry-signature-256"])
    assert not verify("another secret", request.body, request.headers["x-registry-signature-256"])
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "ModelRegistry-Webhooks/1"
    assert request.headers["x-registry-event"] == "ping"
    body = json.loads(request.body)
    assert request.headers["x-registry-delivery"] == body["id"] == str(sent.event_id)
    assert body["type"] == "ping"
    assert body["model"] == {
        "owner": "olivia",
        "name": "iris-classifier",
        "url": "http://127.0.0.1:8000/models/olivia/iris-classifier/",
    }
    assert body["data"]["sent_by"] == "olivia" and body["created_at"].endswith("Z")
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.response_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    assert sent.duration_ms is not None and sent.error == "" and sent.response_excerpt == '{"ok": true}'


def test_it_retries_after_a_500_with_backoff_and_sends_the_same_bytes(webhook, owner, receiver, committing):
    receiver.statuses = [500, 200]
    with mock.patch.object(tasks.deliver_webhook, "apply_async") as enqueue:
        with committing():
            sent = services.webhook_send_test(webhook=webhook, actor=owner)
        tasks.deliver_webhook(sent.pk)  # what the worker runs for the message enqueued on commit

    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.response_code) == (DeliveryStatus.PENDING, 1, 500)
    assert "500" in sent.error
    assert len(sent.response_excerpt) == delivery.EXCERPT_CHARS  # only the start of a long answer
    # The next attempt is enqueued after the first backoff step (10 s, up to a quarter more).
    countdown = enqueue.call_args_list[-1].kwargs["countdown"]
    assert 10 <= countdown <= 12.5
    assert 10 <= (sent.next_attempt_at - sent.last_attempt_at).total_seconds() <= 12.5

    assert tasks.deliver_webhook(sent.pk) == "skipped"  # not due yet: nothing sent
    assert len(receiver.requests) == 1

    make_due(sent.pk)
    assert tasks.deliver_webhook(sent.pk) == DeliveryStatus.SUCCEEDED
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.response_code, sent.error) == (DeliveryStatus.SUCCEEDED, 2, 200, "")
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["x-registry-delivery"] == second.headers["x-registry-delivery"]
    assert first.headers["x-registry-signature-256"] == second.headers["x-registry-signature-256"]


def test_it_gives_up_after_the_last_attempt(webhook, owner, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.statuses = [503]
    sent = services.webhook_send_test(webhook=webhook, actor=owner)
    outcomes = []
    for _ in range(3):
        make_due(sent.pk)
        outcomes.append(delivery.attempt(delivery_id=sent.pk))
    assert [o.status for o in outcomes] == ["pending", "pending", "failed"]
    assert outcomes[0].retry_in is not None and outcomes[2].retry_in is None
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.response_code, sent.next_attempt_at) == ("failed", 3, 503, None)
    make_due(sent.pk)
    assert delivery.attempt(delivery_id=sent.pk).status == "skipped"  # failed stays failed
    assert len(receiver.requests) == 3


def test_backoff_doubles_from_ten_seconds_with_jitter():
    for attempts, base in ((1, 10), (2, 20), (3, 40), (5, 160)):
        for _ in range(20):
            assert base <= delivery.backoff_seconds(attempts) <= base * 1.25


def test_a_delivery_run_twice_sends_once(webhook, owner, receiver):
    sent = services.webhook_send_test(webhook=webhook, actor=owner)
    assert tasks.deliver_webhook(sent.pk) == DeliveryStatus.SUCCEEDED
    assert tasks.deliver_webhook(sent.pk) == "skipped"
    tasks.sweep_webhook_deliveries()
    assert len(receiver.requests) == 1
    sent.refresh_from_db()
    assert sent.attempts == 1


def test_a_delivery_claimed_by_another_worker_is_left_alone(webhook, owner, receiver):
    sent = services.webhook_send_test(webhook=webhook, actor=owner)
    WebhookDelivery.objects.filter(pk=sent.pk).update(claimed_until=timezone.now() + timedelta(seconds=60))
    assert tasks.deliver_webhook(sent.pk) == "skipped"
    assert receiver.requests == []


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(webhook, owner, receiver):
    receiver.statuses = [302]
    receiver.location = receiver.url("/elsewhere")
    sent = services.webhook_send_test(webhook=webhook, actor=owner)
    outcome = delivery.attempt(delivery_id=sent.pk)
    assert outcome.status == DeliveryStatus.PENDING and outcome.retry_in is not None
    assert [r.path for r in receiver.requests] == ["/hook"]
    sent.refresh_from_db()
    assert sent.response_code == 302 and "redirects are not followed" in sent.error


def test_a_refused_connection_is_a_failed_attempt_with_a_sentence(model, owner, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1:9"]  # the discard port: nothing listens
    webhook = services.webhook_create(model=model, url="http://127.0.0.1:9/", events=["version.submitted"], actor=owner)
    sent = services.webhook_send_test(webhook=webhook, actor=owner)
    outcome = delivery.attempt(delivery_id=sent.pk)
    sent.refresh_from_db()
    assert outcome.status == DeliveryStatus.PENDING
    assert sent.error == "The connection was refused or could not be made."
    assert sent.response_code is None and sent.attempts == 1


def test_it_connects_to_the_address_it_checked_and_presents_the_name(model, owner, receiver, settings):
    """The name resolves (here, by the patched resolver) to the receiver's address: the
    connection goes to that address, with the name in the Host header."""
    settings.WEBHOOK_ALLOWED_HOSTS = [f"hooks.example.test:{receiver.port}"]
    with mock.patch.object(ssrf, "resolve", return_value=["127.0.0.1"]) as resolve:
        webhook = services.webhook_create(
            model=model, url=f"http://hooks.example.test:{receiver.port}/in?x=1", events=["alias.moved"], actor=owner
        )
        sent = services.webhook_send_test(webhook=webhook, actor=owner)
        assert delivery.attempt(delivery_id=sent.pk).status == DeliveryStatus.SUCCEEDED
    assert resolve.call_count == 2  # at save time and again at delivery time
    (request,) = receiver.requests
    assert request.path == "/in?x=1"
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"


def test_the_sweep_sends_what_the_broker_refused(webhook, owner, receiver, committing, settings):
    settings.WEBHOOK_SWEEP_AFTER_SECONDS = 60
    with mock.patch.object(tasks.deliver_webhook, "apply_async", side_effect=OSError("broker down")):
        with committing():
            sent = services.webhook_send_test(webhook=webhook, actor=owner)
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.PENDING and receiver.requests == []

    assert tasks.sweep_webhook_deliveries() == 0  # not late yet: its message may still arrive
    WebhookDelivery.objects.filter(pk=sent.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=61))
    assert tasks.sweep_webhook_deliveries() == 1  # eager broker: sent now
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.SUCCEEDED and len(receiver.requests) == 1


def test_a_failed_delivery_can_be_redelivered_with_the_same_event(webhook, owner, receiver, settings, committing):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.statuses = [500, 200]
    sent = services.webhook_send_test(webhook=webhook, actor=owner)
    delivery.attempt(delivery_id=sent.pk)
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.FAILED and sent.may_redeliver

    with committing():
        services.delivery_redeliver(delivery=sent, actor=owner)
    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == (DeliveryStatus.SUCCEEDED, 1)
    assert receiver.requests[0].body == receiver.requests[1].body

    from registry_site.errors import Conflict

    with pytest.raises(Conflict):
        services.delivery_redeliver(delivery=sent, actor=owner)  # a succeeded delivery is never sent again
    assert len(receiver.requests) == 2
