"""Serving stored files: streamed, always as an attachment, with the SHA-256 in headers."""

import base64

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseNotModified, HttpResponseRedirect
from django.utils.http import content_disposition_header

from registry_site.errors import Unavailable

from .blobs import blob_key, blob_open
from .models import ModelFile

CHUNK_SIZE = 1024 * 1024


def _digest_headers(sha256: str) -> dict[str, str]:
    b64 = base64.b64encode(bytes.fromhex(sha256)).decode()
    return {
        "ETag": f'"{sha256}"',
        "Digest": f"sha-256={b64}",  # RFC 3230, what older clients read
        "Repr-Digest": f"sha-256=:{b64}:",  # RFC 9530
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=0, must-revalidate",
    }


def _etag_matches(request, sha256: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return f'"{sha256}"' in tags or "*" in tags


def file_response(request, model_file: ModelFile) -> HttpResponse:
    """A streamed attachment (or a redirect to a presigned URL on S3), never rendered inline.

    The content type is always application/octet-stream, so an uploaded HTML or SVG file
    cannot run as a page of this site.
    """
    return blob_response(request, sha256=model_file.blob_id, filename=model_file.filename, size=model_file.blob.size)


def blob_response(request, *, sha256: str, filename: str, size: int) -> HttpResponse:
    """Stored bytes as a download named `filename` (see `file_response`)."""
    headers = _digest_headers(sha256)
    if _etag_matches(request, sha256):
        response = HttpResponseNotModified()
        for name, value in headers.items():
            response[name] = value
        return response
    if settings.DOWNLOAD_REDIRECT and hasattr(default_storage, "bucket_name"):
        url = default_storage.url(
            blob_key(sha256),
            parameters={
                "ResponseContentDisposition": content_disposition_header(True, filename),
                "ResponseContentType": "application/octet-stream",
            },
        )
        response = HttpResponseRedirect(url)
        for name, value in headers.items():
            response[name] = value
        return response
    try:
        stream = blob_open(sha256)
    except (FileNotFoundError, OSError):
        raise Unavailable(
            "The stored file cannot be read right now; the operator has been told.", code="blob_unavailable"
        ) from None
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=filename,
        content_type="application/octet-stream",
    )
    response.block_size = CHUNK_SIZE
    response["Content-Length"] = str(size)
    for name, value in headers.items():
        response[name] = value
    return response
