"""URLs that would make the registry call into its own network are refused, when the webhook
is saved and again when it is delivered (DNS rebinding)."""

from unittest import mock

import pytest

from reviews_app.webhooks import delivery, services, ssrf
from reviews_app.webhooks.models import DeliveryStatus, Webhook

pytestmark = pytest.mark.django_db

PUBLIC_ADDRESS = "93.184.215.14"

INTERNAL_URLS = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/",
    "http://10.0.0.1/",
    "http://192.168.1.10/",
    "http://172.16.5.4/",
    "http://169.254.169.254/latest/meta-data/",
    "http://2130706433/",  # 127.0.0.1 as a decimal number
    "http://0x7f.1/",  # ... in hex
    "http://017700000001/",  # ... in octal
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://100.64.0.1/",  # shared address space (CGNAT)
    "http://224.0.0.1/",  # multicast
    "http://[fd00:ec2::254]/",  # AWS metadata over IPv6
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_it_refuses_to_save_a_url_that_resolves_to_an_internal_address(model, owner, url):
    with pytest.raises(ssrf.UnsafeURL) as refused:
        services.webhook_create(model=model, url=url, events=["version.published"], actor=owner)
    assert "webhooks are delivered only to public addresses" in refused.value.detail
    assert refused.value.field == "url"
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("url", "sentence"),
    [
        ("ftp://example.com/", "must start with http:// or https://"),
        ("file:///etc/passwd", "must start with http:// or https://"),
        ("gopher://127.0.0.1:6379/_INFO", "must start with http:// or https://"),
        ("http://user:secret@example.com/", "may not contain a user name or password"),
        ("http://@127.0.0.1/", "may not contain a user name or password"),
        ("http://example.com\\@127.0.0.1/", "backslashes"),
        ("http://exa mple.com/", "spaces"),
        ("http:///path", "must name a host"),
        ("http://example.com:99999/", "not a valid URL"),
        ("https://example.com/#x", "#fragment"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("", "Enter the URL"),
    ],
)
def test_it_refuses_urls_that_are_not_plain_http_or_https(model, owner, url, sentence):
    with pytest.raises(ssrf.UnsafeURL) as refused:
        services.webhook_create(model=model, url=url, events=["version.published"], actor=owner)
    assert sentence in refused.value.detail


def test_a_public_address_is_accepted(model, owner):
    with mock.patch.object(ssrf, "resolve", return_value=[PUBLIC_ADDRESS]):
        webhook = services.webhook_create(
            model=model, url="https://hooks.example.com/in", events=["version.published"], actor=owner
        )
    assert webhook.url == "https://hooks.example.com/in"


def test_every_resolved_address_must_be_public(model, owner):
    with mock.patch.object(ssrf, "resolve", return_value=[PUBLIC_ADDRESS, "10.1.2.3"]):
        with pytest.raises(ssrf.UnsafeURL, match="a private address"):
            services.webhook_create(
                model=model, url="https://hooks.example.com/in", events=["version.published"], actor=owner
            )


def test_a_name_that_does_not_resolve_is_refused_at_save_time(model, owner):
    with mock.patch.object(ssrf, "resolve", side_effect=OSError("NXDOMAIN")):
        with pytest.raises(ssrf.UnresolvableURL, match="could not be resolved"):
            services.webhook_create(
                model=model, url="https://nowhere.example.com/", events=["version.published"], actor=owner
            )


def test_a_name_rebound_to_a_private_address_is_refused_at_delivery(model, owner):
    """It passed when saved (a public address); by delivery time it resolves to 10.0.0.7."""
    with mock.patch.object(ssrf, "resolve", return_value=[PUBLIC_ADDRESS]):
        webhook = services.webhook_create(
            model=model, url="https://rebind.example.com/hook", events=["version.published"], actor=owner
        )
    sent = services.webhook_send_test(webhook=webhook, actor=owner)
    with (
        mock.patch.object(ssrf, "resolve", return_value=["10.0.0.7"]),
        mock.patch.object(delivery, "_post") as post,
    ):
        outcome = delivery.attempt(delivery_id=sent.pk)
    post.assert_not_called()
    assert outcome.status == DeliveryStatus.REFUSED and outcome.retry_in is None  # never retried
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.REFUSED
    assert sent.error.startswith("Not sent: The host rebind.example.com resolves to a private address")
    assert sent.may_redeliver


def test_the_operator_can_allow_an_internal_host_and_port(model, owner, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1:8080", "ci.internal"]
    with mock.patch.object(ssrf, "resolve", return_value=["10.0.0.9"]):
        services.webhook_create(model=model, url="http://ci.internal/hook", events=["alias.moved"], actor=owner)
    services.webhook_create(model=model, url="http://127.0.0.1:8080/hook", events=["alias.moved"], actor=owner)
    with pytest.raises(ssrf.UnsafeURL):  # the same host on another port is not listed
        services.webhook_create(model=model, url="http://127.0.0.1:8081/hook", events=["alias.moved"], actor=owner)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("8.8.8.8", ""),
        ("2606:4700:4700::1111", ""),
        ("127.0.0.1", "a loopback address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("168.63.129.16", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("fe80::1%eth0", "a link-local address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::", "the unspecified address"),
        ("240.0.0.1", "a private address"),
        ("ff02::1", "a multicast address"),
    ],
)
def test_address_kinds(address, problem):
    assert ssrf.address_problem(address) == problem
