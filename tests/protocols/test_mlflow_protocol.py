"""The MLflow endpoint's rules, called the way the client calls it (JSON bodies, query
strings, Bearer tokens): who may read and write what, the artifact paths it refuses, and
error answers that are MLflow's JSON with a 4xx, never a 5xx."""

import json

import pytest
from django.test import Client

from models_app.models import ModelFile, VersionStatus
from protocols_app.models import Artifact, ModelVersionLink
from reviews_app.models import AuditEvent, Review
from tests.factories import api_client_for, make_user

API = "/mlflow/api/2.0/mlflow/"
ARTIFACTS = "/mlflow/api/2.0/mlflow-artifacts/artifacts/"
MLMODEL = b"artifact_path: model\nflavors:\n  sklearn:\n    sklearn_version: 1.9.1\n"

pytestmark = pytest.mark.django_db


def call(client, method: str, endpoint: str, body: dict | None = None):
    if method == "GET":
        return client.get(API + endpoint, body or {})
    return client.generic(method, API + endpoint, json.dumps(body or {}), content_type="application/json")


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def error_of(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_code"] == code, body
    assert body["message"]
    return body["message"]


@pytest.fixture
def olivia_mlflow(owner):
    return api_client_for(owner)


@pytest.fixture
def oscar_mlflow(outsider):
    return api_client_for(outsider)


def log_model(client, username: str, files: dict[str, bytes] | None = None) -> tuple[str, str]:
    """A run and a logged model with uploaded files, as `log_model` leaves them."""
    run = ok(call(client, "POST", "runs/create", {"experiment_id": "0"}))["run"]["info"]
    run_id = run["run_id"]
    ok(call(client, "POST", "runs/log-parameter", {"run_id": run_id, "key": "C", "value": "1.0"}))
    ok(call(client, "POST", "runs/log-metric", {"run_id": run_id, "key": "accuracy", "value": 0.95, "timestamp": 1}))
    model = ok(call(client, "POST", "logged-models", {"experiment_id": "0", "name": "model", "source_run_id": run_id}))
    model_id = model["model"]["info"]["model_id"]
    assert model["model"]["info"]["artifact_uri"] == f"mlflow-artifacts:/runs/{username}/models/{model_id}/artifacts"
    for name, data in (files or {"MLmodel": MLMODEL, "model.onnx": b"\x08\x07not really onnx"}).items():
        response = client.put(
            f"{ARTIFACTS}runs/{username}/models/{model_id}/artifacts/{name}",
            data,
            content_type="application/octet-stream",
        )
        ok(response)
    return run_id, model_id


def register(client, name: str, run_id: str, model_id: str, **extra):
    call(client, "POST", "registered-models/create", {"name": name})
    body = {"name": name, "source": f"models:/{model_id}", "run_id": run_id, "model_id": model_id, **extra}
    return call(client, "POST", "model-versions/create", body)


def test_experiment_zero_exists_and_a_named_one_is_created_once(olivia_mlflow):
    assert ok(call(olivia_mlflow, "GET", "experiments/get", {"experiment_id": "0"}))["experiment"]["name"] == "Default"
    error_of(
        call(olivia_mlflow, "GET", "experiments/get-by-name", {"experiment_name": "iris"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    created = ok(call(olivia_mlflow, "POST", "experiments/create", {"name": "iris"}))["experiment_id"]
    again = call(olivia_mlflow, "POST", "experiments/create", {"name": "iris"})
    error_of(again, 400, "RESOURCE_ALREADY_EXISTS")
    found = ok(call(olivia_mlflow, "GET", "experiments/get-by-name", {"experiment_name": "iris"}))["experiment"]
    assert found["experiment_id"] == created


def test_a_registered_version_is_a_submitted_registry_version_with_the_runs_params_and_metrics(olivia_mlflow, owner):
    run_id, model_id = log_model(olivia_mlflow, owner.username)
    version = ok(register(olivia_mlflow, "iris-clf", run_id, model_id))["model_version"]
    assert version["version"] == "1" and version["status"] == "READY"
    link = ModelVersionLink.objects.select_related("version__model").get()
    registry_version = link.version
    assert registry_version.version == "1.0.0"
    assert registry_version.status == VersionStatus.IN_REVIEW
    assert Review.objects.filter(version=registry_version).exists()
    assert registry_version.params == {"C": "1.0"}
    assert registry_version.reported_metrics == {"accuracy": 0.95}
    assert sorted(ModelFile.objects.filter(version=registry_version).values_list("path", flat=True)) == [
        "MLmodel",
        "model.onnx",
    ]
    model = registry_version.model
    assert (model.owner, model.name, model.framework, model.visibility) == (
        owner,
        "iris-clf",
        "scikit-learn",
        "private",
    )
    submitted = AuditEvent.objects.get(action="version.submit")
    assert (submitted.actor, submitted.data["via"]) == (owner, "mlflow")
    assert AuditEvent.objects.filter(action="file.upload", data__via="mlflow").count() == 2


def test_the_next_version_comes_from_another_run_and_registry_version_tag_sets_the_semver(olivia_mlflow, owner):
    run_id, model_id = log_model(olivia_mlflow, owner.username)
    ok(register(olivia_mlflow, "iris-clf", run_id, model_id))
    run_id, model_id = log_model(olivia_mlflow, owner.username)
    ok(
        call(
            olivia_mlflow, "POST", "runs/set-tag", {"run_id": run_id, "key": "registry.version", "value": "1.1.0-rc.1"}
        )
    )
    second = ok(register(olivia_mlflow, "iris-clf", run_id, model_id))["model_version"]
    assert second["version"] == "2"
    assert {tag["key"]: tag["value"] for tag in second["tags"]}["registry.version"] == "1.1.0-rc.1"
    run_id, model_id = log_model(olivia_mlflow, owner.username)
    ok(call(olivia_mlflow, "POST", "runs/set-tag", {"run_id": run_id, "key": "registry.version", "value": "v1"}))
    message = error_of(register(olivia_mlflow, "iris-clf", run_id, model_id), 400, "INVALID_PARAMETER_VALUE")
    assert "semantic version" in message
    assert ModelVersionLink.objects.count() == 2  # the refused one left nothing behind


def test_writes_need_a_token_and_a_bad_token_is_unauthenticated(owner):
    anonymous = Client()
    error_of(call(anonymous, "POST", "runs/create", {"experiment_id": "0"}), 401, "UNAUTHENTICATED")
    bad = Client(HTTP_AUTHORIZATION="Bearer not-a-token")
    error_of(call(bad, "GET", "registered-models/search"), 401, "UNAUTHENTICATED")


def test_a_session_cookie_does_not_authenticate_the_endpoint(owner):
    browser = Client()
    browser.force_login(owner)
    error_of(call(browser, "POST", "registered-models/create", {"name": "via-cookie"}), 401, "UNAUTHENTICATED")


def test_others_runs_and_logged_models_do_not_exist_for_a_user(olivia_mlflow, oscar_mlflow, owner):
    run_id, model_id = log_model(olivia_mlflow, owner.username)
    error_of(call(oscar_mlflow, "GET", "runs/get", {"run_id": run_id}), 404, "RESOURCE_DOES_NOT_EXIST")
    error_of(
        call(oscar_mlflow, "POST", "runs/log-metric", {"run_id": run_id, "key": "a", "value": 1}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    error_of(call(oscar_mlflow, "GET", f"logged-models/{model_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    upload = oscar_mlflow.put(
        f"{ARTIFACTS}runs/{owner.username}/models/{model_id}/artifacts/evil.pkl",
        b"x",
        content_type="application/octet-stream",
    )
    error_of(upload, 403, "PERMISSION_DENIED")
    download = oscar_mlflow.get(f"{ARTIFACTS}runs/{owner.username}/models/{model_id}/artifacts/MLmodel")
    error_of(download, 404, "RESOURCE_DOES_NOT_EXIST")


def test_a_version_source_must_be_the_callers_own_stored_artifacts(olivia_mlflow, oscar_mlflow, owner, outsider):
    run_id, model_id = log_model(olivia_mlflow, owner.username)
    ok(call(oscar_mlflow, "POST", "registered-models/create", {"name": "stolen"}))
    for source in (
        f"models:/{model_id}",  # olivia's logged model
        f"mlflow-artifacts:/runs/{owner.username}/models/{model_id}/artifacts",
        "file:///etc/passwd",
        "/etc/passwd",
        "s3://bucket/model",
        "http://169.254.169.254/latest/meta-data/",
        f"runs:/{run_id}/model",
        "mlflow-artifacts:/runs/oscar/../olivia/x",
    ):
        response = call(oscar_mlflow, "POST", "model-versions/create", {"name": "stolen", "source": source})
        assert response.status_code in (400, 403, 404), (source, response.content)
        assert response.json()["error_code"] in (
            "INVALID_PARAMETER_VALUE",
            "PERMISSION_DENIED",
            "RESOURCE_DOES_NOT_EXIST",
        )
    assert not ModelVersionLink.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "runs/olivia/../oscar/x",
        "runs/olivia/%2e%2e/x",
        "runs/olivia/%252e%252e/x",
        "runs/olivia/..%2fx",
        "runs/olivia/.%2e/x",
        "runs/olivia/a%00b",
        "runs/olivia/a%5cb",
        "runs/olivia//x",
        "runs/olivia/./x",
        "%2fetc/passwd",
        "runs/olivia/.hidden",
    ],
)
def test_artifact_paths_outside_the_allow_list_are_refused(olivia_mlflow, path):
    for method in ("get", "put"):
        response = getattr(olivia_mlflow, method)(ARTIFACTS + path)
        assert response.status_code in (400, 403, 404), (path, response.status_code)
        assert response.json()["error_code"] in (
            "INVALID_PARAMETER_VALUE",
            "PERMISSION_DENIED",
            "ENDPOINT_NOT_FOUND",
            "RESOURCE_DOES_NOT_EXIST",
        )
    assert not Artifact.objects.exists()


def test_an_upload_into_a_finalized_logged_model_is_refused(olivia_mlflow, owner):
    _, model_id = log_model(olivia_mlflow, owner.username)
    ok(
        call(
            olivia_mlflow, "PATCH", f"logged-models/{model_id}", {"model_id": model_id, "status": "LOGGED_MODEL_READY"}
        )
    )
    late = olivia_mlflow.put(
        f"{ARTIFACTS}runs/{owner.username}/models/{model_id}/artifacts/late.txt", b"x", content_type="text/plain"
    )
    error_of(late, 400, "INVALID_STATE")


def test_an_unpublished_version_is_the_owners_and_reviewers_only(olivia_mlflow, oscar_mlflow, owner, reviewer):
    run_id, model_id = log_model(olivia_mlflow, owner.username)
    ok(register(olivia_mlflow, "iris-clf", run_id, model_id))
    name = f"{owner.username}/iris-clf"
    for client in (oscar_mlflow, Client()):
        error_of(
            call(client, "GET", "model-versions/get", {"name": name, "version": "1"}), 404, "RESOURCE_DOES_NOT_EXIST"
        )
        error_of(
            call(client, "GET", "model-versions/get-download-uri", {"name": name, "version": "1"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
        )
        refused = client.get(f"{ARTIFACTS}versions/{owner.username}/iris-clf/1.0.0/MLmodel")
        error_of(refused, 404, "RESOURCE_DOES_NOT_EXIST")
    reviewer_mlflow = api_client_for(reviewer)
    assert (
        ok(call(reviewer_mlflow, "GET", "model-versions/get", {"name": name, "version": "1"}))["model_version"][
            "version"
        ]
        == "1"
    )
    downloaded = olivia_mlflow.get(f"{ARTIFACTS}versions/{owner.username}/iris-clf/1.0.0/MLmodel")
    assert downloaded.status_code == 200 and b"".join(downloaded.streaming_content) == MLMODEL
    listing = ok(olivia_mlflow.get(ARTIFACTS[:-1], {"path": f"versions/{owner.username}/iris-clf/1.0.0"}))
    assert [entry["path"] for entry in listing["files"]] == ["MLmodel", "model.onnx"]


def test_changing_anothers_model_is_permission_denied(olivia_mlflow, oscar_mlflow, owner):
    run_id, model_id = log_model(olivia_mlflow, owner.username)
    ok(
        register(
            olivia_mlflow,
            "iris-clf",
            run_id,
            model_id,
        )
    )
    ok(call(olivia_mlflow, "PATCH", "registered-models/update", {"name": "iris-clf", "description": "x"}))
    error_of(call(oscar_mlflow, "POST", "registered-models/create", {"name": "olivia/other"}), 403, "PERMISSION_DENIED")
    # Private: others cannot even see it.
    error_of(
        call(oscar_mlflow, "POST", "registered-models/set-tag", {"name": "olivia/iris-clf", "key": "k", "value": "v"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_registry_tags_are_read_only(olivia_mlflow, owner):
    run_id, model_id = log_model(olivia_mlflow, owner.username)
    ok(register(olivia_mlflow, "iris-clf", run_id, model_id))
    refused = call(
        olivia_mlflow,
        "POST",
        "model-versions/set-tag",
        {"name": "iris-clf", "version": "1", "key": "registry.status", "value": "published"},
    )
    error_of(refused, 400, "INVALID_PARAMETER_VALUE")


def test_the_clients_prompt_filter_and_name_filters_search_registered_models(olivia_mlflow, owner):
    for name in ("iris-clf", "wine-clf"):
        ok(
            call(
                olivia_mlflow,
                "POST",
                "registered-models/create",
                {"name": name, "tags": [{"key": "team", "value": name[:4]}]},
            )
        )
    everything = ok(
        call(olivia_mlflow, "GET", "registered-models/search", {"filter": "tag.`mlflow.prompt.is_prompt` != 'true'"})
    )
    assert [model["name"] for model in everything["registered_models"]] == ["iris-clf", "wine-clf"]
    like = ok(call(olivia_mlflow, "GET", "registered-models/search", {"filter": "name LIKE 'iri%'"}))
    assert [model["name"] for model in like["registered_models"]] == ["iris-clf"]
    tagged = ok(call(olivia_mlflow, "GET", "registered-models/search", {"filter": "tags.team = 'wine'"}))
    assert [model["name"] for model in tagged["registered_models"]] == ["wine-clf"]
    first = ok(call(olivia_mlflow, "GET", "registered-models/search", {"max_results": 1}))
    assert len(first["registered_models"]) == 1 and first["next_page_token"]
    second = ok(
        call(
            olivia_mlflow, "GET", "registered-models/search", {"max_results": 1, "page_token": first["next_page_token"]}
        )
    )
    assert [model["name"] for model in second["registered_models"]] == ["wine-clf"]
    error_of(
        call(olivia_mlflow, "GET", "registered-models/search", {"filter": "name = 'a' OR name = 'b'"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    error_of(
        call(olivia_mlflow, "GET", "registered-models/search", {"page_token": "garbage"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


@pytest.mark.parametrize(
    "method,endpoint,body",
    [
        ("POST", "runs/log-metric", {"run_id": "x" * 5000, "key": "a", "value": 1}),
        ("POST", "runs/log-metric", {"run_id": ["a"], "key": "a", "value": 1}),
        ("POST", "runs/log-batch", {"run_id": "abc", "metrics": "nope"}),
        ("GET", "model-versions/get", {"name": "x", "version": "one"}),
        ("GET", "registered-models/get", {"name": ""}),
        ("POST", "registered-models/create", {"name": "Not A Slug!"}),
        ("POST", "registered-models/create", {"name": "ok", "tags": [{"key": "registry.license", "value": "WTFPL"}]}),
        ("POST", "experiments/create", {"name": "x", "artifact_location": "file:///etc"}),
        ("POST", "runs/create", {"experiment_id": "99999"}),
    ],
)
def test_bad_arguments_are_mlflow_errors_never_a_server_error(olivia_mlflow, method, endpoint, body):
    response = call(olivia_mlflow, method, endpoint, body)
    assert 400 <= response.status_code < 500, response.content
    assert set(response.json()) == {"error_code", "message"}


def test_malformed_json_and_unsupported_calls(olivia_mlflow):
    broken = olivia_mlflow.post(API + "runs/create", "{nope", content_type="application/json")
    error_of(broken, 400, "MALFORMED_REQUEST")
    error_of(call(olivia_mlflow, "POST", "runs/search", {}), 404, "ENDPOINT_NOT_FOUND")
    error_of(olivia_mlflow.get("/mlflow/api/3.0/mlflow/server-info"), 404, "ENDPOINT_NOT_FOUND")
    error_of(call(olivia_mlflow, "GET", "runs/create"), 404, "ENDPOINT_NOT_FOUND")


def test_a_version_cannot_be_deleted_through_mlflow(olivia_mlflow):
    error_of(
        call(olivia_mlflow, "DELETE", "model-versions/delete", {"name": "x", "version": "1"}), 403, "PERMISSION_DENIED"
    )


def test_an_upload_past_the_size_limit_is_refused_before_it_is_stored(olivia_mlflow, owner, settings):
    _, model_id = log_model(olivia_mlflow, owner.username)
    settings.MAX_UPLOAD_SIZE = 10
    big = olivia_mlflow.put(
        f"{ARTIFACTS}runs/{owner.username}/models/{model_id}/artifacts/big.bin",
        b"x" * 11,
        content_type="application/octet-stream",
    )
    assert big.status_code == 413 and big.json()["error_code"] == "RESOURCE_EXHAUSTED"
    assert not Artifact.objects.filter(path__endswith="big.bin").exists()


def test_another_users_model_by_full_name_is_visible_once_public_and_published(olivia_mlflow, owner):
    make_user("paula")
    ok(
        call(
            olivia_mlflow,
            "POST",
            "registered-models/create",
            {"name": "open", "tags": [{"key": "registry.visibility", "value": "public"}]},
        )
    )
    anonymous = Client()
    # A public model without a release is not in the catalog for others yet.
    error_of(
        call(anonymous, "GET", "registered-models/get", {"name": f"{owner.username}/open"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    error_of(call(anonymous, "GET", "registered-models/get", {"name": "open"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_uploads_never_registered_expire_and_registered_files_stay(olivia_mlflow, owner):
    from datetime import timedelta

    from django.utils import timezone

    from protocols_app.tasks import artifacts_expire

    run_id, model_id = log_model(olivia_mlflow, owner.username)
    ok(register(olivia_mlflow, "iris-clf", run_id, model_id))
    log_model(olivia_mlflow, owner.username, {"orphan.bin": b"never registered"})
    Artifact.objects.update(created_at=timezone.now() - timedelta(days=8))
    assert artifacts_expire(older_than_seconds=7 * 24 * 3600) == 3
    assert not Artifact.objects.exists()
    assert ModelFile.objects.filter(path="MLmodel").exists()


@pytest.mark.parametrize("count", [2, 12])
def test_searches_cost_a_fixed_number_of_queries(olivia_mlflow, owner, count, django_assert_max_num_queries):
    for index in range(count):
        run_id, model_id = log_model(olivia_mlflow, owner.username)
        ok(register(olivia_mlflow, f"model-{index}", run_id, model_id))
    with django_assert_max_num_queries(7):  # token, last use, page, links, aliases, tags, edit rights
        found = ok(call(olivia_mlflow, "GET", "registered-models/search", {"max_results": 100}))
    assert len(found["registered_models"]) == count
    assert all(model["latest_versions"][0]["version"] == "1" for model in found["registered_models"])
    with django_assert_max_num_queries(4):  # token, last use, page, aliases
        versions = ok(call(olivia_mlflow, "GET", "model-versions/search", {"max_results": 100}))
    assert len(versions["model_versions"]) == count


def test_a_number_below_the_published_versions_asks_for_the_registry_version_tag(olivia_mlflow, owner):
    from tests.factories import make_released_model

    make_released_model(owner, "iris-clf")  # published 1.0.0 on the website
    run_id, model_id = log_model(olivia_mlflow, owner.username)
    message = error_of(register(olivia_mlflow, "iris-clf", run_id, model_id), 400, "INVALID_PARAMETER_VALUE")
    assert "registry.version" in message and "1.0.0" in message
    ok(call(olivia_mlflow, "POST", "runs/set-tag", {"run_id": run_id, "key": "registry.version", "value": "2.0.0"}))
    version = ok(register(olivia_mlflow, "iris-clf", run_id, model_id))["model_version"]
    assert {tag["key"]: tag["value"] for tag in version["tags"]}["registry.version"] == "2.0.0"


def test_searching_versions_of_a_model_one_cannot_see_finds_nothing(olivia_mlflow, oscar_mlflow, owner):
    run_id, model_id = log_model(olivia_mlflow, owner.username)
    ok(register(olivia_mlflow, "iris-clf", run_id, model_id))
    for name in ("olivia/iris-clf", "iris-clf", "nobody/nothing"):
        found = ok(call(oscar_mlflow, "GET", "model-versions/search", {"filter": f"name='{name}'"}))
        assert found["model_versions"] == []
    mine = ok(call(olivia_mlflow, "GET", "model-versions/search", {"filter": "name='iris-clf'"}))
    assert [version["version"] for version in mine["model_versions"]] == ["1"]
