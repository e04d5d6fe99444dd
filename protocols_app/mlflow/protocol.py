"""The MLflow REST protocol's plumbing: who is calling, what they sent, and answers the client
accepts.

The `mlflow` client is picky in three ways this module takes care of:

- Errors must be JSON `{"error_code", "message"}` with a 4xx status. A 5xx (or a body that is
  not JSON) makes the client retry for minutes, so every failure, including the registry's
  own domain errors, is mapped to an MLflow error code here and never escapes as a 500.
- GET requests carry their arguments in the query string, everything else in a JSON body;
  `params` reads both the same way.
- Authentication is `MLFLOW_TRACKING_TOKEN`, sent as `Authorization: Bearer <registry token>`.
  Session cookies are ignored: these endpoints are called by scripts, and accepting a cookie
  here would let any page a signed-in reviewer visits write through them (no CSRF check).
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts_app.authentication import BearerTokenAuthentication
from registry_site.audit import audit_origin
from registry_site.errors import DomainError
from registry_site.parsers import JSONRefused, json_loads

log = logging.getLogger(__name__)

MAX_JSON_BODY = 1024 * 1024  # the largest body a registry call needs (a log-batch) is far smaller

# MLflow's error codes (databricks.proto) and the status its own server answers with.
STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "MALFORMED_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "INVALID_STATE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "TEMPORARILY_UNAVAILABLE": 503,
}

# The registry's domain errors by status, as MLflow codes.
_DOMAIN_CODES = {
    400: "INVALID_PARAMETER_VALUE",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "INVALID_STATE",
    413: "RESOURCE_EXHAUSTED",
    507: "RESOURCE_EXHAUSTED",
    503: "TEMPORARILY_UNAVAILABLE",
}


class MlflowError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 400)


def error_response(code: str, message: str, status: int | None = None) -> JsonResponse:
    return JsonResponse({"error_code": code, "message": message}, status=status or STATUS.get(code, 400))


def not_found(what: str) -> MlflowError:
    return MlflowError("RESOURCE_DOES_NOT_EXIST", what)


def invalid(message: str) -> MlflowError:
    return MlflowError("INVALID_PARAMETER_VALUE", message)


def authenticate(request: HttpRequest):
    """The token's user, or AnonymousUser without an Authorization header; never the session."""
    try:
        result = BearerTokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed as failure:
        raise MlflowError("UNAUTHENTICATED", str(failure.detail)) from None
    return result[0] if result else AnonymousUser()


def require_user(request: HttpRequest):
    if not request.user.is_authenticated:
        raise MlflowError(
            "UNAUTHENTICATED",
            "This call changes the registry: set MLFLOW_TRACKING_TOKEN to one of your registry API tokens.",
        )
    return request.user


def read_params(request: HttpRequest) -> dict[str, Any]:
    """The call's arguments: the query string of a GET, the JSON body of anything else."""
    if request.method in ("GET", "DELETE") and not request.body:
        params: dict[str, Any] = {}
        for key in request.GET:
            values = request.GET.getlist(key)
            params[key] = values if len(values) > 1 else values[0]
        return params
    if request.method == "DELETE" and request.GET:
        params = {key: request.GET.get(key) for key in request.GET}
    else:
        params = {}
    if len(request.body) > MAX_JSON_BODY:
        raise invalid(f"The request body is larger than {MAX_JSON_BODY // 1024} KiB.")
    if not request.body.strip():
        return params
    try:
        body = json_loads(request.body)
    except JSONRefused as refused:
        raise MlflowError("MALFORMED_REQUEST", str(refused)) from None
    if not isinstance(body, dict):
        raise MlflowError("MALFORMED_REQUEST", "The request body must be a JSON object.")
    params.update(body)
    return params


def text_param(params: dict, key: str, *, required: bool = True, max_length: int = 1000, default: str = "") -> str:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise invalid(f"Missing value for required parameter '{key}'.")
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise invalid(f"Parameter '{key}' must be a string.")
    if len(value) > max_length:
        raise invalid(f"Parameter '{key}' is longer than {max_length} characters.")
    return value


def int_param(params: dict, key: str, *, default: int | None = None, minimum: int = 0, maximum: int = 2**63 - 1):
    value = params.get(key)
    if value is None or value == "":
        if default is None:
            raise invalid(f"Missing value for required parameter '{key}'.")
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(f"Parameter '{key}' must be an integer, not {str(value)[:40]!r}.") from None
    if not minimum <= number <= maximum:
        raise invalid(f"Parameter '{key}' must be between {minimum} and {maximum}.")
    return number


def tag_list(tags: dict) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in sorted(tags.items())]


def read_tags(params: dict, key: str = "tags") -> dict[str, str]:
    """`[{"key", "value"}]` as a dict, each key and value a string within MLflow's limits."""
    raw = params.get(key) or []
    if not isinstance(raw, list):
        raise invalid(f"Parameter '{key}' must be a list of {{key, value}} objects.")
    tags = {}
    for item in raw:
        if not isinstance(item, dict):
            raise invalid(f"Parameter '{key}' must be a list of {{key, value}} objects.")
        tag_key = text_param(item, "key", max_length=250)
        tags[tag_key] = text_param(item, "value", required=False, max_length=8000)
    return tags


def endpoint(*methods: str) -> Callable:
    """An MLflow call: methods checked, caller authenticated, every failure an MLflow error."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                return error_response(
                    "ENDPOINT_NOT_FOUND", f"{request.method} is not supported on {request.path}.", status=404
                )
            try:
                request.user = authenticate(request)
                with audit_origin(request, via="mlflow"):  # audit events name the request and "mlflow"
                    answer = view(request, *args, **kwargs)
            except MlflowError as error:
                return error_response(error.code, error.message, error.status)
            except DomainError as error:
                code = _DOMAIN_CODES.get(error.status, "INVALID_PARAMETER_VALUE")
                if error.code in ("name_taken", "version_exists"):
                    code = "RESOURCE_ALREADY_EXISTS"
                return error_response(code, error.detail, error.status if error.status != 409 else 400)
            except DatabaseError:
                log.exception("database error in MLflow call %s", request.path)
                return error_response("TEMPORARILY_UNAVAILABLE", "The registry's database is unavailable; try again.")
            except Exception:
                # A bug of ours. Not a 500: the client retries those for minutes, so the
                # script would hang instead of showing the sentence. Logged for the operator.
                log.exception("unexpected error in MLflow call %s", request.path)
                return error_response(
                    "INTERNAL_ERROR", "The registry failed to answer this call; the operator has been told.", status=400
                )
            if isinstance(answer, HttpResponseBase):
                return answer
            return JsonResponse(answer)

        return wrapped

    return decorate


@csrf_exempt
def unsupported(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Every MLflow call this registry does not implement (the README lists the ones it does)."""
    return error_response(
        "ENDPOINT_NOT_FOUND",
        f"This registry does not support {request.method} {request.path} of the MLflow API; "
        "the README lists the calls it supports.",
        status=404,
    )
