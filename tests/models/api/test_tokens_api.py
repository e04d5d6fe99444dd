"""Tokens: exchanged for a password, sent only in the Authorization header, stored hashed."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts_app.models import ApiToken, hash_token
from accounts_app.services import token_create, token_revoke
from models_app.models import RegisteredModel

from .helpers import API, assert_error

pytestmark = pytest.mark.django_db

NEW_MODEL = {"name": "m", "task": "other", "framework": "other", "license": "MIT"}


def test_it_exchanges_a_username_and_password_for_a_token(owner, api):
    response = api.post(
        f"{API}/auth/token/", {"username": "olivia", "password": "correct-horse-battery"}, format="json"
    )

    assert response.status_code == 201, response.json()
    raw = response.json()["token"]
    assert raw.startswith("mr_") and len(raw) > 40
    token = ApiToken.objects.get(user=owner)
    assert token.key_hash == hash_token(raw)
    assert token.prefix == raw[:10]


def test_the_raw_token_is_stored_nowhere(owner, api):
    raw = api.post(
        f"{API}/auth/token/", {"username": "olivia", "password": "correct-horse-battery"}, format="json"
    ).json()["token"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT name, prefix, key_hash FROM accounts_app_apitoken")
        rows = cursor.fetchall()
    assert rows and all(raw not in value for row in rows for value in row)


def test_an_exchanged_token_authenticates(owner, api):
    raw = api.post(
        f"{API}/auth/token/", {"username": "olivia", "password": "correct-horse-battery"}, format="json"
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert api.post(f"{API}/models/", NEW_MODEL, format="json").status_code == 201
    assert RegisteredModel.objects.get().owner == owner
    assert ApiToken.objects.get(user=owner).last_used_at is not None


def test_an_expiring_token_gets_its_expiry(owner, api):
    body = api.post(
        f"{API}/auth/token/",
        {"username": "olivia", "password": "correct-horse-battery", "expires_in_days": 7},
        format="json",
    ).json()

    assert body["expires_at"] is not None
    assert ApiToken.objects.get().expires_at > timezone.now() + timedelta(days=6)


def test_an_exchange_returns_a_named_expiring_token_and_replaces_the_last_one(owner, api):
    """The README's recipe, run by a script every hour, leaves one live token, not hundreds."""
    credentials = {"username": "olivia", "password": "correct-horse-battery"}
    first = api.post(f"{API}/auth/token/", credentials, format="json").json()
    second = api.post(f"{API}/auth/token/", credentials, format="json").json()

    assert second["name"] == "password exchange"
    assert timezone.now() + timedelta(days=29) < ApiToken.objects.get(key_hash=hash_token(second["token"])).expires_at
    assert ApiToken.objects.filter(user=owner).active().count() == 1
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {first['token']}")
    assert api.post(f"{API}/models/", NEW_MODEL, format="json").status_code == 401
    other = api.post(f"{API}/auth/token/", {**credentials, "name": "ci"}, format="json").json()
    assert other["name"] == "ci" and ApiToken.objects.filter(user=owner).active().count() == 2


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "olivia", "password": "wrong"},
        {"username": "nobody", "password": "correct-horse-battery"},
        {"username": "OLIVIA ", "password": "wrong"},
    ],
)
def test_wrong_credentials_get_a_400_with_a_code_and_no_token(owner, api, credentials):
    assert_error(api.post(f"{API}/auth/token/", credentials, format="json"), 400, "invalid_credentials")
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"username": "olivia"},
        {"username": "olivia", "password": "x", "expires_in_days": 0},
        {"username": ["a"], "password": 1},
    ],
)
def test_an_incomplete_exchange_gets_the_error_body(owner, api, payload):
    assert_error(api.post(f"{API}/auth/token/", payload, format="json"), 400, "invalid")


def test_an_inactive_user_gets_no_token(owner, api):
    owner.is_active = False
    owner.save()

    assert_error(
        api.post(f"{API}/auth/token/", {"username": "olivia", "password": "correct-horse-battery"}, format="json"), 400
    )
    assert not ApiToken.objects.exists()


def test_token_exchange_is_rate_limited(owner, api, settings):
    responses = [
        api.post(f"{API}/auth/token/", {"username": "olivia", "password": f"guess-{i}"}, format="json")
        for i in range(31)
    ]

    assert [r.status_code for r in responses[:30]] == [400] * 30
    assert_error(responses[30], 429, "rate_limited")
    assert int(responses[30]["Retry-After"]) > 0


def test_a_revoked_token_is_refused(owner, api):
    token, raw = token_create(user=owner, name="ci")
    token_revoke(token=token, actor=owner)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert_error(api.get(f"{API}/models/"), 401, "authentication_failed")
    assert_error(api.post(f"{API}/models/", NEW_MODEL, format="json"), 401)
    assert not RegisteredModel.objects.exists()


def test_an_expired_token_is_refused(owner, api):
    token, raw = token_create(user=owner, name="ci", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = api.post(f"{API}/models/", NEW_MODEL, format="json")

    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not RegisteredModel.objects.exists()


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer not-a-token", "Bearer mr_\u00e9", "Token nope"])
def test_a_malformed_or_unknown_token_is_a_401(owner, api, header):
    api.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    assert_error(api.get(f"{API}/models/"), 401, "authentication_failed")


@pytest.mark.parametrize("param", ["token", "access_token", "bearer", "auth_token"])
def test_a_token_in_the_query_string_is_ignored(owner, api, param):
    _, raw = token_create(user=owner, name="ci")

    response = api.post(f"{API}/models/?{param}={raw}", NEW_MODEL, format="json")

    assert_error(response, 401, "not_authenticated")
    assert not RegisteredModel.objects.exists()


def test_a_token_of_a_deactivated_user_is_refused(owner, api):
    _, raw = token_create(user=owner, name="ci")
    owner.is_active = False
    owner.save()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert_error(api.get(f"{API}/models/"), 401)
