"""https deliveries connect to the checked address yet present the name: in the TLS SNI, in
the certificate check and in the Host header."""

import datetime
import http.server
import ssl
import threading
from unittest import mock

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from reviews_app.webhooks import delivery, services, ssrf
from reviews_app.webhooks.models import DeliveryStatus

pytestmark = pytest.mark.django_db
NAME = "hooks.example.test"


def self_signed(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path, settings):
    cert_path, key_path = self_signed(tmp_path, NAME)
    seen = {"sni": [], "hosts": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen["hosts"].append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    context.sni_callback = lambda sock, server_name, ctx: seen["sni"].append(server_name)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.WEBHOOK_ALLOWED_HOSTS = [f"{NAME}:{port}", f"other.example.test:{port}"]
    yield port, cert_path, seen
    server.shutdown()
    server.server_close()


def _deliver(model, owner, url: str):
    with mock.patch.object(ssrf, "resolve", return_value=["127.0.0.1"]):
        webhook = services.webhook_create(model=model, url=url, events=["alias.moved"], actor=owner)
        sent = services.webhook_send_test(webhook=webhook, actor=owner)
        outcome = delivery.attempt(delivery_id=sent.pk)
    sent.refresh_from_db()
    return outcome, sent


def test_a_trusted_certificate_for_the_name_is_delivered_to(model, owner, tls_receiver, settings):
    port, cert_path, seen = tls_receiver
    settings.WEBHOOK_CA_BUNDLE = str(cert_path)
    outcome, sent = _deliver(model, owner, f"https://{NAME}:{port}/hook")
    assert outcome.status == DeliveryStatus.SUCCEEDED and sent.response_code == 204
    assert seen["sni"] == [NAME] and seen["hosts"] == [f"{NAME}:{port}"]


def test_an_untrusted_certificate_is_a_failed_attempt(model, owner, tls_receiver):
    port, _, seen = tls_receiver
    outcome, sent = _deliver(model, owner, f"https://{NAME}:{port}/hook")
    assert outcome.status == DeliveryStatus.PENDING
    assert "TLS" in sent.error and seen["hosts"] == []


def test_a_certificate_for_another_name_is_a_failed_attempt(model, owner, tls_receiver, settings):
    port, cert_path, seen = tls_receiver
    settings.WEBHOOK_CA_BUNDLE = str(cert_path)
    outcome, sent = _deliver(model, owner, f"https://other.example.test:{port}/hook")
    assert outcome.status == DeliveryStatus.PENDING
    assert "TLS" in sent.error and seen["sni"] == ["other.example.test"] and seen["hosts"] == []
