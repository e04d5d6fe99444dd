"""A real HTTP receiver on 127.0.0.1, allowed through WEBHOOK_ALLOWED_HOSTS, and helpers to
create webhooks and run their deliveries."""

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from reviews_app.webhooks.models import SUBSCRIBABLE, Webhook


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each request with the next scripted status (the last one repeats)."""

    port: int = 0
    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    location: str = ""  # sent with a 3xx

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}{path}"


def _handler(receiver: Receiver):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            index = min(len(receiver.requests) - 1, len(receiver.statuses) - 1)
            status = receiver.statuses[index]
            self.send_response(status)
            if 300 <= status < 400 and receiver.location:
                self.send_header("Location", receiver.location)
            payload = b'{"ok": true}' if status < 300 else b"boom " * 2000  # a long answer is cut
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = _answer
        do_GET = _answer

    return Handler


@contextmanager
def serving(settings) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1, and WEBHOOK_ALLOWED_HOSTS letting deliveries reach it."""
    state = Receiver()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBHOOK_ALLOWED_HOSTS = [state.host]
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    with serving(settings) as state:
        yield state


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run the on-commit callbacks (the enqueued deliveries) at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def hook_on(model, url: str = "https://hooks.example.com/registry", events=SUBSCRIBABLE, **fields) -> Webhook:
    """A webhook row made directly (no URL check: the events tests never send)."""
    return Webhook.objects.create(model=model, url=url, events=list(events), created_by=model.owner, **fields)
