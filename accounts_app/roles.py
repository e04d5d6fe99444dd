"""Who may do what: the one table of the registry.

Every view, viewset, service and queryset asks here; nothing else reads `is_staff` or
the reviewers' permission. A user holds some roles for a given object (the owner of a
model is its OWNER, a reviewer is a REVIEWER everywhere, staff are STAFF everywhere) and
may act when one of those roles is granted the action, unless a role they hold for that
object is denied it (nobody decides on their own submission).

The querysets turn the SEE_* grants into SQL (`RegisteredModel.objects.visible_to`): the
rows one may see depend on each row's owner and status, which a single answer here cannot
carry.
"""

from enum import StrEnum

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, QuerySet
from rest_framework.permissions import BasePermission

from registry_site.audit import audit


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"  # logged in, nothing to do with the object
    OWNER = "owner"  # owns the model or test set in question
    REVIEWER = "reviewer"  # in the reviewers group (or holds its permission)
    STAFF = "staff"  # runs the registry: the admin site, benchmarks, the audit trail


class Action(StrEnum):
    SEE_PUBLISHED = "see_published"  # published and deprecated versions of public models
    SEE_SUBMITTED = "see_submitted"  # every version that was submitted for review, and its model
    SEE_UNPUBLISHED = "see_unpublished"  # drafts, private models and test sets
    EDIT = "edit"  # a model's card and metadata, a draft's files, a test set's description
    SUBMIT = "submit"  # a draft for review
    DEPRECATE = "deprecate"  # a published version (and undo it)
    SEE_QUEUE = "see_queue"  # the review queue
    SEE_REVIEW_COMMENTS = "see_review_comments"  # what reviewers and owners wrote to each other
    DECIDE = "decide"  # approve, request changes, reject
    EVALUATE = "evaluate"  # request an evaluation of a version
    MARK_BENCHMARK = "mark_benchmark"  # make a test set a benchmark and set its gate
    READ_AUDIT = "read_audit"  # the whole audit trail
    PROTECT_ALIAS = "protect_alias"  # move or delete a protected alias, protect or unprotect one


_EVERYONE = frozenset(Role)
GRANTS: dict[Action, frozenset[Role]] = {
    Action.SEE_PUBLISHED: _EVERYONE,
    Action.SEE_SUBMITTED: frozenset({Role.OWNER, Role.REVIEWER, Role.STAFF}),
    Action.SEE_UNPUBLISHED: frozenset({Role.OWNER, Role.STAFF}),
    Action.EDIT: frozenset({Role.OWNER}),
    Action.SUBMIT: frozenset({Role.OWNER}),
    Action.DEPRECATE: frozenset({Role.OWNER, Role.STAFF}),
    Action.SEE_QUEUE: frozenset({Role.REVIEWER, Role.STAFF}),
    Action.SEE_REVIEW_COMMENTS: frozenset({Role.OWNER, Role.REVIEWER, Role.STAFF}),
    # Deliberately not staff: deciding is the reviewers' job, and a superuser outside the
    # group must not publish by accident.
    Action.DECIDE: frozenset({Role.REVIEWER}),
    Action.EVALUATE: frozenset({Role.OWNER, Role.REVIEWER, Role.STAFF}),
    Action.MARK_BENCHMARK: frozenset({Role.STAFF}),
    Action.READ_AUDIT: frozenset({Role.STAFF}),
    # A protected alias (production) is the reviewers' promise of what runs; the owner moves
    # the others (EDIT).
    Action.PROTECT_ALIAS: frozenset({Role.REVIEWER}),
}
# A role held for the object that takes the action away whatever else the user holds.
DENIED: dict[Action, frozenset[Role]] = {Action.DECIDE: frozenset({Role.OWNER})}

# The reviewers' permission lives on the review model; it is named here, not imported,
# so that this lowest app knows nothing of the apps above it.
REVIEWERS_GROUP = "reviewers"
DECIDE_PERMISSION = ("reviews_app", "review", "decide_review")
_DECIDE_PERMISSION_NAME = "Can approve, reject or request changes on submissions"


def _authenticated(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_staff(user) -> bool:
    return _authenticated(user) and bool(user.is_staff)


def is_reviewer(user) -> bool:
    """Holds the decide permission, through the reviewers group or directly.

    Deliberately not `user.has_perm`: that is always true for superusers, and staff
    outside the reviewers group must not decide. Cached on the user object for the
    request, since pages ask more than once.
    """
    if not _authenticated(user):
        return False
    cached = getattr(user, "_is_reviewer", None)
    if cached is None:
        cached = reviewer_permissions().filter(Q(group__user=user) | Q(user=user)).exists()
        user._is_reviewer = cached
    return cached


def roles_of(user, *, owner_id: int | None = None) -> frozenset[Role]:
    """The roles the user holds for an object owned by `owner_id` (None: no object)."""
    if not _authenticated(user):
        return frozenset({Role.ANONYMOUS})
    held = {Role.USER}
    if owner_id is not None and owner_id == user.pk:
        held.add(Role.OWNER)
    if is_reviewer(user):
        held.add(Role.REVIEWER)
    if user.is_staff:
        held.add(Role.STAFF)
    return frozenset(held)


def may(user, action: Action, *, owner_id: int | None = None) -> bool:
    """Whether the user may take the action on an object owned by `owner_id`.

    The same answer as `roles_of(...)` against the table, but the reviewer lookup (a query)
    is made only when the other roles do not settle it.
    """
    granted, denied = GRANTS[action], DENIED.get(action, frozenset())
    if not _authenticated(user):
        return Role.ANONYMOUS in granted
    held = {Role.USER}
    if owner_id is not None and owner_id == user.pk:
        held.add(Role.OWNER)
    if user.is_staff:
        held.add(Role.STAFF)
    if held & denied:
        return False
    if held & granted:
        return True
    return Role.REVIEWER in granted and Role.REVIEWER not in denied and is_reviewer(user)


class UserPermissions:
    """`user_may.read_audit` in templates: what the navigation and pages offer."""

    def __init__(self, user) -> None:
        self._user = user

    def __getattr__(self, name: str) -> bool:
        try:
            action = Action(name)
        except ValueError:
            raise AttributeError(name) from None
        return may(self._user, action)


class ActionPermission(BasePermission):
    """DRF's side of the table: `permission_classes = [ActionPermission.of(Action.READ_AUDIT)]`."""

    action: Action

    @classmethod
    def of(cls, action: Action) -> type["ActionPermission"]:
        return type(f"May{action.title().replace('_', '')}", (cls,), {"action": action})

    def has_permission(self, request, view) -> bool:
        return may(request.user, self.action)


# --- Granting roles (the admin site, the demo data and `manage.py grant_role`) ---


def reviewer_permissions() -> QuerySet[Permission]:
    app_label, model, codename = DECIDE_PERMISSION
    return Permission.objects.filter(codename=codename, content_type__app_label=app_label)


def reviewers() -> QuerySet:
    """Active users who may decide on submissions."""
    app_label, _, codename = DECIDE_PERMISSION
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
            | Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
        )
        .distinct()
    )


def reviewers_group() -> Group:
    """The reviewers group with its permission, created if missing (a data migration makes
    it, but a database flushed by a test or restored from elsewhere may not have it)."""
    app_label, model, codename = DECIDE_PERMISSION
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        codename=codename, content_type=content_type, defaults={"name": _DECIDE_PERMISSION_NAME}
    )
    group, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    group.permissions.add(permission)
    return group


GRANTABLE = (Role.REVIEWER, Role.STAFF)


def role_grant(*, user, role: Role, actor) -> None:
    """Make the user a reviewer or staff. `actor` is who grants it (None: an operator at the
    command line, recorded as the system)."""
    _role_set(user, role, held=True, actor=actor)


def role_revoke(*, user, role: Role, actor) -> None:
    _role_set(user, role, held=False, actor=actor)


@transaction.atomic
def _role_set(user, role: Role, *, held: bool, actor) -> None:
    if role not in GRANTABLE:
        raise ValueError(f"{role} is not a role one grants; use one of {', '.join(GRANTABLE)}.")
    locked = type(user).objects.select_for_update().get(pk=user.pk)  # two grants at once: one records
    if role == Role.REVIEWER:
        group = reviewers_group()
        was = group.user_set.filter(pk=user.pk).exists()
        if held:
            group.user_set.add(user)
        else:
            group.user_set.remove(user)
    else:
        was = locked.is_staff
        type(user).objects.filter(pk=user.pk).update(is_staff=held)
        user.is_staff = held
    user.__dict__.pop("_is_reviewer", None)
    if was != held:  # granting a role one holds changes nothing, and records nothing
        audit(
            actor=actor, action="role.grant" if held else "role.revoke",
            from_status=role if was else "", to_status=role if held else "",
            data={"user": user.username, "role": str(role)},
        )  # fmt: skip
