"""The default model version (credit.defaults), live from the start: every entity is classified by it."""

from django.db import migrations



def load(apps, schema_editor):
    from credit.defaults import INITIAL_CODE as DEFAULT_CODE, INITIAL_NAME as DEFAULT_NAME, INITIAL_SPEC as DEFAULT_SPEC

    ModelVersion = apps.get_model("credit", "ModelVersion")
    ModelVersion.objects.get_or_create(
        code=DEFAULT_CODE,
        defaults={
            "name": DEFAULT_NAME,
            "description": "默认模型：见 credit/defaults.py 与 docs/CREDIT.md。",
            "status": "live",
            "spec": DEFAULT_SPEC,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
