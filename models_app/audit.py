"""The audit trail's hook for the apps below the review workflow, which keeps the trail.

The catalog and evaluation services record what they change (a model deleted, its
visibility changed, a benchmark marked) by calling `audit(...)` inside the transaction of
the change, so the event commits or rolls back with it. The writer (reviews_app's
`audit_record`) is registered in reviews_app's AppConfig.ready(): this app never imports
the one above it.
"""

from collections.abc import Callable
from typing import Any

from django.db import transaction

AuditWriter = Callable[..., Any]  # (*, actor, action, model_full_name, version, from_status, to_status, reason, data)

_writers: list[AuditWriter] = []


def audit_hook_register(writer: AuditWriter) -> None:
    if writer not in _writers:  # ready() may run more than once (tests, management commands)
        _writers.append(writer)


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
) -> None:
    """Record one event through every registered writer, in the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        # An event written outside the change's transaction could survive a rolled-back change.
        raise RuntimeError("audit() must be called inside the transaction of the change it records.")
    for writer in _writers:
        writer(
            actor=actor,
            action=action,
            model_full_name=model_full_name,
            version=version,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            data=data or {},
        )
