"""Full-text search of the catalog (models_app/search.py): one list of queries, one catalog,
the same answers on whichever database is configured (CI runs this file on SQLite and on
PostgreSQL), through the API and the catalog page alike; and the index kept in step by every
writer of a model's name, summary, tags and card."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models_app import search, services
from models_app.models import RegisteredModel, VersionStatus
from tests.factories import make_model, make_version

from .api.helpers import API
from .web.test_admin import ADMIN, form_of, post

pytestmark = pytest.mark.django_db

# (name, summary, tags, card, downloads): the demo data's shape, with the words each query needs.
# Every model is a scikit-learn tabular classifier but for those in TASKS.
CATALOG = [
    (
        "iris-classifier",
        "Logistic regression that tells the three iris species apart from sepal and petal sizes.",
        ["iris", "tabular", "baseline"],
        "# Iris classifier\n\nA tabular classifier trained on Fisher's iris data.",
        30,
    ),
    (
        "wine-forest",
        "Random forest classifier that names the cultivar of an Italian wine.",
        ["wine", "tabular", "random-forest"],
        "Trained on the UCI wine data.",
        40,
    ),
    (
        "breast-cancer-svm",
        "Support vector machine that flags malignant tumours in the Wisconsin breast cancer data.",
        ["medical", "tabular", "svm"],
        "A binary classifier.",
        20,
    ),
    (
        "diabetes-ridge",
        "Ridge regression that predicts disease progression one year after baseline.",
        ["medical", "tabular", "regression"],
        "Exported to `model.onnx` with skl2onnx.",
        50,
    ),
    (
        "digits-mlp",
        "Small multi-layer perceptron that reads handwritten digits.",
        ["digits", "vision", "mlp"],
        "Reads 8x8 pixel images.",
        10,
    ),
    (
        "tumour-outliers",
        "Isolation forest that scores unusual tumour measurements.",
        ["medical", "anomaly", "tabular"],
        "Calibrated on the Wisconsin breast cancer measurements.",
        5,
    ),
    (
        "sentiment-bert",
        "Movie review sentiment.",
        ["nlp", "reviews"],
        "A distilled transformer that reads **movie reviews**.",
        1,
    ),
]

# Each query and the names it must return first, in order (all of them when the list is
# shorter than three; a longer result may follow with what it lists).
QUERIES = [
    # One word: in the name (A) over the summary (B) over the card (D).
    ("iris", ["iris-classifier"]),
    ("classifier", ["iris-classifier", "wine-forest", "breast-cancer-svm"]),
    ("classifiers", ["iris-classifier", "wine-forest", "breast-cancer-svm"]),
    ("forest", ["wine-forest", "tumour-outliers"]),
    # Two words, both must match, in any field; the exact name first.
    ("Iris classifier", ["iris-classifier"]),
    ("breast cancer", ["breast-cancer-svm", "tumour-outliers"]),
    ("tumour measurements", ["tumour-outliers"]),
    ("iris wine", []),
    # Hyphenated names, in any case.
    ("iris-classifier", ["iris-classifier"]),
    ("IRIS-Classifier", ["iris-classifier"]),
    ("breast-cancer-svm", ["breast-cancer-svm"]),
    # Prefixes and word forms (stemmed on both databases).
    ("classif", ["iris-classifier", "wine-forest", "breast-cancer-svm"]),
    ("perc", ["digits-mlp"]),
    ("predicting", ["diabetes-ridge"]),
    ("tumours", ["tumour-outliers", "breast-cancer-svm"]),
    # The task and the framework count as tags: "classifier" finds what has no such word.
    ("regressor", ["diabetes-ridge"]),
    ("anomaly detector", ["tumour-outliers"]),
    ("pytorch", ["sentiment-bert"]),
    ("sklearn classifier", ["iris-classifier", "wine-forest", "breast-cancer-svm", "digits-mlp"]),
    # A tag, and a tag three models share (the shortest card and summary first).
    ("vision", ["digits-mlp"]),
    ("medical", ["tumour-outliers", "diabetes-ridge", "breast-cancer-svm"]),
    # Only in the card: a word after a dot in a file name, a word in Markdown emphasis.
    ("onnx", ["diabetes-ridge"]),
    ("transformer", ["sentiment-bert"]),
    # Stop words are no words to look for.
    ("the iris", ["iris-classifier"]),
    # Punctuation and the syntax of FTS5 and tsquery: only the words in it count.
    ('"', []),
    ("*", []),
    ("!", []),
    ("OR", []),
    ("a:*", []),
    ("NEAR(", []),
    ("NEAR(iris classifier)", []),
    ('iris" OR "wine', []),
    ("iris | wine", []),
    ("iris & !wine", []),
    ("iris -wine", []),
    ("summary:iris", []),
    ("{name}: iris", []),
    ("^iris", ["iris-classifier"]),
    ("wine*", ["wine-forest"]),
    ("iris:A", ["iris-classifier"]),
    ("'iris' \\", ["iris-classifier"]),
    ("iris'; DROP TABLE models_app_registeredmodel; --", []),
]


TASKS = {
    "diabetes-ridge": {"task": "tabular-regression"},
    "tumour-outliers": {"task": "anomaly-detection"},
    "sentiment-bert": {"task": "sentiment-analysis", "framework": "pytorch"},
}


@pytest.fixture
def catalog(owner, outsider):
    for index, (name, summary, tags, card, downloads) in enumerate(CATALOG):
        model = make_model(
            owner if index % 2 else outsider, name, summary=summary, tags=tags, description=card, **TASKS.get(name, {})
        )  # fmt: skip
        # Published, so that the catalog shows them to anyone, whatever it hides.
        make_version(model, "1.0.0", status=VersionStatus.PUBLISHED)
        RegisteredModel.objects.filter(pk=model.pk).update(download_count=downloads)


def api_names(api, q: str, **params: str) -> list[str]:
    response = api.get(f"{API}/models/", {"q": q, **params})
    assert response.status_code == 200, response.json()
    return [item["name"] for item in response.json()["results"]]


def page_names(client, q: str, **params: str) -> list[str]:
    response = client.get(reverse("model-list"), {"q": q, **params})
    assert response.status_code == 200
    return [model.name for model in response.context["page"].object_list]


def test_every_query_finds_the_same_models_first(api, catalog):
    found = {q: api_names(api, q)[: max(len(expected), 3)] for q, expected in QUERIES}

    wrong = {q: found[q] for q, expected in QUERIES if found[q][: len(expected) or None] != expected}
    assert wrong == {}, f"on {connection.vendor}"


def test_the_catalog_page_answers_as_the_api_does(client, api, catalog):
    for q, _ in QUERIES:
        assert page_names(client, q) == api_names(api, q), q


def test_relevance_is_the_default_order_of_a_search_and_the_others_still_sort(api, catalog):
    assert api_names(api, "classifier") == api_names(api, "classifier", ordering="relevance")
    everyone = ["breast-cancer-svm", "digits-mlp", "iris-classifier", "sentiment-bert", "wine-forest"]
    assert api_names(api, "classifier", ordering="name") == everyone
    assert api_names(api, "classifier", ordering="-name") == everyone[::-1]
    assert api_names(api, "classifier", ordering="downloads") == [
        "wine-forest", "iris-classifier", "breast-cancer-svm", "digits-mlp", "sentiment-bert",
    ]  # fmt: skip


def test_a_search_combines_with_the_filters(api, catalog):
    assert api_names(api, "medical", task="tabular-classification") == ["breast-cancer-svm"]
    assert api_names(api, "classifier", tag="svm") == ["breast-cancer-svm"]
    assert api_names(api, "classifier", owner="olivia") == ["wine-forest"]


def test_a_private_model_is_found_only_by_those_who_may_see_it(api, owner_api, owner):
    make_model(owner, "secret-classifier", visibility="private")

    assert api_names(api, "secret") == []
    assert api_names(owner_api, "secret") == ["secret-classifier"]


# --- The index follows every writer --------------------------------------------------------


# Models without a release are seen by their owner (and staff) only, so these searches are theirs.
def test_an_edit_moves_the_model_in_the_index(owner, owner_api):
    make_model(owner, "iris-classifier", summary="Classifies iris flowers", tags=["iris"])

    response = owner_api.patch(
        f"{API}/models/olivia/iris-classifier/",
        {"summary": "Recognises petals", "description": "", "tags": ["botany"]},
        format="json",
    )

    assert response.status_code == 200
    assert api_names(owner_api, "petals") == ["iris-classifier"]
    assert api_names(owner_api, "botany") == ["iris-classifier"]
    assert api_names(owner_api, "flowers") == []


def test_an_edit_on_the_page_moves_the_model_in_the_index(owner, owner_client):
    make_model(owner, "iris-classifier", summary="Classifies iris flowers", tags=["iris"])

    response = owner_client.post(
        reverse("model-edit", args=["olivia", "iris-classifier"]),
        {"summary": "Sorts sepals", "task": "tabular-classification", "framework": "scikit-learn",
         "license": "MIT", "tags": "flora", "visibility": "public", "description": ""},
    )  # fmt: skip

    assert response.status_code == 302

    assert page_names(owner_client, "sepals") == ["iris-classifier"]
    assert page_names(owner_client, "flora") == ["iris-classifier"]
    assert page_names(owner_client, "flowers") == []


def test_a_model_edited_in_the_admin_moves_in_the_index(admin_client, owner):
    # Models are registered on the site (the admin cannot add them); the admin edits them.
    model = make_model(owner, "iris-classifier", summary="Classifies iris flowers")
    assert page_names(admin_client, "flowers") == ["iris-classifier"]

    url = f"{ADMIN}/models_app/registeredmodel/{model.pk}/change/"
    data = form_of(admin_client, url)
    data["summary"] = "Sorts sepals"
    post(admin_client, url, data)

    assert page_names(admin_client, "sepals") == ["iris-classifier"]
    assert page_names(admin_client, "flowers") == []


def test_a_deleted_model_leaves_the_index(owner, owner_api):
    model = make_model(owner, "iris-classifier")
    model_id = model.pk

    services.model_delete(model=model, actor=owner)

    assert api_names(owner_api, "iris") == []
    assert _index_rows(model_id) == 0


def test_a_model_deleted_with_its_owner_is_not_found_and_its_id_is_reindexed(outsider, owner, owner_api):
    make_model(outsider, "iris-classifier")
    outsider.delete()  # a cascade: model_delete does not run

    assert api_names(owner_api, "iris") == []
    make_model(owner, "wine-forest", summary="Wine", description="", tags=[])
    assert api_names(owner_api, "iris") == []
    assert api_names(owner_api, "wine") == ["wine-forest"]


def test_a_rebuild_indexes_models_written_around_the_services(owner, owner_api):
    RegisteredModel.objects.create(owner=owner, name="bulk-loaded", summary="Loaded in bulk", task="other",
                                   framework="other", license="MIT")  # fmt: skip
    assert api_names(owner_api, "bulk") == []

    search.index_rebuild(RegisteredModel)

    assert api_names(owner_api, "bulk") == ["bulk-loaded"]


def _index_rows(model_id: int) -> int:
    """Rows the index holds for the model: the FTS5 row on SQLite, the vector on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT COUNT(*) FROM {search.FTS_TABLE} WHERE rowid = %s", [model_id])
        else:
            cursor.execute(
                "SELECT COUNT(*) FROM models_app_registeredmodel WHERE id = %s AND search_vector IS NOT NULL",
                [model_id],
            )
        return cursor.fetchone()[0]


# --- The words both databases see ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Iris classifier", ["iris", "classifier"]),
        ("iris-classifier", ["iris", "classifier"]),
        ("model.onnx v1.2", ["model", "onnx", "v1", "2"]),
        ("snake_case", ["snake", "case"]),
        ("the a OR and", []),
        ('"*:!&|()<>\\', []),
        ("Zürich café", ["zürich", "café"]),
    ],
)
def test_text_is_cut_into_words_at_anything_but_letters_and_digits(text, expected):
    assert search.words(text) == expected


def test_a_query_becomes_quoted_prefixes_only():
    assert search.fts5_match(["iris", "classifier"]) == '"iris"* AND "classifier"*'
    assert search.tsquery(["iris", "classifier"]) == "'iris':* & 'classifier':*"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
@pytest.mark.postgres
def test_the_stop_words_are_postgresqls():
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_tsvector('english', %s)::text", [" ".join(sorted(search.STOP_WORDS))])
        assert cursor.fetchone()[0] == ""  # every one of ours is one of PostgreSQL's
        cursor.execute("SELECT to_tsvector('english', %s)::text", ["iris classifier wine forest"])
        assert cursor.fetchone()[0] != ""


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 table is SQLite's")
def test_the_delete_trigger_comes_back_after_a_migrate_that_dropped_it(owner, api):
    model = make_model(owner, "iris-classifier")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {search.FTS_TABLE}_delete")  # as a remake of the table would
    RegisteredModel.objects.filter(pk=model.pk).delete()  # gone without its index row
    assert _index_rows(model.pk) == 1

    call_command("migrate", verbosity=0)

    assert _index_rows(model.pk) == 0
    other = make_model(owner, "wine-forest", summary="", description="", tags=[])
    RegisteredModel.objects.filter(pk=other.pk).delete()
    assert _index_rows(other.pk) == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60))
def test_no_text_makes_the_search_fail(text):
    assert isinstance(list(search.search(RegisteredModel.objects.all(), text)), list)
