"""Submission freezes a version's files; approval pins them and publishes the version to
everyone; deprecation keeps it downloadable with a warning and a reason."""

import hashlib

import pytest

from models_app.models import ModelFile, VersionStatus
from reviews_app import services
from reviews_app.models import Review
from tests.factories import tiny_onnx_bytes
from tests.models.api.helpers import API, assert_error, content_of, file_url, files_url, model_url, upload, version_url

from .conftest import reload
from .helpers import decision_url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", ["in_review", "published", "rejected", "deprecated"])
def test_files_are_frozen_from_submission_on(state, version_in, owner_api):
    version = version_in(state)
    before = sorted(version.files.values_list("path", "blob_id"))

    upload_body = assert_error(
        owner_api.post(files_url(), {"file": upload(b"new", "extra.bin")}, format="multipart"), 409, "version_frozen"
    )
    delete_body = assert_error(owner_api.delete(file_url("model.onnx")), 409, "version_frozen")

    for body in (upload_body, delete_body):
        assert "frozen" in body["detail"] and body["detail"].endswith(".")
    assert sorted(reload(version).files.values_list("path", "blob_id")) == before


def test_files_can_change_again_after_changes_are_requested(version_in, owner_api):
    version = version_in(VersionStatus.CHANGES_REQUESTED)

    assert owner_api.post(files_url(), {"file": upload(b"fixed", "fixed.bin")}, format="multipart").status_code == 201
    assert owner_api.delete(file_url("model.onnx")).status_code == 204

    assert list(reload(version).files.values_list("path", flat=True)) == ["fixed.bin"]


def test_details_are_frozen_in_review(submitted, owner_api):
    assert_error(owner_api.patch(version_url(), {"changelog": "sneaky"}, format="json"), 409, "version_frozen")

    assert reload(submitted.version).changelog == ""


def test_approval_pins_the_sha256_of_every_file(submitted, reviewer_api):
    reviewer_api.post(decision_url(submitted.pk), {"decision": "approve"}, format="json")

    review = reload(submitted)
    assert review.pinned_files == {
        "model.onnx": hashlib.sha256(tiny_onnx_bytes()).hexdigest(),
        "README.md": hashlib.sha256(b"# readme").hexdigest(),
    }
    assert reviewer_api.get(f"{API}/reviews/{review.pk}/").json()["pinned_files"] == review.pinned_files


def test_an_approved_version_is_public_in_the_catalog_search_and_latest_version(submitted, api, reviewer_api):
    assert api.get(version_url()).status_code == 404
    assert api.get(model_url()).status_code == 404  # nothing released yet: the model is hidden too
    assert api.get(f"{API}/models/", {"q": "iris"}).json()["results"] == []

    reviewer_api.post(decision_url(submitted.pk), {"decision": "approve"}, format="json")

    assert api.get(version_url()).json()["status"] == "published"
    assert api.get(model_url()).json()["latest_version"] == "1.0.0"
    hits = api.get(f"{API}/models/", {"q": "iris"}).json()["results"]
    assert [(hit["full_name"], hit["latest_version"]) for hit in hits] == [("olivia/iris-classifier", "1.0.0")]
    assert content_of(api.get(file_url("model.onnx"))) == tiny_onnx_bytes()


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_a_version_not_approved_stays_hidden(decision, submitted, api, outsider_api, reviewer_api):
    reviewer_api.post(decision_url(submitted.pk), {"decision": decision, "comment": "No."}, format="json")

    for client in (api, outsider_api):
        assert client.get(version_url()).status_code == 404
        assert client.get(file_url("model.onnx")).status_code == 404
        assert client.get(model_url()).status_code == 404  # still no release: the model stays hidden


def test_a_deprecated_version_is_still_downloadable_and_says_why(published, owner, api):
    services.version_deprecate(version=published, actor=owner, reason="Use 2.0.0 instead.")

    body = api.get(version_url()).json()
    assert (body["status"], body["deprecated"], body["deprecation_reason"]) == (
        "deprecated",
        True,
        "Use 2.0.0 instead.",
    )
    listed = api.get(version_url()[: -len("1.0.0/")]).json()["results"][0]
    assert (listed["deprecated"], listed["deprecation_reason"]) == (True, "Use 2.0.0 instead.")
    assert content_of(api.get(file_url("model.onnx"))) == tiny_onnx_bytes()
    assert api.get(model_url()).json()["latest_version"] == "1.0.0"


def test_a_published_version_never_changes_its_files(published, owner_api):
    pinned = Review.objects.get(version=published).pinned_files

    owner_api.post(files_url(), {"file": upload(b"x", "model.onnx")}, format="multipart")
    owner_api.delete(file_url("model.onnx"))

    assert dict(ModelFile.objects.filter(version=published).values_list("path", "blob_id")) == pinned
