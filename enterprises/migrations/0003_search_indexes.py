"""PostgreSQL-only search indexes (SQLite, the demo default, scans instead).

- pg_trgm GIN on search_text: substring search (LIKE '%…%') for 3+ characters, Chinese included when the
  cluster's ctype classifies CJK as alphanumeric (initdb --locale=C.UTF-8; see docs/OPERATIONS.md).
- jsonb_path_ops GIN on name_grams: 2-character queries (`name_grams @> '["恒泰"]'`), which trigrams cannot serve.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS ent_search_trgm_idx ON enterprises_enterprise USING gin (search_text gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS ent_name_grams_idx ON enterprises_enterprise USING gin (name_grams jsonb_path_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS ent_search_trgm_idx")
    schema_editor.execute("DROP INDEX IF EXISTS ent_name_grams_idx")


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0002_reference_data")]
    operations = [migrations.RunPython(forwards, backwards)]
