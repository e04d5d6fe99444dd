"""Models through the API: create, list, read, change, delete, and every bad input."""

import pytest

from models_app.models import RegisteredModel
from tests.factories import make_model, make_released_model, make_version

from .helpers import API, assert_error, model_url

pytestmark = pytest.mark.django_db

NEW_MODEL = {
    "name": "wine-quality",
    "summary": "Predicts wine quality",
    "description": "# Wine\n\nA gradient boosted model.",
    "task": "tabular-regression",
    "framework": "xgboost",
    "license": "Apache-2.0",
    "tags": ["wine", "Tabular Data"],
}


def test_it_creates_a_model_owned_by_the_caller(owner, owner_api):
    response = owner_api.post(f"{API}/models/", NEW_MODEL, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == "olivia"
    assert body["full_name"] == "olivia/wine-quality"
    assert body["tags"] == ["tabular-data", "wine"]
    assert body["visibility"] == "public"
    assert body["download_count"] == 0
    assert body["latest_version"] is None
    assert body["url"].endswith("/api/v1/models/olivia/wine-quality/")
    stored = RegisteredModel.objects.get(owner=owner, name="wine-quality")
    assert stored.framework == "xgboost"
    assert sorted(stored.tags.values_list("name", flat=True)) == ["tabular-data", "wine"]


def test_anonymous_cannot_create_a_model(api, db):
    assert_error(api.post(f"{API}/models/", NEW_MODEL, format="json"), 401, "not_authenticated")
    assert not RegisteredModel.objects.exists()


def test_it_refuses_a_second_model_with_the_same_name(owner, owner_api):
    make_model(owner, "wine-quality")

    assert_error(owner_api.post(f"{API}/models/", NEW_MODEL, format="json"), 409, "name_taken")
    assert RegisteredModel.objects.filter(owner=owner).count() == 1


def test_two_owners_may_use_the_same_name(owner, outsider, outsider_api):
    make_model(owner, "wine-quality")

    response = outsider_api.post(f"{API}/models/", NEW_MODEL, format="json")

    assert response.status_code == 201
    assert RegisteredModel.objects.filter(name="wine-quality").count() == 2


@pytest.mark.parametrize(
    "name",
    ["wine quality", "wine/quality", "Wine", "-wine", "wine-", "", "x" * 101, "../etc", "wine\x00", "wïne"],
)
def test_it_refuses_a_name_that_is_not_a_slug(owner_api, name):
    body = assert_error(owner_api.post(f"{API}/models/", {**NEW_MODEL, "name": name}, format="json"), 400)
    assert body["field"] == "name"
    assert not RegisteredModel.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("task", "mind-reading"),
        ("framework", "caffe9"),
        ("license", "WTFPL-9"),
        ("visibility", "secret"),
        ("tags", "not-a-list"),
        ("tags", [{"nested": True}]),
        ("tags", ["!!!"]),
        ("tags", [f"t{i}" for i in range(21)]),
        ("summary", "s" * 301),
    ],
)
def test_it_refuses_unknown_or_malformed_metadata(owner_api, field, value):
    body = assert_error(owner_api.post(f"{API}/models/", {**NEW_MODEL, field: value}, format="json"), 400)
    assert field in body["detail"] or body.get("field") == field
    assert not RegisteredModel.objects.exists()


@pytest.mark.parametrize("field", ["task", "framework", "license", "name"])
def test_it_requires_the_core_fields(owner_api, field):
    data = {key: value for key, value in NEW_MODEL.items() if key != field}
    body = assert_error(owner_api.post(f"{API}/models/", data, format="json"), 400, "invalid")
    assert body["field"] == field


@pytest.mark.parametrize(
    ("field", "value"),
    [("owner", "oscar"), ("download_count", 99), ("full_name", "oscar/x"), ("latest_version", "9.9.9")],
)
def test_it_refuses_read_only_fields_on_create(owner_api, field, value):
    body = assert_error(owner_api.post(f"{API}/models/", {**NEW_MODEL, field: value}, format="json"), 400, "invalid")
    assert body["field"] == field
    assert not RegisteredModel.objects.exists()


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"name": '])
def test_it_answers_malformed_json_with_the_error_body(owner_api, body):
    response = owner_api.generic("POST", f"{API}/models/", body, content_type="application/json")
    assert_error(response, 400)


def test_it_lists_models_with_pagination(owner, api):
    for index in range(3):
        make_released_model(owner, f"model-{index}")

    body = api.get(f"{API}/models/").json()

    assert body["count"] == 3
    assert {item["full_name"] for item in body["results"]} == {f"olivia/model-{i}" for i in range(3)}
    assert set(body) == {"count", "next", "previous", "results"}


def test_it_shows_one_model_with_its_latest_published_version(owner, api):
    model = make_model(owner)
    make_version(model, "1.0.0", status="published")
    make_version(model, "1.1.0", status="published")
    make_version(model, "2.0.0")  # a draft is not the latest published version

    body = api.get(model_url()).json()

    assert body["full_name"] == "olivia/iris-classifier"
    assert body["description"].startswith("# Iris classifier")
    assert body["latest_version"] == "1.1.0"
    assert body["tags"] == ["iris", "tabular"]


def test_an_unknown_model_is_a_json_404(api, db):
    assert_error(api.get(model_url("nobody", "nothing")), 404, "not_found")


def test_the_owner_changes_the_card_and_metadata(owner, owner_api):
    model = make_model(owner)

    response = owner_api.patch(
        model_url(), {"summary": "Better", "tags": ["flowers"], "visibility": "private"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == ["flowers"]
    model.refresh_from_db()
    assert (model.summary, model.visibility, model.tags_text) == ("Better", "private", "flowers")
    assert list(model.tags.values_list("name", flat=True)) == ["flowers"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("owner", "oscar"),
        ("download_count", 1000),
        ("name", "renamed"),
        ("full_name", "x/y"),
        ("created_at", "2020-01-01T00:00:00Z"),
    ],
)
def test_patching_a_read_only_field_is_refused_and_changes_nothing(owner, owner_api, field, value):
    model = make_model(owner)

    body = assert_error(
        owner_api.patch(model_url(), {field: value, "summary": "Changed"}, format="json"), 400, "invalid"
    )

    assert body["field"] == field
    model.refresh_from_db()
    assert (model.owner, model.name, model.download_count, model.summary) == (
        owner,
        "iris-classifier",
        0,
        "Classifies iris flowers",
    )


def test_patching_with_an_unknown_task_is_refused(owner, owner_api):
    make_model(owner)
    assert_error(owner_api.patch(model_url(), {"task": "telepathy"}, format="json"), 400, "invalid")
    assert RegisteredModel.objects.get().task == "tabular-classification"


def test_another_user_cannot_change_a_public_model(owner, outsider_api):
    model = make_released_model(owner)

    assert_error(outsider_api.patch(model_url(), {"summary": "Mine now"}, format="json"), 403, "forbidden")
    assert_error(outsider_api.delete(model_url()), 403, "forbidden")

    model.refresh_from_db()
    assert model.summary == "Classifies iris flowers"


def test_anonymous_cannot_change_or_delete_a_model(owner, api):
    make_model(owner)
    assert_error(api.patch(model_url(), {"summary": "x"}, format="json"), 401)
    assert_error(api.delete(model_url()), 401)
    assert RegisteredModel.objects.get().summary == "Classifies iris flowers"


def test_the_owner_deletes_a_model_without_published_versions(owner, owner_api):
    model = make_model(owner)
    make_version(model, "0.1.0", files={"model.onnx": b"draft bytes"})

    response = owner_api.delete(model_url())

    assert response.status_code == 204
    assert not RegisteredModel.objects.exists()


def test_a_model_with_published_versions_cannot_be_deleted(owner, owner_api):
    model = make_model(owner)
    make_version(model, "1.0.0", status="published")

    assert_error(owner_api.delete(model_url()), 409, "has_published_versions")
    assert RegisteredModel.objects.filter(pk=model.pk).exists()


def test_unsupported_methods_get_the_error_body(owner, owner_api):
    make_model(owner)
    assert_error(owner_api.put(model_url(), {"summary": "x"}, format="json"), 405, "method_not_allowed")
