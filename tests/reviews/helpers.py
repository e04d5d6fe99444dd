"""URLs and small assertions the review tests share."""

from tests.models.api.helpers import API, version_url


def submit_url(version: str = "1.0.0", owner: str = "olivia", name: str = "iris-classifier") -> str:
    return version_url(version, owner, name) + "submit/"


def deprecate_url(version: str = "1.0.0", owner: str = "olivia", name: str = "iris-classifier") -> str:
    return version_url(version, owner, name) + "deprecate/"


def undeprecate_url(version: str = "1.0.0", owner: str = "olivia", name: str = "iris-classifier") -> str:
    return version_url(version, owner, name) + "undeprecate/"


def review_url(pk: int) -> str:
    return f"{API}/reviews/{pk}/"


def decision_url(pk: int) -> str:
    return f"{API}/reviews/{pk}/decision/"


REVIEWS = f"{API}/reviews/"
AUDIT = f"{API}/audit/"

# How a 409 names each state.
STATE_WORDS = {
    "draft": "draft",
    "in_review": "in review",
    "changes_requested": "changes requested",
    "published": "published",
    "rejected": "rejected",
    "deprecated": "deprecated",
}
