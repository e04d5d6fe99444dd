"""Reads of the review workflow, with their joins spelled out."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts_app.roles import reviewer_permissions
from models_app.models import ModelVersion
from models_app.selectors import files_prefetch
from registry_site.errors import NotFound

from .diff import version_snapshot
from .models import AuditEvent, Notification, Review, ReviewStatus


def review_list(*, user) -> QuerySet[Review]:
    return Review.objects.visible_to(user).select_related("version__model__owner", "submitted_by", "reviewer")


def review_queue(
    *, user, task: str = "", submitter: str = "", failing: bool = False, status: str = ReviewStatus.OPEN
) -> QuerySet[Review]:
    """Open submissions, oldest first, filtered like the queue page's controls."""
    queryset = review_list(user=user)
    if status in (ReviewStatus.OPEN, ReviewStatus.CLOSED):
        queryset = queryset.filter(status=status)
    if task:
        queryset = queryset.filter(version__model__task=task)
    if submitter:
        queryset = queryset.filter(submitted_by_username=submitter)
    if failing:
        queryset = queryset.filter(failing_check_count__gt=0)
    order = "created_at" if status == ReviewStatus.OPEN else "-created_at"
    return queryset.order_by(order, "pk")


def review_get(*, user, pk: int) -> Review:
    review = review_list(user=user).filter(pk=pk).first()
    if review is None:
        raise NotFound(f"No review #{pk} exists, or you cannot see it.")
    return review


def reviews_of_version(*, version: ModelVersion) -> QuerySet[Review]:
    return version.reviews.select_related("submitted_by", "reviewer").order_by("created_at", "pk")


def audit_list(
    *, action: str = "", actor: str = "", model: str = "", version: ModelVersion | None = None
) -> QuerySet[AuditEvent]:
    queryset = AuditEvent.objects.all()
    if action:
        queryset = queryset.filter(action=action)
    if actor:
        queryset = queryset.filter(actor_username=actor)
    if model:
        queryset = queryset.filter(model_full_name=model)
    if version is not None:
        queryset = queryset.filter(version=version)
    return queryset.order_by("-created_at", "-pk")


def audit_actions() -> list[str]:
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def notification_counts(*, user) -> dict[str, int]:
    return Notification.objects.filter(user=user).aggregate(
        unread=Count("pk", filter=Q(read_at__isnull=True)), total=Count("pk")
    )


# --- Reads for the server-rendered pages. ---


def my_submissions(*, user) -> QuerySet[Review]:
    """Submissions of the user's own models, newest first."""
    if not user.is_authenticated:
        return Review.objects.none()
    return (
        Review.objects.filter(Q(submitted_by=user) | Q(version__model__owner=user))
        .select_related("version__model__owner", "reviewer")
        .order_by("-created_at", "-pk")
    )


def previous_published(*, version: ModelVersion) -> ModelVersion | None:
    """The newest published (or deprecated) version of the same model other than this one, with files."""
    return (
        version.model.versions.public()
        .exclude(pk=version.pk)
        .select_related("model")
        .prefetch_related(files_prefetch())
        .semver_order()
        .first()
    )


def nav_counts(*, user, reviewer: bool | None = None) -> dict[str, int | bool]:
    """The navigation bar's numbers in one query: unread notifications, whether the user is a
    reviewer (unless the caller knows already) and the open reviews (for reviewers)."""

    def count_of(queryset: QuerySet) -> Coalesce:
        counted = queryset.order_by().annotate(one=Value(1)).values("one").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    annotations = {"unread": count_of(Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True))}
    if reviewer is None:
        # The same rule as roles.is_reviewer(), as a subquery.
        annotations["is_reviewer"] = Exists(
            reviewer_permissions().filter(Q(group__user=OuterRef("pk")) | Q(user=OuterRef("pk")))
        )
    if reviewer is not False:
        annotations["open_reviews"] = count_of(Review.objects.open())
    row = (
        get_user_model().objects.filter(pk=user.pk, is_active=True).annotate(**annotations).values(*annotations).first()
    )
    counts: dict[str, int | bool] = {"unread": 0, "is_reviewer": bool(reviewer), "open_reviews": 0, **(row or {})}
    if not counts["is_reviewer"]:
        counts["open_reviews"] = 0
    return counts


def approved_snapshot(version: ModelVersion) -> dict:
    """What the reviewer approved for this version; computed now for versions approved without one."""
    snapshot = (
        Review.objects.filter(version=version, decision="approve")
        .exclude(approved_snapshot={})
        .order_by("-decided_at")
        .values_list("approved_snapshot", flat=True)
        .first()
    )
    return snapshot or version_snapshot(version)
