"""Fewer indexes on the registry: each one costs 4–7 s per 10^6 imported rows (issue 2) and is rewritten by every
non-HOT update (issue 5).

- region_id: its own btree (and its `_like` twin) duplicated the leading column of ent_region_type_status_idx and
  ent_region_uscc_idx, which serve every region filter and Region's PROTECT check.
- The `varchar_pattern_ops` twins Django adds to indexed varchar columns serve only `LIKE 'prefix%'`; nothing
  queries uscc, registration_number or industry_id by prefix (exact look-ups use the plain btree).
"""

from django.db import migrations, models

TABLE = "enterprises_enterprise"
LIKE_TWINS = ("uscc", "registration_number", "industry_id")


def _like_name(schema_editor, column):
    return schema_editor._create_index_name(TABLE, [column], suffix="_like")


def drop_like_twins(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in LIKE_TWINS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(_like_name(schema_editor, column))}")


def create_like_twins(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in LIKE_TWINS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(_like_name(schema_editor, column))} "
            f"ON {TABLE} ({column} varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0004_region_uscc_index")]

    operations = [
        migrations.AlterField(
            model_name="enterprise",
            name="region",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.PROTECT,
                to="enterprises.region",
                verbose_name="supervising region",
            ),
        ),
        migrations.RunPython(drop_like_twins, create_like_twins),
    ]
