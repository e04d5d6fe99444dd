"""The leaderboard, the version page and the model page cost a fixed number of queries,
whatever the number of evaluations."""

import pytest
from django.urls import reverse

from models_app.models import VersionStatus
from tests.factories import make_model, make_version

from .conftest import finish, make_test_set

pytestmark = pytest.mark.django_db

# Test set page, anonymous: 1 test set (owner and blob joined), 1 leaderboard (versions,
# models and owners joined; visible models as a subquery).
LEADERBOARD_QUERIES = 2
# Version page, owner: session, user, reviewer check (cached on the user), model, its tags,
# version, its files, the aliases pointing at it, reviews, audit events, nav counts; then 1
# evaluations (versions, models, test sets and owners joined), 1 test sets for the request
# form, and 1 for the test sets its last submission skipped.
VERSION_PAGE_QUERIES = 14
# Model page, anonymous: the catalog's 5, plus 1 for the evaluations of all published versions.
MODEL_PAGE_QUERIES = 6


def _versions(owner, test_set, count: int, start: int = 0) -> None:
    for index in range(start, start + count):
        model = make_model(owner, f"model-{index:03d}")
        version = make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": bytes([index])})
        finish(version, test_set, accuracy=0.5 + index / 100)


def test_leaderboard_query_count_stays_fixed_as_rows_grow(client, owner, django_assert_max_num_queries):
    test_set = make_test_set(owner)
    url = reverse("test-set-detail", kwargs={"owner": "olivia", "name": test_set.name})
    _versions(owner, test_set, 2)
    with django_assert_max_num_queries(LEADERBOARD_QUERIES):
        assert client.get(url).status_code == 200
    _versions(owner, test_set, 20, start=2)
    with django_assert_max_num_queries(LEADERBOARD_QUERIES):
        response = client.get(url, {"metric": "f1_macro"})
    assert len(response.context["rows"]) == 22


def test_version_page_query_count_stays_fixed_as_evaluations_grow(owner_client, owner, django_assert_max_num_queries):
    version = make_version(make_model(owner, "many"), "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"m"})
    url = reverse("version-detail", kwargs={"owner": "olivia", "name": "many", "version": "1.0.0"})
    finish(version, make_test_set(owner, "set-0"), accuracy=0.9)
    with django_assert_max_num_queries(VERSION_PAGE_QUERIES):
        assert owner_client.get(url).status_code == 200
    for index in range(1, 8):
        test_set = make_test_set(owner, f"set-{index}")
        finish(version, test_set, accuracy=0.8)
        finish(version, test_set, accuracy=0.85)  # an older result on the same set is listed, not drawn
    with django_assert_max_num_queries(VERSION_PAGE_QUERIES):
        response = owner_client.get(url)
    assert len(response.context["results"]) == 8 and len(response.context["evaluations"]) == 15


def test_model_page_query_count_stays_fixed_as_evaluated_versions_grow(client, owner, django_assert_max_num_queries):
    model = make_model(owner, "charted")
    test_set = make_test_set(owner)
    finish(make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"0"}), test_set, accuracy=0.7)
    with django_assert_max_num_queries(MODEL_PAGE_QUERIES):
        assert client.get(model.get_absolute_url()).status_code == 200
    for minor in range(1, 12):
        version = make_version(model, f"1.{minor}.0", status=VersionStatus.PUBLISHED, files={"m.onnx": bytes([minor])})
        finish(version, test_set, accuracy=0.7 + minor / 100)
    with django_assert_max_num_queries(MODEL_PAGE_QUERIES):
        response = client.get(model.get_absolute_url())
    assert len(response.context["metric_charts"][0]["points"]) == 12
