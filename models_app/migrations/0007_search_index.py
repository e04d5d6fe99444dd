"""The search index on SQLite: an FTS5 table beside the models (PostgreSQL has the GIN-indexed
search_vector); and every model indexed again, since both now cut the text at punctuation
(see models_app/search.py)."""

from django.db import migrations

from models_app import search

CREATE_FTS = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {search.FTS_TABLE} USING fts5("
    f"{', '.join(search.FTS_COLUMNS)}, "
    # Porter stemming over Unicode words; diacritics kept, as PostgreSQL's `english` keeps them.
    "tokenize = 'porter unicode61 remove_diacritics 0', "
    # Every query word is a prefix: index the 2- and 3-letter prefixes for short ones.
    "prefix = '2 3')"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE_FTS)
    search.index_rebuild(apps.get_model("models_app", "RegisteredModel"))


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {search.FTS_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("models_app", "0006_scan_findings")]
    operations = [migrations.RunPython(create_index, drop_index)]
