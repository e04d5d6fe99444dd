"""One attempt of one delivery.

1. Claim the attempt with a conditional update: only a pending delivery that is due and not
   claimed by another worker moves, so a task run twice (the sweep's and the retry's, a
   redelivered message) sends once, and a succeeded delivery is never sent again.
2. Check the URL again (ssrf.py) and connect to the very address checked: a name re-pointed
   at an internal address since it was saved is refused (status `refused`, not retried).
3. POST the stored body, signed with the webhook's secret; no redirect is followed, the
   timeouts are short and at most a few KiB of the answer are read.
4. Record the outcome: 2xx succeeded; anything else is a failed attempt, retried with
   exponential backoff until WEBHOOK_MAX_ATTEMPTS, then failed.
"""

import hashlib
import hmac
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

import urllib3
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from . import ssrf
from .models import DeliveryStatus, EventType, WebhookDelivery

log = logging.getLogger(__name__)
USER_AGENT = "ModelRegistry-Webhooks/1"
MAX_RESPONSE_BYTES = 4096
EXCERPT_CHARS = 1000
SIGNATURE_HEADER = "X-Registry-Signature-256"


@dataclass(frozen=True)
class Outcome:
    status: str  # a DeliveryStatus, or "skipped" when the attempt was not ours to make
    retry_in: float | None = None  # seconds until the next attempt, when there is one


SKIPPED = Outcome(status="skipped")


def signature(secret: str, body: bytes) -> str:
    """The value of X-Registry-Signature-256: HMAC-SHA256 of the raw body, hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_seconds(attempts: int) -> float:
    """10 s, 20 s, 40 s... after the 1st, 2nd, 3rd attempt, each up to a quarter longer, so
    many receivers failing at once do not come back in step."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return base * (1 + random.random() / 4)


def _claim_seconds() -> int:
    # Longer than any attempt can take (both timeouts and a margin): an attempt whose worker
    # died is claimed again by the sweep after this.
    return settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT + 60


def attempt(*, delivery_id: int) -> Outcome:
    """Make the delivery's next attempt if it is due; see the module's numbered steps."""
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            attempts=F("attempts") + 1, last_attempt_at=now, claimed_until=now + timedelta(seconds=_claim_seconds())
        )
    )
    if not claimed:
        return SKIPPED
    delivery = WebhookDelivery.objects.select_related("webhook", "event").filter(pk=delivery_id).first()
    if delivery is None:  # deleted with its webhook meanwhile
        return SKIPPED
    webhook, event = delivery.webhook, delivery.event
    if not webhook.active and event.type != EventType.PING:
        return _finish(delivery, DeliveryStatus.FAILED, error="The webhook was disabled before this delivery.")
    try:
        target = ssrf.check_url(webhook.url)
    except ssrf.UnsafeURL as refused:
        return _finish(delivery, DeliveryStatus.REFUSED, error=f"Not sent: {refused.detail}")
    except ssrf.UnresolvableURL as unresolved:
        return _failed_attempt(delivery, error=unresolved.detail)
    body = event.body.encode()
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",  # what is read is bounded in bytes on the wire
        "X-Registry-Event": event.type,
        "X-Registry-Delivery": str(event.id),
        SIGNATURE_HEADER: signature(webhook.secret, body),
    }
    started = time.monotonic()
    try:
        code, excerpt = _post(target, body, headers)
    except Exception as error:  # timeouts, refused connections, TLS failures, garbage answers
        duration = _ms_since(started)
        return _failed_attempt(delivery, error=_error_sentence(error), duration_ms=duration)
    duration = _ms_since(started)
    if 200 <= code < 300:
        return _finish(
            delivery, DeliveryStatus.SUCCEEDED, response_code=code, duration_ms=duration, excerpt=excerpt, error=""
        )
    if 300 <= code < 400:
        error = f"The receiver answered {code}, a redirect; redirects are not followed."
    else:
        error = f"The receiver answered {code}; a 2xx status is needed."
    return _failed_attempt(delivery, error=error, response_code=code, duration_ms=duration, excerpt=excerpt)


def _post(target: ssrf.Target, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST to the checked address, presenting the name (Host header, TLS SNI and certificate)."""
    timeout = urllib3.Timeout(connect=settings.WEBHOOK_CONNECT_TIMEOUT, read=settings.WEBHOOK_READ_TIMEOUT)
    common = {"port": target.port, "timeout": timeout, "retries": False, "maxsize": 1, "block": False}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.WEBHOOK_CA_BUNDLE,
            server_hostname=target.host,
            assert_hostname=target.host,
            **common,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, **common)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
            decode_content=False,
        )
        try:
            head = response.read(MAX_RESPONSE_BYTES, decode_content=False)
        finally:
            response.release_conn()
        return response.status, head.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    finally:
        pool.close()


def _error_sentence(error: Exception) -> str:
    # NewConnectionError is a subclass of ConnectTimeoutError in urllib3 2: test it first.
    if isinstance(error, (urllib3.exceptions.NewConnectionError, ConnectionError)):
        return "The connection was refused or could not be made."
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError):
        return f"The connection timed out after {settings.WEBHOOK_CONNECT_TIMEOUT} s."
    if isinstance(error, urllib3.exceptions.ReadTimeoutError):
        return f"The receiver did not answer within {settings.WEBHOOK_READ_TIMEOUT} s."
    if isinstance(error, urllib3.exceptions.SSLError):
        return "The TLS handshake failed (is the certificate valid for the host name?)."
    if isinstance(error, urllib3.exceptions.ProtocolError):
        return "The receiver closed the connection or did not answer in HTTP."
    log.warning("webhook attempt failed unexpectedly", exc_info=error)
    return "The delivery failed: " + type(error).__name__ + "."


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _failed_attempt(delivery: WebhookDelivery, **outcome) -> Outcome:
    attempts = WebhookDelivery.objects.filter(pk=delivery.pk).values_list("attempts", flat=True).first() or 0
    if attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        return _finish(delivery, DeliveryStatus.FAILED, **outcome)
    delay = backoff_seconds(attempts)
    _record(delivery, DeliveryStatus.PENDING, next_attempt_at=timezone.now() + timedelta(seconds=delay), **outcome)
    return Outcome(status=DeliveryStatus.PENDING, retry_in=delay)


def _finish(delivery: WebhookDelivery, status: str, **outcome) -> Outcome:
    _record(delivery, status, next_attempt_at=None, **outcome)
    return Outcome(status=status)


def _record(
    delivery: WebhookDelivery,
    status: str,
    *,
    next_attempt_at,
    error: str = "",
    response_code: int | None = None,
    duration_ms: int | None = None,
    excerpt: str = "",
) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
        status=status,
        next_attempt_at=next_attempt_at,
        claimed_until=None,
        error=error[:500],
        response_code=response_code,
        duration_ms=duration_ms,
        response_excerpt=excerpt,
    )
