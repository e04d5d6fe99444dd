"""The webhooks' API: only who may edit the model; the secret only in create and rotate."""

from unittest import mock

import pytest

from reviews_app.models import AuditEvent
from reviews_app.webhooks import ssrf
from reviews_app.webhooks.models import Webhook, WebhookDelivery
from tests.factories import make_model, make_released_model
from tests.models.api.helpers import model_url

from .conftest import hook_on

pytestmark = pytest.mark.django_db
PUBLIC = ["93.184.215.14"]


def hooks_url(owner: str = "olivia", name: str = "iris-classifier") -> str:
    return model_url(owner, name) + "webhooks/"


@pytest.fixture
def released(owner):
    """Public and released: outsiders see it (and get 403), rather than 404."""
    return make_released_model(owner)


@pytest.fixture(autouse=True)
def _public_dns():
    """hooks.example.com resolves to a public address; the IP literals resolve as themselves."""
    real = ssrf.resolve
    with mock.patch.object(
        ssrf, "resolve", side_effect=lambda h, p: PUBLIC if h.endswith("example.com") else real(h, p)
    ):
        yield


def create(client, **body):
    return client.post(
        hooks_url(), {"url": "https://hooks.example.com/in", "events": ["version.published"], **body}, format="json"
    )


def test_the_owner_creates_a_webhook_and_sees_its_secret_once(released, owner_api, owner):
    response = create(owner_api, events=["version.published", "version.submitted"])
    assert response.status_code == 201, response.json()
    body = response.json()
    webhook = Webhook.objects.get()
    assert body["secret"] == webhook.secret and len(webhook.secret) >= 40
    assert body["events"] == ["version.submitted", "version.published"]  # in the allow-list's order
    assert (body["url"], body["active"], body["created_by"]) == ("https://hooks.example.com/in", True, "olivia")

    listed = owner_api.get(hooks_url()).json()
    assert [item["id"] for item in listed["results"]] == [webhook.pk]
    assert "secret" not in listed["results"][0]
    assert "secret" not in owner_api.get(f"{hooks_url()}{webhook.pk}/").json()

    [event] = AuditEvent.objects.filter(action="webhook.create")
    assert (event.actor, event.model_full_name) == (owner, "olivia/iris-classifier")
    assert event.data["url"] == "https://hooks.example.com/in" and webhook.secret not in str(event.data)


def test_rotating_the_secret_answers_the_new_one_and_is_audited(released, owner_api):
    webhook = hook_on(released)
    old = webhook.secret
    response = owner_api.post(f"{hooks_url()}{webhook.pk}/rotate-secret/")
    assert response.status_code == 200
    webhook.refresh_from_db()
    assert response.json()["secret"] == webhook.secret != old
    assert AuditEvent.objects.filter(action="webhook.rotate_secret", data__webhook=webhook.pk).count() == 1
    assert old not in str(AuditEvent.objects.values_list("data", flat=True)[::1])


def test_patch_changes_the_url_events_and_active_and_checks_the_url(released, owner_api):
    webhook = hook_on(released)
    response = owner_api.patch(
        f"{hooks_url()}{webhook.pk}/", {"events": ["alias.moved"], "active": False}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["events"], response.json()["active"]) == (["alias.moved"], False)

    refused = owner_api.patch(f"{hooks_url()}{webhook.pk}/", {"url": "http://169.254.169.254/"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"] == "unsafe_url" and refused.json()["field"] == "url"
    assert "public addresses" in refused.json()["detail"]
    webhook.refresh_from_db()
    assert webhook.url == "https://hooks.example.com/registry"
    assert AuditEvent.objects.filter(action="webhook.update").count() == 1


def test_delete_removes_the_webhook_and_its_log_and_is_audited(released, owner_api, owner):
    webhook = hook_on(released)
    response = owner_api.delete(f"{hooks_url()}{webhook.pk}/")
    assert response.status_code == 204
    assert not Webhook.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.delete", actor=owner).count() == 1


def test_the_test_event_is_a_ping_delivery_and_the_log_lists_it(
    released, owner_api, django_capture_on_commit_callbacks
):
    webhook = hook_on(released)
    with mock.patch("reviews_app.webhooks.events.enqueue_delivery") as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            response = owner_api.post(f"{hooks_url()}{webhook.pk}/test/")
    assert response.status_code == 202
    assert response.json()["event_type"] == "ping" and response.json()["status"] == "pending"
    enqueue.assert_called_once_with(response.json()["id"])

    log = owner_api.get(f"{hooks_url()}{webhook.pk}/deliveries/").json()
    assert [d["id"] for d in log["results"]] == [response.json()["id"]]
    assert set(log["results"][0]) >= {"event_type", "status", "response_code", "duration_ms", "attempts", "created_at"}

    redeliver = owner_api.post(f"{hooks_url()}{webhook.pk}/deliveries/{response.json()['id']}/redeliver/")
    assert redeliver.status_code == 409 and redeliver.json()["error"] == "invalid_state"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1/"}, "url"),
        ({"url": "http://2130706433/"}, "url"),
        ({"url": "http://[::ffff:127.0.0.1]/"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"events": ["version.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"events": "version.published"}, "events"),
        ({"url": "https://hooks.example.com/" + "a" * 2000}, "url"),
    ],
)
def test_bad_input_is_a_400_with_a_sentence_and_nothing_saved(released, owner_api, body, field):
    response = create(owner_api, **body)
    assert response.status_code == 400
    assert response.json()["field"] == field and response.json()["detail"]
    assert not Webhook.objects.exists()


def test_the_number_of_webhooks_per_model_is_capped(released, owner_api, settings):
    settings.WEBHOOK_MAX_PER_MODEL = 2
    assert create(owner_api).status_code == 201
    assert create(owner_api).status_code == 201
    response = create(owner_api)
    assert response.status_code == 409 and response.json()["error"] == "too_many_webhooks"


def test_others_get_403_on_a_model_they_see(released, outsider_api, reviewer_api, staff_api):
    webhook = hook_on(released)
    for client in (outsider_api, reviewer_api, staff_api):
        for method, url in (
            ("get", hooks_url()),
            ("post", hooks_url()),
            ("get", f"{hooks_url()}{webhook.pk}/"),
            ("patch", f"{hooks_url()}{webhook.pk}/"),
            ("delete", f"{hooks_url()}{webhook.pk}/"),
            ("get", f"{hooks_url()}{webhook.pk}/deliveries/"),
            ("post", f"{hooks_url()}{webhook.pk}/test/"),
            ("post", f"{hooks_url()}{webhook.pk}/rotate-secret/"),
        ):
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code == 403, (method, url)
            assert response.json()["error"] == "forbidden"
            assert "secret" not in response.json()
    assert Webhook.objects.get().secret == webhook.secret
    assert not WebhookDelivery.objects.exists()


def test_others_get_404_on_a_private_model(owner, outsider_api):
    model = make_model(owner, "secret-model", visibility="private")
    webhook = hook_on(model)
    for url in (hooks_url(name="secret-model"), f"{hooks_url(name='secret-model')}{webhook.pk}/"):
        response = outsider_api.get(url)
        assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_the_anonymous_user_must_sign_in(released, api):
    response = api.get(hooks_url())
    assert response.status_code == 401 and response.json()["error"] == "not_authenticated"


def test_a_webhook_of_another_model_is_not_found_through_this_one(released, owner, owner_api):
    other = hook_on(make_model(owner, "other-model"))
    assert owner_api.get(f"{hooks_url()}{other.pk}/").status_code == 404


def test_the_list_takes_a_fixed_number_of_queries(released, owner_api, django_assert_max_num_queries):
    for _ in range(5):
        hook_on(released)
    # auth token, user, the model (with tags), may-edit, the count, the page of webhooks
    with django_assert_max_num_queries(8):
        assert len(owner_api.get(hooks_url()).json()["results"]) == 5


def test_an_id_too_large_for_the_database_is_a_404(released, owner_api):
    huge = 10**30
    for url in (f"{hooks_url()}{huge}/", f"{hooks_url()}{huge}/deliveries/"):
        response = owner_api.get(url)
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    webhook = hook_on(released)
    response = owner_api.post(f"{hooks_url()}{webhook.pk}/deliveries/{huge}/redeliver/")
    assert response.status_code == 404
