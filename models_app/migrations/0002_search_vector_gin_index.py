"""The full-text search index, on PostgreSQL only (SQLite searches by substring)."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS registeredmodel_search_gin "
            "ON models_app_registeredmodel USING GIN (search_vector)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS registeredmodel_search_gin")


class Migration(migrations.Migration):
    dependencies = [("models_app", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index)]
