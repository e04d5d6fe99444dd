import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts_app.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db


def test_signup_creates_a_user_and_logs_them_in(client):
    response = client.post(
        reverse("signup"),
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="newbie").exists()
    assert client.get(reverse("token-list")).status_code == 200


def test_signup_with_mismatched_or_weak_password_shows_errors(client):
    response = client.post(
        reverse("signup"), {"username": "x", "email": "x@example.com", "password1": "123", "password2": "456"}
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert not get_user_model().objects.filter(username="x").exists()


def test_token_secret_is_shown_once_and_stored_hashed(owner_client, owner):
    response = owner_client.post(reverse("token-list"), {"name": "laptop"})
    secret = response.context["secret"]
    assert secret and secret in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    token = ApiToken.objects.get(user=owner)
    assert token.key_hash == hash_token(secret) and secret not in (token.prefix, token.key_hash)
    assert secret not in owner_client.get(reverse("token-list")).content.decode()


def test_token_from_the_page_authenticates_api_calls(owner_client, client):
    secret = owner_client.post(reverse("token-list"), {"name": "ci"}).context["secret"]
    response = client.get(reverse("api-model-list"), HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200


def test_token_without_name_gives_a_form_error(owner_client):
    response = owner_client.post(reverse("token-list"), {"name": ""})
    assert response.context["form"].errors and response.context["secret"] is None


def test_owner_revokes_a_token(owner_client, owner):
    owner_client.post(reverse("token-list"), {"name": "old"})
    token = ApiToken.objects.get(user=owner)
    response = owner_client.post(reverse("token-revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_outsider_cannot_revoke_someone_elses_token(owner_client, outsider_client, owner):
    owner_client.post(reverse("token-list"), {"name": "mine"})
    token = ApiToken.objects.get(user=owner)
    assert outsider_client.post(reverse("token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_tokens_page_lists_only_own_tokens(owner_client, outsider_client):
    owner_client.post(reverse("token-list"), {"name": "olivias-token"})
    assert b"olivias-token" not in outsider_client.get(reverse("token-list")).content
