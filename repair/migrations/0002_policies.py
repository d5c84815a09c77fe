"""The repair policies of DESIGN.md §3.7 as rows staff can adjust in the admin (deadlines in working days)."""

from django.db import migrations

POLICIES = [
    {
        "code": "repair-2021",
        "name": "信用修复（2021）：3个工作日内受理，15个工作日内作出决定；经营异常名录5个工作日",
        "basis": "《市场监督管理信用修复管理办法》（国市监信规〔2021〕3号）；seed 000 §8",
        "effective_from": "2021-09-01",
        "acceptance_working_days": 3,
        "decision_working_days": 15,
        "abnormal_decision_working_days": 5,
        "tolerance_working_days": 10,
        "inspection_results_repairable": False,
        "repeat_offender_penalties": 3,
        "repeat_offender_window_months": 24,
        "repeat_offender_extra_months": 6,
    },
    {
        "code": "repair-2025",
        "name": "信用修复（2025）：3个工作日内受理，7个工作日内作出决定；经营异常名录5个工作日",
        "basis": "市场监管总局令第107号配套信用修复规定，2025年12月25日起施行",
        "effective_from": "2025-12-25",
        "acceptance_working_days": 3,
        "decision_working_days": 7,
        "abnormal_decision_working_days": 5,
        "tolerance_working_days": 10,
        "inspection_results_repairable": True,
        "repeat_offender_penalties": 3,
        "repeat_offender_window_months": 24,
        "repeat_offender_extra_months": 6,
    },
]


def load(apps, schema_editor):
    RepairPolicy = apps.get_model("repair", "RepairPolicy")
    for row in POLICIES:
        RepairPolicy.objects.update_or_create(code=row["code"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("repair", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
