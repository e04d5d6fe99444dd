"""The catalog's REST API. Views look things up through the selectors (which apply the
visibility rules), call one service, and shape the answer with a serializer."""

from datetime import UTC, datetime

from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from registry_site.audit import RequestMeta
from registry_site.errors import DomainError, NotFound

from .. import aliases as aliases_app
from .. import selectors, services
from ..downloads import file_response
from ..filters import ModelFilter
from ..lookups import CatalogAPIView
from . import serializers as s


class ModelListView(CatalogAPIView):
    serializer_class = s.ModelSerializer
    filterset_class = ModelFilter

    def get_queryset(self):
        # The API's model shape includes the card; the selector defers it for the web list,
        # and a deferred field read per row would cost one query per model.
        return selectors.model_list(user=self.request.user).defer(None).defer("search_vector")

    @extend_schema(
        operation_id="models_list", summary="Search and filter models", responses=s.ModelSerializer(many=True)
    )
    def get(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(operation_id="models_create", summary="Register a model", responses={201: s.ModelSerializer})
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        model = services.model_create(owner=request.user, **serializer.validated_data)
        model = selectors.model_get(user=request.user, owner=request.user.username, name=model.name)
        return Response(self.get_serializer(model).data, status=status.HTTP_201_CREATED)


class ModelDetailView(CatalogAPIView):
    serializer_class = s.ModelUpdateSerializer

    @extend_schema(operation_id="models_retrieve", summary="One model")
    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_model()).data)

    @extend_schema(operation_id="models_partial_update", summary="Change a model's card and metadata")
    def patch(self, request, *args, **kwargs):
        model = self.get_editable_model()
        serializer = self.get_serializer(model, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.model_update(model=model, actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_model()).data)

    @extend_schema(
        operation_id="models_destroy", summary="Delete a model without published versions", responses={204: None}
    )
    def delete(self, request, *args, **kwargs):
        services.model_delete(model=self.get_editable_model(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionListView(CatalogAPIView):
    serializer_class = s.VersionSerializer
    filter_backends: list = []  # the catalog's filters are for models, not versions

    @extend_schema(
        operation_id="versions_list",
        summary="A model's versions, newest SemVer first",
        responses=s.VersionSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        queryset = selectors.version_list(user=request.user, model=self.get_model()).prefetch_related(
            selectors.aliases_prefetch()
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="versions_create", summary="Create a draft version", responses={201: s.VersionSerializer}
    )
    def post(self, request, *args, **kwargs):
        model = self.get_editable_model()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.version_create(model=model, created_by=request.user, **serializer.validated_data)
        version = selectors.version_get(user=request.user, model=model, version=version.version)
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)


class VersionDetailView(CatalogAPIView):
    serializer_class = s.VersionUpdateSerializer

    @extend_schema(operation_id="versions_retrieve", summary="One version")
    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_version()).data)

    @extend_schema(
        operation_id="versions_partial_update",
        summary="Change a draft version's changelog, params, metrics or signature",
    )
    def patch(self, request, *args, **kwargs):
        version = self.get_editable_version()
        serializer = self.get_serializer(version, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.version_update(version=version, actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_version()).data)


class FileListView(CatalogAPIView):
    serializer_class = s.FileSerializer
    pagination_class = None  # a version has a handful of files; the list is never paged
    filter_backends: list = []
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="files_list", summary="The files of a version", responses=s.FileSerializer(many=True))
    def get(self, request, *args, **kwargs):
        version = self.get_version()
        return Response(self.get_serializer(version.files.all(), many=True).data)

    @extend_schema(
        operation_id="files_create",
        summary="Upload a file to a draft version",
        request={"multipart/form-data": s.FileUploadSerializer},
        responses={201: s.FileSerializer},
    )
    def post(self, request, *args, **kwargs):
        version = self.get_editable_version()
        files = request.FILES.getlist("file")
        if len(files) != 1 or len(request.FILES) != 1:
            raise DomainError(
                "Send exactly one file, in the multipart field 'file'.", code="file_missing", field="file"
            )
        upload = s.FileUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        model_file = services.file_upload(
            version=version,
            uploaded_file=upload.validated_data["file"],
            actor=request.user,
            path=upload.validated_data.get("path"),
        )
        model_file = selectors.file_get(version=version, path=model_file.path)
        return Response(self.get_serializer(model_file).data, status=status.HTTP_201_CREATED)


class FileDetailView(CatalogAPIView):
    serializer_class = s.FileSerializer

    def perform_content_negotiation(self, request, force=False):
        # A download answers with bytes whatever the client accepts; errors are JSON.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        operation_id="files_download",
        summary="Download a file (streamed)",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, *args, **kwargs):
        version = self.get_version()
        model_file = selectors.file_get(version=version, path=self.kwargs["path"])
        response = file_response(request, model_file)
        if isinstance(response, HttpResponseRedirect) or response.status_code == 200:
            if request.method == "GET":
                services.file_record_download(model_file=model_file)
        return response

    @extend_schema(
        operation_id="files_destroy",
        summary="Remove a file from a draft version",
        responses={204: OpenApiResponse(description="Removed")},
    )
    def delete(self, request, *args, **kwargs):
        version = self.get_editable_version()
        services.file_delete(
            model_file=selectors.file_get(version=version, path=self.kwargs["path"]), actor=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AliasListView(CatalogAPIView):
    serializer_class = s.AliasSerializer
    pagination_class = None  # a model has a handful of aliases
    filter_backends: list = []

    @extend_schema(operation_id="aliases_list", summary="A model's aliases", responses=s.AliasSerializer(many=True))
    def get(self, request, *args, **kwargs):
        model = self.get_model()
        aliases = aliases_app.alias_list(model).select_related("model__owner")
        return Response(self.get_serializer(aliases, many=True).data)


class AliasDetailView(CatalogAPIView):
    serializer_class = s.AliasSerializer

    def _alias(self, model):
        alias = aliases_app.alias_list(model).select_related("model__owner").filter(name=self._name()).first()
        if alias is None:
            raise NotFound(f"{model.full_name} has no alias '{self.kwargs['alias']}'.", code="alias_not_found")
        return alias

    def _name(self) -> str:
        return self.kwargs["alias"].strip().lower()

    @extend_schema(operation_id="aliases_retrieve", summary="One alias")
    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(self._alias(self.get_model())).data)

    @extend_schema(
        operation_id="aliases_set",
        summary="Point an alias at a published version (created if new)",
        description="The owner sets and moves aliases; a protected alias, and the protected flag itself, only a "
        "reviewer. Setting the version it already points at changes nothing.",
        request=s.AliasSetSerializer,
        responses={200: s.AliasSerializer, 201: s.AliasSerializer},
    )
    def put(self, request, *args, **kwargs):
        model = self.get_model()
        body = s.AliasSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = selectors.version_get(user=request.user, model=model, version=body.validated_data["version"])
        existed = model.aliases.filter(name=self._name()).exists()
        aliases_app.alias_set(
            model=model,
            name=self.kwargs["alias"],
            version=version,
            actor=request.user,
            protected=body.validated_data.get("protected"),
            meta=RequestMeta.from_request(request),
        )
        answer = self.get_serializer(self._alias(model)).data
        return Response(answer, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(operation_id="aliases_destroy", summary="Delete an alias (its history stays)", responses={204: None})
    def delete(self, request, *args, **kwargs):
        aliases_app.alias_delete(
            model=self.get_model(),
            name=self.kwargs["alias"],
            actor=request.user,
            meta=RequestMeta.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AliasHistoryView(CatalogAPIView):
    serializer_class = s.AliasChangeSerializer
    filter_backends: list = []

    @extend_schema(
        operation_id="aliases_history",
        summary="What an alias pointed at, newest change first; with ?at=, on that instant",
        parameters=[
            OpenApiParameter(
                "at",
                OpenApiTypes.DATETIME,
                description="An ISO 8601 instant (`2026-11-30T12:00:00Z`; a date alone means its midnight UTC): "
                "answer the version the alias pointed at then, instead of the list.",
            )
        ],
        responses=PolymorphicProxySerializer(
            component_name="AliasHistory",
            serializers=[s.AliasChangePageSerializer, s.AliasPointSerializer],
            resource_type_field_name=None,
        ),
    )
    def get(self, request, *args, **kwargs):
        model = self.get_model()
        name = self.kwargs["alias"]
        changes = aliases_app.alias_history(model=model, name=name)
        if not changes.exists():  # every alias the services made has a history; this one never existed
            raise NotFound(f"{model.full_name} has no alias '{name}', and never had.", code="alias_not_found")
        raw_at = request.query_params.get("at")
        if raw_at is not None:
            at = parse_instant(raw_at)
            version = aliases_app.alias_history(model=model, name=name, at=at)
            return Response({"alias": name.strip().lower(), "at": at, "version": version.version if version else None})
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def parse_instant(raw: str) -> datetime:
    """An ISO 8601 instant from a query string; a bare date is its midnight UTC, and an instant
    without an offset is UTC. A DomainError (400 `invalid_date`) names what is wrong."""
    value = (raw or "").strip()
    instant = None
    try:
        if "T" in value or " " in value:
            instant = parse_datetime(value)
        elif (day := parse_date(value)) is not None:
            instant = datetime(day.year, day.month, day.day)
    except ValueError:  # well formed but no such day (2026-02-30) or hour
        instant = None
    if instant is None:
        raise DomainError(
            f"'{raw[:40]}' is not an ISO 8601 date or instant, like 2026-11-30 or 2026-11-30T12:00:00Z.",
            code="invalid_date",
            field="at",
        )
    return instant if timezone.is_aware(instant) else timezone.make_aware(instant, UTC)
