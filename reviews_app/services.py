"""Lifecycle transitions of a version: submit, decide, deprecate, undeprecate.

Each transition is one function that (1) locks the version row, (2) checks the state
and who is acting, raising a domain error with a sentence, (3) sets the new status and
its timestamps, (4) records an append-only AuditEvent, and (5) creates notifications,
whose emails are enqueued only after the transaction commits.
"""

import logging

from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone

from accounts_app.roles import Action, may, reviewers
from evaluations_app.services import evaluations_for_submission
from models_app.cards import working_card
from models_app.lookups import version_url
from models_app.models import ModelFile, ModelVersion, VersionStatus
from models_app.services import lock_version, model_mark_published, model_publish_card
from registry_site.audit import RequestMeta, current_origin
from registry_site.errors import Conflict, DomainError, Forbidden, NotFound

from . import checks
from .diff import decision_snapshot, version_snapshot
from .models import AuditEvent, Decision, Notification, Review, ReviewStatus
from .tasks import send_notification_emails
from .webhooks.events import emit, version_payload

log = logging.getLogger(__name__)
MAX_COMMENT_LENGTH = 10_000


def audit_record(
    *,
    actor,
    action: str,
    version: ModelVersion | None = None,
    review: Review | None = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    data: dict | None = None,
    meta: RequestMeta | None = None,
    model_full_name: str = "",
) -> AuditEvent:
    """Append one event. A change to a model without a version (deleted, made private) names
    the model in `model_full_name`; the apps below call this through registry_site.audit.
    Inside `audit_origin` (the admin, the MLflow endpoint) the event names the request and `via`."""
    origin = current_origin()
    if origin is not None:
        meta = meta or origin.meta
        data = {**(data or {}), "via": (data or {}).get("via", origin.via)}
    meta = meta or RequestMeta()
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_username=getattr(actor, "username", "") or "",
        action=action,
        version=version,
        review=review,
        model_full_name=version.model.full_name if version else model_full_name,
        version_label=version.version if version else "",
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
        ip_address=meta.ip_address,
        user_agent=meta.user_agent,
    )


def notify(*, users, actor, verb: str, message: str, url: str) -> None:
    """In-app notifications now; their emails go out after commit (and by the sweep if the
    broker is down). Nobody is told of their own action."""
    actor_id = getattr(actor, "pk", None)
    notifications = Notification.objects.bulk_create(
        [Notification(user=user, verb=verb, message=message[:500], url=url) for user in users if user.pk != actor_id]
    )
    ids = [n.pk for n in notifications if n.pk is not None]
    if ids:
        transaction.on_commit(lambda: _enqueue_emails(ids))


def _enqueue_emails(ids: list[int]) -> None:
    try:
        send_notification_emails.delay(ids)
    except Exception:  # the broker is down: the periodic sweep sends them later
        log.warning("could not enqueue notification emails %s; the sweep will send them", ids, exc_info=True)


def _lock(version: ModelVersion) -> ModelVersion:
    locked = lock_version(version)
    if locked is None:  # its model was deleted meanwhile
        raise NotFound(f"Version {version.version} no longer exists.")
    return locked


def _state_error(version: ModelVersion, action: str) -> Conflict:
    return Conflict(
        f"Cannot {action} version {version.version}: it is {version.get_status_display().lower()}.",
        code="invalid_state",
    )


@transaction.atomic
def version_submit(*, version: ModelVersion, actor, note: str = "", meta: RequestMeta | None = None) -> Review:
    """draft or changes_requested → in_review, with a new open review and its checks.

    The version takes the model's card as it stands (models_app/cards.py): what the
    reviewer sees and approves, whatever the owner edits afterwards."""
    locked = _lock(version)
    if not may(actor, Action.SUBMIT, owner_id=locked.model.owner_id):
        raise Forbidden(f"Only the owner of {locked.model.full_name} can submit its versions.")
    if locked.status not in (VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED):
        raise _state_error(locked, "submit")
    if not locked.files.exists():
        raise Conflict("Add at least one file before submitting the version for review.", code="no_files")
    locked.card = working_card(locked.model).as_dict()
    report = checks.report(locked)
    now = timezone.now()
    from_status = locked.status
    locked.status = VersionStatus.IN_REVIEW
    locked.status_changed_at = now
    locked.submitted_at = now
    locked.save(update_fields=["status", "status_changed_at", "submitted_at", "card", "updated_at"])
    review = Review.objects.create(
        version=locked,
        submitted_by=actor,
        submitted_by_username=actor.username,
        submission_note=note[:MAX_COMMENT_LENGTH],
        checks=report.checks,
        failing_check_count=report.failing_count,
    )
    transaction.on_commit(lambda: _queue_submission_evaluations(locked.pk))
    audit_record(
        actor=actor, action="version.submit", version=locked, review=review,
        from_status=from_status, to_status=locked.status, reason=note, meta=meta,
    )  # fmt: skip
    emit("version.submitted", model_id=locked.model_id, payload=version_payload(locked, submitted_by=actor.username))
    notify(
        users=reviewers(),
        actor=actor,
        verb="submitted",
        message=f"{actor.username} submitted {locked.model.full_name} {locked.version} for review.",
        url=reverse("review-detail", kwargs={"pk": review.pk}),
    )
    return review


def _queue_submission_evaluations(version_id: int) -> None:
    version = ModelVersion.objects.select_related("model__owner").filter(pk=version_id).first()
    if version is not None and evaluations_for_submission(version=version):
        checks.review_refresh_checks(version_id=version_id)


_DECISION_STATUS = {
    Decision.APPROVE: VersionStatus.PUBLISHED,
    Decision.REQUEST_CHANGES: VersionStatus.CHANGES_REQUESTED,
    Decision.REJECT: VersionStatus.REJECTED,
}
_DECISION_WORDS = {
    Decision.APPROVE: "approved",
    Decision.REQUEST_CHANGES: "requested changes to",
    Decision.REJECT: "rejected",
}


@transaction.atomic
def review_decide(
    *,
    review: Review,
    actor,
    decision: str,
    comment: str = "",
    override_regression: bool = False,
    override_scan: bool = False,
    meta: RequestMeta | None = None,
) -> Review:
    """Approve, request changes or reject an open review.

    1. Check the reviewer may decide (reviewers group), then lock the version and the
       review: a second decision finds it closed → 409; never one's own submission.
    2. Check the comment (required to request changes or reject).
    3. Set the version's status and close the review, keeping a snapshot of what was
       decided on (for "changed since your last review"); approval also pins every file's
       SHA-256, keeps a snapshot of what was approved, for later diffs, and makes the card
       the version carries the model's published card (model_publish_card).
    4. Record the audit event and notify the owner.
    """
    if decision not in _DECISION_STATUS:
        raise DomainError("decision must be one of approve, request_changes or reject.", field="decision")
    if not may(actor, Action.DECIDE):
        raise Forbidden("Only members of the reviewers group can decide on submissions.")
    version = _lock(review.version)
    locked = Review.objects.select_for_update().get(pk=review.pk)
    if locked.status != ReviewStatus.OPEN:
        raise Conflict(
            f"This submission was already decided: {locked.reviewer_username or 'someone'} chose "
            f"'{locked.get_decision_display().lower()}' and the version is now {version.get_status_display().lower()}.",
            code="already_decided",
        )
    if locked.submitted_by_id == actor.pk or not may(actor, Action.DECIDE, owner_id=version.model.owner_id):
        raise Forbidden("You cannot decide on your own submission; another reviewer must.")
    if version.status != VersionStatus.IN_REVIEW:
        raise _state_error(version, "decide on")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise DomainError(f"A comment is at most {MAX_COMMENT_LENGTH} characters.", field="comment")
    if decision != Decision.APPROVE and not comment:
        raise DomainError(
            "Say what needs to change: a comment is required to request changes or reject.", field="comment"
        )
    regressions = [r.sentence() for r in checks.regressions(version, checks.previous_published(version))]
    if decision == Decision.APPROVE and regressions:
        if not override_regression:
            raise Conflict(
                "Approval is blocked by a metric regression: "
                + "; ".join(regressions)
                + ". Override the gate with a comment saying why, or request changes.",
                code="regression_gate",
            )
        if not comment:
            raise DomainError("Overriding the regression gate needs a comment saying why.", field="comment")
    scan_blockers = checks.scan_blockers(version)
    if decision == Decision.APPROVE and scan_blockers:
        if not override_scan:
            raise Conflict(
                "Approval is blocked by the file scan: "
                + "; ".join(scan_blockers)
                + ". Override it with a comment saying why, or request changes.",
                code="scan_gate",
            )
        if not comment:
            raise DomainError("Overriding the scan needs a comment saying why.", field="comment")
    now = timezone.now()
    new_status = _DECISION_STATUS[decision]
    prefetch_related_objects([version], Prefetch("files", queryset=ModelFile.objects.select_related("blob")))
    # Whatever the decision, what the reviewer decided on: a resubmission shows what changed since.
    locked.decided_snapshot = decision_snapshot(version)
    if decision == Decision.APPROVE:
        locked.pinned_files = dict(version.files.select_related("blob").values_list("path", "blob_id"))
        locked.approved_snapshot = version_snapshot(version)
        version.published_at = now
        model_mark_published(model_id=version.model_id, at=now)  # "Recently updated" moves on publication
    version.status = new_status
    version.status_changed_at = now
    version.save(update_fields=["status", "status_changed_at", "published_at", "updated_at"])
    if decision == Decision.APPROVE:
        model_publish_card(version=version)
    locked.status = ReviewStatus.CLOSED
    locked.decision = decision
    locked.comment = comment
    locked.reviewer = actor
    locked.reviewer_username = actor.username
    locked.decided_at = now
    locked.save()
    audit_record(
        actor=actor, action=f"review.{decision}", version=version, review=locked,
        from_status=VersionStatus.IN_REVIEW, to_status=new_status, reason=comment, meta=meta,
        data=(
            {
                "pinned_files": locked.pinned_files,
                **({"regression_override": regressions} if regressions else {}),
                **({"scan_override": scan_blockers} if scan_blockers else {}),
            }
            if decision == Decision.APPROVE
            else {}
        ),
    )  # fmt: skip
    decided = {"decision": decision, "comment": comment, "reviewer": actor.username}
    emit("version.decided", model_id=version.model_id, payload=version_payload(version, **decided))
    if decision == Decision.APPROVE:
        emit("version.published", model_id=version.model_id, payload=version_payload(version, published_at=now))
    owner = version.model.owner
    notify(
        users=[owner],
        actor=actor,
        verb=decision,
        message=f"{actor.username} {_DECISION_WORDS[decision]} {version.model.full_name} {version.version}"
        + (f": {comment}" if comment else "."),
        url=version_url(version),
    )
    return locked


@transaction.atomic
def version_deprecate(*, version: ModelVersion, actor, reason: str, meta: RequestMeta | None = None) -> ModelVersion:
    """published → deprecated: still downloadable, shown with the reason as a warning."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the version is deprecated, so its users know what to do.", field="reason")
    if len(reason) > 1000:
        raise DomainError("A deprecation reason is at most 1000 characters.", field="reason")
    locked = _lock(version)
    if not may(actor, Action.DEPRECATE, owner_id=locked.model.owner_id):
        raise Forbidden("Only the owner or staff can deprecate a version.")
    if locked.status != VersionStatus.PUBLISHED:
        raise _state_error(locked, "deprecate")
    locked.status = VersionStatus.DEPRECATED
    locked.status_changed_at = timezone.now()
    locked.deprecation_reason = reason
    locked.save(update_fields=["status", "status_changed_at", "deprecation_reason", "updated_at"])
    audit_record(
        actor=actor, action="version.deprecate", version=locked,
        from_status=VersionStatus.PUBLISHED, to_status=locked.status, reason=reason, meta=meta,
    )  # fmt: skip
    emit("version.deprecated", model_id=locked.model_id, payload=version_payload(locked, reason=reason))
    notify(
        users=[locked.model.owner],
        actor=actor,
        verb="deprecated",
        message=f"{actor.username} deprecated {locked.model.full_name} {locked.version}: {reason}",
        url=version_url(locked),
    )
    aliases = sorted(locked.aliases.values_list("name", flat=True))
    if aliases:
        # A warning from the registry, not news of someone's action: the owner gets it even
        # when they deprecated the version themselves (notify skips the actor).
        names = ", ".join(f"@{name}" for name in aliases)
        notify(
            users=[locked.model.owner],
            actor=None,
            verb="alias_deprecated",
            message=f"{locked.model.full_name} {locked.version} is deprecated, and {names} still "
            f"{'points' if len(aliases) == 1 else 'point'} at it: move {'it' if len(aliases) == 1 else 'them'} "
            "to a maintained version.",
            url=version_url(locked),
        )
    return locked


@transaction.atomic
def version_undeprecate(*, version: ModelVersion, actor, meta: RequestMeta | None = None) -> ModelVersion:
    """deprecated → published (undo)."""
    locked = _lock(version)
    if not may(actor, Action.DEPRECATE, owner_id=locked.model.owner_id):
        raise Forbidden("Only the owner or staff can undo a deprecation.")
    if locked.status != VersionStatus.DEPRECATED:
        raise _state_error(locked, "undeprecate")
    reason = locked.deprecation_reason
    locked.status = VersionStatus.PUBLISHED
    locked.status_changed_at = timezone.now()
    locked.deprecation_reason = ""
    locked.save(update_fields=["status", "status_changed_at", "deprecation_reason", "updated_at"])
    audit_record(
        actor=actor, action="version.undeprecate", version=locked,
        from_status=VersionStatus.DEPRECATED, to_status=locked.status, data={"previous_reason": reason}, meta=meta,
    )  # fmt: skip
    return locked


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())
