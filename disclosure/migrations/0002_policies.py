"""The three disclosure policies of DESIGN.md §3.2, as rows that staff can adjust in the admin."""

from django.db import migrations

POLICIES = [
    {
        "code": "local-2018",
        "name": "地方规定（2018）：行政处罚信息公示一年，严重失信三年",
        "scheme": "local_2018",
        "basis": "萍府办发〔2018〕30号 二（二）3（seed 001）",
        "effective_from": "2018-06-01",
        "retroactive_if_lenient": False,
        "minor_months": None,
        "general_months": 12,
        "serious_months": 36,
        "repair_general_months": None,
        "repair_serious_months": None,
        "repair_key_domain_months": None,
    },
    {
        "code": "national-2021",
        "name": "全国规定（2021）：通报批评或较低数额罚款公示三个月，其他三年",
        "scheme": "national_2021",
        "basis": "《市场监督管理行政处罚信息公示规定》（2021）；国市监信规〔2021〕3号；seed 000 §8",
        "effective_from": "2021-09-01",
        "retroactive_if_lenient": True,
        "minor_months": 3,
        "general_months": 36,
        "serious_months": 36,
        "repair_general_months": 6,
        "repair_serious_months": 6,
        "repair_key_domain_months": 12,
    },
    {
        "code": "national-2025",
        "name": "全国规定（2025，市场监管总局令第107号）：轻微三个月、一般一年、严重三年",
        "scheme": "national_2025",
        "basis": "市场监管总局令第107号，2025年12月25日起施行",
        "effective_from": "2025-12-25",
        "retroactive_if_lenient": True,
        "minor_months": 3,
        "general_months": 12,
        "serious_months": 36,
        "repair_general_months": 3,
        "repair_serious_months": 12,
        "repair_key_domain_months": None,
    },
]


def load(apps, schema_editor):
    DisclosurePolicy = apps.get_model("disclosure", "DisclosurePolicy")
    for row in POLICIES:
        DisclosurePolicy.objects.update_or_create(code=row["code"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
