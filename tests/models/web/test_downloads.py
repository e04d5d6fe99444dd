"""The web download URL: an attachment, never rendered, checksummed, and counted."""

import base64
import hashlib

import pytest
from django.urls import reverse

from models_app.models import ModelFile, ModelVersion, RegisteredModel, VersionStatus
from tests.factories import make_model, make_version

pytestmark = pytest.mark.django_db

HTML_BYTES = b"<html><script>alert(1)</script></html>"


@pytest.fixture
def html_file_model(owner):
    model = make_model(owner, "web-model")
    make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"docs/index.html": HTML_BYTES})
    return model


def _url(path: str = "docs/index.html") -> str:
    return reverse("file-download", args=["olivia", "web-model", "1.0.0", path])


def test_download_is_an_attachment_with_nosniff_etag_and_digest(client, html_file_model):
    response = client.get(_url())
    sha256 = hashlib.sha256(HTML_BYTES).hexdigest()
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="index.html"' in response["Content-Disposition"]
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["ETag"] == f'"{sha256}"'
    assert response["Digest"] == "sha-256=" + base64.b64encode(bytes.fromhex(sha256)).decode()
    assert b"".join(response.streaming_content) == HTML_BYTES


def test_download_increments_file_version_and_model_counts(client, html_file_model):
    client.get(_url())
    client.get(_url())
    assert ModelFile.objects.get(path="docs/index.html").download_count == 2
    assert ModelVersion.objects.get(model=html_file_model).download_count == 2
    assert RegisteredModel.objects.get(pk=html_file_model.pk).download_count == 2
    page = client.get(html_file_model.get_absolute_url())
    assert page.context["model"].download_count == 2


def test_revalidation_with_matching_etag_is_304_and_not_counted(client, html_file_model):
    etag = client.get(_url())["ETag"]
    response = client.get(_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert ModelFile.objects.get(path="docs/index.html").download_count == 1


def test_download_of_missing_file_is_404(client, html_file_model):
    assert client.get(_url("nope.bin")).status_code == 404
    assert client.get(_url("../../etc/passwd")).status_code == 404


def test_owner_can_download_from_own_draft(owner_client, public_model):
    response = owner_client.get(reverse("file-download", args=["olivia", "iris-classifier", "1.1.0", "draft.bin"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"draft"


def test_download_is_get_only(client, html_file_model):
    assert client.post(_url()).status_code == 405
