"""The webhooks page of a model: its owner adds, tests, rotates, deletes and redelivers."""

from unittest import mock

import pytest
from django.urls import reverse

from reviews_app.models import AuditEvent
from reviews_app.webhooks import ssrf
from reviews_app.webhooks.delivery import attempt
from reviews_app.webhooks.events import emit_ping
from reviews_app.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from tests.factories import login_client, make_model, make_released_model

from .conftest import hook_on

pytestmark = pytest.mark.django_db


def page(name: str = "iris-classifier") -> str:
    return reverse("model-webhooks", kwargs={"owner": "olivia", "name": name})


def action(webhook, name: str) -> str:
    return reverse(f"model-webhook-{name}", kwargs={"owner": "olivia", "name": webhook.model.name, "pk": webhook.pk})


@pytest.fixture
def released(owner):
    return make_released_model(owner)


def test_the_model_page_links_its_owner_to_the_webhooks(released, owner_client, outsider_client):
    assert page() in owner_client.get(released.get_absolute_url()).content.decode()
    assert page() not in outsider_client.get(released.get_absolute_url()).content.decode()


def test_adding_a_webhook_shows_its_secret_once(released, owner_client):
    with mock.patch.object(ssrf, "resolve", return_value=["93.184.215.14"]):
        response = owner_client.post(
            page(), {"url": "https://hooks.example.com/in", "events": ["version.published", "alias.moved"]}
        )
    assert response.status_code == 201
    webhook = Webhook.objects.get()
    assert webhook.events == ["version.published", "alias.moved"]
    assert webhook.secret in response.content.decode()
    assert AuditEvent.objects.filter(action="webhook.create").count() == 1

    again = owner_client.get(page()).content.decode()
    assert "https://hooks.example.com/in" in again and webhook.secret not in again


def test_an_internal_url_is_a_form_error(released, owner_client):
    response = owner_client.post(page(), {"url": "http://169.254.169.254/latest/", "events": ["version.published"]})
    assert response.status_code == 400
    assert "webhooks are delivered only to public addresses" in response.content.decode()
    assert not Webhook.objects.exists()


def test_no_event_chosen_is_a_form_error(released, owner_client):
    response = owner_client.post(page(), {"url": "https://hooks.example.com/in"})
    assert response.status_code == 400 and "Choose at least one event" in response.content.decode()


def test_rotate_shows_the_new_secret(released, owner_client):
    webhook = hook_on(released)
    old = webhook.secret
    response = owner_client.post(action(webhook, "rotate"))
    webhook.refresh_from_db()
    assert response.status_code == 200 and webhook.secret != old
    assert webhook.secret in response.content.decode() and old not in response.content.decode()


def test_delete(released, owner_client):
    webhook = hook_on(released)
    assert owner_client.post(action(webhook, "delete")).status_code == 302
    assert not Webhook.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.delete").count() == 1


def test_send_test_event_and_the_log(released, owner_client, receiver, django_capture_on_commit_callbacks):
    webhook = hook_on(released, url=receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(action(webhook, "test"))
    assert response.status_code == 302
    assert len(receiver.requests) == 1  # the eager broker delivered it after commit
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED

    html = owner_client.get(page()).content.decode()
    assert "ping" in html and "Succeeded" in html and f'data-delivery="{delivery.pk}"' in html
    assert "Redeliver" not in html  # a succeeded delivery is not sent again


def test_a_failed_delivery_has_a_redeliver_button(released, owner_client, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.statuses = [500, 200]
    webhook = hook_on(released, url=receiver.url())
    owner_client.post(action(webhook, "test"))  # the test's transaction never commits: sent below
    delivery = WebhookDelivery.objects.get()
    attempt(delivery_id=delivery.pk)
    html = owner_client.get(page()).content.decode()
    assert "Failed" in html and "The receiver answered 500" in html and "Redeliver" in html

    url = reverse(
        "model-webhook-redeliver",
        kwargs={"owner": "olivia", "name": released.name, "pk": webhook.pk, "delivery": delivery.pk},
    )
    assert owner_client.post(url).status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)


def test_others_get_403_on_a_public_model_and_404_on_a_private_one(released, owner, outsider, reviewer):
    webhook = hook_on(released)
    for user in (outsider, reviewer):
        client = login_client(user)
        assert client.get(page()).status_code == 403
        for name in ("delete", "rotate", "test"):
            assert client.post(action(webhook, name)).status_code == 403
    assert Webhook.objects.get().secret == webhook.secret

    private = make_model(owner, "hidden", visibility="private")
    hook = hook_on(private)
    client = login_client(outsider)
    assert client.get(page("hidden")).status_code == 404
    assert client.post(action(hook, "rotate")).status_code == 404


def test_the_anonymous_user_is_sent_to_sign_in(released, client):
    response = client.get(page())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_takes_a_fixed_number_of_queries(released, owner_client, django_assert_max_num_queries):
    for _ in range(4):
        hook = hook_on(released)
        for _ in range(3):
            emit_ping(webhook=hook, actor=None)
    # session, user, reviewer permission (visibility), the model, its tags, the webhooks, their
    # latest deliveries with their events (one windowed query for all), the unread badge
    with django_assert_max_num_queries(8):
        response = owner_client.get(page())
    assert response.status_code == 200 and response.content.decode().count("data-delivery=") == 12
