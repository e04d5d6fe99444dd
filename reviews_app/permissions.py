"""Who may decide on submissions: the one place that names it."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet

REVIEWERS_GROUP = "reviewers"
DECIDE_PERMISSION = ("reviews_app", "decide_review")


def is_reviewer(user) -> bool:
    """Holds the decide permission, through the reviewers group or directly.

    Deliberately not `user.has_perm`: that is always true for superusers, and staff
    outside the reviewers group must not decide. Cached on the user object for the
    request, since pages ask more than once.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    cached = getattr(user, "_is_reviewer", None)
    if cached is None:
        app_label, codename = DECIDE_PERMISSION
        cached = (
            Permission.objects.filter(codename=codename, content_type__app_label=app_label)
            .filter(Q(group__user=user) | Q(user=user))
            .exists()
        )
        user._is_reviewer = cached
    return cached


def reviewers() -> QuerySet:
    app_label, codename = DECIDE_PERMISSION
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
            | Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
        )
        .distinct()
    )


def reviewers_group():
    """The reviewers group with its permission, created if missing (a data migration makes
    it, but a database flushed by a test or restored from elsewhere may not have it)."""
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType

    from .models import Review

    app_label, codename = DECIDE_PERMISSION
    permission, _ = Permission.objects.get_or_create(
        codename=codename,
        content_type=ContentType.objects.get_for_model(Review),
        defaults={"name": "Can approve, reject or request changes on submissions"},
    )
    group, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    group.permissions.add(permission)
    return group
