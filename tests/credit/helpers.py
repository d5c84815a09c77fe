"""Hand-made entities and facts for the credit tests, and helpers to compute and compare classifications."""

from __future__ import annotations

import datetime as dt

from credit import engine, services
from credit.defaults import DEFAULT_SPEC
from credit.models import ClassChange, ModelVersion, RiskResult, Run
from credit.rules import validate_spec
from enterprises.models import AnnualReport, Enterprise, KeyArea
from tests.factories import EnterpriseFactory

AS_OF = dt.date(2026, 11, 22)
DAY = dt.timedelta(days=1)


def live_version() -> ModelVersion:
    return ModelVersion.objects.get(status=ModelVersion.Status.LIVE)


def clean_entity(**kwargs) -> Enterprise:
    """An enterprise registered in 2015 that filed 2023–2025 on time and has no other fact: A under the default
    model (established −15, three clean years −15)."""
    enterprise = EnterpriseFactory(**kwargs)
    for year in (2023, 2024, 2025):
        AnnualReport.objects.create(enterprise=enterprise, year=year, filed_on=dt.date(year + 1, 5, 1))
    return enterprise


def features(enterprise: Enterprise, *, as_of: dt.date = AS_OF, spec: dict | None = None) -> dict[str, int]:
    """The feature values of one entity (PostgreSQL or portable SQL: the same statement)."""
    model = validate_spec(spec or DEFAULT_SPEC)
    run = Run.objects.create(mode=Run.Mode.SHADOW, model_version=live_version(), as_of=as_of)
    services._fill_listed_persons(run)
    rows = engine.features_of(model, as_of=as_of, run_id=run.pk, first_id=enterprise.pk, last_id=enterprise.pk)
    assert len(rows) == 1, rows
    return rows[0]


def key_area(enterprise: Enterprise, code: str = "food_production") -> None:
    enterprise.key_areas.add(KeyArea.objects.get(code=code))


def state() -> dict[str, object]:
    """Everything a run writes, comparable between two runs (ids, not timestamps)."""
    return {
        "classes": dict(Enterprise.objects.exclude(risk_class="").values_list("pk", "risk_class")),
        "results": {
            r.enterprise_id: (r.risk_class, r.score, r.contributions, r.hard_rule, r.model_version_id, r.as_of)
            for r in RiskResult.objects.all()
        },
        "history": sorted(ClassChange.objects.values_list("enterprise_id", "old_class", "new_class", "score", "as_of")),
    }


def reset() -> None:
    """Forget every classification (tests only: the app itself never deletes a result or a change)."""
    ClassChange.objects.all().delete()
    RiskResult.objects.all().delete()
    Enterprise.objects.update(risk_class="", risk_classified_at=None)
