"""Owner forms: good input is saved through the services; bad input gives a form error."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from models_app.models import ModelFile, ModelVersion, RegisteredModel, VersionStatus
from tests.factories import make_model, make_version

pytestmark = pytest.mark.django_db

VALID_MODEL = {
    "name": "wine-quality",
    "summary": "Predicts wine quality",
    "task": "tabular-regression",
    "framework": "scikit-learn",
    "license": "MIT",
    "tags": "wine, tabular",
    "visibility": "public",
    "description": "# Wine\n\nA random forest.",
}


def test_owner_creates_a_model_with_tags(owner_client, owner):
    response = owner_client.post(reverse("model-create"), VALID_MODEL)
    model = RegisteredModel.objects.get(owner=owner, name="wine-quality")
    assert response.status_code == 302 and response["Location"] == model.get_absolute_url()
    assert sorted(model.tags.values_list("name", flat=True)) == ["tabular", "wine"]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", "my model", "lowercase"),
        ("name", "a/b", "lowercase"),
        ("task", "time-travel", "Select a valid choice"),
        ("framework", "caffe99", "Select a valid choice"),
        ("license", "WTFPL-ish", "Select a valid choice"),
        ("name", "", "required"),
    ],
)
def test_bad_model_input_gives_a_form_error(owner_client, field, value, expected):
    response = owner_client.post(reverse("model-create"), {**VALID_MODEL, field: value})
    assert response.status_code == 200
    assert expected in str(response.context["form"].errors)
    assert not RegisteredModel.objects.exists()


def test_duplicate_model_name_gives_a_form_error(owner_client, owner):
    make_model(owner, "wine-quality")
    response = owner_client.post(reverse("model-create"), VALID_MODEL)
    assert response.status_code == 200
    assert "already have a model named" in str(response.context["form"].errors)


def test_owner_edits_card_metadata_and_visibility(owner_client, public_model):
    data = {**VALID_MODEL, "visibility": "private", "description": "New card", "tags": "new-tag"}
    del data["name"]
    response = owner_client.post(reverse("model-edit", args=["olivia", "iris-classifier"]), data)
    assert response.status_code == 302
    public_model.refresh_from_db()
    # Visibility changes at once; the card of a released model waits for the next approval.
    assert public_model.visibility == "private"
    assert (public_model.description, public_model.task) == (
        "# Iris classifier\n\nA logistic regression.",
        "tabular-classification",
    )
    assert public_model.pending_card["description"] == "New card"
    assert public_model.pending_card["task"] == "tabular-regression"
    assert public_model.pending_card["tags"] == ["new-tag"]
    assert list(public_model.tags.values_list("name", flat=True)) == ["iris", "tabular"]


def test_edit_form_is_prefilled(owner_client, public_model):
    form = owner_client.get(reverse("model-edit", args=["olivia", "iris-classifier"])).context["form"]
    assert form["visibility"].value() == "public"
    assert 'value="iris, tabular"' in str(form["tags"])


def test_owner_creates_a_prerelease_version(owner_client, public_model):
    url = reverse("version-create", args=["olivia", "iris-classifier"])
    response = owner_client.post(
        url, {"version": "2.0.0-rc.1", "changelog": "RC", "reported_metrics": '{"accuracy": 0.9}'}
    )
    version = ModelVersion.objects.get(model=public_model, version="2.0.0-rc.1")
    assert response.status_code == 302 and response["Location"].endswith("/versions/2.0.0-rc.1/")
    assert version.status == VersionStatus.DRAFT and version.reported_metrics == {"accuracy": 0.9}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"version": "1.2"}, "1.2"),  # invalid semver: the service names it
        ({"version": "v1.x.0"}, "v1.x.0"),
        ({"version": "1.1.0"}, "already exists"),  # duplicate of the draft
        ({"version": "0.9.0"}, "must be greater than 1.0.0"),
        ({"version": "3.0.0", "reported_metrics": '{"accuracy": "high"}'}, "must be a number"),
        ({"version": "3.0.0", "params": "[1, 2]"}, "JSON object"),
        ({"version": "3.0.0", "params": "{not json"}, "valid JSON"),
        ({"version": "3.0.0", "signature": '{"inputs": "x"}'}, "must be a list"),
    ],
)
def test_bad_version_input_gives_a_form_error(owner_client, public_model, data, expected):
    response = owner_client.post(reverse("version-create", args=["olivia", "iris-classifier"]), data)
    assert response.status_code == 200
    assert expected in str(response.context["form"].errors)
    assert public_model.versions.count() == 2


def test_upload_without_javascript_stores_several_files(owner_client, public_model):
    url = reverse("file-upload", args=["olivia", "iris-classifier", "1.1.0"])
    files = [SimpleUploadedFile("a.onnx", b"aaa"), SimpleUploadedFile("b.json", b'{"b": 1}')]
    response = owner_client.post(url, {"file": files})
    assert response.status_code == 302
    version = public_model.versions.get(version="1.1.0")
    assert sorted(version.files.values_list("path", flat=True)) == ["a.onnx", "b.json", "draft.bin"]


def test_upload_to_published_version_is_refused_with_a_message(owner_client, public_model):
    url = reverse("file-upload", args=["olivia", "iris-classifier", "1.0.0"])
    response = owner_client.post(url, {"file": SimpleUploadedFile("x.bin", b"x")}, follow=True)
    assert response.status_code == 200
    assert "frozen" in response.content.decode()
    assert public_model.versions.get(version="1.0.0").files.count() == 1


def test_upload_of_duplicate_path_is_refused_with_a_message(owner_client, public_model):
    url = reverse("file-upload", args=["olivia", "iris-classifier", "1.1.0"])
    response = owner_client.post(url, {"file": SimpleUploadedFile("draft.bin", b"other")}, follow=True)
    assert "already in this version" in response.content.decode()


def test_upload_over_the_cap_is_refused_with_a_message(owner_client, public_model, settings):
    settings.MAX_UPLOAD_SIZE = 10
    url = reverse("file-upload", args=["olivia", "iris-classifier", "1.1.0"])
    response = owner_client.post(url, {"file": SimpleUploadedFile("big.bin", b"x" * 100)}, follow=True)
    assert response.status_code == 200
    assert "upload limit" in response.content.decode()
    assert public_model.versions.get(version="1.1.0").files.count() == 1


def test_upload_form_targets_the_api_for_javascript(owner_client, public_model):
    html = owner_client.get(reverse("version-detail", args=["olivia", "iris-classifier", "1.1.0"])).content.decode()
    assert 'data-api-url="/api/v1/models/olivia/iris-classifier/versions/1.1.0/files/"' in html
    assert 'type="file"' in html and "multiple" in html and "js/upload.js" in html


def test_owner_removes_a_file_from_a_draft_after_confirming(owner_client, public_model):
    url = reverse("file-remove", args=["olivia", "iris-classifier", "1.1.0"])
    assert b"Remove draft.bin?" in owner_client.get(url, {"path": "draft.bin"}).content
    response = owner_client.post(url, {"path": "draft.bin"})
    assert response.status_code == 302
    assert not ModelFile.objects.filter(version__version="1.1.0", path="draft.bin").exists()


def test_removing_a_file_from_a_published_version_is_refused(owner_client, public_model):
    url = reverse("file-remove", args=["olivia", "iris-classifier", "1.0.0"])
    response = owner_client.post(url, {"path": "model.onnx"}, follow=True)
    assert "frozen" in response.content.decode()
    assert ModelFile.objects.filter(version__version="1.0.0", path="model.onnx").exists()


def test_owner_deletes_a_model_without_published_versions(owner_client, owner):
    model = make_model(owner, "scratch")
    make_version(model, "0.1.0")
    response = owner_client.post(reverse("model-delete", args=["olivia", "scratch"]))
    assert response.status_code == 302
    assert not RegisteredModel.objects.filter(pk=model.pk).exists()


def test_deleting_a_model_with_published_versions_is_refused(owner_client, public_model):
    response = owner_client.post(reverse("model-delete", args=["olivia", "iris-classifier"]), follow=True)
    assert "published versions" in response.content.decode()
    assert RegisteredModel.objects.filter(pk=public_model.pk).exists()
