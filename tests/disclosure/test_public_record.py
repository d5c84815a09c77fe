"""The public credit record of an entity (/e/<USCC>/ and GET /api/v1/public/enterprises/<USCC>/): exactly the
records that are public on the day, on their boundary days, and nothing internal — for one entity at a time and for
every entity of a varied population."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext

from disclosure import selectors, views
from disclosure.models import AbnormalListing, Objection, Penalty, Restriction, SeriousListing
from enterprises import identity
from enterprises.masking import mask_id_number
from enterprises.models import Enterprise, Region
from tests.disclosure.factories import AbnormalListingFactory, PenaltyFactory, SeriousListingFactory
from tests.factories import EnterpriseFactory, make_uscc

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 9, 15)
DAY = dt.timedelta(days=1)
API = "/api/v1/public/enterprises/{}/"


@pytest.fixture
def today(monkeypatch):
    """Freeze "today" (django.utils.timezone.localdate, which the views call) at TODAY."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture(autouse=True)
def _fresh_throttle_history():
    """The API's anon throttle counts requests per address in the cache: every test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _penalty_numbers(on: dt.date, enterprise: Enterprise) -> set[str]:
    record = selectors.public_record(enterprise=enterprise, on=on)
    return {p.decision_number for p in record.penalties}


def _page(client, enterprise: Enterprise) -> str:
    response = client.get(f"/e/{enterprise.uscc}/")
    assert response.status_code == 200
    return response.content.decode()


def _api(client, enterprise: Enterprise) -> dict:
    response = client.get(API.format(enterprise.uscc))
    assert response.status_code == 200, response.content
    return response.json()


def _restriction(listing: SeriousListing, **kwargs) -> Restriction:
    values = {
        "enterprise": listing.enterprise,
        "serious_listing": listing,
        "kind": Restriction.Kind.NO_PROCUREMENT,
        "starts_on": listing.decided_on,
        "ends_on": listing.listed_until,
        **kwargs,
    }
    return Restriction.objects.create(**values)


# --- routing --------------------------------------------------------------------------------------------------
def test_it_serves_the_entity_page_from_disclosure_at_the_registry_address():
    code = make_uscc(serial=3)
    assert reverse("disclosure:entity", args=[code]) == reverse("enterprises:entity", args=[code]) == f"/e/{code}/"
    assert resolve(f"/e/{code}/").func is views.entity


# --- penalties: boundary days ---------------------------------------------------------------------------------
def test_it_shows_a_penalty_on_its_last_day_of_disclosure_and_not_the_day_after(enterprise):
    penalty = PenaltyFactory(enterprise=enterprise, disclosed_from=dt.date(2026, 3, 3), disclosed_until=TODAY)
    assert _penalty_numbers(TODAY, enterprise) == {penalty.decision_number}
    assert _penalty_numbers(TODAY + DAY, enterprise) == set()


def test_it_shows_a_penalty_from_its_first_day_of_disclosure(enterprise):
    penalty = PenaltyFactory(enterprise=enterprise, disclosed_from=TODAY, disclosed_until=dt.date(2027, 9, 14))
    assert _penalty_numbers(TODAY - DAY, enterprise) == set()
    assert _penalty_numbers(TODAY, enterprise) == {penalty.decision_number}


def test_the_page_and_the_api_follow_today_on_the_boundary(client, monkeypatch, enterprise):
    penalty = PenaltyFactory(enterprise=enterprise, disclosed_from=dt.date(2026, 3, 3), disclosed_until=TODAY)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    assert penalty.decision_number in _page(client, enterprise)
    assert [p["decision_number"] for p in _api(client, enterprise)["penalties"]] == [penalty.decision_number]

    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY + DAY)
    assert penalty.decision_number not in _page(client, enterprise)
    assert _api(client, enterprise)["penalties"] == []


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(
            {"status": Penalty.Status.WITHDRAWN, "withdrawal_reason": "复议撤销", "disclosure_ended_on": TODAY},
            id="withdrawn",
        ),
        # Withdrawn before any job ended the disclosure: still never shown.
        pytest.param({"status": Penalty.Status.WITHDRAWN}, id="withdrawn-disclosure-not-yet-ended"),
        pytest.param(
            {"disclosure_ended_on": TODAY - DAY, "disclosure_end_reason": Penalty.EndReason.REPAIRED}, id="repaired"
        ),
        pytest.param({"disclosed_until": TODAY - DAY}, id="expired-job-not-run"),
        pytest.param({"disclosed_from": TODAY + DAY}, id="not-yet-published"),
        pytest.param(
            {
                "procedure": Penalty.Procedure.SUMMARY,
                "disclosed": False,
                "disclosed_from": None,
                "disclosed_until": None,
            },
            id="summary",
        ),
        pytest.param(
            {"kinds": ["warning"], "fine_amount": None, "disclosed": False, "disclosed_from": None},
            id="warning-only",
        ),
        # A record wrongly marked disclosed by hand: the never-disclosed rules hold on the public record anyway.
        pytest.param({"procedure": Penalty.Procedure.SUMMARY}, id="summary-marked-disclosed"),
        pytest.param({"kinds": ["warning"], "fine_amount": None}, id="warning-only-marked-disclosed"),
    ],
)
def test_it_never_shows_a_penalty_that_is_not_disclosed_today(client, today, enterprise, overrides):
    hidden = PenaltyFactory(enterprise=enterprise, **overrides)
    shown = PenaltyFactory(enterprise=enterprise)
    assert _penalty_numbers(TODAY, enterprise) == {shown.decision_number}
    assert hidden.decision_number not in _page(client, enterprise)
    assert [p["decision_number"] for p in _api(client, enterprise)["penalties"]] == [shown.decision_number]


def test_it_shows_the_summary_fields_of_a_penalty_in_chinese(client, today, enterprise):
    PenaltyFactory(
        enterprise=enterprise,
        decision_number="晋市监罚〔2026〕88号",
        kinds=["confiscation", "fine"],
        fine_amount=Decimal("80000"),
        violation_type="销售不合格产品",
        authority_name="",
        department__name="晋中市市场监督管理局",
        decision_date=dt.date(2026, 3, 2),
        disclosed_until=dt.date(2027, 3, 2),
        case_officer="办案人员王五",
    )
    html = _page(client, enterprise)
    section = html[html.index('id="penalties"') : html.index('id="abnormal"')]
    assert "行政处罚信息" in section
    for text in (
        "晋市监罚〔2026〕88号",
        "销售不合格产品",
        "晋中市市场监督管理局",
        "2026-03-02",
        "2027-03-02",
        "80,000",
    ):
        assert text in section
    # The kinds in the order of the law (fine before confiscation), with the amount on the fine.
    fine = gettext("%(kind)s of %(amount)s yuan") % {"kind": gettext("Fine"), "amount": "80,000"}
    assert f"{fine}；{gettext('Confiscation of illegal gains or property')}" in section
    assert "办案人员王五" not in html

    [payload] = _api(client, enterprise)["penalties"]
    assert payload == {
        "decision_number": "晋市监罚〔2026〕88号",
        "decision_date": "2026-03-02",
        "violation_type": "销售不合格产品",
        "kinds": ["fine", "confiscation"],
        "kind_labels": [gettext("Fine"), gettext("Confiscation of illegal gains or property")],
        "fine_amount": "80000.00",
        "content": "罚款人民币捌万元整",
        "authority_name": "晋中市市场监督管理局",
        "disclosed_from": "2026-03-03",
        "disclosed_until": "2027-03-02",
    }


# --- abnormal list --------------------------------------------------------------------------------------------
def test_it_shows_active_abnormal_listings_and_never_removed_ones(client, today, enterprise):
    active = AbnormalListingFactory(enterprise=enterprise, decided_on=dt.date(2026, 7, 8))
    removed = AbnormalListingFactory(
        enterprise=enterprise,
        reason=AbnormalListing.Reason.UNREACHABLE,
        year=0,
        status=AbnormalListing.Status.REMOVED,
        removed_on=dt.date(2026, 8, 1),
        removal_decision_number="榆次市监异出〔2026〕第5号",
        removal_note="内部备注：企业已补报",
    )
    html = _page(client, enterprise)
    section = html[html.index('id="abnormal"') : html.index('id="serious"')]
    assert active.decision_number in section and "2026-07-08" in section and active.authority_name in section
    assert "未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告" in section  # the decision's own wording
    for text in (removed.decision_number, "榆次市监异出〔2026〕第5号", "内部备注"):
        assert text not in html

    [listing] = _api(client, enterprise)["abnormal_listings"]
    assert listing == {
        "reason": "annual_report",
        "reason_label": "未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告",
        "is_mark": False,
        "decided_on": "2026-07-08",
        "decision_number": active.decision_number,
        "authority_name": "晋中市榆次区市场监督管理局",
        "reminder_published_on": None,
    }


def test_it_shows_the_abnormal_mark_of_an_individual_business(client, today):
    shop = EnterpriseFactory(entity_type=Enterprise.EntityType.INDIVIDUAL, name="榆次区老王杂货店")
    mark = AbnormalListingFactory(enterprise=shop, is_mark=True)
    html = _page(client, shop)
    section = html[html.index('id="abnormal"') : html.index('id="serious"')]
    assert mark.decision_number in section
    assert gettext("Marked as having abnormal operations") in section
    assert "未按照《个体工商户年度报告暂行办法》规定报送年度报告" in section
    assert _api(client, shop)["abnormal_listings"][0]["is_mark"] is True


def test_it_publishes_the_three_year_reminder_on_the_record(client, today, enterprise):
    AbnormalListingFactory(
        enterprise=enterprise, decided_on=dt.date(2023, 10, 9), reminder_published_on=dt.date(2026, 8, 10)
    )
    html = _page(client, enterprise)
    notice = re.search(r'<p class="notice reminder-notice"[^>]*>(.*?)</p>', html, re.S)
    assert notice is not None
    assert "2026-08-10" in notice.group(1) and "2023-10-09" in notice.group(1)
    assert _api(client, enterprise)["abnormal_listings"][0]["reminder_published_on"] == "2026-08-10"


def test_it_shows_no_reminder_without_one(client, today, enterprise):
    AbnormalListingFactory(enterprise=enterprise)
    assert "reminder-notice" not in _page(client, enterprise)


# --- serious list ---------------------------------------------------------------------------------------------
def test_it_shows_a_serious_listing_with_its_restrictions_and_masks_the_person(client, today, enterprise):
    listing = SeriousListingFactory(enterprise=enterprise, decided_on=dt.date(2026, 3, 2), listed_until=TODAY)
    _restriction(listing, kind=Restriction.Kind.NO_PROCUREMENT)
    _restriction(
        listing,
        kind=Restriction.Kind.NO_LEGAL_REPRESENTATIVE,
        person_name="张三",
        person_id_number="140702199001011234",
    )
    html = _page(client, enterprise)
    section = html[html.index('id="serious"') :]
    for text in (listing.decision_number, "2026-03-02", TODAY.isoformat(), "1407**********1234", "张三"):
        assert text in section
    assert gettext("No government procurement or tendering") in section
    assert "140702199001011234" not in html

    payload = _api(client, enterprise)
    [serious] = payload["serious_listings"]
    assert serious["decision_number"] == listing.decision_number
    assert serious["listed_until"] == TODAY.isoformat()
    assert serious["ground_label"].startswith("违反法律、行政法规")
    assert {r["kind"] for r in serious["restrictions"]} == {"no_procurement", "no_legal_representative"}
    person = next(r for r in payload["restrictions"] if r["kind"] == "no_legal_representative")
    assert person["person_id_number"] == "1407**********1234"
    assert "140702199001011234" not in json.dumps(payload)


def test_it_drops_a_serious_listing_and_its_restrictions_the_day_after_three_years(enterprise):
    listing = SeriousListingFactory(enterprise=enterprise, listed_until=TODAY)
    _restriction(listing)
    on_last_day = selectors.public_record(enterprise=enterprise, on=TODAY)
    after = selectors.public_record(enterprise=enterprise, on=TODAY + DAY)
    assert (len(on_last_day.serious_listings), len(on_last_day.restrictions)) == (1, 1)
    assert (after.serious_listings, after.restrictions) == ([], [])


def test_an_early_removed_serious_listing_shows_neither_listing_nor_removal(client, today, enterprise):
    listing = SeriousListingFactory(
        enterprise=enterprise,
        stage=SeriousListing.Stage.REMOVED,
        removed_on=dt.date(2026, 4, 1),
        removal_kind=SeriousListing.RemovalKind.EARLY_REPAIR,
        removal_decision_number="榆次市监严出〔2026〕第3号",
        hidden_from_public=True,
    )
    # Even a restriction whose end was not recorded disappears with its hidden listing.
    _restriction(listing, kind=Restriction.Kind.NO_LEGAL_REPRESENTATIVE, person_id_number="140702198502023456")
    html = _page(client, enterprise)
    payload = _api(client, enterprise)
    for text in (listing.decision_number, "榆次市监严出〔2026〕第3号", listing.notice_number, "1407**********3456"):
        assert text not in html
        assert text not in json.dumps(payload, ensure_ascii=False)
    assert payload["serious_listings"] == payload["restrictions"] == []


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"stage": SeriousListing.Stage.NOTICE, "decision_number": "", "decided_on": None}, id="notice"),
        pytest.param({"stage": SeriousListing.Stage.NOT_LISTED, "decided_on": None}, id="not-listed"),
        pytest.param(
            {
                "stage": SeriousListing.Stage.REMOVED,
                "removed_on": TODAY - DAY,
                "removal_kind": SeriousListing.RemovalKind.EXPIRED,
            },
            id="removed-after-3-years",
        ),
        pytest.param({"listed_until": TODAY - DAY}, id="expired-job-not-run"),
        pytest.param({"decided_on": TODAY + DAY}, id="decided-later"),
        # Hidden while (wrongly) still at stage "listed": hidden wins.
        pytest.param({"hidden_from_public": True}, id="hidden-still-listed"),
    ],
)
def test_it_never_shows_a_serious_listing_that_is_not_listed_today(enterprise, overrides):
    SeriousListingFactory(enterprise=enterprise, **overrides)
    assert selectors.public_record(enterprise=enterprise, on=TODAY).serious_listings == []


def test_it_shows_a_restriction_until_its_last_day_and_never_an_ended_one(enterprise):
    listing = SeriousListingFactory(enterprise=enterprise, listed_until=dt.date(2029, 3, 1))
    _restriction(listing, kind=Restriction.Kind.NO_HONOURS, ends_on=TODAY)
    _restriction(listing, kind=Restriction.Kind.NO_SUBSIDIES, ended_on=TODAY - DAY)
    _restriction(listing, kind=Restriction.Kind.KEY_SUPERVISION, starts_on=TODAY + DAY)
    # An end recorded ahead of time (ended_on: the first day no longer in force).
    _restriction(listing, kind=Restriction.Kind.NO_PROCUREMENT, ended_on=TODAY + DAY)

    def kinds(on: dt.date) -> list[str]:
        return [r.kind for r in selectors.public_record(enterprise=enterprise, on=on).restrictions]

    assert kinds(TODAY) == ["no_honours", "no_procurement"]
    assert kinds(TODAY + DAY) == ["key_supervision"]


# --- bad codes ------------------------------------------------------------------------------------------------
def _bad_check_character(code: str) -> str:
    return code[:-1] + next(c for c in identity.ALPHABET if c != code[-1])


def test_a_malformed_code_is_a_400_with_the_reason(client):
    bad = _bad_check_character(make_uscc(serial=5))
    page = client.get(f"/e/{bad}/")
    assert page.status_code == 400
    assert "统一社会信用代码校验位错误" in page.content.decode()
    api = client.get(API.format(bad))
    assert api.status_code == 400
    assert api.json() == {"error": {"code": "invalid_uscc", "message": "统一社会信用代码校验位错误"}}
    too_short = client.get(API.format("91140702MA0"))
    assert too_short.status_code == 400 and "18 位" in too_short.json()["error"]["message"]


def test_an_unknown_valid_code_is_a_404(client):
    code = make_uscc(serial=6)
    page = client.get(f"/e/{code}/")
    assert page.status_code == 404 and code in page.content.decode()
    api = client.get(API.format(code))
    assert api.status_code == 404
    assert code in api.json()["error"]["message"]


def test_the_api_accepts_a_code_in_lower_case(client, enterprise):
    assert client.get(API.format(enterprise.uscc.lower())).json()["uscc"] == enterprise.uscc


# --- whitelist, cost, throttle --------------------------------------------------------------------------------
REGISTRATION_KEYS = {
    "as_of", "uscc", "name", "entity_type", "entity_type_label", "legal_representative", "address", "region",
    "region_name", "industry", "industry_name", "registered_capital", "registration_date", "registration_number",
    "status", "status_label", "former_names",
}  # fmt: skip
RECORD_KEYS = {"penalties", "abnormal_listings", "serious_listings", "restrictions"}
PENALTY_KEYS = {
    "decision_number", "decision_date", "violation_type", "kinds", "kind_labels", "fine_amount", "content",
    "authority_name", "disclosed_from", "disclosed_until",
}  # fmt: skip
ABNORMAL_KEYS = {
    "reason", "reason_label", "is_mark", "decided_on", "decision_number", "authority_name", "reminder_published_on"
}  # fmt: skip
SERIOUS_KEYS = {
    "ground", "ground_label", "decided_on", "decision_number", "authority_name", "listed_until", "restrictions"
}  # fmt: skip
RESTRICTION_KEYS = {
    "kind", "kind_label", "starts_on", "ends_on", "person_name", "person_id_number", "serious_listing_decision_number"
}  # fmt: skip


def assert_whitelisted(payload: dict) -> None:
    """Every key of a public record is one we chose to publish (a new model field cannot slip in)."""
    assert set(payload) == REGISTRATION_KEYS | RECORD_KEYS
    for penalty in payload["penalties"]:
        assert set(penalty) == PENALTY_KEYS
    for listing in payload["abnormal_listings"]:
        assert set(listing) == ABNORMAL_KEYS
    for listing in payload["serious_listings"]:
        assert set(listing) == SERIOUS_KEYS
        for restriction in listing["restrictions"]:
            assert set(restriction) == RESTRICTION_KEYS
    for restriction in payload["restrictions"]:
        assert set(restriction) == RESTRICTION_KEYS


def test_the_api_publishes_the_registration_facts_of_the_public_page_only(client, today):
    target = EnterpriseFactory(
        former_names=["榆次鼎泰商行"],
        legal_representative="李四",
        legal_representative_id_number="140702199001011234",
        contact_phone="13912345678",
        contact_email="boss@dingtai.example",
        risk_class=Enterprise.RiskClass.D,
    )
    payload = _api(client, target)
    assert_whitelisted(payload)
    assert {k: payload[k] for k in REGISTRATION_KEYS} == {
        "as_of": TODAY.isoformat(),
        "uscc": target.uscc,
        "name": target.name,
        "entity_type": "enterprise",
        "entity_type_label": str(Enterprise.EntityType.ENTERPRISE.label),
        "legal_representative": "李四",
        "address": target.address,
        "region": "140702",
        "region_name": "榆次区",
        "industry": "F52",
        "industry_name": target.industry.name,
        "registered_capital": "100.0000",
        "registration_date": "2015-03-01",
        "registration_number": "",
        "status": "operating",
        "status_label": str(Enterprise.Status.OPERATING.label),
        "former_names": ["榆次鼎泰商行"],
    }
    text = json.dumps(payload, ensure_ascii=False)
    for secret in ("140702199001011234", "1407**********1234", "13912345678", "boss@dingtai.example", "risk"):
        assert secret not in text


def test_the_page_query_count_does_not_grow_with_the_records(client, today, enterprise):
    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as page:
            _page(client, enterprise)
        with CaptureQueriesContext(connection) as api:
            _api(client, enterprise)
        return len(page.captured_queries), len(api.captured_queries)

    def add(reason: str, ground: str) -> None:
        PenaltyFactory(enterprise=enterprise, department__name="晋中市市场监督管理局", authority_name="")
        AbnormalListingFactory(enterprise=enterprise, reason=reason, year=0)
        listing = SeriousListingFactory(enterprise=enterprise, ground=ground)
        _restriction(listing, person_name="赵六", person_id_number="140702199202023333")

    add(AbnormalListing.Reason.UNREACHABLE, SeriousListing.Ground.SERIOUS_VIOLATION)
    first = counts()
    add(AbnormalListing.Reason.FALSIFIED, SeriousListing.Ground.ABNORMAL_THREE_YEARS)
    for _ in range(5):
        PenaltyFactory(enterprise=enterprise, department__code="other", department__name="市卫健委", authority_name="")
    assert counts() == first
    assert max(first) <= 8, first


def test_the_api_is_throttled_per_address_with_the_anon_rate(client, enterprise, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "9/min"}}
    statuses = [client.get(API.format(enterprise.uscc)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_api_needs_no_login_and_ignores_one(client, city_regulator, enterprise):
    anonymous = client.get(API.format(enterprise.uscc)).json()
    client.force_login(city_regulator)
    assert client.get(API.format(enterprise.uscc)).json() == anonymous


# ==============================================================================================================
# The population test: nothing internal is ever public, for every entity of a varied population
# ==============================================================================================================


@dataclass
class Expected:
    """What one entity's public record must show, and the strings that must never appear anywhere public."""

    enterprise: Enterprise
    penalties: set[str] = field(default_factory=set)
    abnormal: set[str] = field(default_factory=set)
    serious: set[str] = field(default_factory=set)
    restrictions: list[tuple[str, str]] = field(default_factory=list)  # (kind, masked id number)


class Population:
    """~150 entities of every type with every kind of record, internal fields filled with distinctive markers."""

    def __init__(self, size: int, seed: int = 3) -> None:
        self.rnd = random.Random(seed)
        self.expected: list[Expected] = []
        self.secrets: set[str] = set()  # must appear on no public page and in no public answer
        self.counties = list(Region.objects.filter(level=Region.Level.COUNTY))
        self.ids = iter(range(10_000, 99_999))
        for i in range(size):
            self.expected.append(self._entity(i))

    def _secret(self, value: str) -> str:
        self.secrets.add(value)
        return value

    def _id_number(self) -> str:
        """A distinct 18-digit ID number; its masked form (first and last 4) is distinct too."""
        return f"14070219800101{next(self.ids) % 10_000:04d}"

    def _entity(self, i: int) -> Expected:
        rnd = self.rnd
        entity_type = rnd.choice(["enterprise"] * 5 + ["individual"] * 3 + ["cooperative"])
        enterprise = EnterpriseFactory(
            entity_type=entity_type,
            region=rnd.choice(self.counties),
            name=f"晋中人口{i:04d}号{'商行' if entity_type == 'individual' else '有限公司'}",
            legal_representative_id_number=self._secret(self._id_number()),
            contact_phone=self._secret(f"139{i:08d}"),
            contact_email=self._secret(f"contact{i:04d}@internal.example"),
            risk_class=rnd.choice("ABCD"),
        )
        expected = Expected(enterprise)
        for j in range(rnd.randint(0, 4)):
            self._penalty(expected, i, j, rnd.choice(PENALTY_CASES))
        for j in range(rnd.randint(0, 3)):
            self._abnormal(expected, i, j, rnd.choice(ABNORMAL_CASES))
        for j, case in enumerate(rnd.sample(SERIOUS_CASES, rnd.randint(0, 2))):
            self._serious(expected, i, j, case)
        return expected

    def _penalty(self, expected: Expected, i: int, j: int, case: str) -> None:
        number = f"晋市监罚〔2026〕P{i:04d}{j:02d}号"
        values: dict = {
            "enterprise": expected.enterprise,
            "decision_number": number,
            "case_officer": self._secret(f"承办人M{i:04d}{j:02d}"),
            "content_hash": self._secret(f"{i:032x}{j:032x}"),
            "legal_basis": f"《产品质量法》第四十九条（依据{i:04d}{j:02d}）",
            "disclosed_from": TODAY - dt.timedelta(days=self.rnd.randint(0, 300)),
            "disclosed_until": TODAY + dt.timedelta(days=self.rnd.randint(0, 700)),
        }
        if case == "public":
            expected.penalties.add(number)
        elif case == "withdrawn":
            values |= {
                "status": Penalty.Status.WITHDRAWN,
                "withdrawn_at": timezone.now(),
                "withdrawal_reason": self._secret(f"撤回理由W{i:04d}{j:02d}"),
                "disclosure_ended_on": TODAY - DAY,
                "disclosure_end_reason": Penalty.EndReason.WITHDRAWN,
            }
        elif case == "repaired":
            values |= {"disclosure_ended_on": TODAY, "disclosure_end_reason": Penalty.EndReason.REPAIRED}
        elif case == "expired":
            values |= {"disclosed_until": TODAY - dt.timedelta(days=self.rnd.randint(1, 90))}
        elif case == "pending":
            values |= {"disclosed_from": TODAY + dt.timedelta(days=self.rnd.randint(1, 20))}
        elif case == "summary":
            values |= {
                "procedure": Penalty.Procedure.SUMMARY,
                "disclosed": False,
                "not_disclosed_reason": self._secret(f"简易程序N{i:04d}{j:02d}"),
                "disclosed_from": None,
                "disclosed_until": None,
            }
        elif case == "warning":
            values |= {"kinds": ["warning"], "fine_amount": None, "disclosed": False, "disclosed_from": None}
            values["disclosed_until"] = None
        if case != "public":
            self._secret(number)
        PenaltyFactory(**values)

    def _abnormal(self, expected: Expected, i: int, j: int, case: str) -> None:
        enterprise = expected.enterprise
        number = f"市监异入〔2026〕A{i:04d}{j:02d}号"
        reason = [r for r in AbnormalListing.Reason.values if r != "instant_information"][j]
        values: dict = {
            "enterprise": enterprise,
            "reason": reason,
            "year": 2025 if reason == "annual_report" else 0,
            "is_mark": enterprise.entity_type == Enterprise.EntityType.INDIVIDUAL,
            "decision_number": number,
            "decided_on": TODAY - dt.timedelta(days=self.rnd.randint(0, 1200)),
            "facts": self._secret(f"内部事实F{i:04d}{j:02d}"),
        }
        if case == "removed":
            values |= {
                "status": AbnormalListing.Status.REMOVED,
                "removed_on": TODAY - DAY,
                "removal_reason": AbnormalListing.RemovalReason.CURED,
                "removal_decision_number": self._secret(f"市监异出〔2026〕R{i:04d}{j:02d}号"),
                "removal_note": self._secret(f"移出备注R{i:04d}{j:02d}"),
            }
            self._secret(number)
        else:
            if case == "reminded":
                values |= {"decided_on": TODAY - dt.timedelta(days=1050), "reminder_published_on": TODAY - DAY}
            expected.abnormal.add(number)
        listing = AbnormalListingFactory(**values)
        if self.rnd.random() < 0.3:
            Objection.objects.create(
                listing=listing,
                filed_on=listing.decided_on,
                statement=self._secret(f"异议陈述O{i:04d}{j:02d}"),
                acceptance_due=listing.decided_on + dt.timedelta(days=7),
            )

    def _serious(self, expected: Expected, i: int, j: int, case: str) -> None:
        enterprise = expected.enterprise
        number = f"市监严入〔2026〕S{i:04d}{j:02d}号"
        values: dict = {
            "enterprise": enterprise,
            "ground": SeriousListing.Ground.values[j],
            "notice_number": self._secret(f"市监严告〔2026〕N{i:04d}{j:02d}号"),
            "decision_number": number,
            "decided_on": TODAY - dt.timedelta(days=self.rnd.randint(0, 900)),
            "facts": self._secret(f"严重违法事实X{i:04d}{j:02d}"),
            "statement": self._secret(f"当事人陈述Y{i:04d}{j:02d}"),
        }
        values["listed_until"] = values["decided_on"] + dt.timedelta(days=3 * 365)
        if case == "notice":
            values |= {"stage": SeriousListing.Stage.NOTICE, "decided_on": None, "listed_until": None}
        elif case == "hidden":
            values |= {
                "stage": SeriousListing.Stage.REMOVED,
                "removed_on": TODAY - DAY,
                "removal_kind": SeriousListing.RemovalKind.EARLY_REPAIR,
                "removal_decision_number": self._secret(f"市监严出〔2026〕H{i:04d}{j:02d}号"),
                "hidden_from_public": True,
            }
        elif case == "expired":
            values |= {
                "stage": SeriousListing.Stage.REMOVED,
                "decided_on": TODAY - dt.timedelta(days=3 * 365 + 10),
                "listed_until": TODAY - dt.timedelta(days=10),
                "removed_on": TODAY - dt.timedelta(days=9),
                "removal_kind": SeriousListing.RemovalKind.EXPIRED,
                "removal_decision_number": self._secret(f"市监严出〔2026〕E{i:04d}{j:02d}号"),
            }
        if case == "listed":
            expected.serious.add(number)
        else:
            self._secret(number)
        listing = SeriousListingFactory(**values)
        if case in {"notice"}:
            return
        for k, kind in enumerate(self.rnd.sample(Restriction.Kind.values, self.rnd.randint(1, 3))):
            id_number = self._id_number() if kind == Restriction.Kind.NO_LEGAL_REPRESENTATIVE else ""
            ended = case == "listed" and self.rnd.random() < 0.2
            Restriction.objects.create(
                enterprise=enterprise,
                serious_listing=listing,
                kind=kind,
                person_name=f"限制人{i:04d}{j:02d}{k}" if id_number else "",
                person_id_number=id_number,
                starts_on=listing.decided_on,
                ends_on=listing.listed_until,
                ended_on=TODAY - DAY if ended else None,
            )
            if id_number:
                self._secret(id_number)
            if case == "listed" and not ended:
                expected.restrictions.append((kind, mask_id_number(id_number)))
            elif id_number:
                self._secret(mask_id_number(id_number))


PENALTY_CASES = ["public", "public", "withdrawn", "repaired", "expired", "pending", "summary", "warning"]
ABNORMAL_CASES = ["active", "active", "removed", "reminded"]
SERIOUS_CASES = ["listed", "hidden", "notice", "expired", "listed"]


def check_public_record(client, expected: Expected, secrets: list[str]) -> tuple[int, int]:
    """One entity: its page and its API show exactly its public records and none of the secrets. Query counts."""
    enterprise = expected.enterprise
    with CaptureQueriesContext(connection) as page_queries:
        response = client.get(f"/e/{enterprise.uscc}/")
    assert response.status_code == 200
    html = response.content.decode()
    with CaptureQueriesContext(connection) as api_queries:
        api = client.get(API.format(enterprise.uscc))
    assert api.status_code == 200
    payload = api.json()
    text = json.dumps(payload, ensure_ascii=False)

    # `in` per secret (a C substring search) is far faster than one regex alternation of thousands of strings.
    leaked = [secret for secret in secrets if secret in html or secret in text]
    assert leaked == [], f"{enterprise.uscc}: {leaked[:5]}"
    assert not re.search(r"risk|风险", html + text, re.I)

    assert_whitelisted(payload)
    assert {p["decision_number"] for p in payload["penalties"]} == expected.penalties
    assert {a["decision_number"] for a in payload["abnormal_listings"]} == expected.abnormal
    assert {s["decision_number"] for s in payload["serious_listings"]} == expected.serious
    assert sorted((r["kind"], r["person_id_number"]) for r in payload["restrictions"]) == sorted(expected.restrictions)
    for number in expected.penalties | expected.abnormal | expected.serious:
        assert number in html
    for _kind, masked in expected.restrictions:
        assert masked in html
    return len(page_queries.captured_queries), len(api_queries.captured_queries)


def test_no_entity_of_a_varied_population_shows_anything_internal(client, today, monkeypatch):
    from disclosure.api_public import PublicRecordView

    monkeypatch.setattr(PublicRecordView, "throttle_classes", [])  # 300 requests from one address in a test
    population = Population(size=150)
    kinds = {
        "penalties": sum(len(e.penalties) for e in population.expected),
        "abnormal": sum(len(e.abnormal) for e in population.expected),
        "serious": sum(len(e.serious) for e in population.expected),
        "restrictions": sum(len(e.restrictions) for e in population.expected),
    }
    # The population really is varied: public records of every kind, and many more hidden ones.
    assert min(kinds.values()) >= 10, kinds
    assert Penalty.objects.count() > kinds["penalties"] + 100
    assert SeriousListing.objects.filter(hidden_from_public=True).exists()
    assert AbnormalListing.objects.filter(is_mark=True).exists()

    secrets = sorted(population.secrets)
    counts = [check_public_record(client, expected, secrets) for expected in population.expected]
    assert max(max(c) for c in counts) <= 8


# --- the same check over the demo population (when the disclosure demo step exists) ------------------------------
DEMO_TODAY = dt.date(2026, 11, 22)


def _demo_expectations(on: dt.date) -> tuple[dict[int, Expected], dict[int, set[str]], set[int]]:
    """What each demo entity must show, from the raw rows and the rules restated here (not through the selectors
    under test); per entity, the strings that must not show on its record (its non-public decision numbers, ID
    numbers, phone, e-mail, content hashes and internal notes); and the entities holding a record that must not
    be shown. (Per entity, not all of them against every page as in the population above: 2000 pages × 5000
    strings would take minutes; a record leaking onto another entity's page is the population test's to catch.)"""
    by_id = {e.pk: Expected(e) for e in Enterprise.objects.select_related("region", "industry")}
    secrets: dict[int, set[str]] = {pk: set() for pk in by_id}
    hiding: set[int] = set()
    for pk, e in by_id.items():
        secrets[pk].update(filter(None, [e.enterprise.legal_representative_id_number, e.enterprise.contact_email]))
        if len(e.enterprise.contact_phone) >= 7:
            secrets[pk].add(e.enterprise.contact_phone)
    for p in Penalty.objects.all():
        public = (
            p.status == Penalty.Status.IN_FORCE
            and p.disclosed
            and p.disclosed_from <= on <= p.disclosed_until
            and p.disclosure_ended_on is None
            and p.procedure == Penalty.Procedure.ORDINARY
            and p.kinds != ["warning"]
        )
        if public:
            by_id[p.enterprise_id].penalties.add(p.decision_number)
        else:
            secrets[p.enterprise_id].add(p.decision_number)
            hiding.add(p.enterprise_id)
        secrets[p.enterprise_id].update(filter(None, [p.content_hash, p.withdrawal_reason]))
    for a in AbnormalListing.objects.all():
        if a.status == AbnormalListing.Status.LISTED and a.decided_on <= on:
            by_id[a.enterprise_id].abnormal.add(a.decision_number)
        else:
            secrets[a.enterprise_id].update(filter(None, [a.decision_number, a.removal_decision_number]))
            hiding.add(a.enterprise_id)
        secrets[a.enterprise_id].update(filter(None, [a.removal_note]))
    public_listings = set()
    for s in SeriousListing.objects.all():
        public = (
            s.stage == SeriousListing.Stage.LISTED
            and not s.hidden_from_public
            and s.decided_on <= on
            and (s.listed_until is None or s.listed_until >= on)
        )
        if public:
            public_listings.add(s.pk)
            by_id[s.enterprise_id].serious.add(s.decision_number)
        else:
            secrets[s.enterprise_id].update(filter(None, [s.decision_number, s.removal_decision_number]))
            hiding.add(s.enterprise_id)
        secrets[s.enterprise_id].update(filter(None, [s.notice_number, s.statement]))
    for r in Restriction.objects.all():
        # In force, and the entity still on the serious list by that listing ("while listed", DESIGN.md §3.4).
        public = r.starts_on <= on <= r.ends_on and (r.ended_on is None or r.ended_on > on)
        public = public and r.serious_listing_id in public_listings
        if public:
            by_id[r.enterprise_id].restrictions.append((r.kind, mask_id_number(r.person_id_number)))
        else:
            hiding.add(r.enterprise_id)
        if r.person_id_number:
            secrets[r.enterprise_id].add(r.person_id_number)
    for pk, e in by_id.items():
        # A public decision number is never a secret (the same text on a hidden record would be a data error).
        secrets[pk] -= e.penalties | e.abnormal | e.serious
    return by_id, secrets, hiding


@pytest.mark.slow
def test_no_entity_of_the_seeded_demo_population_shows_anything_internal(client, monkeypatch):
    pytest.importorskip("disclosure.demo", reason="the disclosure demo step (issue 3) is not written yet")
    from django.core.management import call_command

    from disclosure.api_public import PublicRecordView

    monkeypatch.setattr(PublicRecordView, "throttle_classes", [])
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: DEMO_TODAY)
    call_command("seed_demo", enterprises=2000, seed=2026, today=DEMO_TODAY, stdout=io.StringIO())
    by_id, secrets, hiding = _demo_expectations(DEMO_TODAY)
    assert len(by_id) == 2000
    # The demo step really produced records of each kind, public and not (2000 entities, seed 2026: ~450 entities
    # hold a record the public must not see; ~50 penalties, ~150 listings, a few serious listings are public).
    assert sum(len(e.penalties) for e in by_id.values()) > 0
    assert sum(len(e.abnormal) for e in by_id.values()) > 0
    assert sum(len(e.serious) for e in by_id.values()) > 0
    assert len(hiding) > 100

    counts = [check_public_record(client, expected, sorted(secrets[pk])) for pk, expected in by_id.items()]
    assert max(max(c) for c in counts) <= 8


def test_it_shows_restrictions_only_while_the_entity_is_listed(enterprise):
    """A restriction whose serious listing was removed at the end of its 3 years is not shown, even if its own
    end date was recorded later than the listing's (restrictions apply while listed, DESIGN.md §3.4)."""
    listing = SeriousListingFactory(
        enterprise=enterprise,
        stage=SeriousListing.Stage.REMOVED,
        listed_until=TODAY - DAY,
        removed_on=TODAY,
        removal_kind=SeriousListing.RemovalKind.EXPIRED,
    )
    _restriction(listing, ends_on=TODAY + DAY)
    record = selectors.public_record(enterprise=enterprise, on=TODAY)
    assert (record.serious_listings, record.restrictions) == ([], [])


# --- the prepared reads of the public record -------------------------------------------------------------------
def test_the_record_reads_are_compiled_once_and_give_what_the_orm_gives(enterprise):
    listing = SeriousListingFactory(enterprise=enterprise)
    _restriction(listing, person_name="张三", person_id_number="140702199001011234")
    PenaltyFactory(enterprise=enterprise, kinds=["fine", "confiscation"], fine_amount=Decimal("1234.5"))
    AbnormalListingFactory(enterprise=enterprise)
    reads = [selectors._PENALTY_ROWS, selectors._ABNORMAL_ROWS, selectors._SERIOUS_ROWS, selectors._RESTRICTION_ROWS]
    for read in reads:
        rows = read.rows(enterprise_id=enterprise.pk, on=TODAY)
        assert read._compiled["default"] is not None  # the fast path is taken, not the ORM fallback
        assert rows == list(read.build(enterprise.pk, TODAY)) != []
    # JSON and decimals come back converted as the ORM converts them.
    [penalty] = selectors._PENALTY_ROWS.rows(enterprise_id=enterprise.pk, on=TODAY)
    assert penalty[3] == ["fine", "confiscation"] and penalty[4] == Decimal("1234.50")
    # Another entity and another day reuse the compiled SQL with their own values.
    assert selectors._PENALTY_ROWS.rows(enterprise_id=enterprise.pk, on=dt.date(2027, 3, 3)) == []
    assert selectors._PENALTY_ROWS.rows(enterprise_id=EnterpriseFactory().pk, on=TODAY) == []


def test_a_read_whose_parameters_are_computed_from_the_day_goes_through_the_orm(enterprise):
    PenaltyFactory(enterprise=enterprise, disclosed_until=TODAY)
    read = selectors.PreparedRead(
        lambda entity, on: Penalty.objects.filter(enterprise_id=entity, disclosed_until__gte=on - DAY).values_list(
            "decision_number"
        )
    )
    assert len(read.rows(enterprise_id=enterprise.pk, on=TODAY + DAY)) == 1
    assert read._compiled["default"] is None
    assert read.rows(enterprise_id=enterprise.pk, on=TODAY + 2 * DAY) == []
