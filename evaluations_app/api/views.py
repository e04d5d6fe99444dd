"""API of test sets, evaluations and leaderboards."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from models_app.lookups import CatalogAPIView
from models_app.models import Visibility
from registry_site.api import BaseAPIView
from registry_site.parsers import JSONParser

from .. import selectors as ev_selectors
from .. import services as ev_services
from ..models import Evaluation, TestSet, TestSetTask


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request else path


class TestSetSerializer(serializers.ModelSerializer):
    __test__ = False

    owner = serializers.CharField(source="owner.username", read_only=True)
    full_name = serializers.CharField(read_only=True)
    sha256 = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = TestSet
        fields = [
            "owner", "name", "full_name", "description", "task", "target_column", "rows", "columns",
            "file_format", "sha256", "benchmark", "regression_threshold", "visibility", "created_at", "url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_url(self, obj) -> str:
        path = reverse("api-test-set-detail", kwargs={"owner": obj.owner.username, "name": obj.name})
        return _absolute(self.context.get("request"), path)


class TestSetUploadSerializer(serializers.Serializer):
    __test__ = False

    file = serializers.FileField()
    name = serializers.CharField(max_length=100)
    task = serializers.ChoiceField(choices=TestSetTask.choices)
    target_column = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, default=Visibility.PUBLIC)


class EvaluationSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="version.model.full_name", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    test_set = serializers.CharField(source="test_set.full_name", read_only=True)
    model_file = serializers.CharField(source="model_file.path", read_only=True, default=None)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Evaluation
        fields = [
            "id", "model", "version", "test_set", "source", "model_file", "status", "metrics", "intervals",
            "per_class", "confusion_matrix", "feature_importance", "rows_per_second", "wall_seconds", "model_size",
            "provenance", "error_code", "error", "attempts", "created_at", "started_at", "finished_at", "url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_url(self, obj) -> str:
        return _absolute(self.context.get("request"), reverse("api-evaluation-detail", kwargs={"pk": obj.pk}))


class EvaluationRequestSerializer(serializers.Serializer):
    test_set = serializers.CharField(max_length=260, help_text="owner/name of the test set")
    predictions_file = serializers.CharField(required=False, allow_blank=True, max_length=512)


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    model = serializers.CharField()
    version = serializers.CharField()
    deprecated = serializers.BooleanField(help_text="The owner deprecated this version: still listed, not advised.")
    is_prerelease = serializers.BooleanField()
    value = serializers.FloatField()
    rows_per_second = serializers.FloatField(allow_null=True)
    evaluated_at = serializers.DateTimeField()
    evaluation = serializers.URLField()


class TestSetListView(BaseAPIView):
    serializer_class = TestSetSerializer
    parser_classes = [MultiPartParser, FormParser]
    filter_backends: list = []

    @extend_schema(
        operation_id="test_sets_list", summary="Test sets you can see", responses=TestSetSerializer(many=True)
    )
    def get(self, request):
        queryset = ev_selectors.test_set_list(user=request.user)
        if request.query_params.get("benchmark") in ("1", "true"):
            queryset = queryset.filter(benchmark=True)
        page = self.paginate_queryset(queryset.order_by("owner__username", "name"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="test_sets_create",
        summary="Upload a test set (CSV or Parquet)",
        request={"multipart/form-data": TestSetUploadSerializer},
        responses={201: TestSetSerializer},
    )
    def post(self, request):
        if not request.user.is_authenticated:
            raise NotAuthenticated("Log in to upload test sets.")
        upload = TestSetUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = dict(upload.validated_data)
        test_set = ev_services.test_set_create(owner=request.user, uploaded_file=data.pop("file"), **data)
        return Response(self.get_serializer(test_set).data, status=status.HTTP_201_CREATED)


class TestSetDetailView(BaseAPIView):
    serializer_class = TestSetSerializer

    @extend_schema(operation_id="test_sets_retrieve", summary="One test set")
    def get(self, request, owner: str, name: str):
        return Response(self.get_serializer(ev_selectors.test_set_get(user=request.user, owner=owner, name=name)).data)


class LeaderboardView(BaseAPIView):
    serializer_class = LeaderboardRowSerializer
    queryset = Evaluation.objects.none()  # for the schema: rows are built from evaluations

    @extend_schema(
        operation_id="test_sets_leaderboard",
        summary="Published versions ranked on this test set",
        parameters=[OpenApiParameter("metric", str, description="accuracy, f1_macro, roc_auc, rmse, r2, ...")],
        responses=LeaderboardRowSerializer(many=True),
    )
    def get(self, request, owner: str, name: str):
        test_set = ev_selectors.test_set_get(user=request.user, owner=owner, name=name)
        metric, rows = ev_selectors.leaderboard(
            user=request.user, test_set=test_set, metric=request.query_params.get("metric")
        )
        data = [
            {
                "rank": rank,
                "model": e.version.model.full_name,
                "version": e.version.version,
                "deprecated": e.version.is_deprecated,
                "is_prerelease": e.version.is_prerelease,
                "value": e.metrics[metric],
                "rows_per_second": e.rows_per_second,
                "evaluated_at": e.finished_at,
                "evaluation": _absolute(request, reverse("api-evaluation-detail", kwargs={"pk": e.pk})),
            }
            for rank, e in enumerate(rows, start=1)
        ]
        return Response(
            {
                "test_set": test_set.full_name,
                "metric": metric,
                "results": LeaderboardRowSerializer(data, many=True).data,
            }
        )


class VersionEvaluationsView(CatalogAPIView):
    serializer_class = EvaluationSerializer
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    filter_backends: list = []

    @extend_schema(
        operation_id="versions_evaluations_list",
        summary="Evaluations of a version",
        responses=EvaluationSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        version = self.get_version()
        evaluations = ev_selectors.evaluations_of_version(user=request.user, version=version)
        return Response(self.get_serializer(evaluations, many=True).data)

    @extend_schema(
        operation_id="versions_evaluations_create",
        summary="Request an evaluation on a test set (runs in the background)",
        request=EvaluationRequestSerializer,
        responses={202: EvaluationSerializer},
    )
    def post(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            raise NotAuthenticated("Log in to request evaluations.")
        version = self.get_version()
        body = EvaluationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        test_set = ev_selectors.test_set_by_full_name(user=request.user, full_name=body.validated_data["test_set"])
        evaluation = ev_services.evaluation_request(
            version=version,
            test_set=test_set,
            actor=request.user,
            predictions_path=body.validated_data.get("predictions_file") or None,
        )
        evaluation = ev_selectors.evaluation_get(user=request.user, pk=evaluation.pk)
        data = self.get_serializer(evaluation).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


class EvaluationDetailView(BaseAPIView):
    serializer_class = EvaluationSerializer

    @extend_schema(operation_id="evaluations_retrieve", summary="An evaluation's status and metrics")
    def get(self, request, pk: int):
        return Response(self.get_serializer(ev_selectors.evaluation_get(user=request.user, pk=pk)).data)
