"""The alias API: list, set, move, delete, history, and `versions/@<alias>/` wherever a version is named."""

from datetime import timedelta

import pytest
from django.utils import timezone

from models_app import aliases as alias_services
from models_app.aliases import alias_set
from models_app.models import AliasChange, ModelAlias, VersionStatus
from reviews_app import services as review_services
from reviews_app.models import AuditEvent
from tests.factories import make_model, make_released_model, make_version

from .helpers import assert_error, content_of, file_url, files_url, model_url, version_url

pytestmark = pytest.mark.django_db

ALIASES = model_url() + "aliases/"


def alias_url(name: str = "production") -> str:
    return ALIASES + f"{name}/"


@pytest.fixture
def model(owner):
    model = make_released_model(owner)
    make_version(model, "1.1.0", status=VersionStatus.PUBLISHED, files={"model.onnx": b"weights of 1.1.0"})
    return model


def _version(model, label):
    return model.versions.get(version=label)


# --- Setting and reading ---


def test_the_owner_creates_then_moves_an_alias(owner_api, model):
    response = owner_api.put(alias_url(), {"version": "1.0.0"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "production" and body["version"] == "1.0.0" and body["protected"] is False
    assert body["updated_by"] == "olivia" and body["url"].endswith(alias_url())
    response = owner_api.put(alias_url(), {"version": "1.1.0"}, format="json")
    assert response.status_code == 200 and response.json()["version"] == "1.1.0"
    assert ModelAlias.objects.get().version.version == "1.1.0"
    event = AuditEvent.objects.filter(action="alias.moved").get()
    assert event.ip_address == "127.0.0.1"  # the request's meta reaches the trail


def test_an_alias_can_be_set_from_another_alias(owner_api, model, owner):
    alias_set(model=model, name="staging", version=_version(model, "1.1.0"), actor=owner)
    response = owner_api.put(alias_url(), {"version": "@staging"}, format="json")
    assert response.status_code == 201 and response.json()["version"] == "1.1.0"


def test_the_list_and_detail_are_public_for_a_public_model(api, model, owner):
    alias_set(model=model, name="production", version=_version(model, "1.0.0"), actor=owner)
    alias_set(model=model, name="staging", version=_version(model, "1.1.0"), actor=owner)
    response = api.get(ALIASES)
    assert response.status_code == 200
    assert [(a["name"], a["version"]) for a in response.json()] == [("production", "1.0.0"), ("staging", "1.1.0")]
    assert api.get(alias_url("staging")).json()["version"] == "1.1.0"
    assert_error(api.get(alias_url("nope")), 404, "alias_not_found")


def test_it_refuses_an_unpublished_version_with_a_sentence(owner_api, model):
    make_version(model, "2.0.0")  # a draft
    body = assert_error(owner_api.put(alias_url(), {"version": "2.0.0"}, format="json"), 400, "version_not_published")
    assert "draft" in body["detail"] and body["field"] == "version"
    assert not ModelAlias.objects.exists()


def test_it_refuses_a_missing_version_and_bad_bodies(owner_api, model):
    assert_error(owner_api.put(alias_url(), {"version": "9.9.9"}, format="json"), 404)
    assert_error(owner_api.put(alias_url(), {}, format="json"), 400, "invalid")
    assert_error(owner_api.put(alias_url(), {"version": "1.0.0", "protected": "maybe"}, format="json"), 400)
    assert_error(owner_api.put(alias_url(), [1, 2], format="json"), 400)


@pytest.mark.parametrize(
    "name,code", [("latest", "alias_reserved"), ("v2", "alias_reserved"), ("a.b", "invalid_alias")]
)
def test_it_refuses_reserved_and_unusable_names(owner_api, model, name, code):
    assert_error(owner_api.put(alias_url(name), {"version": "1.0.0"}, format="json"), 400, code)


def test_writes_need_a_login_and_the_owner(api, outsider_api, reviewer_api, model):
    assert_error(api.put(alias_url(), {"version": "1.0.0"}, format="json"), 401)
    assert_error(outsider_api.put(alias_url(), {"version": "1.0.0"}, format="json"), 403, "forbidden")
    assert_error(reviewer_api.put(alias_url(), {"version": "1.0.0"}, format="json"), 403, "forbidden")
    assert not ModelAlias.objects.exists()


def test_a_protected_alias_answers_403_to_the_owner_and_moves_for_a_reviewer(owner_api, reviewer_api, model, owner):
    alias_set(model=model, name="production", version=_version(model, "1.0.0"), actor=owner)
    assert_error(
        owner_api.put(alias_url(), {"version": "1.0.0", "protected": True}, format="json"), 403, "alias_protected"
    )
    response = reviewer_api.put(alias_url(), {"version": "1.0.0", "protected": True}, format="json")
    assert response.status_code == 200 and response.json()["protected"] is True
    body = assert_error(owner_api.put(alias_url(), {"version": "1.1.0"}, format="json"), 403, "alias_protected")
    assert "reviewer" in body["detail"]
    assert_error(owner_api.delete(alias_url()), 403, "alias_protected")
    assert reviewer_api.put(alias_url(), {"version": "1.1.0"}, format="json").status_code == 200
    assert reviewer_api.delete(alias_url()).status_code == 204


def test_delete_keeps_the_history(owner_api, model, owner):
    alias_set(model=model, name="staging", version=_version(model, "1.0.0"), actor=owner)
    assert owner_api.delete(alias_url("staging")).status_code == 204
    assert_error(owner_api.delete(alias_url("staging")), 404, "alias_not_found")
    history = owner_api.get(alias_url("staging") + "history/").json()
    assert [(c["action"], c["from_version"], c["to_version"]) for c in history["results"]] == [
        ("deleted", "1.0.0", None),
        ("set", None, "1.0.0"),
    ]


# --- History ---


def test_history_lists_changes_newest_first_and_answers_at(api, model, owner, monkeypatch):
    t0 = timezone.now().replace(microsecond=0) - timedelta(days=10)
    monkeypatch.setattr(alias_services.timezone, "now", lambda: t0)
    alias_set(model=model, name="production", version=_version(model, "1.0.0"), actor=owner)
    monkeypatch.setattr(alias_services.timezone, "now", lambda: t0 + timedelta(days=3))
    alias_set(model=model, name="production", version=_version(model, "1.1.0"), actor=owner)
    monkeypatch.undo()
    history = api.get(alias_url() + "history/")
    assert history.status_code == 200
    body = history.json()
    assert body["count"] == 2
    assert [c["to_version"] for c in body["results"]] == ["1.1.0", "1.0.0"]
    assert body["results"][0]["actor"] == "olivia" and body["results"][0]["action"] == "moved"

    def at(value):
        response = api.get(alias_url() + "history/", {"at": value})
        assert response.status_code == 200, response.content
        return response.json()["version"]

    assert at((t0 + timedelta(days=1)).isoformat()) == "1.0.0"
    assert at((t0 + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%SZ")) == "1.1.0"
    assert at((t0 - timedelta(days=1)).date().isoformat()) is None
    assert at((t0 + timedelta(days=5)).date().isoformat()) == "1.1.0"  # a date alone: its midnight UTC


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-02-30", "2026-11-30T25:00:00", "", "\x00"])
def test_a_bad_date_is_400_with_a_code(api, model, owner, value):
    alias_set(model=model, name="production", version=_version(model, "1.0.0"), actor=owner)
    body = assert_error(api.get(alias_url() + "history/", {"at": value}), 400, "invalid_date")
    assert body["field"] == "at"


# --- @alias wherever a version is named ---


def test_version_detail_resolves_an_alias(api, model, owner):
    alias_set(model=model, name="production", version=_version(model, "1.1.0"), actor=owner)
    response = api.get(version_url("@production"))
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "1.1.0" and body["aliases"] == ["production"] and body["warnings"] == []
    assert body["url"].endswith(version_url("1.1.0"))  # the canonical address, not the alias
    assert api.get(version_url("@Production")).json()["version"] == "1.1.0"
    assert_error(api.get(version_url("@nope")), 404, "alias_not_found")


def test_latest_names_the_newest_stable_release(api, model):
    make_version(model, "2.0.0-rc.1", status=VersionStatus.PUBLISHED)
    assert api.get(version_url("@latest")).json()["version"] == "1.1.0"


def test_files_list_and_download_through_an_alias(api, model, owner):
    alias_set(model=model, name="production", version=_version(model, "1.1.0"), actor=owner)
    listing = api.get(files_url("@production"))
    assert listing.status_code == 200 and [f["path"] for f in listing.json()] == ["model.onnx"]
    response = api.get(file_url("model.onnx", version="@production"))
    assert response.status_code == 200
    assert content_of(response) == b"weights of 1.1.0"
    assert _version(model, "1.1.0").files.get().download_count == 1
    assert_error(api.get(file_url("missing.onnx", version="@production")), 404)


def test_the_version_warns_when_an_alias_points_at_it_though_deprecated(api, model, owner):
    alias_set(model=model, name="production", version=_version(model, "1.0.0"), actor=owner)
    review_services.version_deprecate(version=_version(model, "1.0.0"), actor=owner, reason="Leaks memory.")
    body = api.get(version_url("@production")).json()
    assert body["deprecated"] is True
    assert len(body["warnings"]) == 1 and "production" in body["warnings"][0]
    assert "deprecated" in api.get(alias_url()).json()["warning"]


# --- Visibility ---


def test_a_private_models_aliases_are_invisible_to_others(api, outsider_api, owner_api, owner):
    private = make_model(owner, "secret", visibility="private")
    version = make_version(private, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"secret"})
    alias_set(model=private, name="production", version=version, actor=owner)
    base = model_url(name="secret")
    for client in (api, outsider_api):
        assert_error(client.get(base + "aliases/"), 404)
        assert_error(client.get(base + "aliases/production/"), 404)
        assert_error(client.get(base + "aliases/production/history/"), 404)
        assert_error(client.get(version_url("@production", name="secret")), 404)
        assert_error(client.get(file_url("m.onnx", version="@production", name="secret")), 404)
    assert_error(outsider_api.put(base + "aliases/production/", {"version": "1.0.0"}, format="json"), 404)
    assert_error(outsider_api.delete(base + "aliases/production/"), 404)
    assert owner_api.get(version_url("@production", name="secret")).json()["version"] == "1.0.0"
    assert ModelAlias.objects.filter(model=private).exists() and AliasChange.objects.count() == 1


def test_the_owner_cannot_name_another_owners_version(owner_api, outsider, model):
    theirs = make_released_model(outsider, "theirs")
    alias_set(model=theirs, name="production", version=theirs.versions.get(), actor=outsider)
    # The version named in the body is looked up in the URL's model only.
    assert_error(owner_api.put(alias_url(), {"version": "@production"}, format="json"), 404)


def test_version_detail_reads_its_aliases_with_one_query(api, model, owner, django_assert_num_queries):
    alias_set(model=model, name="production", version=_version(model, "1.0.0"), actor=owner)
    review_services.version_deprecate(version=_version(model, "1.0.0"), actor=owner, reason="Old.")
    # model, its tags, the version (files prefetched: +1), its aliases (one query for both fields)
    with django_assert_num_queries(5):
        body = api.get(version_url("@production")).json()
    assert body["aliases"] == ["production"] and len(body["warnings"]) == 1


def test_the_history_of_an_alias_that_never_existed_is_404(api, model):
    assert_error(api.get(alias_url("never") + "history/"), 404, "alias_not_found")
    assert_error(api.get(alias_url("never") + "history/", {"at": "2026-01-01"}), 404, "alias_not_found")
