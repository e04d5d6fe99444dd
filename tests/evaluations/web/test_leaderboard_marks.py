"""A leaderboard keeps a deprecated version's row, and says it is deprecated (and why)."""

import pytest
from django.urls import reverse

from models_app.models import VersionStatus
from reviews_app.services import version_deprecate
from tests.factories import make_model, make_version

from .conftest import finish, make_test_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(owner):
    test_set = make_test_set(owner, "iris-test")
    model = make_model(owner, "iris-classifier")
    old = make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.txt": b"1"})
    new = make_version(model, "1.1.0", status=VersionStatus.PUBLISHED, files={"m.txt": b"2"})
    finish(old, test_set, accuracy=0.97)
    finish(new, test_set, accuracy=0.90)
    version_deprecate(version=old, actor=owner, reason="Trained on leaked labels.")
    return test_set


def _rows(html: str) -> list[str]:
    body = html.split('<table class="table leaderboard">', 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr")[2:]  # past the header row


def test_the_page_marks_the_deprecated_row_with_its_reason(client, board):
    html = client.get(reverse("test-set-detail", args=["olivia", "iris-test"])).text
    first, second = _rows(html)
    assert "v1.0.0" in first and 'class="row-leader row-deprecated"' in first
    assert "data-deprecated" in first and 'title="Deprecated: Trained on leaked labels."' in first
    assert "v1.1.0" in second and "badge-deprecated" not in second and "row-deprecated" not in second


def test_the_api_row_says_deprecated(api, board):
    rows = api.get("/api/v1/test-sets/olivia/iris-test/leaderboard/").json()["results"]
    assert [(r["version"], r["deprecated"], r["is_prerelease"]) for r in rows] == [
        ("1.0.0", True, False),
        ("1.1.0", False, False),
    ]
