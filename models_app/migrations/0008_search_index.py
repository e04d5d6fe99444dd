"""The search index on SQLite: an FTS5 table beside the models (PostgreSQL has the GIN-indexed
search_vector) with a trigger that drops a deleted model's row; and every model indexed again,
since both databases now cut the text at punctuation (see models_app/search.py)."""

from django.db import migrations

from models_app import search


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(search.CREATE_FTS_TABLE)
        schema_editor.execute(search.CREATE_DELETE_TRIGGER)
    search.index_rebuild(apps.get_model("models_app", "RegisteredModel"))


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {search.FTS_TABLE}_delete")
        schema_editor.execute(f"DROP TABLE IF EXISTS {search.FTS_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("models_app", "0007_review_promise")]
    operations = [migrations.RunPython(create_index, drop_index)]
