"""The serious illegal and dishonest list (严重违法失信名单): notice, statement window, decision, restrictions,
removal after 3 years or early by repair, and what the public selectors show (DESIGN.md §3.4)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum

from core.errors import ApplicationError, ConflictError
from core.models import AuditEvent
from disclosure import selectors
from disclosure.models import AbnormalListing, DocumentSequence, Penalty, Restriction, SeriousListing
from disclosure.services import listings
from enterprises.models import Enterprise, Region
from tests.disclosure.factories import AbnormalListingFactory, PenaltyFactory, SeriousListingFactory
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db

Ground = SeriousListing.Ground
Stage = SeriousListing.Stage
RemovalKind = SeriousListing.RemovalKind
NOTICED = dt.date(2026, 3, 2)  # a Monday; 5 working days later is Monday 9 March
STATEMENT_DUE = dt.date(2026, 3, 9)
ID_NUMBER = "140702198001011234"


def db_state() -> tuple[int, int, int, int, int]:
    numbers = DocumentSequence.objects.aggregate(total=Sum("last_number"))["total"] or 0
    return (
        SeriousListing.objects.count(),
        Restriction.objects.count(),
        AbnormalListing.objects.filter(status="listed").count(),
        numbers,
        AuditEvent.objects.count(),
    )


@pytest.fixture
def company() -> Enterprise:
    return EnterpriseFactory(legal_representative="李四", legal_representative_id_number=ID_NUMBER)


@pytest.fixture
def revocation(company) -> Penalty:
    return PenaltyFactory(
        enterprise=company, kinds=["fine", "licence_revocation"], decision_date=dt.date(2026, 2, 2), domain="food"
    )


def notice_violation(company, penalty, *, noticed_on=NOTICED, **kwargs) -> SeriousListing:
    return listings.serious_notice(
        actor=None,
        enterprise=company,
        ground=Ground.SERIOUS_VIOLATION,
        source_penalty=penalty,
        facts="生产经营不符合食品安全标准的食品，被吊销食品生产许可证",
        noticed_on=noticed_on,
        **kwargs,
    )


@pytest.fixture
def three_years_old(company) -> AbnormalListing:
    return AbnormalListingFactory(
        enterprise=company, year=2022, cause_date=dt.date(2023, 6, 30), decided_on=dt.date(2023, 7, 10)
    )


def notice_three_years(company, source, *, noticed_on=dt.date(2026, 7, 10)) -> SeriousListing:
    return listings.serious_notice(
        actor=None,
        enterprise=company,
        ground=Ground.ABNORMAL_THREE_YEARS,
        source_abnormal=source,
        facts="列入经营异常名录届满三年仍未履行相关义务",
        noticed_on=noticed_on,
    )


# --- notice ---------------------------------------------------------------------------------------------------------
def test_a_notice_opens_the_statement_window(company, revocation):
    notice = notice_violation(company, revocation)
    assert notice.stage == Stage.NOTICE
    assert notice.notice_number == "榆次市监严告〔2026〕第1号"
    assert notice.statement_due == STATEMENT_DUE
    assert notice.authority_name == "晋中市榆次区市场监督管理局"
    assert "第十三条" in notice.legal_basis
    assert not selectors.public_serious(on=dt.date(2026, 12, 1)).exists()  # a notice is not public
    assert AuditEvent.objects.filter(action="serious.notice", object_id=str(notice.pk)).exists()


def test_a_fine_counts_as_heavier_only_on_the_officers_judgement(company):
    fine = PenaltyFactory(enterprise=company, kinds=["fine"])
    before = db_state()
    with pytest.raises(ApplicationError, match="较重行政处罚"):
        notice_violation(company, fine)
    assert db_state() == before
    assert notice_violation(company, fine, heavy_fine=True).stage == Stage.NOTICE


BAD_NOTICES = [
    ("no-penalty", lambda c, p, a: dict(ground=Ground.SERIOUS_VIOLATION), "请选择据以列入的行政处罚"),
    (
        "other-entitys-penalty",
        lambda c, p, a: dict(
            ground=Ground.SERIOUS_VIOLATION, source_penalty=PenaltyFactory(kinds=["licence_revocation"])
        ),
        "不是对本经营主体",
    ),
    (
        "withdrawn-penalty",
        lambda c, p, a: dict(
            ground=Ground.SERIOUS_VIOLATION,
            source_penalty=PenaltyFactory(enterprise=c, kinds=["licence_revocation"], status="withdrawn"),
        ),
        "已撤销或变更",
    ),
    ("no-source-listing", lambda c, p, a: dict(ground=Ground.ABNORMAL_THREE_YEARS), "请选择据以列入的经营异常名录"),
    (
        "under-three-years",
        lambda c, p, a: dict(ground=Ground.ABNORMAL_THREE_YEARS, source_abnormal=a, noticed_on=dt.date(2026, 7, 9)),
        "2026年07月10日方满三年",
    ),
    ("unknown-ground", lambda c, p, a: dict(ground="blacklist"), "未知的列入事由"),
    ("no-facts", lambda c, p, a: dict(ground=Ground.SERIOUS_VIOLATION, source_penalty=p, facts=" "), "事实和理由"),
]


@pytest.mark.parametrize(("build", "message"), [b[1:] for b in BAD_NOTICES], ids=[b[0] for b in BAD_NOTICES])
def test_it_refuses_bad_notices_and_writes_nothing(company, revocation, three_years_old, build, message):
    arguments = {"facts": "事实", "noticed_on": dt.date(2026, 7, 10), **build(company, revocation, three_years_old)}
    before = db_state()
    with pytest.raises(ApplicationError) as exc:
        listings.serious_notice(actor=None, enterprise=company, **arguments)
    assert message in exc.value.message
    assert db_state() == before


def test_escalation_is_due_exactly_three_years_after_the_listing(company, three_years_old):
    notice = notice_three_years(company, three_years_old, noticed_on=dt.date(2026, 7, 10))
    assert notice.source_abnormal == three_years_old


def test_a_marked_individual_business_is_not_escalated():
    shop = EnterpriseFactory(entity_type=Enterprise.EntityType.INDIVIDUAL)
    mark = AbnormalListingFactory(enterprise=shop, is_mark=True, decided_on=dt.date(2023, 7, 10))
    with pytest.raises(ApplicationError, match="个体工商户"):
        notice_three_years(shop, mark)


def test_a_second_open_procedure_on_the_same_ground_is_a_conflict(company, revocation):
    notice_violation(company, revocation)
    other = PenaltyFactory(enterprise=company, kinds=["production_suspension"])
    before = db_state()
    with pytest.raises(ConflictError, match="不能重复告知"):
        notice_violation(company, other)
    assert db_state() == before


def test_a_deregistered_entity_gets_no_notice(revocation):
    company = revocation.enterprise
    Enterprise.objects.filter(pk=company.pk).update(status=Enterprise.Status.DEREGISTERED)
    company.refresh_from_db()
    with pytest.raises(ApplicationError, match="已注销"):
        notice_violation(company, revocation)


# --- decision -------------------------------------------------------------------------------------------------------
def test_no_decision_inside_the_statement_window_unless_the_party_was_heard(company, revocation):
    notice = notice_violation(company, revocation)
    before = db_state()
    with pytest.raises(ApplicationError, match="2026年03月09日"):
        listings.serious_decide(actor=None, listing=notice, list_it=True, decided_on=dt.date(2026, 3, 6))
    assert db_state() == before

    listings.serious_record_statement(actor=None, listing=notice, statement="已整改", hearing_requested=False)
    decided = listings.serious_decide(actor=None, listing=notice, list_it=True, decided_on=dt.date(2026, 3, 6))
    assert decided.stage == Stage.LISTED
    assert AuditEvent.objects.filter(action="serious.statement").count() == 1


def test_a_decision_on_the_last_day_of_the_window_is_allowed(company, revocation):
    notice = notice_violation(company, revocation)
    decided = listings.serious_decide(actor=None, listing=notice, list_it=True, decided_on=STATEMENT_DUE)
    assert decided.decided_on == STATEMENT_DUE


def test_listing_for_a_serious_violation_restricts_the_entity_not_the_person(company, revocation):
    notice = notice_violation(company, revocation)
    listed = listings.serious_decide(actor=None, listing=notice, list_it=True, decided_on=dt.date(2026, 3, 10))

    assert listed.stage == Stage.LISTED
    assert listed.decision_number == "榆次市监严入〔2026〕第1号"
    assert listed.listed_until == dt.date(2029, 3, 9)
    kinds = sorted(listed.restrictions.values_list("kind", flat=True))
    assert kinds == ["key_supervision", "no_honours", "no_procurement", "no_subsidies"]
    assert set(listed.restrictions.values_list("ends_on", flat=True)) == {dt.date(2029, 3, 9)}
    assert not listed.restrictions.filter(kind=Restriction.Kind.NO_LEGAL_REPRESENTATIVE).exists()
    assert list(selectors.public_serious(on=dt.date(2026, 3, 10))) == [listed]
    event = AuditEvent.objects.get(action="serious.decide")
    assert event.after["restrictions"] == [
        "no_honours",
        "no_subsidies",
        "no_procurement",
        "key_supervision",
    ]


def test_listing_after_three_years_restricts_the_legal_representative_and_ends_the_abnormal_entry(
    company, three_years_old
):
    notice = notice_three_years(company, three_years_old)
    listed = listings.serious_decide(actor=None, listing=notice, list_it=True, decided_on=dt.date(2026, 7, 20))

    person = listed.restrictions.get(kind=Restriction.Kind.NO_LEGAL_REPRESENTATIVE)
    assert (person.person_name, person.person_id_number) == ("李四", ID_NUMBER)
    assert (person.starts_on, person.ends_on) == (dt.date(2026, 7, 20), dt.date(2029, 7, 19))
    assert listed.restrictions.count() == 5
    three_years_old.refresh_from_db()
    assert three_years_old.status == AbnormalListing.Status.REMOVED
    assert three_years_old.removal_reason == AbnormalListing.RemovalReason.ESCALATED
    assert three_years_old.removed_on == dt.date(2026, 7, 20)
    assert three_years_old.removal_decision_number == "榆次市监异出〔2026〕第1号"


def test_a_source_entry_cured_during_the_window_cannot_be_escalated(company, three_years_old):
    notice = notice_three_years(company, three_years_old)
    listings.abnormal_remove(
        actor=None,
        listing=three_years_old,
        reason=AbnormalListing.RemovalReason.OBJECTION_UPHELD,
        on=dt.date(2026, 7, 14),
    )
    before = db_state()
    with pytest.raises(ApplicationError, match="已移出"):
        listings.serious_decide(actor=None, listing=notice, list_it=True, decided_on=dt.date(2026, 7, 20))
    assert db_state() == before
    decided = listings.serious_decide(
        actor=None, listing=notice, list_it=False, decided_on=dt.date(2026, 7, 20), reason="已补报年报"
    )
    assert decided.stage == Stage.NOT_LISTED
    assert not decided.restrictions.exists()


def test_not_listing_needs_a_reason(company, revocation):
    notice = notice_violation(company, revocation)
    with pytest.raises(ApplicationError, match="不予列入的理由"):
        listings.serious_decide(actor=None, listing=notice, list_it=False, decided_on=STATEMENT_DUE)
    decided = listings.serious_decide(
        actor=None, listing=notice, list_it=False, decided_on=STATEMENT_DUE, reason="听证后认定情节不属严重"
    )
    assert decided.stage == Stage.NOT_LISTED
    assert AuditEvent.objects.get(action="serious.decide").note == "听证后认定情节不属严重"
    with pytest.raises(ApplicationError, match="已作出决定"):
        listings.serious_decide(actor=None, listing=notice, list_it=True, decided_on=STATEMENT_DUE)


# --- removal --------------------------------------------------------------------------------------------------------
@pytest.fixture
def listed(company) -> SeriousListing:
    """Listed on 3 March 2025 for a licence revocation of January 2025; listed until 2 March 2028."""
    penalty = PenaltyFactory(enterprise=company, kinds=["licence_revocation"], decision_date=dt.date(2025, 1, 10))
    notice = notice_violation(company, penalty, noticed_on=dt.date(2025, 2, 10))
    return listings.serious_decide(actor=None, listing=notice, list_it=True, decided_on=dt.date(2025, 3, 3))


def test_expiry_removal_only_after_the_last_day(listed):
    assert listed.listed_until == dt.date(2028, 3, 2)
    before = db_state()
    with pytest.raises(ApplicationError, match="届满后"):
        listings.serious_remove(actor=None, listing=listed, kind=RemovalKind.EXPIRED, on=dt.date(2028, 3, 2))
    assert db_state() == before
    removed = listings.serious_remove(actor=None, listing=listed, kind=RemovalKind.EXPIRED, on=dt.date(2028, 3, 3))
    assert removed.stage == Stage.REMOVED
    assert removed.hidden_from_public is False
    assert removed.removal_decision_number == "榆次市监严出〔2028〕第1号"
    assert set(removed.restrictions.values_list("ended_on", flat=True)) == {dt.date(2028, 3, 3)}
    # An expired listing stays visible as history; only the active list drops it.
    assert not selectors.public_serious(on=dt.date(2028, 3, 3)).exists()
    assert list(selectors.public_serious_removals(on=dt.date(2028, 3, 3))) == [removed]


def test_early_removal_one_day_before_one_year_is_refused(listed):
    before = db_state()
    with pytest.raises(ApplicationError, match="2026年03月03日"):
        listings.serious_remove(actor=None, listing=listed, kind=RemovalKind.EARLY_REPAIR, on=dt.date(2026, 3, 2))
    assert db_state() == before


def test_early_removal_at_one_year_hides_listing_and_removal_from_the_public(listed):
    removed = listings.serious_remove(
        actor=None, listing=listed, kind=RemovalKind.EARLY_REPAIR, on=dt.date(2026, 3, 3), note="信用修复"
    )
    assert removed.stage == Stage.REMOVED
    assert removed.hidden_from_public is True
    assert removed.removal_kind == RemovalKind.EARLY_REPAIR
    assert not selectors.public_serious(on=dt.date(2026, 3, 3)).exists()
    assert not selectors.public_serious_removals(on=dt.date(2026, 3, 3)).exists()
    assert not selectors.active_restrictions(on=dt.date(2026, 3, 3)).exists()
    # The internal history keeps both.
    assert SeriousListing.objects.filter(pk=listed.pk, decision_number=listed.decision_number).exists()
    assert list(
        AuditEvent.objects.filter(object_id=str(listed.pk)).order_by("id").values_list("action", flat=True)
    ) == [
        "serious.notice",
        "serious.decide",
        "serious.remove",
    ]


def test_a_lighter_penalty_after_listing_does_not_block_early_removal(company, listed):
    PenaltyFactory(enterprise=company, kinds=["fine"], decision_date=dt.date(2025, 6, 1))  # not heavier
    assert listings.serious_remove(
        actor=None, listing=listed, kind=RemovalKind.EARLY_REPAIR, on=dt.date(2026, 3, 3)
    ).hidden_from_public


def test_a_heavier_penalty_received_while_listed_blocks_early_removal(company, listed):
    PenaltyFactory(enterprise=company, kinds=["fine", "production_suspension"], decision_date=dt.date(2025, 9, 1))
    before = db_state()
    with pytest.raises(ApplicationError, match="较重行政处罚"):
        listings.serious_remove(actor=None, listing=listed, kind=RemovalKind.EARLY_REPAIR, on=dt.date(2026, 3, 3))
    assert db_state() == before


def test_revocation_needs_a_note_and_removing_twice_is_refused(listed):
    with pytest.raises(ApplicationError, match="请说明"):
        listings.serious_remove(actor=None, listing=listed, kind=RemovalKind.REVOKED, on=dt.date(2025, 5, 6))
    listings.serious_remove(
        actor=None, listing=listed, kind=RemovalKind.REVOKED, on=dt.date(2025, 5, 6), note="行政处罚决定被复议撤销"
    )
    before = db_state()
    with pytest.raises(ApplicationError) as exc:
        listings.serious_remove(actor=None, listing=listed, kind=RemovalKind.EXPIRED, on=dt.date(2028, 3, 3))
    assert exc.value.message == "该记录不在列入状态。"
    assert db_state() == before


def test_a_notice_cannot_be_removed(company, revocation):
    notice = notice_violation(company, revocation)
    with pytest.raises(ApplicationError, match="不在列入状态"):
        listings.serious_remove(actor=None, listing=notice, kind=RemovalKind.REVOKED, note="x")


# --- selectors ------------------------------------------------------------------------------------------------------
def test_active_restrictions_run_to_their_last_day(listed):
    last_day = listed.listed_until
    assert selectors.active_restrictions(on=dt.date(2025, 3, 2)).count() == 0
    assert selectors.active_restrictions(on=dt.date(2025, 3, 3)).count() == 4
    assert selectors.active_restrictions(on=last_day).count() == 4
    assert selectors.active_restrictions(on=last_day + dt.timedelta(days=1)).count() == 0


def test_the_public_selectors_never_show_hidden_or_unlisted_entries():
    region = Region.objects.get(code="140702")
    shown = SeriousListingFactory()
    SeriousListingFactory(stage=Stage.REMOVED, removed_on=dt.date(2026, 4, 1), hidden_from_public=True, office=region)
    SeriousListingFactory(stage=Stage.NOTICE, decision_number="", decided_on=None, listed_until=None)
    SeriousListingFactory(stage=Stage.NOT_LISTED)
    assert list(selectors.public_serious(on=dt.date(2026, 5, 1))) == [shown]
    assert not selectors.public_serious_removals(on=dt.date(2026, 5, 1)).exists()


# --- admin -----------------------------------------------------------------------------------------------------------
SERIOUS_ADMIN = "/admin/disclosure/seriouslisting/"


def test_the_serious_admin_serves_a_notice_and_decides_through_the_services(client, county_regulator, company):
    penalty = PenaltyFactory(enterprise=company, kinds=["licence_revocation"], decision_date=dt.date(2026, 2, 2))
    client.force_login(county_regulator)
    response = client.post(
        f"{SERIOUS_ADMIN}add/",
        {
            "enterprise": company.pk,
            "ground": "serious_violation",
            "source_penalty": penalty.pk,
            "source_abnormal": "",
            "facts": "吊销食品生产许可证",
            "noticed_on": "2026-03-02",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    notice = SeriousListing.objects.get(enterprise=company)
    assert notice.notice_number == "榆次市监严告〔2026〕第1号"
    assert AuditEvent.objects.get(action="serious.notice").source == "admin"

    selection = {"action": "decide_action", "_selected_action": [notice.pk]}
    assert 'name="list_it"' in client.post(SERIOUS_ADMIN, selection).content.decode()
    response = client.post(SERIOUS_ADMIN, {**selection, "apply": "1", "list_it": "1", "decided_on": "2026-03-10"})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.stage == Stage.LISTED
    assert client.get(f"{SERIOUS_ADMIN}{notice.pk}/change/").status_code == 200
    body = client.get("/admin/disclosure/restriction/").content.decode()
    assert company.uscc in body or company.name in body


def test_the_serious_admin_refuses_a_light_penalty_in_the_form(client, city_regulator, company):
    fine = PenaltyFactory(enterprise=company, kinds=["fine"])
    client.force_login(city_regulator)
    before = db_state()
    response = client.post(
        f"{SERIOUS_ADMIN}add/",
        {"enterprise": company.pk, "ground": "serious_violation", "source_penalty": fine.pk, "facts": "x"},
    )
    assert response.status_code == 200
    assert "较重行政处罚" in response.content.decode()
    assert db_state() == before


def test_the_serious_admin_is_scoped_and_never_deletes(client, county_regulator, city_regulator):
    taigu = EnterpriseFactory(region=Region.objects.get(code="140703"))
    theirs = SeriousListingFactory(enterprise=taigu, office=Region.objects.get(code="140703"))
    ours = SeriousListingFactory()
    client.force_login(county_regulator)
    body = client.get(SERIOUS_ADMIN).content.decode()
    assert ours.notice_number in body and theirs.notice_number not in body
    assert client.get(f"{SERIOUS_ADMIN}{theirs.pk}/change/").status_code == 404
    client.force_login(city_regulator)
    assert client.get(f"{SERIOUS_ADMIN}{theirs.pk}/delete/").status_code == 403


def test_the_document_numbers_are_read_only_and_per_office(client, county_regulator, company, revocation):
    notice_violation(company, revocation)
    qixian = EnterpriseFactory(region=Region.objects.get(code="140727"))
    listings.abnormal_list(actor=None, enterprise=qixian, reason="unreachable", cause_date=NOTICED, decided_on=NOTICED)
    client.force_login(county_regulator)
    response = client.get("/admin/disclosure/documentsequence/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "严告" in body and "异入" not in body
    assert client.get("/admin/disclosure/documentsequence/add/").status_code == 403
