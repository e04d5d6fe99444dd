import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from registry_site.audit import audit
from registry_site.errors import DomainError

from .models import ApiToken, hash_token

TOKEN_PREFIX = "mr_"
MAX_TOKENS_PER_USER = 50


@transaction.atomic
def token_create(*, user, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored or shown again.
    Only the user makes tokens of their own (the tokens page, the password exchange)."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the token a name, so you can tell it apart later.", field="name")
    if len(name) > 100:
        raise DomainError("A token name is at most 100 characters.", field="name")
    if expires_in_days is not None and not (1 <= expires_in_days <= 3650):
        raise DomainError("A token expires after 1 to 3650 days.", field="expires_in_days")
    if ApiToken.objects.filter(user=user).active().count() >= MAX_TOKENS_PER_USER:
        raise DomainError(f"You have {MAX_TOKENS_PER_USER} active tokens; revoke one first.", code="too_many_tokens")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:10],
        key_hash=hash_token(raw),
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    audit(actor=user, action="token.create", to_status="active", data=_token_data(token))
    return token, raw


def _token_data(token: ApiToken) -> dict:
    # Never the secret nor its hash: the prefix is what the tokens page shows to tell them apart.
    return {
        "token": token.name,
        "prefix": token.prefix,
        "user": token.user.username,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
    }


# A password exchanged for a token (the README's curl recipe) gets a named token that
# expires, and an exchange replaces the earlier one of the same name.
EXCHANGE_TOKEN_NAME = "password exchange"
EXCHANGE_TOKEN_DAYS = 30


@transaction.atomic
def token_exchange(*, user, name: str, expires_in_days: int) -> tuple[ApiToken, str]:
    """A fresh expiring token; the user's earlier active tokens of that name are revoked."""
    type(user).objects.select_for_update().filter(pk=user.pk).first()  # one exchange at a time per user
    for earlier in ApiToken.objects.filter(user=user, name=(name or "").strip()).active().select_related("user"):
        token_revoke(token=earlier, actor=user)
    return token_create(user=user, name=name, expires_in_days=expires_in_days)


@transaction.atomic
def token_revoke(*, token: ApiToken, actor) -> bool:
    """Revoke a token (its user on the tokens page, staff in the admin); False if it already was."""
    now = timezone.now()
    if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        return False
    token.revoked_at = now
    audit(actor=actor, action="token.revoke", from_status="active", to_status="revoked", data=_token_data(token))
    return True


@transaction.atomic
def user_create(*, username: str, email: str, password: str):
    """Sign-up: the new user is the actor of their own account's creation."""
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    audit(actor=user, action="user.create", data={"user": user.username})
    return user
