"""Search, filters, ordering and pagination of GET /api/v1/models/."""

import pytest

from models_app.models import RegisteredModel
from tests.factories import make_model, make_released_model, make_version

from .helpers import API, assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(owner, outsider):
    make_released_model(owner, "iris-classifier", summary="Classifies iris flowers", tags=["iris", "tabular"])
    make_released_model(
        owner,
        "wine-regressor",
        task="tabular-regression",
        framework="xgboost",
        license="Apache-2.0",
        summary="Predicts wine quality",
        tags=["wine"],
        description="Trained on the UCI wine data.",
    )
    make_released_model(
        outsider,
        "sentiment-bert",
        task="sentiment-analysis",
        framework="pytorch",
        license="Apache-2.0",
        summary="Movie review sentiment",
        tags=["nlp", "reviews"],
        description="A distilled transformer that reads **movie reviews**.",
    )
    RegisteredModel.objects.filter(name="wine-regressor").update(download_count=50)
    RegisteredModel.objects.filter(name="sentiment-bert").update(download_count=10)


def names(api, query: str) -> list[str]:
    response = api.get(f"{API}/models/?{query}")
    assert response.status_code == 200, response.json()
    return [item["name"] for item in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=iris", ["iris-classifier"]),  # name (and tag)
        ("q=quality", ["wine-regressor"]),  # summary
        ("q=nlp", ["sentiment-bert"]),  # tag
        ("q=transformer", ["sentiment-bert"]),  # model card
        ("q=nothing-like-this", []),
    ],
)
def test_q_matches_name_summary_tags_and_card(api, catalog, query, expected):
    assert names(api, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("task=tabular-regression", ["wine-regressor"]),
        ("framework=pytorch", ["sentiment-bert"]),
        ("license=Apache-2.0", ["wine-regressor", "sentiment-bert"]),
        ("tag=iris", ["iris-classifier"]),
        ("tag=IRIS", ["iris-classifier"]),
        ("owner=oscar", ["sentiment-bert"]),
        ("owner=olivia&task=tabular-classification", ["iris-classifier"]),
        ("owner=nobody", []),
        ("tag=unknown", []),
    ],
)
def test_filters_narrow_the_list(api, catalog, query, expected):
    assert names(api, query) == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("", ["wine-regressor", "sentiment-bert", "iris-classifier"]),  # most downloaded first
        ("downloads", ["wine-regressor", "sentiment-bert", "iris-classifier"]),
        ("download_count", ["iris-classifier", "sentiment-bert", "wine-regressor"]),
        ("name", ["iris-classifier", "sentiment-bert", "wine-regressor"]),
        ("-name", ["wine-regressor", "sentiment-bert", "iris-classifier"]),
        ("created_at", ["iris-classifier", "wine-regressor", "sentiment-bert"]),
    ],
)
def test_ordering(api, catalog, ordering, expected):
    assert names(api, f"ordering={ordering}") == expected


def test_a_name_match_ranks_above_a_card_match(owner, api, catalog):
    make_released_model(owner, "reviews", summary="Nothing else", tags=[])

    assert names(api, "q=reviews")[0] == "reviews"


@pytest.mark.parametrize(
    "query",
    [
        "task=mind-reading",
        "framework=caffe9",
        "license=WTFPL",
        "ordering=random",
        "q=" + "x" * 201,
        "q=%00",
        "owner=%00",
        "tag=%00",
    ],
)
def test_a_bad_filter_value_is_a_400_with_the_error_body(api, catalog, query):
    assert_error(api.get(f"{API}/models/?{query}"), 400, "invalid")


@pytest.mark.parametrize(
    "q", ["'", '"', "a & b", "!!", "(", "-", "or", "NOT", "\\", "%", "_", "a:*", "<script>", "iris -wine", "😀"]
)
def test_odd_search_text_never_fails(api, catalog, q):
    response = api.get(f"{API}/models/", {"q": q})
    assert response.status_code == 200
    assert isinstance(response.json()["results"], list)


def test_full_text_search_matches_word_forms(api, catalog):
    # "classify" shares the stem of "Classifies"; a substring search would miss it.
    # (sentiment-bert follows: a sentiment-analysis model counts as a classifier.)
    assert names(api, "q=classify") == ["iris-classifier", "sentiment-bert"]
    assert names(api, "q=predicting") == ["wine-regressor"]


def test_quotes_minus_and_or_are_no_operators_every_word_must_match(api, catalog):
    assert names(api, 'q="review movie"') == ["sentiment-bert"]  # both words, in any order
    assert names(api, "q=movie -reviews") == ["sentiment-bert"]
    assert names(api, "q=movie -wine") == []
    assert names(api, "q=wine or iris") == []  # "or" is a stop word: wine and iris


def test_the_search_follows_an_approved_edit(owner_api, api, catalog):
    owner_api.patch(f"{API}/models/olivia/iris-classifier/", {"summary": "Recognises petals"}, format="json")
    assert names(api, "q=petals") == []  # pending review: the public searches the approved card

    make_version(RegisteredModel.objects.get(name="iris-classifier"), "1.1.0", status="published")
    assert names(api, "q=petals") == ["iris-classifier"]
    assert names(api, "q=flowers") == []


# Pagination


@pytest.fixture
def many_models(owner):
    for index in range(25):
        make_model(owner, f"model-{index:02d}", tags=[])
    # Listed as released without building 25 releases: these tests are about pagination.
    RegisteredModel.objects.filter(owner=owner).update(has_release=True)


def test_the_default_page_holds_twenty(api, many_models):
    body = api.get(f"{API}/models/?ordering=name").json()

    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["next"].endswith("page=2")
    assert body["previous"] is None


def test_the_second_page_holds_the_rest(api, many_models):
    body = api.get(f"{API}/models/?ordering=name&page=2").json()

    assert [item["name"] for item in body["results"]] == [f"model-{i:02d}" for i in range(20, 25)]
    assert body["next"] is None


@pytest.mark.parametrize(("page_size", "expected"), [("1000000000", 25), ("0", 1), ("-5", 1), ("abc", 20), ("3", 3)])
def test_page_size_is_clamped(api, many_models, settings, page_size, expected):
    body = api.get(f"{API}/models/?page_size={page_size}").json()

    assert len(body["results"]) == expected


def test_page_size_never_passes_the_maximum(api, owner, settings):
    for index in range(101):
        RegisteredModel.objects.create(
            owner=owner, name=f"bulk-{index}", task="other", framework="other", license="MIT", has_release=True
        )

    body = api.get(f"{API}/models/?page_size=1000000000").json()

    assert body["count"] == 101
    assert len(body["results"]) == 100


@pytest.mark.parametrize("page", ["-1", "0", "99", "abc", "1e9", "99999999999999999999"])
def test_a_page_out_of_range_is_a_json_404(api, many_models, page):
    assert_error(api.get(f"{API}/models/?page={page}"), 404, "not_found")


def test_the_last_page_is_reachable_by_name(api, many_models):
    assert len(api.get(f"{API}/models/?page=last").json()["results"]) == 5
