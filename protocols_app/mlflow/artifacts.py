"""The artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/...`): PUT, GET and listing.

Paths are keys into the registry's tables (see paths.py), never filesystem paths: an upload
goes to the caller's own folder of a run or logged model they own and that is not finalized;
a download reads either the caller's own uploads or the files of a registry version the
caller may see, through the catalog's own visibility rules and download responses.
"""

import hashlib
import tempfile

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from models_app import selectors
from models_app.blobs import blob_store, upload_too_large
from models_app.downloads import blob_response, file_response
from models_app.formats import detect_format
from models_app.models import ModelFile
from models_app.services import blob_record, file_record_download
from registry_site.errors import NotFound

from ..models import Artifact, LoggedModel, Run
from .paths import artifact_path
from .protocol import MlflowError, endpoint, not_found, require_user

CHUNK = 1024 * 1024
FINAL_STATUSES = ("LOGGED_MODEL_READY",)


def _writable_root(user, segments: list[str]) -> int:
    """How many leading segments name a folder the user may upload into, or PERMISSION_DENIED."""
    if len(segments) >= 5 and segments[:2] == ["runs", user.username]:
        if segments[2] == "models" and len(segments) >= 6 and segments[4] == "artifacts":
            model = LoggedModel.objects.filter(pk=segments[3], owner=user).first()
            if model is None:
                raise not_found(f"Logged model '{segments[3]}' not found.")
            if model.status in FINAL_STATUSES:
                raise MlflowError("INVALID_STATE", f"Logged model {model.model_id} is finalized; its files are frozen.")
            return 5
        if segments[3] == "artifacts" and Run.objects.filter(pk=segments[2], owner=user).exists():
            return 4
    raise MlflowError(
        "PERMISSION_DENIED",
        "Upload only into the artifact folder of one of your own runs or logged models, as the registry handed it out.",
    )


def _spool(request: HttpRequest):
    """The request body in a temporary file, hashed and capped as it streams in."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > settings.MAX_UPLOAD_SIZE:
        raise upload_too_large()
    spooled = tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115 (closed by the caller)
    digest, size = hashlib.sha256(), 0
    try:
        while chunk := request.read(CHUNK):
            size += len(chunk)
            if size > settings.MAX_UPLOAD_SIZE:
                raise upload_too_large()
            digest.update(chunk)
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.flush()
    spooled.seek(0)
    return spooled, digest.hexdigest(), size


def _upload(request: HttpRequest, segments: list[str]) -> dict:
    user = require_user(request)
    _writable_root(user, segments)
    path = "/".join(segments)
    spooled, sha256, size = _spool(request)
    with spooled:
        file_format = detect_format(spooled)
        blob_store(sha256=sha256, size=size, fileobj=spooled)
        with transaction.atomic():
            blob = blob_record(sha256=sha256, size=size, file_format=file_format, fileobj=spooled)
            Artifact.objects.update_or_create(path=path, owner=user, defaults={"blob": blob})
    return {}


def _own_artifact(user, path: str) -> Artifact:
    artifact = Artifact.objects.select_related("blob").filter(path=path, owner=user).first()
    if artifact is None:
        raise not_found(f"No artifact at {path}.")
    return artifact


def _version_of(user, segments: list[str]):
    try:
        model = selectors.model_get(user=user, owner=segments[1], name=segments[2])
        return selectors.version_get(user=user, model=model, version=segments[3])
    except NotFound:
        raise not_found(f"No model version at {'/'.join(segments[:4])}, or you cannot see it.") from None


def _download(request: HttpRequest, segments: list[str]) -> HttpResponse:
    if segments[0] == "versions" and len(segments) >= 5:
        version = _version_of(request.user, segments)
        model_file = (
            ModelFile.objects.select_related("blob", "version")
            .filter(version=version, path="/".join(segments[4:]))
            .first()
        )
        if model_file is None:
            raise not_found(f"Version {version.version} has no file {'/'.join(segments[4:])}.")
        response = file_response(request, model_file)
        if response.status_code == 200:
            file_record_download(model_file=model_file)
        return response
    if segments[0] == "runs" and request.user.is_authenticated and segments[1] == request.user.username:
        artifact = _own_artifact(request.user, "/".join(segments))
        return blob_response(request, sha256=artifact.blob_id, filename=segments[-1], size=artifact.blob.size)
    raise not_found(f"No artifact at {'/'.join(segments)}, or you cannot see it.")


@endpoint("GET", "PUT")
def artifact_view(request: HttpRequest, path: str) -> HttpResponse | dict:
    segments = artifact_path(path)
    if request.method == "PUT":
        return _upload(request, segments)
    return _download(request, segments)


def _children(prefix: str, entries: list[tuple[str, int]]) -> list[dict]:
    """The direct children of a folder, from (path, size) pairs under it."""
    files, folders = [], set()
    for path, size in entries:
        rest = path.removeprefix(prefix)
        head, slash, _ = rest.partition("/")
        if slash:
            folders.add(head)
        else:
            files.append({"path": head, "is_dir": False, "file_size": size})
    return sorted([*({"path": folder, "is_dir": True} for folder in folders), *files], key=lambda entry: entry["path"])


@endpoint("GET")
def artifact_list_view(request: HttpRequest) -> dict:
    raw = request.GET.get("path", "")
    if not raw:
        return {"files": []}
    segments = artifact_path(raw.strip("/"))
    path = "/".join(segments)
    if segments[0] == "versions" and len(segments) >= 4:
        version = _version_of(request.user, segments)
        inner = "/".join(segments[4:])
        prefix = inner + "/" if inner else ""
        files = ModelFile.objects.filter(version=version).select_related("blob")
        exact = [f for f in files if f.path == inner]
        if exact:
            return {"files": [{"path": segments[-1], "is_dir": False, "file_size": exact[0].blob.size}]}
        return {"files": _children(prefix, [(f.path, f.blob.size) for f in files if f.path.startswith(prefix)])}
    if segments[0] == "runs" and request.user.is_authenticated and segments[1] == request.user.username:
        artifacts = Artifact.objects.filter(owner=request.user, path__startswith=path).select_related("blob")
        exact = [a for a in artifacts if a.path == path]
        if exact:
            return {"files": [{"path": segments[-1], "is_dir": False, "file_size": exact[0].blob.size}]}
        return {
            "files": _children(path + "/", [(a.path, a.blob.size) for a in artifacts if a.path.startswith(path + "/")])
        }
    if segments[0] == "runs":
        require_user(request)
    return {"files": []}
