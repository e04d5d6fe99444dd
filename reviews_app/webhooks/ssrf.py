"""Which webhook URLs the registry may call: an allow-list, checked on the address actually used.

A webhook URL is chosen by a user, and the worker that calls it sits inside the operator's
network, so a URL is a way to make the registry send requests to places its users cannot
reach (the cloud's metadata service, a database's HTTP port, an admin panel on localhost).
The rules:

1. Only `http` and `https`; no user name or password in the URL; an ASCII (IDNA) host name.
2. The host is resolved, and EVERY address it resolves to must be globally routable:
   loopback, private, link-local (169.254.169.254, the metadata service), shared (CGNAT
   100.64/10), multicast, reserved and unspecified addresses are refused, as are IPv6
   addresses that carry one of those (IPv4-mapped, NAT64, 6to4, Teredo). Spellings such as
   `2130706433`, `0x7f.1` or `017700000001` end up refused because the resolved address is
   what is checked, never the text.
3. Unless the operator lists the host (`host` or `host:port`) in WEBHOOK_ALLOWED_HOSTS.

The check runs when the webhook is saved and again before every attempt (a name can be
re-pointed at an internal address after it passed: DNS rebinding), and the attempt connects
to the very address checked (delivery.py pins it), so a second lookup cannot differ.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from registry_site.errors import DomainError

MAX_URL_LENGTH = 2000
ALLOWED_SCHEMES = {"http": 80, "https": 443}
# Metadata and host services that some clouds put on addresses a global check alone could let
# through (Azure's wire server is in public address space); refused even when "global".
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "168.63.129.16",  # Azure wire server
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeURL(DomainError):
    """The URL may not be called; a sentence that says why (never retried)."""

    code = "unsafe_url"

    def __init__(self, detail: str):
        super().__init__(detail, field="url")


class UnresolvableURL(DomainError):
    """The host did not resolve (now): refused when saving, a failed attempt when delivering."""

    code = "unresolvable_url"

    def __init__(self, detail: str):
        super().__init__(detail, field="url")


@dataclass(frozen=True)
class Target:
    """What an attempt connects to: the checked address, and the names to present there."""

    scheme: str
    host: str  # the name, lowercased and IDNA-encoded (or the IP literal, without brackets)
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the resolved address the connection must use

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == ALLOWED_SCHEMES[self.scheme] else f"{host}:{self.port}"


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (patched by tests to play a rebinding DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str) -> Target:
    """The target to connect to, or UnsafeURL / UnresolvableURL with the reason."""
    scheme, host, port, path = _parse(url)
    allowed = _is_allowed_host(host, port)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise UnresolvableURL(f"The host {host} could not be resolved.") from None
    if not addresses:
        raise UnresolvableURL(f"The host {host} could not be resolved.")
    if not allowed:
        for address in addresses:
            problem = address_problem(address)
            if problem:
                raise UnsafeURL(
                    f"The host {host} resolves to {problem}; webhooks are delivered only to public "
                    "addresses (an operator can allow a host with WEBHOOK_ALLOWED_HOSTS)."
                )
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def validate_url(url: str) -> str:
    """What the forms and the API store: the URL as given, once it passed the check."""
    check_url(url)
    return url


def _parse(url: str) -> tuple[str, str, int, str]:
    if not isinstance(url, str) or not url:
        raise UnsafeURL("Enter the URL the events should be sent to.")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"A webhook URL is at most {MAX_URL_LENGTH} characters.")
    if any(ord(char) <= 32 or ord(char) == 127 for char in url) or "\\" in url:
        raise UnsafeURL("A webhook URL may not contain spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("This is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeURL("A webhook URL must start with http:// or https://.")
    if "@" in parts.netloc:
        raise UnsafeURL("A webhook URL may not contain a user name or password; put a token in the path or query.")
    if parts.fragment:
        raise UnsafeURL("A webhook URL may not have a #fragment.")
    raw_host = parts.hostname or ""
    if not raw_host:
        raise UnsafeURL("A webhook URL must name a host.")
    host = _normalise_host(raw_host)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or ALLOWED_SCHEMES[scheme], path


def _normalise_host(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))  # an IP literal (IPv6 without brackets, or a zone id refused)
    except ValueError:
        pass
    try:
        encoded = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UnsafeURL("The URL's host name is not a valid domain name.") from None
    labels = encoded.rstrip(".").split(".")
    if not all(label and len(label) <= 63 and all(c.isalnum() or c in "-_" for c in label) for label in labels):
        raise UnsafeURL("The URL's host name is not a valid domain name.")
    return encoded.rstrip(".")


def _is_allowed_host(host: str, port: int) -> bool:
    allowed = settings.WEBHOOK_ALLOWED_HOSTS
    if not allowed:
        return False
    shown = f"[{host}]" if ":" in host else host
    return shown in allowed or f"{shown}:{port}" in allowed


def address_problem(address: str) -> str:
    """'' when the address is globally routable; otherwise what kind of address it is."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "an address that cannot be checked"
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(str(embedded))
    for name, flag in (
        ("the unspecified address", ip.is_unspecified),
        ("a loopback address", ip.is_loopback),
        ("a link-local address", ip.is_link_local),
        ("a multicast address", ip.is_multicast),
        ("a private address", ip.is_private),
        ("a reserved address", ip.is_reserved),
    ):
        if flag:
            return name
    if not ip.is_global:  # shared address space (100.64.0.0/10) and the rest IANA does not route
        return "an address that is not publicly routable"
    return ""
