"""Version 2026.2 of the default model: 2026.1 plus double-random inspection findings (`inspection_problems`).

Live versions are never edited (credit.models.ModelVersion): 2026.2 is a new version that supersedes 2026.1. Where
2026.1 is still live (no one adopted another version), 2026.2 becomes live and 2026.1 is superseded, as
`model_version_adopt` would do; the classes follow at the next nightly run. Where an operator has already adopted
another version, 2026.2 is only added as a draft that supersedes the live one, to be run in shadow, compared and
adopted in the admin (docs/CHECKLISTS.md), so this migration never overrides a decision taken there.
"""

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    from credit.defaults import DEFAULT_CODE, DEFAULT_NAME, DEFAULT_SPEC, INITIAL_CODE

    ModelVersion = apps.get_model("credit", "ModelVersion")
    if ModelVersion.objects.filter(code=DEFAULT_CODE).exists():
        return
    live = ModelVersion.objects.filter(status="live").first()
    now = timezone.now()
    adopt = live is None or live.code == INITIAL_CODE
    if live is not None and adopt:
        live.status, live.superseded_at = "superseded", now
        live.save(update_fields=["status", "superseded_at", "updated_at"])
    ModelVersion.objects.create(
        code=DEFAULT_CODE,
        name=DEFAULT_NAME,
        description=(
            f"默认模型：在 {INITIAL_CODE} 基础上增加“双随机抽查发现问题”指标（近 3 年每次 +30 分，最多计 2 次）；"
            "见 credit/defaults.py 与 docs/INSPECTIONS.md。"
        ),
        status="live" if adopt else "draft",
        spec=DEFAULT_SPEC,
        supersedes=live,
        adopted_at=now if adopt else None,
    )


def backwards(apps, schema_editor):
    from credit.defaults import DEFAULT_CODE, INITIAL_CODE

    ModelVersion = apps.get_model("credit", "ModelVersion")
    version = ModelVersion.objects.filter(code=DEFAULT_CODE).first()
    if version is None:
        return
    if version.status == "live":
        # Results and runs may point at it (PROTECT): hand the live role back without deleting anything.
        version.status, version.superseded_at = "superseded", timezone.now()
        version.save(update_fields=["status", "superseded_at", "updated_at"])
        ModelVersion.objects.filter(code=INITIAL_CODE).update(status="live", superseded_at=None)


class Migration(migrations.Migration):
    dependencies = [("credit", "0003_checks"), ("inspections", "0002_result_publication_stop")]
    operations = [migrations.RunPython(forwards, backwards)]
