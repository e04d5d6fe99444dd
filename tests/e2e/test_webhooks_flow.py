"""The owner adds a webhook in the browser, copies its secret, sends a test event to a real
receiver and reads the delivery log."""

import hashlib
import hmac

import pytest
from playwright.sync_api import expect

from reviews_app.webhooks.models import Webhook
from tests.factories import make_released_model
from tests.reviews.webhooks.conftest import serving

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings):
    with serving(settings) as state:
        yield state


def test_owner_adds_a_webhook_and_sends_a_test_event(
    page,
    live_server,
    login,
    problems,
    screenshot,
    owner,
    receiver,
    eager_broker,
):
    make_released_model(owner)
    login("olivia")
    page.goto(f"{live_server.url}/models/olivia/iris-classifier/")
    page.locator("[data-webhooks-link]").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()

    page.fill("#id_url", receiver.url())
    page.get_by_label("version.published", exact=False).check()
    page.get_by_label("evaluation.finished", exact=False).check()
    page.get_by_role("button", name="Add webhook").click()
    secret = page.locator("#webhook-secret").inner_text()
    assert secret == Webhook.objects.get().secret
    screenshot("webhooks-created")

    page.get_by_role("button", name="Send test event").click()
    row = page.locator("[data-delivery-log] tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("Succeeded")
    expect(page.locator("#webhook-secret")).to_have_count(0)  # shown once
    (request,) = receiver.requests
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, request.headers["x-registry-signature-256"])
    screenshot("webhooks-log")
    problems.expect_none()
