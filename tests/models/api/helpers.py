"""Small helpers the API tests share."""

from django.core.files.uploadedfile import SimpleUploadedFile

API = "/api/v1"


def model_url(owner: str = "olivia", name: str = "iris-classifier") -> str:
    return f"{API}/models/{owner}/{name}/"


def versions_url(owner: str = "olivia", name: str = "iris-classifier") -> str:
    return model_url(owner, name) + "versions/"


def version_url(version: str = "1.0.0", owner: str = "olivia", name: str = "iris-classifier") -> str:
    return versions_url(owner, name) + f"{version}/"


def files_url(version: str = "1.0.0", owner: str = "olivia", name: str = "iris-classifier") -> str:
    return version_url(version, owner, name) + "files/"


def file_url(path: str, version: str = "1.0.0", owner: str = "olivia", name: str = "iris-classifier") -> str:
    return files_url(version, owner, name) + path


def upload(content: bytes, name: str = "model.onnx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is the API's JSON error body with this status (and code)."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"]
    assert isinstance(body.get("detail"), str) and body["detail"]
    if code is not None:
        assert body["error"] == code, body
    return body


def content_of(response) -> bytes:
    # The test client closes the response (and the stored file) once the stream is read;
    # closing it again here would fire request_finished and drop the test's connection.
    return b"".join(response.streaming_content)
