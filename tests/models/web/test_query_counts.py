"""List pages cost a fixed number of queries whatever the number of models."""

import pytest
from django.urls import reverse

from models_app.models import VersionStatus
from tests.factories import make_model, make_version

pytestmark = pytest.mark.django_db

# Catalog, anonymous: 1 count (paginator), 1 page of models (owner joined, latest version
# as a subquery), 1 tags prefetch, 4 facet counts (task, framework, license, tag).
CATALOG_QUERIES = 7
# Model page, anonymous: 1 model (owner joined, latest version subquery), 1 tags prefetch,
# 1 versions (creator joined), 1 files prefetch (blob joined), 1 aliases prefetch (who moved
# them joined: the alias section and the version badges).
MODEL_PAGE_QUERIES = 5
# The model page adds 1: the evaluations of its published versions, for the metric charts.
MODEL_PAGE_WITH_CHARTS_QUERIES = MODEL_PAGE_QUERIES + 1
# Logged in adds the session, the user, whether the user is a reviewer (the visibility
# rule asks; reviewers see submitted versions), and the navigation bar's counts (unread
# notifications and open reviews: one query, reviews_app.context_processors).
SESSION_QUERIES = 4


def _make_models(owner, count: int, start: int = 0) -> None:
    for index in range(start, start + count):
        model = make_model(owner, f"model-{index:03d}", tags=[f"tag-{index % 7}", "shared"])
        make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"m.onnx": b"x" * (index + 1)})


@pytest.mark.parametrize("viewer", ["anonymous", "owner"])
def test_catalog_query_count_stays_fixed_as_models_grow(client, owner, django_assert_max_num_queries, viewer):
    if viewer == "owner":
        client.force_login(owner)
    bound = CATALOG_QUERIES + (SESSION_QUERIES if viewer == "owner" else 0)
    _make_models(owner, 3)
    with django_assert_max_num_queries(bound):
        assert client.get(reverse("model-list"), {"q": "model", "ordering": "downloads"}).status_code == 200
    _make_models(owner, 27, start=3)
    with django_assert_max_num_queries(bound):
        response = client.get(reverse("model-list"), {"q": "model", "ordering": "downloads"})
    assert len(response.context["page"].object_list) == 20


def test_home_query_count_stays_fixed_as_models_grow(client, owner, django_assert_max_num_queries):
    # 2 lists (recent, most downloaded), each with 1 tags prefetch.
    _make_models(owner, 3)
    with django_assert_max_num_queries(4):
        client.get(reverse("home"))
    _make_models(owner, 27, start=3)
    with django_assert_max_num_queries(4):
        client.get(reverse("home"))


def test_model_page_query_count_stays_fixed_as_versions_and_files_grow(client, owner, django_assert_max_num_queries):
    model = make_model(owner, "big")
    make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"a.onnx": b"a", "b.onnx": b"b"})
    with django_assert_max_num_queries(MODEL_PAGE_WITH_CHARTS_QUERIES):
        assert client.get(model.get_absolute_url()).status_code == 200
    for minor in range(1, 30):
        make_version(model, f"1.{minor}.0", status=VersionStatus.PUBLISHED, files={f"f{minor}.bin": bytes([minor])})
    _make_models(owner, 5)  # other models do not matter either
    with django_assert_max_num_queries(MODEL_PAGE_WITH_CHARTS_QUERIES):
        response = client.get(model.get_absolute_url())
    assert len(response.context["versions"]) == 30


def test_version_history_query_count_stays_fixed(client, owner, django_assert_max_num_queries):
    model = make_model(owner, "hist")
    for minor in range(3):
        make_version(model, f"1.{minor}.0", status=VersionStatus.PUBLISHED, files={"m.bin": bytes([minor])})
    # model + tags prefetch + versions + files prefetch + aliases prefetch (the badges)
    with django_assert_max_num_queries(MODEL_PAGE_QUERIES):
        client.get(reverse("version-list", args=["olivia", "hist"]))
    for minor in range(3, 30):
        make_version(model, f"1.{minor}.0", status=VersionStatus.PUBLISHED, files={"m.bin": bytes([minor])})
    with django_assert_max_num_queries(MODEL_PAGE_QUERIES):
        client.get(reverse("version-list", args=["olivia", "hist"]))
