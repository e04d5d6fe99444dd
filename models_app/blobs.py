"""Content-addressed storage of file bytes through Django's storage API (disk or S3)."""

import hashlib
import logging
import re
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat

from registry_site.errors import InsufficientStorage, TooLarge

log = logging.getLogger(__name__)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def upload_too_large() -> TooLarge:
    limit = filesizeformat(settings.MAX_UPLOAD_SIZE)
    return TooLarge(f"The file is larger than the {limit} upload limit.", code="file_too_large")


def blob_key(sha256: str) -> str:
    if not SHA256_RE.match(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return f"blobs/sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def blob_sha256_of(uploaded_file) -> str:
    """The SHA-256 of an uploaded file that was not hashed while it streamed in."""
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    return digest.hexdigest()


def blob_store(*, sha256: str, size: int, fileobj: BinaryIO) -> str:
    """Write the bytes under their hash unless they are there already; return the key.

    An object already at the key with the right size is the same content (a crash
    mid-write leaves a short one, which is replaced). Two uploads of the same bytes may
    race here: each writes the same content to the same key. FileSystemStorage renames
    on collision instead of overwriting, so a renamed duplicate is removed again.
    """
    key = blob_key(sha256)
    if default_storage.exists(key):
        if default_storage.size(key) == size:
            return key
        default_storage.delete(key)
    fileobj.seek(0)
    try:
        saved = default_storage.save(key, fileobj)
    except OSError as error:
        if error.errno == 28:  # ENOSPC: drop the partial file, keep everything else
            default_storage.delete(key)
            raise InsufficientStorage(
                "The server ran out of disk space while storing the file; nothing was saved."
            ) from None
        raise
    if saved != key:
        default_storage.delete(saved)
    return key


def blob_open(sha256: str):
    return default_storage.open(blob_key(sha256), "rb")


def blob_delete(sha256: str) -> None:
    default_storage.delete(blob_key(sha256))
