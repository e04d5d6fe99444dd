"""Visibility: the one rule that lives on the querysets. Every view starts here.

Who may see what is said in accounts_app.roles; these methods turn its SEE_* grants into
SQL, since what one may see depends on each row's owner and status.
"""

from django.db import models
from django.db.models import Exists, OuterRef, Q

from accounts_app.roles import Action, may

from .semver import RELEASE_KEY

PUBLIC_STATUSES = ("published", "deprecated")


def _sees_everything(user) -> bool:
    """Asked without an object, so OWNER is not among the roles: staff, for every owner's rows."""
    return may(user, Action.SEE_UNPUBLISHED)


def _sees_submitted(user) -> bool:
    """Reviewers see every version that was submitted, whoever owns it."""
    return may(user, Action.SEE_SUBMITTED)


class RegisteredModelQuerySet(models.QuerySet):
    def visible_to(self, user) -> "RegisteredModelQuerySet":
        """Public models with a release, plus the user's own; reviewers also those with a
        submitted version; staff everything.

        "With a release": a published or deprecated version, read from the indexed
        `has_release` flag that approval keeps, so nothing unreviewed is ever listed or
        served to the public (a model without a release is a 404 to them, as a private one).
        """
        if _sees_everything(user):
            return self.all()
        released = Q(visibility="public", has_release=True)
        if user is None or not user.is_authenticated:
            return self.filter(released)
        if _sees_submitted(user):
            # The versions' model, through the relation rather than an import: models.py
            # imports this module.
            versions = self.model._meta.get_field("versions").related_model
            submitted = versions.objects.filter(model=OuterRef("pk"), submitted_at__isnull=False)
            return self.filter(released | Q(owner=user) | Exists(submitted))
        return self.filter(released | Q(owner=user))

    def editable_by(self, user) -> "RegisteredModelQuerySet":
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class ModelVersionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ModelVersionQuerySet":
        """Published and deprecated versions of public models; owners see all of theirs."""
        public = Q(model__visibility="public", status__in=PUBLIC_STATUSES)
        if _sees_everything(user):
            return self.all()
        if user is None or not user.is_authenticated:
            return self.filter(public)
        if _sees_submitted(user):
            return self.filter(public | Q(model__owner=user) | Q(submitted_at__isnull=False))
        return self.filter(public | Q(model__owner=user))

    def public(self) -> "ModelVersionQuerySet":
        return self.filter(status__in=PUBLIC_STATUSES)

    def stable(self) -> "ModelVersionQuerySet":
        """Releases, not pre-releases: what "latest" may name."""
        return self.filter(prerelease_key=RELEASE_KEY)

    def editable_by(self, user) -> "ModelVersionQuerySet":
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(model__owner=user)

    def semver_order(self, descending: bool = True) -> "ModelVersionQuerySet":
        fields = ("major", "minor", "patch", "prerelease_key")
        return self.order_by(*(f"-{f}" if descending else f for f in fields))
