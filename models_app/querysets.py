"""Visibility: the one rule that lives on the querysets. Every view starts here."""

from django.db import models
from django.db.models import Exists, OuterRef, Q

PUBLIC_STATUSES = ("published", "deprecated")


def _is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)


def _is_reviewer(user) -> bool:
    from reviews_app.permissions import is_reviewer  # the one place that names the role

    return is_reviewer(user)


class RegisteredModelQuerySet(models.QuerySet):
    def visible_to(self, user) -> "RegisteredModelQuerySet":
        """Public models, plus the user's own; staff see everything."""
        if _is_staff(user):
            return self.all()
        if user is None or not user.is_authenticated:
            return self.filter(visibility="public")
        if _is_reviewer(user):
            # Reviewers see what they review: any model with a version that was submitted.
            from .models import ModelVersion

            submitted = ModelVersion.objects.filter(model=OuterRef("pk"), submitted_at__isnull=False)
            return self.filter(Q(visibility="public") | Q(owner=user) | Exists(submitted))
        return self.filter(Q(visibility="public") | Q(owner=user))

    def editable_by(self, user) -> "RegisteredModelQuerySet":
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class ModelVersionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ModelVersionQuerySet":
        """Published and deprecated versions of public models; owners see all of theirs."""
        public = Q(model__visibility="public", status__in=PUBLIC_STATUSES)
        if _is_staff(user):
            return self.all()
        if user is None or not user.is_authenticated:
            return self.filter(public)
        if _is_reviewer(user):
            return self.filter(public | Q(model__owner=user) | Q(submitted_at__isnull=False))
        return self.filter(public | Q(model__owner=user))

    def public(self) -> "ModelVersionQuerySet":
        return self.filter(status__in=PUBLIC_STATUSES)

    def editable_by(self, user) -> "ModelVersionQuerySet":
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(model__owner=user)

    def semver_order(self, descending: bool = True) -> "ModelVersionQuerySet":
        fields = ("major", "minor", "patch", "prerelease_key")
        return self.order_by(*(f"-{f}" if descending else f for f in fields))
