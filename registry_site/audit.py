"""The audit trail's hook, in the lowest layer so that every app can record what it changes.

The services of every app (accounts, catalog, evaluation) record a state change by calling
`audit(...)` inside the transaction of the change, so the event commits or rolls back with
it. The writer (reviews_app's `audit_record`, which keeps the append-only trail) is
registered in reviews_app's AppConfig.ready(): no app imports the one above it.

A request that acts through the admin site runs inside `audit_origin(request, via="admin")`:
the events its services record carry the request's IP address and user agent and say where
they came from, and the admin can tell whether a service recorded its change (see
registry_site.admin).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

AuditWriter = Callable[
    ..., Any
]  # (*, actor, action, model_full_name, version, from_status, to_status, reason, data, meta)


@dataclass(frozen=True)
class RequestMeta:
    """Where an action came from, for the audit trail."""

    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request) -> "RequestMeta":
        if request is None:
            return cls()
        return cls(
            ip_address=request.META.get("REMOTE_ADDR") or None, user_agent=request.META.get("HTTP_USER_AGENT", "")[:300]
        )


@dataclass
class AuditOrigin:
    """The request a block of changes comes from, and how many events it has recorded."""

    meta: RequestMeta
    via: str
    recorded: int = 0
    # Run just before the block ends, inside its transaction (the admin's deletions).
    before_end: list[Callable[[], None]] = field(default_factory=list)


_writers: list[AuditWriter] = []
_origin: ContextVar[AuditOrigin | None] = ContextVar("audit_origin", default=None)


def audit_hook_register(writer: AuditWriter) -> None:
    if writer not in _writers:  # ready() may run more than once (tests, management commands)
        _writers.append(writer)


def current_origin() -> AuditOrigin | None:
    return _origin.get()


@contextmanager
def audit_origin(request, *, via: str) -> Iterator[AuditOrigin]:
    """Every event recorded inside names the request's IP and user agent and `via`."""
    origin = AuditOrigin(meta=RequestMeta.from_request(request), via=via)
    token = _origin.set(origin)
    try:
        yield origin
        for callback in origin.before_end:
            callback()
    finally:
        _origin.reset(token)


def audit(
    *,
    actor,
    action: str,
    model_full_name: str = "",
    version=None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    data: dict | None = None,
    meta: RequestMeta | None = None,
) -> None:
    """Record one event through every registered writer, in the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        # An event written outside the change's transaction could survive a rolled-back change.
        raise RuntimeError("audit() must be called inside the transaction of the change it records.")
    data = dict(data or {})
    origin = _origin.get()
    if origin is not None:
        origin.recorded += 1
        meta = meta or origin.meta
        data.setdefault("via", origin.via)
    for writer in _writers:
        writer(
            actor=actor,
            action=action,
            model_full_name=model_full_name,
            version=version,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            data=data,
            meta=meta,
        )
