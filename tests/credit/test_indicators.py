"""Each indicator and hard rule of the risk model on hand-made entities (DESIGN.md §3.5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from credit import engine, services
from credit.defaults import DEFAULT_SPEC
from credit.indicators import INDICATORS
from credit.models import RiskResult
from credit.rules import validate_spec
from credit.selectors import explanation_of
from disclosure.models import AbnormalListing, SeriousListing
from enterprises.models import AnnualReport, Commitment, Complaint, Enterprise, Honour, Licence, RegistrationChange
from tests.credit.helpers import AS_OF, DAY, clean_entity, features, key_area
from tests.disclosure.factories import AbnormalListingFactory, PenaltyFactory, SeriousListingFactory
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


def _change(e: Enterprise, field: str, on: dt.date) -> None:
    RegistrationChange.objects.create(enterprise=e, field=field, old_value="甲", new_value="乙", changed_on=on)


def _licence(e: Enterprise, **kw) -> None:
    values = {"number": f"JY{e.pk:08d}", "name": "食品经营许可证", "authority": "晋中市榆次区市场监督管理局"}
    Licence.objects.create(enterprise=e, valid_from=dt.date(2020, 1, 1), **{**values, **kw})


def _inspection_result(e: Enterprise) -> None:
    from tests.credit.test_inspection_indicator import inspection_result

    inspection_result(e)


def _unreachable(e: Enterprise, decided: dt.date) -> None:
    AbnormalListingFactory(enterprise=e, reason=AbnormalListing.Reason.UNREACHABLE, year=0, decided_on=decided)


# (indicator, setup on a clean entity, expected value) — and the same setup must leave every other listed
# indicator as a clean entity has it, except where the fact itself implies another (stated in `also`).
CASES: list[tuple[str, Callable[[Enterprise], None], int, dict[str, int]]] = [
    ("young", lambda e: Enterprise.objects.filter(pk=e.pk).update(registration_date=AS_OF - 100 * DAY), 1,
     {"established": 0, "clean_record": 0}),
    ("established", lambda e: Enterprise.objects.filter(pk=e.pk).update(registration_date=dt.date(2020, 1, 1)), 0,
     {}),
    ("key_area", key_area, 1, {}),
    ("large_capital", lambda e: Enterprise.objects.filter(pk=e.pk).update(registered_capital=Decimal("1000")), 1, {}),
    ("large_capital", lambda e: Enterprise.objects.filter(pk=e.pk).update(registered_capital=Decimal("999.99")), 0,
     {}),
    ("revoked", lambda e: Enterprise.objects.filter(pk=e.pk).update(status="revoked"), 1, {}),
    ("reports_missing", lambda e: AnnualReport.objects.filter(enterprise=e, year=2025).delete(), 1, {}),
    # A deregistered entity owes no report.
    ("reports_missing", lambda e: (AnnualReport.objects.filter(enterprise=e).delete(),
                                   Enterprise.objects.filter(pk=e.pk).update(status="deregistered")), 0, {}),
    # Registered in May 2024: owes 2024 and 2025 only.
    ("reports_missing", lambda e: (AnnualReport.objects.filter(enterprise=e).delete(),
                                   Enterprise.objects.filter(pk=e.pk).update(registration_date=dt.date(2024, 5, 1))),
     2, {"established": 0, "clean_record": 0}),
    ("reports_late", lambda e: AnnualReport.objects.filter(enterprise=e, year=2024).update(
        filed_on=dt.date(2025, 8, 1), on_time=False), 1, {}),
    # Outside the three report years of the window.
    ("reports_late", lambda e: AnnualReport.objects.create(enterprise=e, year=2021, filed_on=dt.date(2022, 9, 1)), 0,
     {}),
    ("unreachable", lambda e: _unreachable(e, dt.date(2025, 1, 10)), 1, {"abnormal_listed": 1, "clean_record": 0}),
    ("unreachable", lambda e: _unreachable(e, dt.date(2022, 1, 10)), 0, {"abnormal_listed": 1, "clean_record": 0}),
    ("frequent_changes", lambda e: (_change(e, "legal_representative", dt.date(2025, 3, 1)),
                                    _change(e, "address", dt.date(2026, 2, 1))), 2, {}),
    ("frequent_changes", lambda e: _change(e, "name", dt.date(2026, 2, 1)), 0, {}),
    ("frequent_changes", lambda e: _change(e, "address", dt.date(2026, 12, 1)), 0, {}),  # after the data date
    ("licences_lapsed", lambda e: _licence(e, status=Licence.Status.REVOKED), 1, {}),
    ("licences_lapsed", lambda e: _licence(e, valid_until=dt.date(2030, 1, 1)), 0, {}),
    ("licences_lapsed", lambda e: _licence(e, valid_until=dt.date(2025, 1, 1), status=Licence.Status.EXPIRED), 1, {}),
    ("penalties_recent", lambda e: PenaltyFactory(enterprise=e, decision_date=dt.date(2026, 3, 2)), 1,
     {"clean_record": 0}),
    ("penalties_recent", lambda e: PenaltyFactory(enterprise=e, decision_date=dt.date(2025, 1, 2)), 0,
     {"penalties_earlier": 1, "clean_record": 0}),
    ("penalties_recent", lambda e: PenaltyFactory(enterprise=e, decision_date=AS_OF + DAY), 0, {}),
    ("penalties_recent", lambda e: PenaltyFactory(enterprise=e, status="withdrawn"), 0, {}),
    ("penalties_heavy", lambda e: PenaltyFactory(enterprise=e, decision_date=dt.date(2025, 1, 2),
                                                 kinds=["fine", "licence_revocation"]), 1,
     {"penalties_earlier": 1, "clean_record": 0}),
    ("penalties_heavy", lambda e: PenaltyFactory(enterprise=e, decision_date=dt.date(2025, 1, 2),
                                                 kinds=["fine", "confiscation"]), 0,
     {"penalties_earlier": 1, "clean_record": 0}),
    ("abnormal_listed", lambda e: AbnormalListingFactory(enterprise=e), 1, {"clean_record": 0}),
    ("abnormal_listed", lambda e: AbnormalListingFactory(enterprise=e, decided_on=AS_OF + DAY), 0, {}),
    ("abnormal_past", lambda e: AbnormalListingFactory(
        enterprise=e, status="removed", decided_on=dt.date(2025, 7, 1), removed_on=dt.date(2025, 9, 1),
        removal_reason="cured"), 1, {"clean_record": 0, "abnormal_listed": 0}),
    # Removed after the data date: still listed on it.
    ("abnormal_listed", lambda e: AbnormalListingFactory(
        enterprise=e, status="removed", decided_on=dt.date(2026, 7, 1), removed_on=AS_OF + DAY,
        removal_reason="cured"), 1, {"clean_record": 0, "abnormal_past": 0}),
    ("serious_listed", lambda e: SeriousListingFactory(enterprise=e), 1, {"clean_record": 0}),
    ("serious_listed", lambda e: SeriousListingFactory(enterprise=e, stage=SeriousListing.Stage.NOT_LISTED), 0, {}),
    ("serious_listed", lambda e: SeriousListingFactory(enterprise=e, stage=SeriousListing.Stage.NOTICE,
                                                       decided_on=None, decision_number=""), 0, {}),
    ("serious_past", lambda e: SeriousListingFactory(
        enterprise=e, stage=SeriousListing.Stage.REMOVED, decided_on=dt.date(2022, 3, 2),
        removed_on=dt.date(2025, 3, 2), removal_kind="expired"), 1, {"clean_record": 0}),
    ("complaints", lambda e: Complaint.objects.create(enterprise=e, received_on=dt.date(2026, 1, 5), summary="x",
                                                      substantiated=True), 1, {}),
    ("complaints", lambda e: Complaint.objects.create(enterprise=e, received_on=dt.date(2026, 1, 5), summary="x",
                                                      substantiated=False), 0, {}),
    ("complaints", lambda e: Complaint.objects.create(enterprise=e, received_on=dt.date(2026, 11, 1), summary="x"), 0,
     {}),
    ("false_commitments", lambda e: Commitment.objects.create(
        enterprise=e, kind="守法经营承诺", text="x", made_on=dt.date(2025, 1, 1), status="false",
        verified_on=dt.date(2026, 2, 1)), 1, {}),
    ("false_commitments", lambda e: Commitment.objects.create(
        enterprise=e, kind="守法经营承诺", text="x", made_on=dt.date(2025, 1, 1), status="kept",
        verified_on=dt.date(2026, 2, 1)), 0, {}),
    ("honours", lambda e: Honour.objects.create(enterprise=e, title="守合同重信用企业", awarded_by="省局",
                                                awarded_on=dt.date(2025, 1, 1), valid_until=dt.date(2028, 1, 1)), 1,
     {"compliance": 0}),
    ("honours", lambda e: Honour.objects.create(enterprise=e, title="守合同重信用企业", awarded_by="省局",
                                                awarded_on=dt.date(2021, 1, 1), valid_until=dt.date(2024, 1, 1)), 0,
     {}),
    ("compliance", lambda e: Honour.objects.create(enterprise=e, title="企业信用合规建设示范单位", awarded_by="市局",
                                                   awarded_on=dt.date(2025, 1, 1)), 1, {"honours": 0}),
    ("clean_record", lambda e: PenaltyFactory(enterprise=e, decision_date=dt.date(2024, 1, 2)), 0,
     {"penalties_earlier": 1}),
    ("inspection_problems", lambda e: _inspection_result(e), 1, {}),  # more in test_inspection_indicator.py
]  # fmt: skip

CLEAN = {
    "young": 0, "established": 1, "key_area": 0, "large_capital": 0, "revoked": 0, "reports_missing": 0,
    "reports_late": 0, "unreachable": 0, "frequent_changes": 0, "licences_lapsed": 0, "penalties_recent": 0,
    "penalties_earlier": 0, "penalties_heavy": 0, "inspection_problems": 0, "abnormal_listed": 0, "abnormal_past": 0,
    "serious_listed": 0, "serious_past": 0, "complaints": 0, "false_commitments": 0, "related_listed": 0,
    "honours": 0, "compliance": 0, "clean_record": 1,
}  # fmt: skip


def test_the_clean_entity_is_what_the_cases_start_from():
    assert set(CLEAN) == set(INDICATORS)
    row = features(clean_entity())
    assert {code: row[code] for code in CLEAN} == CLEAN


@pytest.mark.parametrize(("code", "setup", "expected", "also"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_each_indicator_counts_its_fact_as_of_the_run_day(code, setup, expected, also):
    enterprise = clean_entity()
    setup(enterprise)
    row = features(enterprise)
    assert row[code] == expected
    others = {k: v for k, v in CLEAN.items() if k != code}
    others.update(also)
    assert {k: row[k] for k in others} == others


def test_every_indicator_has_a_case_that_makes_it_fire():
    fired = {code for code, _setup, expected, _also in CASES if expected}
    fired |= {code for *_rest, also in CASES for code, value in also.items() if value}
    assert fired | {"related_listed"} >= set(INDICATORS) - {
        "established",
        "clean_record",
    }


def test_related_parties_count_other_listed_entities_of_the_same_legal_representative():
    person = {"legal_representative": "王建国", "legal_representative_id_number": "140702198001011234"}
    enterprise = clean_entity(**person)
    other_listed = EnterpriseFactory(**person)
    AbnormalListingFactory(enterprise=other_listed)
    third = EnterpriseFactory(**person)
    SeriousListingFactory(enterprise=third)
    EnterpriseFactory(**person)  # same person, not listed: does not count
    AbnormalListingFactory(enterprise=EnterpriseFactory(legal_representative_id_number="140702198001019999"))
    assert features(enterprise)["related_listed"] == 2
    # The listed entity itself does not count towards its own related parties.
    assert features(other_listed)["related_listed"] == 1


def test_an_entity_registered_after_the_data_date_is_not_classified():
    enterprise = EnterpriseFactory(registration_date=AS_OF)
    assert features(enterprise, as_of=AS_OF)["young"] == 1
    with pytest.raises(AssertionError):
        features(enterprise, as_of=AS_OF - DAY)


# --- scoring, hard rules, explanation ---------------------------------------------------------------------------


def classify(enterprise: Enterprise, spec: dict | None = None) -> tuple[str, int, dict, str]:
    model = validate_spec(spec or DEFAULT_SPEC)
    return model.classify(features(enterprise, spec=spec))


def test_a_clean_established_entity_is_a():
    assert classify(clean_entity()) == ("A", -30, {"established": [1, -15], "clean_record": [1, -15]}, "")


def test_an_entity_with_no_facts_at_all_is_b():
    enterprise = clean_entity(registration_date=dt.date(2020, 1, 1))
    assert classify(enterprise)[:2] == ("B", -15)


def test_a_recent_penalty_makes_c_and_a_heavy_one_d():
    enterprise = clean_entity()
    PenaltyFactory(enterprise=enterprise, decision_date=dt.date(2026, 3, 2))
    assert classify(enterprise)[:2] == ("C", 45)
    PenaltyFactory(enterprise=enterprise, decision_date=dt.date(2026, 4, 2), kinds=["fine", "production_suspension"])
    risk_class, score, contributions, rule = classify(enterprise)
    assert (risk_class, score, rule) == ("D", 165, "")
    assert contributions["penalties_recent"] == [2, 120]
    assert contributions["penalties_heavy"] == [1, 60]


def test_the_abnormal_list_makes_at_least_c_whatever_the_score():
    enterprise = clean_entity()
    AbnormalListingFactory(enterprise=enterprise)
    risk_class, score, _contributions, rule = classify(enterprise)
    assert score < 30  # band B …
    assert (risk_class, rule) == ("C", "abnormal_listed")  # … raised by the hard rule


def test_the_serious_list_makes_d_whatever_the_score():
    spec = {**DEFAULT_SPEC, "indicators": [i for i in DEFAULT_SPEC["indicators"] if i["code"] != "serious_listed"]}
    enterprise = clean_entity()
    SeriousListingFactory(enterprise=enterprise)
    risk_class, score, contributions, rule = classify(enterprise, spec)
    assert "serious_listed" not in contributions  # read by the rule only
    assert score < 30
    assert (risk_class, rule) == ("D", "serious_listed")


def test_hard_rules_are_not_applied_when_the_band_is_already_higher():
    enterprise = clean_entity()
    AbnormalListingFactory(enterprise=enterprise)
    for n in range(3):
        PenaltyFactory(enterprise=enterprise, decision_date=dt.date(2026, 3, 2 + n))
    assert classify(enterprise)[0] == "D"
    assert classify(enterprise)[3] == ""


def test_a_cap_limits_the_counted_units_and_a_threshold_ignores_small_values():
    enterprise = clean_entity()
    for n in range(5):
        PenaltyFactory(enterprise=enterprise, decision_date=dt.date(2026, 3, 2 + n))
    _change(enterprise, "address", dt.date(2026, 1, 1))
    _risk_class, _score, contributions, _rule = classify(enterprise)
    assert contributions["penalties_recent"] == [5, 180]  # cap 3 × 60
    assert "frequent_changes" not in contributions  # 1 change, threshold 2


def _population() -> list[Enterprise]:
    entities = []
    for n in range(12):
        e = clean_entity(registration_date=dt.date(2012 + n % 12, 1, 1))
        if n % 2:
            PenaltyFactory(enterprise=e, decision_date=dt.date(2026, 1, 1 + n))
        if n % 3 == 0:
            AbnormalListingFactory(enterprise=e)
        if n % 4 == 1:
            key_area(e)
        if n % 5 == 2:
            Honour.objects.create(
                enterprise=e, title="诚信经营示范单位", awarded_by="市局", awarded_on=dt.date(2025, 1, 1)
            )
        if n == 7:
            SeriousListingFactory(enterprise=e)
        entities.append(e)
    return entities


def test_the_explanation_of_every_result_adds_up_to_its_score():
    entities = _population()
    services.reclassify(as_of=AS_OF)
    results = RiskResult.objects.filter(enterprise__in=entities).select_related("model_version")
    assert results.count() == len(entities)
    for result in results:
        explanation = explanation_of(result)
        assert sum(line.points for line in explanation.lines) == result.score == explanation.score
        assert explanation.text.endswith(
            f"合计 {result.score} 分"
            + (f"；硬性规则：{explanation.hard_rule}" if explanation.hard_rule else "")
            + f" → {result.risk_class} 类"
        )
    punished = RiskResult.objects.get(enterprise=entities[1])
    assert "行政处罚 1 次（近 1 年） +60" in explanation_of(punished).text
    listed = RiskResult.objects.get(enterprise=entities[0])
    assert (listed.risk_class, listed.hard_rule) == ("C", "abnormal_listed")
    assert explanation_of(listed).hard_rule == "经营异常名录 → 至少 C 类"


def test_the_sql_and_the_python_scoring_agree_on_a_varied_population(monkeypatch):
    entities = _population()
    model = validate_spec(DEFAULT_SPEC)
    services.reclassify(as_of=AS_OF)  # PostgreSQL: scored in SQL
    by_sql = {r.enterprise_id: (r.risk_class, r.score, r.contributions, r.hard_rule) for r in RiskResult.objects.all()}
    by_python = {e.pk: model.classify(features(e)) for e in entities}
    assert {pk: by_sql[pk] for pk in by_python} == {pk: (c, s, k, h) for pk, (c, s, k, h) in by_python.items()}
    assert {v[0] for v in by_sql.values()} >= {"A", "B", "C", "D"}
    assert engine.USE_POSTGRES_SQL
