"""Arrays stored as .npy (never pickled) in the content-addressed blob store."""

import hashlib
import tempfile

import numpy as np

from models_app.blobs import blob_open, blob_store
from models_app.formats import Format
from models_app.models import Blob
from models_app.services import blob_record


def _write_npy(handle, array: np.ndarray) -> tuple[str, int]:
    np.save(handle, array, allow_pickle=False)
    size = handle.tell()
    handle.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest(), size


def array_store(array: np.ndarray) -> tuple[str, int]:
    """Save an array as .npy (no pickle) into content-addressed storage; return (sha256, size)."""
    with tempfile.TemporaryFile() as handle:
        sha256, size = _write_npy(handle, array)
        blob_store(sha256=sha256, size=size, fileobj=handle)
    return sha256, size


def array_blob(array: np.ndarray) -> Blob:
    """Store the array and return its Blob row, locked until the caller's transaction
    commits: call it inside the transaction that records the reference (blob_record)."""
    with tempfile.TemporaryFile() as handle:
        sha256, size = _write_npy(handle, array)
        return blob_record(sha256=sha256, size=size, file_format=Format.NUMPY, fileobj=handle)


def array_load(sha256: str) -> np.ndarray:
    with blob_open(sha256) as handle:
        return np.load(handle, allow_pickle=False)
