"""Arrays stored as .npy (never pickled) in the content-addressed blob store."""

import hashlib
import tempfile

import numpy as np

from models_app.blobs import blob_open, blob_store
from models_app.formats import Format
from models_app.models import Blob


def array_store(array: np.ndarray) -> tuple[str, int]:
    """Save an array as .npy (no pickle) into content-addressed storage; return (sha256, size)."""
    with tempfile.TemporaryFile() as handle:
        np.save(handle, array, allow_pickle=False)
        size = handle.tell()
        handle.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
        blob_store(sha256=digest.hexdigest(), size=size, fileobj=handle)
    return digest.hexdigest(), size


def array_blob(array: np.ndarray) -> Blob:
    """Store the array and return its Blob row (created if new)."""
    sha256, size = array_store(array)
    blob, _ = Blob.objects.get_or_create(sha256=sha256, defaults={"size": size, "format": Format.NUMPY})
    return blob


def array_load(sha256: str) -> np.ndarray:
    with blob_open(sha256) as handle:
        return np.load(handle, allow_pickle=False)
