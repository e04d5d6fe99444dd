"""The OpenAPI schema generates without a warning and validates."""

import pytest
import yaml
from django.core.management import call_command


def test_the_schema_generates_without_warnings_and_validates(tmp_path, capsys):
    target = tmp_path / "schema.yml"

    # --fail-on-warn turns any drf-spectacular warning or error into a failure.
    call_command("spectacular", "--file", str(target), "--validate", "--fail-on-warn")

    schema = yaml.safe_load(target.read_text())
    operations = [op for path in schema["paths"].values() for op in path.values()]
    operation_ids = [op["operationId"] for op in operations]
    assert len(operation_ids) == len(set(operation_ids))
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    models_list = schema["paths"]["/api/v1/models/"]["get"]
    assert models_list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PaginatedModelList"
    )
    assert {p["name"] for p in models_list["parameters"]} >= {
        "q",
        "task",
        "framework",
        "license",
        "tag",
        "owner",
        "ordering",
        "page",
        "page_size",
    }
    versions_list = schema["paths"]["/api/v1/models/{owner}/{name}/versions/"]["get"]
    assert versions_list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PaginatedVersionList"
    )


@pytest.mark.django_db
def test_the_schema_is_served(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
