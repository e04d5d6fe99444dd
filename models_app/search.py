"""Full-text search of the catalog, the same on both databases.

PostgreSQL keeps a weighted `search_vector` on each model (GIN-indexed); SQLite keeps an FTS5
table (`models_app_registeredmodel_fts`, created by migration 0007), one row per model with
the model's id as its rowid. Both index the same four fields with the same weights (name A,
summary B, tags C with the task's and framework's words, card D) and the same words: the text is cut at every run of characters
that are not letters or digits (so "iris-classifier", "model.onnx" and "v1.2" are words
apiece on both, where PostgreSQL's parser alone would keep them whole), stemmed (Snowball
English on PostgreSQL, Porter on SQLite) and stripped of PostgreSQL's English stop words.

A query is cut the same way into words; every word must match, each as a prefix ("classif"
finds "classifier"); ranking is ts_rank on PostgreSQL and bm25 on SQLite, with the same field
weights, and a model named exactly what was asked for comes first. User text never reaches
either query language as syntax: only runs of letters and digits survive, and each is quoted.
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Case, F, FloatField, Func, IntegerField, QuerySet, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat

from .models import NAME_RE, RegisteredModel

FTS_TABLE = "models_app_registeredmodel_fts"
FTS_COLUMNS = ("name", "summary", "tags", "description")
CREATE_FTS_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({', '.join(FTS_COLUMNS)}, "
    # Porter stemming over Unicode words; diacritics kept, as PostgreSQL's `english` keeps them.
    "tokenize = 'porter unicode61 remove_diacritics 0', "
    # Every query word is a prefix: index the 2- and 3-letter prefixes for the short ones.
    "prefix = '2 3')"
)
# A deleted model's row goes with it, however it is deleted (model_delete, a cascade from its
# owner, a test's flush). SQLite drops a table's triggers when Django remakes the table for a
# later migration, so index_repair() creates it again after every migrate.
CREATE_DELETE_TRIGGER = (
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON models_app_registeredmodel "
    f"BEGIN DELETE FROM {FTS_TABLE} WHERE rowid = OLD.id; END"
)
# ts_rank's default weights for A, B, C, D (1.0, 0.4, 0.2, 0.1), as bm25 column weights.
BM25_WEIGHTS = (10.0, 4.0, 2.0, 1.0)
# PostgreSQL's english.stop (tsearch_data/english.stop): the words its `english` configuration
# drops from documents and queries. SQLite drops the same ones, so that a query word means the
# same on both; tests/models/test_search.py checks the list against the server.
STOP_WORDS = frozenset(
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she"
    " her hers herself it its itself they them their theirs themselves what which who whom this that"
    " these those am is are was were be been being have has had having do does did doing a an the"
    " and but if or because as until while of at by for with about against between into through"
    " during before after above below to from up down in out on off over under again further then"
    " once here there when where why how all any both each few more most other some such no nor not"
    " only own same so than too very s t can will just don should now".split()
)
# The words a model's task and framework add to its tags (weight C): the label, and the noun
# people search for ("classifier" does not share a stem with "classification").
TASK_WORDS = {
    "image-classification": "image classification classifier",
    "object-detection": "object detection detector",
    "image-segmentation": "image segmentation",
    "text-classification": "text classification classifier",
    "sentiment-analysis": "sentiment analysis classifier",
    "translation": "translation translator",
    "tabular-classification": "tabular classification classifier",
    "tabular-regression": "tabular regression regressor",
    "recommendation": "recommendation recommender",
    "anomaly-detection": "anomaly detection detector",
}
FRAMEWORK_WORDS = {
    "scikit-learn": "scikit-learn sklearn",
    "pytorch": "pytorch torch",
    "tensorflow": "tensorflow",
    "onnx": "onnx",
    "xgboost": "xgboost",
}
# A word is a run of letters and digits; everything else (punctuation, "_", symbols) separates.
WORD_RE = re.compile(r"[^\W_]+")
# What PostgreSQL turns into spaces before its parser sees the text (letters and digits of every
# script are kept, as WORD_RE keeps them).
PUNCTUATION_RE = "[[:punct:][:space:]]+"


def words(text: str) -> list[str]:
    """The lowercased words of `text` that search looks at, stop words dropped, in order."""
    return [word for word in WORD_RE.findall((text or "").lower()) if word not in STOP_WORDS]


def query_words(text: str) -> list[str]:
    """The distinct words of a query, in order."""
    return list(dict.fromkeys(words(text)))


# --- Keeping the index in step (called by services.py for every write of the four fields) ---


def _postgres_text(field: str | Func) -> Func:
    return Func(
        F(field) if isinstance(field, str) else field,
        Value(PUNCTUATION_RE),
        Value(" "),
        Value("g"),
        function="regexp_replace",
        output_field=TextField(),
    )


def _choice_words(field: str, words_of: dict[str, str]) -> Case:
    whens = [When(**{field: value}, then=Value(text)) for value, text in words_of.items()]
    return Case(*whens, default=Value(""), output_field=TextField())


def search_vector() -> SearchVector:
    """The weighted vector of a model's row, as an expression over its own columns."""
    labels = Concat(
        F("tags_text"), Value(" "), _choice_words("task", TASK_WORDS), Value(" "),
        _choice_words("framework", FRAMEWORK_WORDS), output_field=TextField(),
    )  # fmt: skip
    return (
        SearchVector(_postgres_text("name"), weight="A", config="english")
        + SearchVector(_postgres_text("summary"), weight="B", config="english")
        + SearchVector(_postgres_text(labels), weight="C", config="english")
        + SearchVector(_postgres_text("description"), weight="D", config="english")
    )


INDEXED_FIELDS = ("pk", "name", "summary", "tags_text", "task", "framework", "description")


def index_refresh(model_id: int) -> None:
    """Index the model's name, summary, tags and card as its row holds them now (so a caller
    that changed the row with update() needs no fresh instance)."""
    rows = RegisteredModel.objects.filter(pk=model_id)
    if connection.vendor == "postgresql":
        rows.update(search_vector=search_vector())
    elif connection.vendor == "sqlite":
        for row in rows.values_list(*INDEXED_FIELDS):
            _sqlite_index_row(*row)


def _sqlite_index_row(pk, name, summary, tags_text, task, framework, description) -> None:
    labels = " ".join([tags_text, TASK_WORDS.get(task, ""), FRAMEWORK_WORDS.get(framework, "")])
    values = [name, summary, labels, description]
    with connection.cursor() as cursor:
        # REPLACE on the rowid: a row left by a model that went while the delete trigger was
        # missing cannot outlive the id's next use.
        cursor.execute(
            f"INSERT OR REPLACE INTO {FTS_TABLE} (rowid, {', '.join(FTS_COLUMNS)}) VALUES (%s, %s, %s, %s, %s)",
            [pk, *(" ".join(words(value)) for value in values)],
        )


def index_repair(*, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """After every migrate (post_migrate): once migration 0007 made the SQLite index, its delete
    trigger is there, and no row is left for a model that went while it was not."""
    database = connections[using]
    if database.vendor != "sqlite" or FTS_TABLE not in database.introspection.table_names():
        return
    with database.cursor() as cursor:
        cursor.execute(CREATE_DELETE_TRIGGER)
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid NOT IN (SELECT id FROM models_app_registeredmodel)")


def index_rebuild(model_class) -> None:
    """Index every model again (migration 0007; after a bulk load that bypassed the services)."""
    if connection.vendor == "postgresql":
        model_class.objects.update(search_vector=search_vector())
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE}")
        for row in model_class.objects.order_by("pk").values_list(*INDEXED_FIELDS).iterator(chunk_size=1000):
            _sqlite_index_row(*row)


# --- Searching ---


class _Bm25(Func):
    """-bm25() of the model's FTS5 row for the MATCH expression: larger is a better match.

    A correlated subquery rather than a join, so that the outer query keeps its shape (the
    facet and count queries take it as a subquery, and the model's id is relabelled there)."""

    output_field = FloatField()

    def __init__(self, match: str) -> None:
        super().__init__(Value(match), F("pk"))

    def as_sql(self, compiler, connection, **extra_context):
        match_sql, match_params = compiler.compile(self.source_expressions[0])
        pk_sql, pk_params = compiler.compile(self.source_expressions[1])
        weights = ", ".join(str(weight) for weight in BM25_WEIGHTS)
        sql = (
            f"(SELECT -bm25({FTS_TABLE}, {weights}) FROM {FTS_TABLE}"
            f" WHERE {FTS_TABLE} MATCH {match_sql} AND {FTS_TABLE}.rowid = {pk_sql})"
        )
        return sql, (*match_params, *pk_params)


def fts5_match(terms: list[str]) -> str:
    """`"iris"* AND "classifier"*`: each word a quoted prefix (a quote inside is doubled, though
    words hold only letters and digits), so no operator, column filter or NEAR can get in."""
    return " AND ".join('"{}"*'.format(term.replace('"', '""')) for term in terms)


def tsquery(terms: list[str], operator: str = "&") -> str:
    """`'iris':* & 'classifier':*` for to_tsquery: each word a quoted prefix lexeme."""
    return f" {operator} ".join("'{}':*".format(term.replace("'", "''").replace("\\", "\\\\")) for term in terms)


def search(queryset: QuerySet, text: str) -> QuerySet:
    """The models matching every word of `text`, annotated with `relevance` (higher is better)
    and `name_match` (1 for a model named what was asked for, spaces read as '-')."""
    terms = query_words(text)
    if not terms:
        # Only punctuation or stop words: nothing to look for (annotated, so it sorts as a search).
        return queryset.annotate(relevance=Value(0.0), name_match=Value(0)).none()
    if connection.vendor == "postgresql":
        query = SearchQuery(tsquery(terms), search_type="raw", config="english")
        # Ranked by the same words joined with |: ts_rank scores an & query by how close its
        # words stand, an | query by how often and where each occurs, as bm25 does. Normalization
        # 1 divides by 1 + log(the document's length): like bm25, a word in a short card counts
        # for more than in a long one.
        words_query = SearchQuery(tsquery(terms, "|"), search_type="raw", config="english")
        queryset = queryset.filter(search_vector=query).annotate(
            relevance=SearchRank(F("search_vector"), words_query, normalization=Value(1))
        )
    elif connection.vendor == "sqlite":
        match = fts5_match(terms)
        queryset = queryset.filter(
            pk__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [match])
        ).annotate(relevance=_Bm25(match))
    else:  # settings.py refuses any other database at start-up
        raise ImproperlyConfigured(f"Search is built for PostgreSQL and SQLite, not {connection.vendor}.")
    # "Iris classifier" and "IRIS-classifier" both name iris-classifier (names are lowercase).
    name = "-".join(text.lower().split())
    if re.fullmatch(NAME_RE, name):
        name_match = Case(When(name=name, then=Value(1)), default=Value(0), output_field=IntegerField())
    else:
        name_match = Value(0, output_field=IntegerField())  # no model can have that name
    return queryset.annotate(name_match=name_match)
