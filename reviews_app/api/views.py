"""The review workflow's API: submit, the queue, decisions, deprecation, the audit log."""

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts_app.roles import Action, ActionPermission, may
from models_app.api.serializers import VersionSerializer
from models_app.lookups import CatalogAPIView
from models_app.models import Task
from registry_site.api import BaseAPIView

from .. import selectors, services
from ..models import AuditEvent, ReviewStatus
from ..services import RequestMeta
from . import serializers as s


def _version_response(view: CatalogAPIView, version) -> Response:
    version = view.get_version(view.get_model())
    return Response(VersionSerializer(version, context=view.get_serializer_context()).data)


class SubmitView(CatalogAPIView):
    serializer_class = s.SubmitSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Submit a draft version for review", responses={201: s.ReviewSerializer})
    def post(self, request, *args, **kwargs):
        version = self.get_editable_version()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.version_submit(
            version=version,
            actor=request.user,
            note=serializer.validated_data["note"],
            meta=RequestMeta.from_request(request),
        )
        review = selectors.review_get(user=request.user, pk=review.pk)
        return Response(s.ReviewSerializer(review, context={"request": request}).data, status=status.HTTP_201_CREATED)


class DeprecateView(CatalogAPIView):
    serializer_class = s.DeprecateSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Deprecate a published version (still downloadable, with a warning)", responses={200: VersionSerializer}
    )
    def post(self, request, *args, **kwargs):
        version = self.get_version()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.version_deprecate(
            version=version,
            actor=request.user,
            reason=serializer.validated_data["reason"],
            meta=RequestMeta.from_request(request),
        )
        return _version_response(self, version)


class UndeprecateView(CatalogAPIView):
    serializer_class = VersionSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Undo a deprecation", request=None, responses={200: VersionSerializer})
    def post(self, request, *args, **kwargs):
        version = self.get_version()
        services.version_undeprecate(version=version, actor=request.user, meta=RequestMeta.from_request(request))
        return _version_response(self, version)


class ReviewFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=[(ReviewStatus.OPEN, "open"), (ReviewStatus.CLOSED, "closed"), ("all", "all")], method="filter_noop"
    )
    task = filters.ChoiceFilter(choices=Task.choices, method="filter_noop")
    submitter = filters.CharFilter(max_length=150, method="filter_noop")
    failing = filters.BooleanFilter(method="filter_noop")

    def filter_noop(self, queryset, name, value):
        return queryset  # applied together by selectors.review_queue

    @property
    def qs(self) -> QuerySet:
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return selectors.review_queue(
            user=self.request.user,
            task=data.get("task") or "",
            submitter=data.get("submitter") or "",
            failing=bool(data.get("failing")),
            status=data.get("status") or self._default_status(),
        )

    def _default_status(self) -> str:
        # Reviewers (and staff) work through the open queue; everyone else follows their own
        # submissions, decided ones included, since the decision and its comment are the news.
        user = self.request.user
        return ReviewStatus.OPEN if may(user, Action.SEE_QUEUE) else "all"


class ReviewListView(ListAPIView):
    """Reviewers: the queue. Everyone else: their own submissions."""

    serializer_class = s.ReviewSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = ReviewFilter

    def get_queryset(self):
        return selectors.review_list(user=self.request.user)

    @extend_schema(summary="The review queue (open submissions, oldest first)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReviewDetailView(BaseAPIView):
    serializer_class = s.ReviewSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="One review, with its automated checks")
    def get(self, request, pk: int):
        return Response(self.get_serializer(selectors.review_get(user=request.user, pk=pk)).data)


class DecisionView(BaseAPIView):
    serializer_class = s.DecisionSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Approve, request changes or reject", responses={200: s.ReviewSerializer})
    def post(self, request, pk: int):
        review = selectors.review_get(user=request.user, pk=pk)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.review_decide(
            review=review, actor=request.user, meta=RequestMeta.from_request(request), **serializer.validated_data
        )
        review = selectors.review_get(user=request.user, pk=pk)
        return Response(s.ReviewSerializer(review, context={"request": request}).data)


class AuditFilter(filters.FilterSet):
    action = filters.CharFilter(max_length=64)
    actor = filters.CharFilter(field_name="actor_username", max_length=150)
    model = filters.CharFilter(field_name="model_full_name", max_length=260)
    since = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "model", "since", "until"]


class AuditListView(ListAPIView):
    serializer_class = s.AuditEventSerializer
    permission_classes = [ActionPermission.of(Action.READ_AUDIT)]
    filterset_class = AuditFilter

    def get_queryset(self):
        return selectors.audit_list()

    @extend_schema(summary="The audit trail (staff only)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationListView(ListAPIView):
    serializer_class = s.NotificationSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list = []

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)

    @extend_schema(summary="Your notifications, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationReadView(BaseAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.NotificationSerializer

    @extend_schema(summary="Mark all your notifications read", request=None, responses={200: None})
    def post(self, request):
        count = services.notifications_mark_read(user=request.user)
        return Response({"marked_read": count})
