"""The S3 path (django-storages) against moto's S3 server on loopback.

Uploads go through the API into a real S3 protocol conversation; downloads redirect to a
presigned URL that serves the bytes as an attachment.
"""

import hashlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from models_app.models import Blob, ModelFile
from tests.factories import make_model, make_version

from .api.helpers import assert_error, file_url, files_url, upload

pytestmark = [pytest.mark.s3, pytest.mark.django_db]

BUCKET = "registry-test"
MOTO = Path(sys.executable).with_name("moto_server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """A moto S3 server for the whole session, with one bucket."""
    executable = str(MOTO) if MOTO.exists() else shutil.which("moto_server")
    if not executable:
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = _free_port()
    process = subprocess.Popen(
        [executable, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("moto_server did not start")
                time.sleep(0.2)
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        yield endpoint, client
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def s3(s3_endpoint, settings):
    """Django's default storage pointed at the moto bucket, downloads redirected."""
    endpoint, client = s3_endpoint
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "file_overwrite": True,
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 300,
            },
        },
    }
    settings.DOWNLOAD_REDIRECT = True  # Django resets default_storage when STORAGES changes
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])


def keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


CONTENT = b"\x08\x07\x12\x07pytorch" + bytes(range(256)) * 8


def test_an_api_upload_is_stored_in_the_bucket_under_its_hash(s3, owner, owner_api):
    model = make_model(owner)
    make_version(model, "1.0.0")
    make_version(model, "1.1.0")

    first = owner_api.post(files_url("1.0.0"), {"file": upload(CONTENT, "model.onnx")})
    second = owner_api.post(files_url("1.1.0"), {"file": upload(CONTENT, "copy.onnx")})

    assert first.status_code == second.status_code == 201, first.json()
    digest = hashlib.sha256(CONTENT).hexdigest()
    assert keys(s3) == [f"blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}"]
    assert s3.get_object(Bucket=BUCKET, Key=keys(s3)[0])["Body"].read() == CONTENT
    assert Blob.objects.count() == 1
    assert ModelFile.objects.count() == 2


def test_a_download_redirects_to_a_presigned_url_serving_the_bytes_as_an_attachment(s3, owner, api):
    model = make_model(owner)
    make_version(model, "1.0.0", status="published", files={'odd "name";.onnx': CONTENT})
    path = ModelFile.objects.get().path

    response = api.get(file_url(path))

    assert response.status_code == 302
    digest = hashlib.sha256(CONTENT).hexdigest()
    assert response["ETag"] == f'"{digest}"'
    assert "X-Amz-Signature=" in response["Location"] or "Signature=" in response["Location"]
    assert ModelFile.objects.get().download_count == 1
    with urllib.request.urlopen(response["Location"], timeout=10) as presigned:
        assert presigned.read() == CONTENT
        assert presigned.headers["Content-Disposition"].startswith("attachment;")
        assert path in presigned.headers["Content-Disposition"]
        assert presigned.headers["Content-Type"] == "application/octet-stream"


def test_an_unpublished_file_gets_no_presigned_url(s3, owner, api):
    model = make_model(owner)
    make_version(model, "1.0.0", files={"model.onnx": CONTENT})

    assert_error(api.get(file_url("model.onnx")), 404)


def test_removing_a_file_keeps_the_blob_for_the_collector_which_then_deletes_it(s3, owner, owner_api):
    from models_app.services import blobs_collect_unreferenced

    model = make_model(owner)
    make_version(model, "1.0.0", files={"model.onnx": CONTENT})

    assert owner_api.delete(file_url("model.onnx")).status_code == 204
    assert not ModelFile.objects.exists()
    assert len(keys(s3)) == 1

    assert blobs_collect_unreferenced(older_than_seconds=-1) == 1
    assert keys(s3) == []
    assert not Blob.objects.exists()


def test_an_upload_refused_as_too_large_writes_nothing_to_the_bucket(s3, owner, owner_api, settings):
    settings.MAX_UPLOAD_SIZE = 100
    model = make_model(owner)
    make_version(model, "1.0.0")

    assert_error(owner_api.post(files_url(), {"file": upload(CONTENT, "big.onnx")}), 413)
    assert keys(s3) == []
