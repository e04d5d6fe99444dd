"""Every API list costs the same number of queries whatever its length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_model, make_version

from .helpers import API, versions_url

pytestmark = pytest.mark.django_db


def count_queries(client, url: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(context.captured_queries), [query["sql"] for query in context.captured_queries]


def add_models(owner, start: int, count: int) -> None:
    for index in range(start, start + count):
        model = make_model(owner, f"model-{index}", tags=[f"tag-{index}", "shared"])
        make_version(model, "1.0.0", status="published")


def test_the_model_list_costs_four_queries_for_anonymous_users(api, owner, django_assert_num_queries):
    add_models(owner, 0, 2)
    few, _ = count_queries(api, f"{API}/models/")
    add_models(owner, 2, 15)

    # 1. COUNT(*) of the visible models (pagination)
    # 2. the page of models, with the owner joined and the latest published version as a subquery
    # 3. the tags of every model on the page (one prefetch)
    with django_assert_num_queries(3):
        response = api.get(f"{API}/models/")
    assert len(response.json()["results"]) == 17
    assert few == 3


def test_the_model_list_costs_the_same_for_a_token_user_whatever_its_length(
    owner, owner_api, outsider, django_assert_max_num_queries
):
    add_models(owner, 0, 2)
    owner_api.get(f"{API}/models/")  # the token's last_used_at is written once a minute, not on every call
    few, _ = count_queries(owner_api, f"{API}/models/?q=model&tag=shared&ordering=name")
    add_models(owner, 2, 15)
    add_models(outsider, 100, 3)

    # 1. the token and its user (one join)
    # 2. whether the user is a reviewer (reviewers also see submitted versions)
    # 3. COUNT(*) of the matching models
    # 4. the page of models with owner and latest published version
    # 5. the tags of the page's models
    with django_assert_max_num_queries(5):
        response = owner_api.get(f"{API}/models/?q=model&tag=shared&ordering=name")
    assert len(response.json()["results"]) == 20
    assert few == 5


def test_the_version_list_costs_the_same_whatever_its_length(owner, owner_api, django_assert_max_num_queries):
    model = make_model(owner)
    make_version(model, "0.1.0", files={"a.bin": b"a"})
    owner_api.get(versions_url())
    few, _ = count_queries(owner_api, versions_url())
    for minor in range(1, 15):
        make_version(model, f"1.{minor}.0", files={"model.onnx": b"m%d" % minor, "README.md": b"r%d" % minor})

    # 1. the token and its user
    # 2. whether the user is a reviewer (asked once per request by the visibility rule)
    # 3. the model (owner joined, latest published version as a subquery)
    # 4. the model's tags (prefetch)
    # 5. COUNT(*) of the visible versions
    # 6. the page of versions with created_by and model owner joined
    # 7. their files with the blobs joined (one prefetch)
    # 8. the aliases pointing at them (one prefetch)
    with django_assert_max_num_queries(8):
        response = owner_api.get(versions_url())
    assert len(response.json()["results"]) == 15
    assert sum(len(item["files"]) for item in response.json()["results"]) == 29
    assert few == 8


def test_the_version_list_costs_the_same_for_anonymous_users(owner, api, django_assert_num_queries):
    model = make_model(owner)
    for minor in range(10):
        make_version(model, f"1.{minor}.0", status="published", files={"model.onnx": b"m%d" % minor})

    # model, its tags, COUNT(*), versions, files+blobs, aliases: no token query for an anonymous caller.
    with django_assert_num_queries(6):
        api.get(versions_url())


def test_the_file_list_costs_the_same_whatever_its_length(owner, owner_api, django_assert_max_num_queries):
    model = make_model(owner)
    make_version(model, "1.0.0", files={f"part-{i}.bin": b"p%d" % i for i in range(12)})
    owner_api.get(versions_url() + "1.0.0/files/")

    # 1. the token and its user
    # 2. whether the user is a reviewer (the visibility rule)
    # 3. the model (owner joined, latest version subquery)
    # 4. the model's tags
    # 5. the version (created_by and model owner joined)
    # 6. its files with their blobs
    with django_assert_max_num_queries(6):
        response = owner_api.get(versions_url() + "1.0.0/files/")
    assert len(response.json()) == 12
