"""Files through the API: content-addressed upload, streamed download, removal, and attacks."""

import base64
import hashlib
import os

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from models_app.models import Blob, ModelFile, ModelVersion, RegisteredModel
from tests.factories import make_model, make_version

from .helpers import assert_error, content_of, file_url, files_url, model_url, upload

pytestmark = pytest.mark.django_db

ONNX_BYTES = b"\x08\x07\x12\x07pytorch" + b"\x00" * 64
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def stored_objects(settings) -> list[str]:
    """Every file under the storage root, relative to it."""
    root = str(settings.STORAGES["default"]["OPTIONS"]["location"])
    found = []
    for folder, _, names in os.walk(root):
        found += [os.path.relpath(os.path.join(folder, name), root) for name in names]
    return sorted(found)


def stored_state(settings) -> tuple:
    """The file rows, blobs and stored objects, to show that a refused upload changed none of them."""
    return (
        sorted(ModelFile.objects.values_list("version_id", "path", "blob_id")),
        sorted(Blob.objects.values_list("pk", flat=True)),
        stored_objects(settings),
    )


@pytest.fixture
def model(owner):
    return make_model(owner)


@pytest.fixture
def draft(model):
    return make_version(model, "1.0.0")


# Upload


def test_it_stores_an_upload_under_its_sha256(owner_api, draft, settings):
    response = owner_api.post(files_url(), {"file": upload(ONNX_BYTES, "model.onnx")}, format="multipart")

    assert response.status_code == 201, response.json()
    digest = sha(ONNX_BYTES)
    body = response.json()
    assert body == {
        "path": "model.onnx",
        "size": len(ONNX_BYTES),
        "sha256": digest,
        "format": "onnx",
        "warning": "",
        "scan_status": "pending",
        "scan_findings": [],
        "scanned_at": None,
        "can_run_code": False,
        "download_url": "http://testserver/api/v1/models/olivia/iris-classifier/versions/1.0.0/files/model.onnx",
        "created_at": body["created_at"],
    }
    model_file = ModelFile.objects.get(version=draft)
    assert (model_file.path, model_file.blob_id, model_file.blob.size) == ("model.onnx", digest, len(ONNX_BYTES))
    assert stored_objects(settings) == [f"blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}"]
    with default_storage.open(f"blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}") as stored:
        assert stored.read() == ONNX_BYTES


def test_the_path_field_names_the_file_inside_the_version(owner_api, draft):
    response = owner_api.post(files_url(), {"file": upload(b"weights", "tmp123.bin"), "path": "weights/v1/model.bin"})

    assert response.status_code == 201, response.json()
    assert ModelFile.objects.get().path == "weights/v1/model.bin"


def test_identical_bytes_in_two_versions_are_stored_once(owner, owner_api, model, draft, settings):
    make_version(model, "1.1.0")

    first = owner_api.post(files_url("1.0.0"), {"file": upload(ONNX_BYTES, "a.onnx")})
    second = owner_api.post(files_url("1.1.0"), {"file": upload(ONNX_BYTES, "b.onnx")})

    assert first.status_code == second.status_code == 201
    assert first.json()["sha256"] == second.json()["sha256"] == sha(ONNX_BYTES)
    assert Blob.objects.count() == 1
    assert ModelFile.objects.count() == 2
    assert len(stored_objects(settings)) == 1


def test_the_format_is_detected_from_the_bytes_not_the_name(owner_api, draft):
    response = owner_api.post(files_url(), {"file": upload(b"\x80\x04\x95cos\nsystem\n", "model.onnx")})

    assert response.json()["format"] == "pickle"
    assert Blob.objects.get().format == "pickle"


def test_an_empty_file_is_stored(owner_api, draft):
    response = owner_api.post(files_url(), {"file": upload(b"", "empty.txt")})

    assert response.status_code == 201
    assert response.json()["size"] == 0
    assert response.json()["sha256"] == sha(b"")


def test_the_same_path_twice_in_one_version_is_a_conflict(owner_api, draft):
    owner_api.post(files_url(), {"file": upload(b"one", "model.bin")})

    assert_error(owner_api.post(files_url(), {"file": upload(b"two", "model.bin")}), 409, "file_exists")
    assert ModelFile.objects.get().blob_id == sha(b"one")


@pytest.mark.parametrize("status", ["in_review", "published", "deprecated", "rejected"])
def test_upload_to_a_version_that_is_not_a_draft_is_refused_and_stores_nothing(owner_api, model, status, settings):
    # Submitting needs a file, so the factory gives the version its placeholder model.bin.
    make_version(model, "1.0.0", status=status)
    before = stored_state(settings)

    assert_error(owner_api.post(files_url(), {"file": upload(b"late addition", "late.bin")}), 409, "version_frozen")

    assert stored_state(settings) == before
    assert not ModelFile.objects.filter(path="late.bin").exists()
    assert not Blob.objects.filter(pk=sha(b"late addition")).exists()


def test_files_can_be_added_after_changes_are_requested(owner_api, model):
    make_version(model, "1.0.0", status="changes_requested")

    assert owner_api.post(files_url(), {"file": upload(b"fixed", "fixed.bin")}).status_code == 201


def test_a_request_without_a_file_part_is_refused(owner_api, draft):
    body = assert_error(owner_api.post(files_url(), {"path": "model.onnx"}), 400, "file_missing")
    assert body["field"] == "file"
    assert not ModelFile.objects.exists()


def test_a_file_under_another_field_name_is_refused(owner_api, draft):
    assert_error(owner_api.post(files_url(), {"upload": upload(b"x", "x.bin")}), 400, "file_missing")
    assert not ModelFile.objects.exists()


def test_a_json_body_is_refused_with_the_error_body(owner_api, draft):
    assert_error(owner_api.post(files_url(), {"file": "abc"}, format="json"), 415, "unsupported_media_type")


def test_two_file_parts_are_refused(owner_api, draft, settings):
    response = owner_api.post(files_url(), {"file": [upload(b"one", "a.bin"), upload(b"two", "b.bin")]})

    assert_error(response, 400)
    assert not ModelFile.objects.exists()
    assert not Blob.objects.exists()
    assert stored_objects(settings) == []


def test_hundreds_of_file_parts_are_refused(owner_api, draft, settings):
    parts = [upload(b"x%d" % i, f"f{i}.bin") for i in range(300)]

    assert_error(owner_api.post(files_url(), {"file": parts}), 400)
    assert not ModelFile.objects.exists()
    assert stored_objects(settings) == []


@pytest.fixture
def small_cap(settings, tmp_path):
    """A 1 KiB upload cap, and a temporary-file folder we can look into."""
    settings.MAX_UPLOAD_SIZE = 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    os.makedirs(settings.FILE_UPLOAD_TEMP_DIR)
    return tmp_path / "uploads"


def test_a_file_over_the_cap_is_refused_with_413_and_leaves_nothing(owner_api, draft, settings, small_cap):
    response = owner_api.post(files_url(), {"file": upload(b"x" * 5000, "big.bin")})

    body = assert_error(response, 413, "file_too_large")
    assert "1.0" in body["detail"] and "KB" in body["detail"]
    assert not ModelFile.objects.exists()
    assert not Blob.objects.exists()
    assert stored_objects(settings) == []
    assert os.listdir(small_cap) == []


def test_a_body_declared_larger_than_the_cap_is_refused_before_it_is_read(owner_api, draft, settings, small_cap):
    response = owner_api.post(files_url(), {"file": upload(b"x" * (1024 * 1024 + 4096), "huge.bin")})

    assert_error(response, 413, "file_too_large")
    assert not ModelFile.objects.exists()
    assert os.listdir(small_cap) == []


def test_a_file_exactly_at_the_cap_is_accepted(owner_api, draft, small_cap):
    response = owner_api.post(files_url(), {"file": upload(b"x" * 1024, "edge.bin")})

    assert response.status_code == 201
    assert os.listdir(small_cap) == []


@pytest.mark.parametrize(
    "path",
    [
        "../../etc/passwd",
        "..\\..\\x",
        "/etc/passwd",
        "C:\\Windows\\win.ini",
        "file:///etc/passwd",
        "a/../../b",
        "model\x00.onnx",
        "model\r\nSet-Cookie: x=1",
        "a/b/c/d/e/f/g/h/i/j",
        "x" * 600,
        "..",
        "./.",
    ],
)
def test_an_unsafe_path_is_refused_clearly(owner_api, draft, settings, path):
    body = assert_error(owner_api.post(files_url(), {"file": upload(b"payload", "ok.bin"), "path": path}), 400)

    assert body.get("field") == "path"
    assert not ModelFile.objects.exists()
    assert not Blob.objects.exists()
    assert stored_objects(settings) == []


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\..\\evil.bin", "/etc/passwd"])
def test_a_traversal_in_the_uploaded_file_name_never_reaches_storage(owner_api, draft, settings, name):
    response = owner_api.post(files_url(), {"file": SimpleUploadedFile(name, b"payload")})

    if response.status_code == 201:
        path = ModelFile.objects.get().path
        assert ".." not in path.split("/") and not path.startswith("/") and "\\" not in path
    else:
        assert_error(response, 400)
    assert all(key.startswith("blobs/sha256/") for key in stored_objects(settings))


@pytest.mark.parametrize(
    ("path", "stored_as"),
    [
        ('evil";filename="x.html', "evil__filename=_x.html"),
        ("semi;colon.bin", "semi_colon.bin"),
        ("quote'n\"back`tick.bin", "quote_n_back_tick.bin"),
        ("ünïcödé.bin", "ünïcödé.bin"),
    ],
)
def test_odd_characters_are_replaced_and_the_download_name_is_safe(owner_api, draft, path, stored_as):
    response = owner_api.post(files_url(), {"file": upload(b"payload", "x.bin"), "path": path})

    assert response.status_code == 201, response.json()
    assert ModelFile.objects.get().path == stored_as
    download = owner_api.get(file_url(stored_as))
    disposition = download["Content-Disposition"]
    content_of(download)
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.count(";") == 1


# Download


@pytest.fixture
def published(model):
    return make_version(
        model, "1.0.0", status="published", files={"model.onnx": ONNX_BYTES, "cards/README.md": b"# Card"}
    )


def test_a_download_streams_the_bytes_as_an_attachment_with_their_digest(api, published):
    response = api.get(file_url("model.onnx"))

    assert response.status_code == 200
    assert response.streaming
    digest = sha(ONNX_BYTES)
    b64 = base64.b64encode(bytes.fromhex(digest)).decode()
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="model.onnx"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["ETag"] == f'"{digest}"'
    assert response["Digest"] == f"sha-256={b64}"
    assert response["Repr-Digest"] == f"sha-256=:{b64}:"
    assert response["Content-Length"] == str(len(ONNX_BYTES))
    assert content_of(response) == ONNX_BYTES


def test_a_file_in_a_folder_downloads_under_its_base_name(api, published):
    response = api.get(file_url("cards/README.md"))

    assert response["Content-Disposition"] == 'attachment; filename="README.md"'
    assert content_of(response) == b"# Card"


def test_a_download_counts_on_the_file_version_and_model(api, published):
    content_of(api.get(file_url("model.onnx")))
    content_of(api.get(file_url("model.onnx")))

    assert ModelFile.objects.get(path="model.onnx").download_count == 2
    assert ModelFile.objects.get(path="cards/README.md").download_count == 0
    assert ModelVersion.objects.get().download_count == 2
    assert RegisteredModel.objects.get().download_count == 2
    assert api.get(model_url()).json()["download_count"] == 2


def test_a_matching_if_none_match_answers_304_and_does_not_count(api, published):
    etag = f'"{sha(ONNX_BYTES)}"'

    response = api.get(file_url("model.onnx"), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["ETag"] == etag
    assert not response.content
    assert ModelFile.objects.get(path="model.onnx").download_count == 0
    assert RegisteredModel.objects.get().download_count == 0


def test_a_stale_if_none_match_downloads_again(api, published):
    response = api.get(file_url("model.onnx"), HTTP_IF_NONE_MATCH=f'"{"0" * 64}"')

    assert response.status_code == 200
    assert content_of(response) == ONNX_BYTES


def test_a_head_request_sends_headers_without_counting(api, published):
    response = api.head(file_url("model.onnx"))

    assert response.status_code == 200
    assert response["ETag"] == f'"{sha(ONNX_BYTES)}"'
    content_of(response)
    assert ModelFile.objects.get(path="model.onnx").download_count == 0


@pytest.mark.parametrize(
    ("name", "content"), [("page.html", HTML), ("image.svg", SVG), ("poly.png", b"\x89PNG\r\n\x1a\n" + HTML)]
)
def test_html_and_svg_uploads_download_as_inert_attachments(owner_api, api, model, name, content):
    make_version(model, "1.0.0", status="published", files={name: content})

    response = api.get(file_url(name))

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert content_of(response) == content


def test_a_missing_file_is_a_json_404(api, published):
    assert_error(api.get(file_url("nope.bin")), 404, "not_found")


def test_an_unreadable_blob_is_a_503_not_a_500(api, published):
    default_storage.delete(ModelFile.objects.get(path="model.onnx").blob.storage_key)

    assert_error(api.get(file_url("model.onnx")), 503, "blob_unavailable")


@pytest.mark.parametrize(
    "path", ["../../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "model.onnx%00", "%00"]
)
def test_traversal_or_nul_in_a_download_path_finds_nothing(api, published, path):
    assert_error(api.get(file_url(path)), 404, "not_found")
    assert ModelFile.objects.get(path="model.onnx").download_count == 0


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/models/olivia%00/iris-classifier/",
        "/api/v1/models/olivia/iris%00/versions/",
        "/api/v1/models/olivia/iris-classifier/versions/1.0.0%00/",
        "/api/v1/models/olivia/iris-classifier/versions/1.0.0%00/files/",
    ],
)
def test_a_nul_byte_anywhere_in_the_url_is_a_404(owner_api, published, url):
    assert_error(owner_api.get(url), 404, "not_found")
    assert_error(owner_api.delete(url), 404, "not_found")


# Listing and removal


def test_the_file_list_shows_every_file_of_the_version(api, published):
    body = api.get(files_url()).json()

    assert [item["path"] for item in body] == ["cards/README.md", "model.onnx"]
    assert body[1]["sha256"] == sha(ONNX_BYTES)


def test_the_owner_removes_a_file_from_a_draft(owner_api, model):
    make_version(model, "1.0.0", files={"model.onnx": ONNX_BYTES, "extra.bin": b"extra"})

    response = owner_api.delete(file_url("extra.bin"))

    assert response.status_code == 204
    assert list(ModelFile.objects.values_list("path", flat=True)) == ["model.onnx"]


def test_a_file_of_a_published_version_cannot_be_removed(owner_api, published):
    assert_error(owner_api.delete(file_url("model.onnx")), 409, "version_frozen")
    assert ModelFile.objects.count() == 2


def test_another_user_cannot_upload_or_remove_files(outsider_api, model, settings):
    make_version(model, "1.0.0", status="published", files={"model.onnx": ONNX_BYTES})

    assert_error(outsider_api.post(files_url(), {"file": upload(b"mine", "x.bin")}), 403, "forbidden")
    assert_error(outsider_api.delete(file_url("model.onnx")), 403, "forbidden")
    assert ModelFile.objects.count() == 1
    assert Blob.objects.count() == 1


def test_anonymous_cannot_upload(api, draft):
    assert_error(api.post(files_url(), {"file": upload(b"anon", "x.bin")}), 401)
    assert not ModelFile.objects.exists()


def test_removing_one_of_two_uses_keeps_the_blob(owner_api, model, settings):
    make_version(model, "1.0.0", files={"model.onnx": ONNX_BYTES})
    make_version(model, "1.1.0", files={"model.onnx": ONNX_BYTES})

    assert owner_api.delete(file_url("model.onnx", version="1.0.0")).status_code == 204

    assert Blob.objects.count() == 1
    assert len(stored_objects(settings)) == 1
    assert content_of(owner_api.get(file_url("model.onnx", version="1.1.0"))) == ONNX_BYTES


@pytest.mark.django_db(transaction=True)
def test_upload_to_a_frozen_version_is_a_409_outside_a_test_transaction(owner_api, model, settings):
    # Views run in autocommit mode; a row lock taken outside a transaction fails on PostgreSQL.
    make_version(model, "1.0.0", status="published")
    before = stored_state(settings)

    assert_error(owner_api.post(files_url(), {"file": upload(b"late", "late.bin")}), 409, "version_frozen")
    assert stored_state(settings) == before
    assert not Blob.objects.filter(pk=sha(b"late")).exists()


@pytest.mark.django_db(transaction=True)
def test_upload_and_removal_work_outside_a_test_transaction(owner_api, model):
    make_version(model, "1.0.0")

    assert owner_api.post(files_url(), {"file": upload(ONNX_BYTES, "model.onnx")}).status_code == 201
    assert owner_api.delete(file_url("model.onnx")).status_code == 204
    assert not ModelFile.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "warning"),
    [
        ("garbage.onnx", b"only text\n", "garbage.onnx is named like an ONNX file, but its bytes are Text."),
        (
            "weights.bin",
            b"\xff\xfe\x00\x01garbage",
            "The bytes of weights.bin match no known model or data format; the registry cannot scan or run it.",
        ),
    ],
)
def test_an_upload_whose_bytes_are_not_what_its_name_says_is_stored_with_a_warning(
    owner_api, draft, name, content, warning
):
    response = owner_api.post(files_url(), {"file": upload(content, name)}, format="multipart")

    assert response.status_code == 201, response.json()
    assert response.json()["warning"] == warning
    assert owner_api.get(files_url()).json()[0]["warning"] == warning
