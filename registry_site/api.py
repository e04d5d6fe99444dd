"""What every API view shares: the base view class and the error body (pagination is in
pagination.py: DRF reads that setting while this module imports GenericAPIView)."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError, NotFound

log = logging.getLogger(__name__)


class BaseAPIView(GenericAPIView):
    """Base of every endpoint: authentication, pagination and throttling come from the
    REST_FRAMEWORK settings; URL values are checked before any lookup."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # No name, version or path holds a NUL; PostgreSQL refuses one in a query (a 500).
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound("Not found.")


_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    exceptions.ParseError: "parse_error",
}


def _first_message(detail) -> tuple[str, str | None]:
    """The first human sentence in a DRF error detail, and the field it belongs to."""
    if isinstance(detail, dict):
        field, value = next(iter(detail.items()))
        message, _ = _first_message(value)
        if field in ("non_field_errors", "detail"):
            return message, None
        return f"{field}: {message}", field
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail), None


def error_response(code: str, detail: str, http_status: int, **extra) -> Response:
    return Response({"error": code, "detail": detail, **extra}, status=http_status)


def exception_handler(exc, context):
    """Every error leaves the API as `{"error": code, "detail": sentence}`."""
    if isinstance(exc, DomainError):
        extra = {"field": exc.field} if exc.field else {}
        return error_response(exc.code, exc.detail, exc.status, **extra)
    if isinstance(exc, Http404):
        return error_response("not_found", "Not found.", status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return error_response("forbidden", str(exc) or "You may not do this.", status.HTTP_403_FORBIDDEN)
    if isinstance(exc, RequestDataTooBig):
        return error_response(
            "too_large",
            f"The request body is larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes a JSON or form "
            "body may have; send files as multipart uploads.",
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        return error_response("bad_request", str(exc) or "The request was refused.", status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, OperationalError):
        log.warning("database unavailable: %s", exc)
        response = error_response(
            "unavailable", "The database is unavailable; try again in a moment.", status.HTTP_503_SERVICE_UNAVAILABLE
        )
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, exceptions.ValidationError):
        message, field = _first_message(exc.detail)
        extra = {"field": field, "errors": exc.detail} if field else {"errors": exc.detail}
        return error_response("invalid", message, status.HTTP_400_BAD_REQUEST, **extra)
    response = drf_exception_handler(exc, context)
    if response is None:
        if isinstance(exc, DatabaseError):
            log.exception("database error")
        return None
    code = next((name for cls, name in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    message, _ = _first_message(getattr(exc, "detail", str(exc)))
    body = {"error": code, "detail": message}
    response.data = body
    return response
