"""Bodies the JSON parsing used to answer with a 500, sent to every endpoint that takes
JSON: each is a 400 with the API's error body, and nothing is written.

The class: JSON that Python's decoder accepts but the rest of the stack cannot take —
nesting past the recursion limit (a RecursionError while parsing) or merely deep (a
RecursionError later, in validation or encoding), numbers that overflow to infinity,
lone surrogates, NUL characters — plus what was already refused, to keep it so: bad
UTF-8, a UTF-16 or UTF-8 byte order mark, NaN and Infinity, duplicate keys, a body that is
not an object.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.settings import api_settings

from accounts_app.models import ApiToken
from evaluations_app.models import Evaluation
from models_app.models import ModelVersion, RegisteredModel
from registry_site.parsers import MAX_DEPTH, JSONParser
from reviews_app.models import AuditEvent, Review
from tests.factories import api_client_for, make_model, make_version
from tests.models.api.helpers import API, assert_error

pytestmark = pytest.mark.django_db

DEEP = 100_000
BAD_BODIES = {
    "invalid UTF-8": b'{"name": "\xff\xfe"}',
    "UTF-16 with a byte order mark": '{"name": "x"}'.encode("utf-16"),
    "UTF-8 byte order mark": b'\xef\xbb\xbf{"name": "x"}',
    "arrays nested 100000 deep": b"[" * DEEP + b"]" * DEEP,
    "objects nested 100000 deep": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "a field nested 900 deep": b'{"params": {"a": ' + b"[" * 900 + b"]" * 900 + b"}}",
    "a field nested one level too deep": b'{"params": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}",
    "a number that overflows to infinity": b'{"name": "x", "params": {"lr": 1e999999}}',
    "a negative overflow": b'{"reported_metrics": {"loss": -1e400}}',
    "NaN": b'{"params": {"lr": NaN}}',
    "Infinity": b'{"params": {"lr": Infinity}}',
    "an integer past the digit limit": b'{"params": {"seed": ' + b"9" * 5000 + b"}}",
    "a NUL in a value": b'{"name": "a\\u0000b", "version": "1.0.0\\u0000", "comment": "\\u0000", "username": "\\u0000"}',
    "a NUL in a key": b'{"na\\u0000me": "x"}',
    "a NUL in a nested key": b'{"params": {"a\\u0000": 1}}',
    "a raw NUL byte": b'{"name": "a\x00b"}',
    "a lone surrogate in a nested value": b'{"params": {"a": "\\udc00"}, "signature": {"inputs": [{"name": "\\ud800"}]}}',
    "a lone surrogate in a key": b'{"params": {"\\ud800": 1}}',
    "duplicate keys": b'{"decision": "approve", "decision": "reject", "name": "a", "name": "b"}',
    "an array": b"[]",
    "a string": b'"x"',
    "a number": b"1",
    "null": b"null",
    "truncated": b'{"name": ',
}
ENDPOINTS = {
    "models create": ("post", f"{API}/models/", "owner"),
    "models patch": ("patch", f"{API}/models/olivia/iris-classifier/", "owner"),
    "versions create": ("post", f"{API}/models/olivia/iris-classifier/versions/", "owner"),
    "versions patch": ("patch", f"{API}/models/olivia/iris-classifier/versions/1.0.0/", "owner"),
    "versions submit": ("post", f"{API}/models/olivia/iris-classifier/versions/1.0.0/submit/", "owner"),
    "evaluations request": ("post", f"{API}/models/olivia/iris-classifier/versions/1.0.0/evaluations/", "owner"),
    "reviews decision": ("post", f"{API}/reviews/{{review}}/decision/", "reviewer"),
    "auth token": ("post", f"{API}/auth/token/", None),
}


@pytest.fixture
def catalog(owner, reviewer):
    """A model with a draft 1.0.0 (one file) and a submitted 0.9.0 awaiting a decision."""
    model = make_model(owner)
    make_version(model, "1.0.0", files={"predictions.csv": b"target\n0\n"})
    return make_version(model, "0.9.0", status="in_review").reviews.get()


def stored_state() -> tuple:
    """What any of these endpoints could write."""
    return (
        list(RegisteredModel.objects.values_list("name", "summary", "visibility", "updated_at")),
        list(ModelVersion.objects.values_list("version", "status", "params", "reported_metrics", "updated_at")),
        list(Review.objects.values_list("status", "decision")),
        Evaluation.objects.count(),
        ApiToken.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=ENDPOINTS.keys())
def test_a_bad_json_body_is_a_400_with_the_error_body_and_writes_nothing(catalog, owner, reviewer, endpoint, body):
    method, url, who = endpoint
    client = api_client_for({"owner": owner, "reviewer": reviewer, None: None}[who])
    before = stored_state()

    response = getattr(client, method)(url.format(review=catalog.pk), data=body, content_type="application/json")

    assert_error(response, 400)
    assert stored_state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"version": "2.0.0", "params": {"a": "\\udc00"}}', "params"),
        (b'{"version": "2.0.0\\u0000"}', "version"),
        (b'{"version": "2.0.0", "signature": {"inputs": ' + b"[" * 40 + b"]" * 40 + b"}}", "signature"),
    ],
)
def test_a_bad_value_in_a_well_formed_body_names_its_field(catalog, owner_api, body, field):
    response = owner_api.post(
        f"{API}/models/olivia/iris-classifier/versions/", data=body, content_type="application/json"
    )

    assert assert_error(response, 400, "invalid")["field"] == field
    assert not ModelVersion.objects.filter(version="2.0.0").exists()


def test_json_nested_as_deep_as_allowed_is_kept(catalog, owner_api):
    nested = b"[" * (MAX_DEPTH - 2) + b"]" * (MAX_DEPTH - 2)
    response = owner_api.post(
        f"{API}/models/olivia/iris-classifier/versions/",
        data=b'{"version": "2.0.0", "params": {"a": ' + nested + b"}}",
        content_type="application/json",
    )

    assert response.status_code == 201, response.content[:300]
    assert ModelVersion.objects.get(version="2.0.0").params["a"] == response.json()["params"]["a"]


@pytest.mark.parametrize(
    "signature",
    ["[" * DEEP + "]" * DEEP, '{"inputs": ' + "[" * 600 + "]" * 600 + "}", '{"inputs": [{"name": "\\udc00"}]}', "NaN"],
    ids=["100000 deep", "600 deep", "lone surrogate", "NaN"],
)
def test_json_sent_as_text_in_a_multipart_body_is_held_to_the_same_rules(catalog, owner_api, signature):
    response = owner_api.post(
        f"{API}/models/olivia/iris-classifier/versions/",
        {"version": "2.0.0", "signature": signature},
        format="multipart",
    )

    assert assert_error(response, 400)["field"] == "signature"
    assert not ModelVersion.objects.filter(version="2.0.0").exists()


@pytest.mark.parametrize("params", ["[" * DEEP + "]" * DEEP, '{"a": "\\udc00"}', '{"lr": 1e999}', '{"lr": NaN}'])
def test_the_version_form_refuses_the_same_json_with_a_form_error(catalog, owner_client, params):
    # The form has rows of fields now: a value that is no JSON the registry keeps is kept as
    # text, never decoded into NaN, infinity or a lone surrogate.
    body = {"version": "2.0.0", "params-TOTAL_FORMS": "1", "params-INITIAL_FORMS": "0", "params-0-key": "lr",
            "params-0-value": params}  # fmt: skip
    for prefix in ("metrics", "inputs", "outputs"):
        body |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    response = owner_client.post("/models/olivia/iris-classifier/versions/new/", body)

    stored = ModelVersion.objects.filter(version="2.0.0").first()
    if stored is None:
        assert response.status_code == 200 and response.context["metadata"].params.errors[0]
    else:
        assert response.status_code == 302 and stored.params == {"lr": params}


def _api_views(resolver=None, prefix: str = ""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("api/v1/"):
            view = getattr(pattern.callback, "view_class", None)
            if view is not None:
                yield prefix + str(pattern.pattern), view


def test_every_api_view_parses_json_with_the_registrys_parser():
    """A view that lists rest_framework's JSONParser itself would bring the 500s back."""
    views = list(_api_views())
    assert len(views) > 10
    for route, view in views:
        for parser in getattr(view, "parser_classes", api_settings.DEFAULT_PARSER_CLASSES):
            if "json" in parser.media_type:
                assert issubclass(parser, JSONParser), (route, parser)


def test_a_json_body_past_the_size_limit_is_a_413_with_the_error_body(catalog, owner_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = '{"name": "big", "summary": "' + "a" * 20_000 + '"}'
    response = owner_api.post(f"{API}/models/", body, content_type="application/json")
    assert_error(response, 413, "too_large")
    assert "10,000 bytes" in response.json()["detail"]
    assert not RegisteredModel.objects.filter(name="big").exists()
