"""Versions through the API: SemVer validation, uniqueness, ordering, read-only fields."""

import pytest

from models_app.models import ModelVersion
from tests.factories import make_model, make_version, move_to

from .helpers import assert_error, version_url, versions_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(owner):
    return make_model(owner)


def test_it_creates_a_draft_version(owner, owner_api, model):
    payload = {
        "version": "1.2.0-rc.1",
        "changelog": "First cut",
        "params": {"C": 1.0, "penalty": "l2"},
        "reported_metrics": {"accuracy": 0.97},
        "signature": {"inputs": [{"name": "x", "type": "float32", "shape": [None, 4]}], "outputs": []},
    }

    response = owner_api.post(versions_url(), payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["version"], body["status"], body["created_by"], body["files"]) == ("1.2.0-rc.1", "draft", "olivia", [])
    stored = ModelVersion.objects.get(model=model)
    assert (stored.major, stored.minor, stored.patch) == (1, 2, 0)
    assert stored.status == "draft"
    assert stored.created_by == owner
    assert stored.params == {"C": 1.0, "penalty": "l2"}
    assert stored.reported_metrics == {"accuracy": 0.97}
    assert stored.signature["inputs"][0]["shape"] == [None, 4]


@pytest.mark.parametrize(
    "version",
    [
        "v1.0.0",
        "v1.0",
        "1.0",
        "1",
        "1.0.0+build.5",
        "1.0.0-",
        "01.0.0",
        "1.0.0-01",
        "",
        " ",
        "1.0.0.0",
        "latest",
        "1.0.0\x00",
        "9" * 70 + ".0.0",
    ],
)
def test_it_refuses_a_version_that_is_not_semver(owner_api, model, version):
    body = assert_error(owner_api.post(versions_url(), {"version": version}, format="json"), 400)
    assert body.get("field") == "version"
    assert not ModelVersion.objects.exists()


def test_the_error_for_a_leading_v_says_how_to_write_it(owner_api, model):
    body = assert_error(owner_api.post(versions_url(), {"version": "v1.0.0"}, format="json"), 400)
    assert "1.0.0" in body["detail"]


def test_a_duplicate_version_is_a_conflict(owner_api, model):
    make_version(model, "1.0.0")

    assert_error(owner_api.post(versions_url(), {"version": "1.0.0"}, format="json"), 409, "version_exists")
    assert ModelVersion.objects.count() == 1


@pytest.mark.parametrize("version", ["1.0.0", "0.9.0", "1.1.0-rc.1", "1.0.5"])
def test_a_version_not_above_the_latest_published_is_a_conflict(owner_api, model, version):
    make_version(model, "1.1.0", status="published")

    assert_error(owner_api.post(versions_url(), {"version": version}, format="json"), 409, "version_not_greater")
    assert list(ModelVersion.objects.values_list("version", flat=True)) == ["1.1.0"]


def test_a_version_below_a_draft_is_allowed(owner_api, model):
    make_version(model, "2.0.0")  # drafts are not published yet, so they set no floor

    assert owner_api.post(versions_url(), {"version": "1.5.0"}, format="json").status_code == 201


def test_the_version_list_is_newest_semver_first(owner, api, model):
    for version in ["1.0.0-rc.1", "1.0.0", "1.9.0", "1.10.0", "2.0.0-alpha", "2.0.0-alpha.1", "2.0.0-beta", "2.0.0"]:
        make_version(model, version, status="published")

    body = api.get(versions_url()).json()

    assert [item["version"] for item in body["results"]] == [
        "2.0.0",
        "2.0.0-beta",
        "2.0.0-alpha.1",
        "2.0.0-alpha",
        "1.10.0",
        "1.9.0",
        "1.0.0",
        "1.0.0-rc.1",
    ]
    assert body["count"] == 8


def test_numeric_prerelease_parts_sort_by_value(owner, api, model):
    drafts = [
        make_version(model, version, files={"m.bin": version.encode()})
        for version in ["1.0.0-rc.2", "1.0.0-rc.10", "1.0.0-rc.1"]
    ]
    for draft in drafts:  # created first: a new version must be above the published ones
        move_to(draft, "published")

    body = api.get(versions_url()).json()

    assert [item["version"] for item in body["results"]] == ["1.0.0-rc.10", "1.0.0-rc.2", "1.0.0-rc.1"]


def test_one_version_with_its_files(owner, api, model):
    make_version(
        model, "1.0.0", status="published", files={"model.onnx": b"\x08\x07\x12\x04onnx", "docs/README.md": b"# hi"}
    )

    body = api.get(version_url("1.0.0")).json()

    assert body["version"] == "1.0.0"
    assert body["status"] == "published"
    assert [f["path"] for f in body["files"]] == ["docs/README.md", "model.onnx"]
    assert body["files"][1]["format"] == "onnx"
    assert body["files"][1]["download_url"].endswith("/versions/1.0.0/files/model.onnx")


def test_an_unknown_version_is_a_json_404(api, model):
    assert_error(api.get(version_url("9.9.9")), 404, "not_found")


def test_the_owner_edits_a_draft(owner_api, model):
    version = make_version(model, "1.0.0")

    response = owner_api.patch(version_url("1.0.0"), {"changelog": "Fixed", "params": {"depth": 3}}, format="json")

    assert response.status_code == 200, response.json()
    version.refresh_from_db()
    assert (version.changelog, version.params) == ("Fixed", {"depth": 3})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "published"),
        ("version", "2.0.0"),
        ("download_count", 10),
        ("sha256", "0" * 64),
        ("created_by", "oscar"),
        ("published_at", "2020-01-01T00:00:00Z"),
        ("files", []),
    ],
)
def test_patching_a_read_only_version_field_is_refused(owner_api, model, field, value):
    version = make_version(model, "1.0.0")

    body = assert_error(
        owner_api.patch(version_url("1.0.0"), {field: value, "changelog": "x"}, format="json"), 400, "invalid"
    )

    assert body["field"] == field
    version.refresh_from_db()
    assert (version.status, version.version, version.download_count, version.changelog) == ("draft", "1.0.0", 0, "")


@pytest.mark.parametrize(("field", "value"), [("status", "published"), ("download_count", 3), ("sha256", "a" * 64)])
def test_creating_with_a_read_only_field_is_refused(owner_api, model, field, value):
    assert_error(owner_api.post(versions_url(), {"version": "1.0.0", field: value}, format="json"), 400, "invalid")
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("params", [1, 2]),
        ("params", "x"),
        ("reported_metrics", {"accuracy": "high"}),
        ("reported_metrics", {"accuracy": True}),
        ("reported_metrics", [0.9]),
        ("signature", {"inputs": "x"}),
        ("signature", {"inputs": [{"name": "x"}]}),
        ("signature", {"inputs": [{"name": "x", "type": "f", "shape": ["a"]}]}),
        ("signature", {"extra": []}),
        ("signature", [1]),
        ("params", {"key": "nul\u0000byte"}),
        ("params", {"nul\u0000key": 1}),
        ("params", {"deep": [{"x": "\u0000"}]}),
        ("reported_metrics", {"acc\u0000": 0.5}),
        ("signature", {"inputs": [{"name": "x\u0000", "type": "f"}]}),
    ],
)
def test_it_refuses_malformed_version_data(owner_api, model, field, value):
    assert_error(owner_api.post(versions_url(), {"version": "1.0.0", field: value}, format="json"), 400)
    assert not ModelVersion.objects.exists()


def test_a_published_version_cannot_be_edited(owner_api, model):
    version = make_version(model, "1.0.0", status="published", changelog="Original")

    assert_error(
        owner_api.patch(version_url("1.0.0"), {"changelog": "Rewritten"}, format="json"), 409, "version_frozen"
    )
    version.refresh_from_db()
    assert version.changelog == "Original"


def test_another_user_cannot_create_or_edit_versions(outsider_api, model):
    make_version(model, "1.0.0", status="published")

    assert_error(outsider_api.post(versions_url(), {"version": "2.0.0"}, format="json"), 403, "forbidden")
    assert_error(outsider_api.patch(version_url("1.0.0"), {"changelog": "x"}, format="json"), 403, "forbidden")
    assert ModelVersion.objects.count() == 1
    assert ModelVersion.objects.get().changelog == ""


def test_every_problem_of_the_metadata_is_named_at_once(owner_api, model):
    make_version(model, "1.0.0")
    body = {
        "signature": {
            "inputs": [{"name": "x", "type": "float32", "shape": [None, "4"]}, {"name": "", "type": "float32"}],
            "outputs": [{"name": "y", "type": "int64", "classes": [True]}],
        },
        "changelog": "x",
    }
    error = assert_error(owner_api.patch(version_url("1.0.0"), body, format="json"), 400, "invalid")

    assert error["field"] == "signature"
    assert error["detail"] == (
        "signature.inputs[0].shape must be a list of integers or nulls. "
        "signature.inputs[1] needs a 'name' and a 'type' (strings). "
        "signature.outputs[0].classes must hold strings or integers."
    )
    assert ModelVersion.objects.get(version="1.0.0").changelog == ""


def test_a_signature_may_name_columns_and_classes(owner_api, model):
    make_version(model, "1.0.0")
    signature = {
        "inputs": [{"name": "X", "type": "float64", "shape": [None, 2], "columns": ["a", "b"]}],
        "outputs": [{"name": "label", "type": "string", "shape": [None], "classes": ["cat", "dog"]}],
    }
    response = owner_api.patch(version_url("1.0.0"), {"signature": signature}, format="json")
    assert response.status_code == 200, response.json()
    assert ModelVersion.objects.get(version="1.0.0").signature == signature
