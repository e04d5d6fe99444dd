"""Who sees what: owner, another user, anonymous, staff. A private model is 404 everywhere."""

import pytest

from tests.conftest import client_for
from tests.factories import make_model, make_version

from .helpers import API, assert_error, content_of, file_url, files_url, model_url, version_url, versions_url

pytestmark = pytest.mark.django_db

ONNX = b"\x08\x07\x12\x04onnx"


@pytest.fixture
def private_model(owner):
    model = make_model(owner, "secret-model", visibility="private", summary="Hidden flowers")
    make_version(model, "1.0.0", status="published", files={"model.onnx": ONNX})
    return model


@pytest.fixture
def public_model(owner):
    model = make_model(owner, "open-model", summary="Open flowers")
    make_version(model, "0.9.0", status="rejected", files={"rejected.onnx": b"rejected"})
    make_version(model, "1.0.0", status="published", files={"model.onnx": ONNX})
    make_version(model, "1.1.0", status="deprecated", files={"model.onnx": ONNX})
    make_version(model, "2.0.0-rc.1", files={"draft.onnx": b"draft"})
    make_version(model, "2.0.0-rc.2", status="in_review", files={"review.onnx": b"review"})
    return model


def private_urls() -> list[str]:
    return [
        model_url(name="secret-model"),
        versions_url(name="secret-model"),
        version_url("1.0.0", name="secret-model"),
        files_url("1.0.0", name="secret-model"),
        file_url("model.onnx", "1.0.0", name="secret-model"),
    ]


@pytest.fixture(params=["anonymous", "outsider"])
def stranger(request, outsider):
    return client_for(None if request.param == "anonymous" else outsider)


def test_a_private_model_is_404_for_strangers_at_every_url(stranger, private_model):
    for url in private_urls():
        assert_error(stranger.get(url), 404, "not_found")
    assert private_model.download_count == 0


def test_a_private_model_is_404_for_strangers_for_every_write(request, stranger, private_model, outsider):
    writes = [
        stranger.patch(model_url(name="secret-model"), {"summary": "x"}, format="json"),
        stranger.delete(model_url(name="secret-model")),
        stranger.post(versions_url(name="secret-model"), {"version": "2.0.0"}, format="json"),
        stranger.patch(version_url("1.0.0", name="secret-model"), {"changelog": "x"}, format="json"),
        stranger.delete(file_url("model.onnx", "1.0.0", name="secret-model")),
    ]
    # The anonymous user is asked to log in first; a signed-in stranger learns nothing either.
    expected = 401 if request.node.callspec.params["stranger"] == "anonymous" else 404
    for response in writes:
        assert response.status_code == expected
        # A 404 repeats the name asked for, the same whether the model exists or not.
        assert expected == 404 or "secret" not in response.json()["detail"]
    private_model.refresh_from_db()
    assert private_model.summary == "Hidden flowers"
    assert private_model.versions.count() == 1


def test_an_outsider_write_to_a_private_model_is_404_not_403(outsider_api, private_model):
    assert_error(outsider_api.patch(model_url(name="secret-model"), {"summary": "x"}, format="json"), 404)
    assert_error(outsider_api.delete(model_url(name="secret-model")), 404)
    assert_error(outsider_api.post(versions_url(name="secret-model"), {"version": "2.0.0"}, format="json"), 404)


def test_private_models_are_missing_from_lists_search_and_filters(stranger, private_model, public_model):
    queries = [
        "",
        "?q=flowers",
        "?q=secret",
        "?owner=olivia",
        "?task=tabular-classification",
        "?tag=iris",
        "?visibility=private",
    ]
    for query in queries:
        names = [item["name"] for item in stranger.get(f"{API}/models/{query}").json()["results"]]
        assert "secret-model" not in names, query


def test_the_owner_sees_their_private_model_everywhere(owner_api, private_model):
    for url in private_urls():
        response = owner_api.get(url)
        assert response.status_code == 200, url
        if response.streaming:
            assert content_of(response) == ONNX
    names = [item["name"] for item in owner_api.get(f"{API}/models/?q=secret").json()["results"]]
    assert names == ["secret-model"]


def test_staff_see_private_models(staff_api, private_model):
    for url in private_urls():
        response = staff_api.get(url)
        assert response.status_code == 200, url
        if response.streaming:
            content_of(response)
    assert [item["name"] for item in staff_api.get(f"{API}/models/").json()["results"]] == ["secret-model"]


def test_staff_cannot_edit_someone_elses_model(staff_api, private_model):
    assert_error(staff_api.patch(model_url(name="secret-model"), {"summary": "x"}, format="json"), 403)


def test_strangers_see_only_published_and_deprecated_versions(stranger, public_model):
    versions = [item["version"] for item in stranger.get(versions_url(name="open-model")).json()["results"]]

    assert versions == ["1.1.0", "1.0.0"]


@pytest.mark.parametrize("version", ["2.0.0-rc.1", "2.0.0-rc.2", "0.9.0"])
def test_unpublished_versions_and_their_files_are_404_for_strangers(stranger, public_model, version):
    assert_error(stranger.get(version_url(version, name="open-model")), 404)
    assert_error(stranger.get(files_url(version, name="open-model")), 404)
    path = {"2.0.0-rc.1": "draft.onnx", "2.0.0-rc.2": "review.onnx", "0.9.0": "rejected.onnx"}[version]
    assert_error(stranger.get(file_url(path, version, name="open-model")), 404)
    public_model.refresh_from_db()
    assert public_model.download_count == 0


def test_a_deprecated_version_is_still_downloadable_and_marked(api, public_model):
    body = api.get(version_url("1.1.0", name="open-model")).json()
    response = api.get(file_url("model.onnx", "1.1.0", name="open-model"))

    assert body["deprecated"] is True
    assert response.status_code == 200
    assert content_of(response) == ONNX


def test_the_owner_sees_every_version_of_their_model(owner_api, public_model):
    versions = [item["version"] for item in owner_api.get(versions_url(name="open-model")).json()["results"]]

    assert versions == ["2.0.0-rc.2", "2.0.0-rc.1", "1.1.0", "1.0.0", "0.9.0"]


def test_staff_see_every_version(staff_api, public_model):
    assert staff_api.get(versions_url(name="open-model")).json()["count"] == 5


def test_latest_version_ignores_drafts_for_everyone(owner_api, api, public_model):
    assert api.get(model_url(name="open-model")).json()["latest_version"] == "1.1.0"
    assert owner_api.get(model_url(name="open-model")).json()["latest_version"] == "1.1.0"
