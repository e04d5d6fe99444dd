"""Artifact paths the MLflow client sends, checked by an allow-list before anything is looked up.

MLflow's own server has had over a dozen path-traversal and local-file-read CVEs through
artifact paths and `source` URIs. Here an artifact path is never a filesystem path: it is a
key into this registry's own tables, in one of two folders the registry itself hands out:

- `runs/<username>/<run id>/artifacts/...` and `runs/<username>/models/<logged model id>/artifacts/...`:
  what a user's client uploads while it logs a model, readable and writable by that user only;
- `versions/<owner>/<model>/<version>/...`: a registry version's files, readable by whoever may
  see the version.

Each segment must match a short allow-list of characters; `..`, `.`, empty segments,
absolute paths, backslashes, NUL, percent signs (a second round of decoding) and anything
outside the list are refused, not repaired.
"""

import re

from .protocol import MlflowError

MAX_SEGMENTS = 16
MAX_LENGTH = 1024
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+=@-]{0,127}$")


def artifact_path(raw: str) -> list[str]:
    """The path's segments, or INVALID_PARAMETER_VALUE with the reason."""
    if not isinstance(raw, str) or not raw:
        raise MlflowError("INVALID_PARAMETER_VALUE", "The artifact path is empty.")
    if len(raw) > MAX_LENGTH:
        raise MlflowError("INVALID_PARAMETER_VALUE", f"The artifact path is longer than {MAX_LENGTH} characters.")
    if raw.startswith("/") or "\\" in raw or "\x00" in raw or "%" in raw:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            "Artifact paths are relative, with '/' between names, and without '\\', '%' or NUL.",
        )
    segments = raw.split("/")
    if len(segments) > MAX_SEGMENTS:
        raise MlflowError("INVALID_PARAMETER_VALUE", f"The artifact path is nested deeper than {MAX_SEGMENTS}.")
    for segment in segments:
        if not _SEGMENT.match(segment) or set(segment) == {"."}:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE",
                f"'{segment[:60]}' is not a valid name in an artifact path: use letters, digits and . _ - + = @, "
                "not starting with a dot.",
            )
    return segments


def run_root(username: str, run_id: str) -> str:
    return f"runs/{username}/{run_id}/artifacts"


def logged_model_root(username: str, model_id: str) -> str:
    return f"runs/{username}/models/{model_id}/artifacts"


def version_root(owner: str, name: str, version: str) -> str:
    return f"versions/{owner}/{name}/{version}"


def artifacts_uri(root: str) -> str:
    return f"mlflow-artifacts:/{root}"
