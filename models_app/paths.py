"""User-supplied file paths: display text only, never a storage key.

The path a user gives a file is checked and normalised here and then kept as a label;
the bytes live under their SHA-256 (see `blobs.blob_key`). Traversal, absolute paths and
control characters are refused rather than "fixed", so a user sees why.
"""

import re
import unicodedata

from registry_site.errors import DomainError

MAX_PATH_LENGTH = 512
MAX_SEGMENT_LENGTH = 128
MAX_DEPTH = 8
_UNSAFE_CHARS = re.compile(r"[^\w.\-+@=,() ]", re.UNICODE)
_DRIVE = re.compile(r"^[A-Za-z]:")


class InvalidPath(DomainError):
    code = "invalid_path"


def sanitize_path(raw: str) -> str:
    """Return the normalised display path for `raw`, or raise InvalidPath with the reason."""
    if raw is None or not str(raw).strip():
        raise InvalidPath("The file path is empty.", field="path")
    text = unicodedata.normalize("NFC", str(raw))
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidPath("The file path contains a control character (such as NUL or a newline).", field="path")
    text = text.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text) or "://" in text:
        raise InvalidPath(
            f"'{raw}' is an absolute path or a URI; give a path relative to the version, like model.onnx.", field="path"
        )
    segments = [segment.strip() for segment in text.split("/")]
    if any(segment == ".." for segment in segments):
        raise InvalidPath(f"'{raw}' leaves the version's folder ('..' is not allowed).", field="path")
    segments = [_UNSAFE_CHARS.sub("_", segment) for segment in segments if segment not in ("", ".")]
    if not segments:
        raise InvalidPath(f"'{raw}' does not name a file.", field="path")
    if len(segments) > MAX_DEPTH:
        raise InvalidPath(f"The file path is nested more than {MAX_DEPTH} folders deep.", field="path")
    if any(len(segment) > MAX_SEGMENT_LENGTH for segment in segments):
        raise InvalidPath(f"A part of the file path is longer than {MAX_SEGMENT_LENGTH} characters.", field="path")
    if any(segment.startswith(".") and set(segment) == {"."} for segment in segments):
        raise InvalidPath(f"'{raw}' is not a valid file name.", field="path")
    path = "/".join(segments)
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidPath(f"The file path is longer than {MAX_PATH_LENGTH} characters.", field="path")
    return path
