"""Loads 晋中市 and its 11 counties, GB/T 4754-2017 sections and divisions, and the key areas."""

from django.db import migrations


def load(apps, schema_editor):
    from enterprises.reference_data import DIVISIONS, KEY_AREAS, REGIONS, SECTIONS, section_of

    Region = apps.get_model("enterprises", "Region")
    Industry = apps.get_model("enterprises", "Industry")
    KeyArea = apps.get_model("enterprises", "KeyArea")
    for code, name, level, parent in REGIONS:
        Region.objects.update_or_create(code=code, defaults={"name": name, "level": level, "parent_id": parent})
    for letter, name, _first, _last in SECTIONS:
        Industry.objects.update_or_create(code=letter, defaults={"name": name, "section_id": None})
    for code, name in DIVISIONS.items():
        Industry.objects.update_or_create(code=code, defaults={"name": name, "section_id": section_of(code)})
    for code, name in KEY_AREAS:
        KeyArea.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
