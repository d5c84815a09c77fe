"""The abnormal list (经营异常名录): listing, marks, tolerance, removal, objections and the 3-year rule
(DESIGN.md §3.3), through disclosure.services.listings."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from core.errors import ApplicationError, ConflictError
from core.models import AuditEvent, OutboxMessage
from disclosure import selectors
from disclosure.models import AbnormalListing, DocumentSequence, Objection
from disclosure.services import listings
from enterprises.models import Enterprise, Region
from tests.disclosure.factories import AbnormalListingFactory
from tests.factories import AnnualReportFactory, EnterpriseFactory, UserFactory

pytestmark = pytest.mark.django_db

Reason = AbnormalListing.Reason
RemovalReason = AbnormalListing.RemovalReason
JUNE_30 = dt.date(2026, 6, 30)
IN_TIME = dt.date(2026, 7, 8)  # within 10 working days of 30 June 2026 (the 10th is 14 July)
LATER = dt.date(2026, 12, 1)  # a day on which the listings of these tests are decided


def db_state() -> tuple[int, int, int, int]:
    """Listings, objections, numbers handed out and audit events: a refused action changes none of them."""
    numbers = DocumentSequence.objects.aggregate(total=Sum("last_number"))["total"] or 0
    return (
        AbnormalListing.objects.count(),
        Objection.objects.count(),
        numbers,
        AuditEvent.objects.count(),
    )


def list_annual(enterprise: Enterprise, *, year: int = 2025, decided_on: dt.date = IN_TIME, actor=None):
    return listings.abnormal_list(
        actor=actor, enterprise=enterprise, reason=Reason.ANNUAL_REPORT, year=year, decided_on=decided_on
    )


# --- listing --------------------------------------------------------------------------------------------------------
def test_it_lists_an_enterprise_for_a_missing_annual_report(city_regulator, enterprise):
    listing = list_annual(enterprise, actor=city_regulator)

    listing.refresh_from_db()
    assert listing.status == AbnormalListing.Status.LISTED
    assert listing.is_mark is False
    assert listing.year == 2025
    assert listing.cause_date == JUNE_30
    assert listing.decision_number == "榆次市监异入〔2026〕第1号"
    assert listing.office_id == "140702"
    assert listing.authority_name == "晋中市榆次区市场监督管理局"
    assert "《企业信息公示暂行条例》" in listing.legal_basis and "第十七条" in listing.legal_basis
    assert "六十日" in listing.remedies and "六个月" in listing.remedies
    assert "晋中市榆次区人民政府" in listing.remedies
    assert listing.decided_by == city_regulator
    event = AuditEvent.objects.get(action="abnormal.list")
    assert event.object_id == str(listing.pk)
    assert event.note == ""
    assert event.after["decision_number"] == listing.decision_number
    # Published at once: on the public list the moment it exists.
    assert list(selectors.public_abnormal(AbnormalListing.objects.all(), on=LATER)) == [listing]


def test_it_numbers_consecutively_per_office_and_year(enterprise):
    other = EnterpriseFactory()
    first = list_annual(enterprise)
    second = list_annual(other)
    later_year = list_annual(enterprise, year=2026, decided_on=dt.date(2027, 7, 2))
    assert first.decision_number == "榆次市监异入〔2026〕第1号"
    assert second.decision_number == "榆次市监异入〔2026〕第2号"
    assert later_year.decision_number == "榆次市监异入〔2027〕第1号"


def test_it_marks_an_individual_business_instead_of_listing_it():
    shop = EnterpriseFactory(entity_type=Enterprise.EntityType.INDIVIDUAL)
    mark = list_annual(shop)

    assert mark.is_mark is True
    assert mark.decision_number == "榆次市监标异〔2026〕第1号"
    assert "《个体工商户年度报告暂行办法》第十三条" in mark.legal_basis
    assert not selectors.public_abnormal(AbnormalListing.objects.all(), on=LATER).exists()
    assert list(selectors.public_marks(AbnormalListing.objects.filter(enterprise=shop), on=LATER)) == [mark]


def test_it_lists_a_cooperative_under_the_cooperative_rules():
    coop = EnterpriseFactory(entity_type=Enterprise.EntityType.COOPERATIVE, name="榆次区丰源农民专业合作社")
    listing = list_annual(coop)
    assert listing.is_mark is False
    assert "农民专业合作社年度报告公示" in listing.legal_basis
    assert list(selectors.public_abnormal(on=LATER)) == [listing]


def test_a_county_in_another_county_is_named_after_its_own_bureau():
    qixian = EnterpriseFactory(region=Region.objects.get(code="140727"))
    listing = listings.abnormal_list(
        actor=None, enterprise=qixian, reason=Reason.UNREACHABLE, cause_date=dt.date(2026, 3, 2), decided_on=IN_TIME
    )
    assert listing.authority_name == "晋中市祁县市场监督管理局"
    assert listing.decision_number == "祁县市监异入〔2026〕第1号"
    assert "第四条第（四）项" in listing.legal_basis


@pytest.mark.parametrize(
    ("decided_on", "late"),
    [(dt.date(2026, 7, 14), False), (dt.date(2026, 7, 15), True)],
    ids=["10th-working-day", "11th-working-day"],
)
def test_a_late_decision_stands_but_carries_a_warning(enterprise, decided_on, late):
    listing = list_annual(enterprise, decided_on=decided_on)

    event = AuditEvent.objects.get(action="abnormal.list", object_id=str(listing.pk))
    assert AbnormalListing.objects.filter(pk=listing.pk).exists()
    if late:
        assert "逾期作出" in event.note and "2026年07月14日" in event.note
        assert listing.deadline_warning == event.note
    else:
        assert event.note == ""
        assert listing.deadline_warning == ""


def test_a_deadline_in_a_year_without_a_calendar_is_noted_not_refused(enterprise):
    listing = listings.abnormal_list(
        actor=None,
        enterprise=enterprise,
        reason=Reason.UNREACHABLE,
        cause_date=dt.date(2027, 3, 1),
        decided_on=dt.date(2027, 3, 5),
    )
    assert "无法核对作出期限" in listing.deadline_warning


def test_the_same_reason_may_be_listed_for_another_year_and_again_after_removal(enterprise):
    list_annual(enterprise, year=2024, decided_on=dt.date(2025, 7, 8))
    assert list_annual(enterprise, year=2025).status == AbnormalListing.Status.LISTED
    first = listings.abnormal_list(
        actor=None, enterprise=enterprise, reason=Reason.UNREACHABLE, cause_date=IN_TIME, decided_on=IN_TIME
    )
    listings.abnormal_remove(
        actor=None, listing=first, reason=RemovalReason.CURED, on=dt.date(2026, 8, 3), note="已重新取得联系"
    )
    again = listings.abnormal_list(
        actor=None,
        enterprise=enterprise,
        reason=Reason.UNREACHABLE,
        cause_date=dt.date(2026, 9, 1),
        decided_on=dt.date(2026, 9, 2),
    )
    assert again.status == AbnormalListing.Status.LISTED
    assert AbnormalListing.objects.filter(enterprise=enterprise).count() == 4


# --- refusals: a clear message, nothing written -------------------------------------------------------------------
def _operating(**kwargs) -> Enterprise:
    return EnterpriseFactory(**kwargs)


REFUSALS = [
    ("deregistered", dict(status="deregistered"), dict(reason=Reason.ANNUAL_REPORT, year=2025), "已注销"),
    ("revoked", dict(status="revoked"), dict(reason=Reason.ANNUAL_REPORT, year=2025), "吊销"),
    ("no-year", {}, dict(reason=Reason.ANNUAL_REPORT), "所属年度"),
    ("year-1999", {}, dict(reason=Reason.ANNUAL_REPORT, year=1999), "2000"),
    ("year-of-decision", {}, dict(reason=Reason.ANNUAL_REPORT, year=2026), "2025"),
    ("before-registration", {}, dict(reason=Reason.ANNUAL_REPORT, year=2014), "无需报送2014年度报告"),
    (
        "wrong-cause-date",
        {},
        dict(reason=Reason.ANNUAL_REPORT, year=2025, cause_date=dt.date(2026, 7, 1)),
        "2026年06月30日",
    ),
    ("filing-period-open", {}, dict(reason=Reason.ANNUAL_REPORT, year=2025, decided_on=JUNE_30), "期限届满后"),
    ("year-for-other-reason", {}, dict(reason=Reason.UNREACHABLE, year=2025, cause_date=IN_TIME), "报告年度"),
    ("no-cause-date", {}, dict(reason=Reason.FALSIFIED), "事由发生"),
    ("cause-after-decision", {}, dict(reason=Reason.FALSIFIED, cause_date=dt.date(2026, 7, 9)), "不能晚于"),
    ("unknown-reason", {}, dict(reason="late_tax"), "未知的列入事由"),
    ("suspended-unreachable", dict(status="suspended"), dict(reason=Reason.UNREACHABLE, cause_date=IN_TIME), "歇业"),
    (
        "force-majeure",
        {},
        dict(reason=Reason.UNREACHABLE, cause_date=IN_TIME, tolerance=True),
        "暂不列入",
    ),
    (
        "correctable-slip",
        {},
        dict(reason=Reason.FALSIFIED, cause_date=IN_TIME, correctable_slip=True),
        "可允许更正一次",
    ),
    (
        "instant-info-individual",
        dict(entity_type="individual"),
        dict(reason=Reason.INSTANT_INFORMATION, cause_date=IN_TIME),
        "个体工商户不适用",
    ),
]


@pytest.mark.parametrize(("entity", "arguments", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_it_refuses_bad_listings_and_writes_nothing(entity, arguments, message):
    target = _operating(**entity)
    before = db_state()
    with pytest.raises(ApplicationError) as exc:
        listings.abnormal_list(actor=None, enterprise=target, **{"decided_on": IN_TIME, **arguments})
    assert message in exc.value.message
    assert db_state() == before


def test_a_filed_report_is_not_a_reason(enterprise):
    AnnualReportFactory(enterprise=enterprise, year=2025, filed_on=dt.date(2026, 7, 2))
    before = db_state()
    with pytest.raises(ApplicationError, match="已报送2025年度报告"):
        list_annual(enterprise)
    assert db_state() == before


def test_a_suspended_entity_may_still_be_listed_for_a_missing_report():
    suspended = EnterpriseFactory(status=Enterprise.Status.SUSPENDED)
    assert list_annual(suspended).status == AbnormalListing.Status.LISTED


def test_listing_twice_for_the_same_reason_and_year_is_a_conflict(enterprise):
    list_annual(enterprise)
    before = db_state()
    with pytest.raises(ConflictError) as exc:
        list_annual(enterprise, decided_on=dt.date(2026, 7, 9))
    assert exc.value.message == listings.ALREADY_LISTED
    assert exc.value.code == "already_listed"
    assert db_state() == before


def test_a_county_regulator_cannot_list_another_countys_entity(county_regulator):
    taigu = EnterpriseFactory(region=Region.objects.get(code="140703"))
    before = db_state()
    with pytest.raises(ApplicationError, match="本辖区"):
        list_annual(taigu, actor=county_regulator)
    assert db_state() == before


@pytest.mark.django_db(transaction=True)
def test_two_officers_listing_at_once_get_one_listing_and_one_clear_error():
    """The pre-check cannot see a concurrent uncommitted insert: the constraint decides, in the same words."""
    target = EnterpriseFactory()
    a_inserted, b_started = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def officer_a():
        try:
            with transaction.atomic():
                list_annual(target)
                a_inserted.set()
                b_started.wait(5)
                # B is now blocked on the sequence row or the unique index; let it wait a moment, then commit.
                threading.Event().wait(0.5)
        finally:
            a_inserted.set()
            connection.close()

    def officer_b():
        a_inserted.wait(5)
        b_started.set()
        try:
            list_annual(target, decided_on=dt.date(2026, 7, 9))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=officer_a), threading.Thread(target=officer_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)

    assert len(errors) == 1 and isinstance(errors[0], ConflictError), errors
    assert errors[0].message == listings.ALREADY_LISTED
    assert AbnormalListing.objects.filter(enterprise=target).count() == 1
    assert DocumentSequence.objects.get(doc_type="异入", year=2026).last_number == 1
    assert AuditEvent.objects.filter(action="abnormal.list").count() == 1


# --- removal ---------------------------------------------------------------------------------------------------------
def test_removing_a_listing_that_is_not_active_is_refused(enterprise):
    listing = list_annual(enterprise)
    AnnualReportFactory(enterprise=enterprise, year=2025, filed_on=IN_TIME)
    listings.abnormal_remove(actor=None, listing=listing, reason=RemovalReason.CURED, on=IN_TIME)
    before = db_state()
    with pytest.raises(ApplicationError) as exc:
        listings.abnormal_remove(actor=None, listing=listing, reason=RemovalReason.REPAIRED, on=IN_TIME)
    assert exc.value.message == "该记录不在列入状态。"
    assert db_state() == before


def test_reason_one_is_removed_only_when_every_missing_report_is_filed(city_regulator, enterprise):
    older = list_annual(enterprise, year=2024, decided_on=dt.date(2025, 7, 8))
    newer = list_annual(enterprise, year=2025)
    AnnualReportFactory(enterprise=enterprise, year=2025, filed_on=dt.date(2026, 8, 1))

    before = db_state()
    with pytest.raises(ApplicationError) as exc:
        listings.abnormal_remove(
            actor=city_regulator, listing=newer, reason=RemovalReason.CURED, on=dt.date(2026, 8, 3)
        )
    assert "2024年度报告未补报" in exc.value.message
    assert exc.value.extra == {"missing_years": [2024]}
    assert db_state() == before

    AnnualReportFactory(enterprise=enterprise, year=2024, filed_on=dt.date(2026, 8, 3))
    listings.abnormal_remove(actor=city_regulator, listing=newer, reason=RemovalReason.CURED, on=dt.date(2026, 8, 3))

    older.refresh_from_db()
    newer.refresh_from_db()
    for entry in (older, newer):
        assert entry.status == AbnormalListing.Status.REMOVED
        assert entry.removed_on == dt.date(2026, 8, 3)
        assert entry.removal_reason == RemovalReason.CURED
        assert entry.removed_by == city_regulator
    # Both go together under one removal decision (即申即办).
    assert older.removal_decision_number == newer.removal_decision_number == "榆次市监异出〔2026〕第1号"
    assert AuditEvent.objects.filter(action="abnormal.remove").count() == 2
    assert not selectors.public_abnormal(on=LATER).exists()


def test_removal_of_one_reason_leaves_the_others(enterprise):
    annual = list_annual(enterprise)
    unreachable = listings.abnormal_list(
        actor=None, enterprise=enterprise, reason=Reason.UNREACHABLE, cause_date=IN_TIME, decided_on=IN_TIME
    )
    AnnualReportFactory(enterprise=enterprise, year=2025, filed_on=dt.date(2026, 8, 1))
    listings.abnormal_remove(actor=None, listing=annual, reason=RemovalReason.REPAIRED, on=dt.date(2026, 8, 3))
    unreachable.refresh_from_db()
    assert unreachable.status == AbnormalListing.Status.LISTED


def test_other_reasons_need_a_note_to_be_cured(enterprise):
    listing = listings.abnormal_list(
        actor=None, enterprise=enterprise, reason=Reason.UNREACHABLE, cause_date=IN_TIME, decided_on=IN_TIME
    )
    before = db_state()
    with pytest.raises(ApplicationError, match="请说明"):
        listings.abnormal_remove(actor=None, listing=listing, reason=RemovalReason.CURED, on=dt.date(2026, 8, 3))
    assert db_state() == before
    listings.abnormal_remove(
        actor=None,
        listing=listing,
        reason=RemovalReason.CURED,
        on=dt.date(2026, 8, 3),
        note="已办理住所变更登记",
    )
    listing.refresh_from_db()
    assert listing.removal_note == "已办理住所变更登记"


def test_removal_for_deregistration_needs_a_deregistered_entity(enterprise):
    listing = list_annual(enterprise)
    with pytest.raises(ApplicationError, match="未注销"):
        listings.abnormal_remove(actor=None, listing=listing, reason=RemovalReason.DEREGISTERED, on=IN_TIME)


def test_removal_before_the_listing_date_is_refused(enterprise):
    listing = list_annual(enterprise)
    with pytest.raises(ApplicationError, match="不能早于"):
        listings.abnormal_remove(
            actor=None, listing=listing, reason=RemovalReason.CURED, on=dt.date(2026, 7, 1), note="x"
        )


# --- objections ----------------------------------------------------------------------------------------------------
@pytest.fixture
def listing(enterprise) -> AbnormalListing:
    return list_annual(enterprise)  # decided 2026-07-08


def test_an_objection_on_day_30_is_accepted_and_on_day_31_refused(listing):
    before = db_state()
    with pytest.raises(ApplicationError, match="30日内"):
        listings.objection_file(actor=None, listing=listing, filed_on=dt.date(2026, 8, 8), statement="已按时报送")
    assert db_state() == before

    objection = listings.objection_file(
        actor=None, listing=listing, filed_on=dt.date(2026, 8, 7), statement="已按时报送"
    )
    assert objection.status == Objection.Status.RECEIVED
    assert objection.acceptance_due == dt.date(2026, 8, 14)  # 5 working days after Friday 7 August
    assert AuditEvent.objects.filter(action="abnormal.objection.file", object_id=str(objection.pk)).exists()


def test_a_second_objection_waits_for_the_first(listing):
    listings.objection_file(actor=None, listing=listing, filed_on=dt.date(2026, 7, 10), statement="一")
    with pytest.raises(ConflictError, match="尚未办结"):
        listings.objection_file(actor=None, listing=listing, filed_on=dt.date(2026, 7, 11), statement="二")


def test_an_accepted_objection_is_verified_within_20_working_days_and_upheld_removes(city_regulator, listing):
    objection = listings.objection_file(actor=None, listing=listing, filed_on=dt.date(2026, 8, 7), statement="误列")
    objection = listings.objection_accept(actor=city_regulator, objection=objection, on=dt.date(2026, 8, 10))
    assert objection.status == Objection.Status.ACCEPTED
    assert objection.verification_due == dt.date(2026, 9, 7)

    objection = listings.objection_decide(
        actor=city_regulator, objection=objection, upheld=True, reason="年报已于6月29日报送", on=dt.date(2026, 8, 20)
    )
    listing.refresh_from_db()
    assert objection.status == Objection.Status.UPHELD
    assert listing.status == AbnormalListing.Status.REMOVED
    assert listing.removal_reason == RemovalReason.OBJECTION_UPHELD
    assert listing.removal_decision_number == "榆次市监异出〔2026〕第1号"
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-4:] == [
        "abnormal.objection.file",
        "abnormal.objection.accept",
        "abnormal.remove",
        "abnormal.objection.decide",
    ]


def test_a_dismissed_objection_leaves_the_listing_standing(listing):
    objection = listings.objection_file(actor=None, listing=listing, filed_on=dt.date(2026, 7, 10), statement="x")
    listings.objection_accept(actor=None, objection=objection, on=dt.date(2026, 7, 13))
    with pytest.raises(ApplicationError, match="核实结果"):
        listings.objection_decide(actor=None, objection=objection, upheld=False, on=dt.date(2026, 7, 20))
    objection = listings.objection_decide(
        actor=None, objection=objection, upheld=False, reason="经核实未报送", on=dt.date(2026, 7, 20)
    )
    listing.refresh_from_db()
    assert objection.status == Objection.Status.DISMISSED
    assert listing.status == AbnormalListing.Status.LISTED


def test_a_refused_objection_needs_a_reason_and_cannot_then_be_decided(listing):
    objection = listings.objection_file(actor=None, listing=listing, filed_on=dt.date(2026, 7, 10), statement="x")
    with pytest.raises(ApplicationError, match="不予受理的理由"):
        listings.objection_refuse(actor=None, objection=objection, reason=" ", on=dt.date(2026, 7, 13))
    objection = listings.objection_refuse(
        actor=None, objection=objection, reason="非利害关系人", on=dt.date(2026, 7, 13)
    )
    assert objection.status == Objection.Status.REFUSED
    assert objection.verification_due is None
    before = db_state()
    with pytest.raises(ApplicationError, match="不能办理此操作"):
        listings.objection_decide(actor=None, objection=objection, upheld=True, on=dt.date(2026, 7, 20))
    assert db_state() == before


def test_no_objection_to_a_removed_listing(listing):
    AnnualReportFactory(enterprise=listing.enterprise, year=2025, filed_on=IN_TIME)
    listings.abnormal_remove(actor=None, listing=listing, reason=RemovalReason.CURED, on=IN_TIME)
    with pytest.raises(ApplicationError, match="不在列入状态"):
        listings.objection_file(actor=None, listing=listing, filed_on=dt.date(2026, 7, 10), statement="x")


# --- the 3-year rule -----------------------------------------------------------------------------------------------
def test_the_three_year_dates():
    listing = AbnormalListing(decided_on=dt.date(2023, 7, 10))
    assert listings.escalation_due(listing) == dt.date(2026, 7, 10)
    assert listings.reminder_due(listing) == dt.date(2026, 5, 11)
    leap = AbnormalListing(decided_on=dt.date(2024, 2, 29))
    assert listings.escalation_due(leap) == dt.date(2027, 2, 28)


def test_the_reminder_is_published_once_and_sent_by_sms_and_email():
    target = EnterpriseFactory(contact_phone="13800000000", contact_email="caiwu@example.cn")
    old = AbnormalListingFactory(
        enterprise=target, year=2022, cause_date=dt.date(2023, 6, 30), decided_on=dt.date(2023, 7, 10)
    )

    with pytest.raises(ApplicationError, match="2026年05月11日"):
        listings.abnormal_publish_reminder(actor=None, listing=old, on=dt.date(2026, 5, 10))

    listings.abnormal_publish_reminder(actor=None, listing=old, on=dt.date(2026, 5, 11))
    old.refresh_from_db()
    assert old.reminder_published_on == dt.date(2026, 5, 11)
    messages = OutboxMessage.objects.order_by("channel")
    assert [(m.channel, m.recipient) for m in messages] == [
        ("email", "caiwu@example.cn"),
        ("sms", "13800000000"),
    ]
    assert "2026年07月10日" in messages[0].body and target.uscc in messages[0].body
    assert AuditEvent.objects.filter(action="abnormal.reminder").count() == 1

    # Running again (a rerun of the job) changes nothing.
    before = (OutboxMessage.objects.count(), AuditEvent.objects.count())
    listings.abnormal_publish_reminder(actor=None, listing=old, on=dt.date(2026, 5, 12))
    old.refresh_from_db()
    assert old.reminder_published_on == dt.date(2026, 5, 11)
    assert (OutboxMessage.objects.count(), AuditEvent.objects.count()) == before


def test_no_reminder_for_an_individual_business_mark():
    shop = EnterpriseFactory(entity_type=Enterprise.EntityType.INDIVIDUAL)
    mark = AbnormalListingFactory(enterprise=shop, is_mark=True, decided_on=dt.date(2023, 7, 10))
    with pytest.raises(ApplicationError, match="不适用"):
        listings.abnormal_publish_reminder(actor=None, listing=mark, on=dt.date(2026, 6, 1))


def test_a_county_regulator_cannot_remove_another_countys_listing():
    """The scope rule is in the services too, whatever the caller (API, admin, another app)."""
    taigu_officer = UserFactory(username="taigu-officer", role="county_regulator", region_code="140703")
    listing = AbnormalListingFactory()
    with pytest.raises(ApplicationError, match="本辖区"):
        listings.abnormal_remove(actor=taigu_officer, listing=listing, reason=RemovalReason.CURED, note="x")


# --- admin -----------------------------------------------------------------------------------------------------------
ADMIN_CHANGELIST = "/admin/disclosure/abnormallisting/"


@pytest.fixture
def two_counties_listed():
    yuci = AbnormalListingFactory(enterprise=EnterpriseFactory(name="榆次恒泰商贸有限公司"))
    taigu_region = Region.objects.get(code="140703")
    taigu = AbnormalListingFactory(
        enterprise=EnterpriseFactory(name="太谷鑫源农业有限公司", region=taigu_region), office=taigu_region
    )
    return yuci, taigu


def test_the_admin_list_is_scoped_to_the_county(client, city_regulator, county_regulator, two_counties_listed):
    yuci, taigu = two_counties_listed
    client.force_login(city_regulator)
    body = client.get(ADMIN_CHANGELIST).content.decode()
    assert yuci.enterprise.uscc in body and taigu.enterprise.uscc in body

    client.force_login(county_regulator)
    response = client.get(ADMIN_CHANGELIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert yuci.enterprise.uscc in body and taigu.enterprise.uscc not in body
    assert client.get(f"{ADMIN_CHANGELIST}{yuci.pk}/change/").status_code == 200
    assert client.get(f"{ADMIN_CHANGELIST}{taigu.pk}/change/").status_code == 404


def test_the_admin_change_page_is_read_only_and_nothing_is_deleted(client, city_regulator, two_counties_listed):
    yuci, _ = two_counties_listed
    client.force_login(city_regulator)
    body = client.get(f"{ADMIN_CHANGELIST}{yuci.pk}/change/").content.decode()
    assert 'name="_save"' not in body
    assert 'name="reason"' not in body
    assert client.get(f"{ADMIN_CHANGELIST}{yuci.pk}/delete/").status_code == 403


def _add_form(enterprise, **overrides) -> dict:
    return {
        "enterprise": enterprise.pk,
        "reason": "annual_report",
        "year": "2025",
        "cause_date": "",
        "decided_on": "2026-07-08",
        "facts": "",
        **overrides,
    }


def test_the_admin_add_form_lists_through_the_service(client, county_regulator, enterprise):
    client.force_login(county_regulator)
    response = client.post(f"{ADMIN_CHANGELIST}add/", _add_form(enterprise))
    assert response.status_code == 302, response.content.decode()[:3000]
    listing = AbnormalListing.objects.get(enterprise=enterprise)
    assert listing.decision_number == "榆次市监异入〔2026〕第1号"
    assert listing.decided_by == county_regulator
    event = AuditEvent.objects.get(action="abnormal.list")
    assert event.source == "admin"


def test_the_admin_add_form_shows_a_refusal_and_writes_nothing(client, county_regulator, enterprise):
    list_annual(enterprise)
    client.force_login(county_regulator)
    before = db_state()
    response = client.post(f"{ADMIN_CHANGELIST}add/", _add_form(enterprise, decided_on="2026-07-09"))
    assert response.status_code == 200
    assert listings.ALREADY_LISTED in response.content.decode()
    assert db_state() == before


def test_the_admin_add_form_offers_no_entity_of_another_county(client, county_regulator):
    taigu = EnterpriseFactory(region=Region.objects.get(code="140703"))
    client.force_login(county_regulator)
    before = db_state()
    response = client.post(f"{ADMIN_CHANGELIST}add/", _add_form(taigu))
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert db_state() == before


def test_the_admin_removal_action_asks_for_a_reason_then_removes(client, county_regulator, enterprise):
    listing = list_annual(enterprise)
    AnnualReportFactory(enterprise=enterprise, year=2025, filed_on=dt.date(2026, 8, 1))
    client.force_login(county_regulator)
    selection = {"action": "remove_action", "_selected_action": [listing.pk]}
    form_page = client.post(ADMIN_CHANGELIST, selection)
    assert form_page.status_code == 200
    assert 'name="reason"' in form_page.content.decode()

    done = client.post(ADMIN_CHANGELIST, {**selection, "apply": "1", "reason": "cured", "on": "2026-08-03"})
    assert done.status_code == 302
    listing.refresh_from_db()
    assert listing.status == AbnormalListing.Status.REMOVED
    assert listing.removed_by == county_regulator


def test_the_admin_removal_action_reports_a_refusal(client, city_regulator, enterprise):
    listing = list_annual(enterprise)
    client.force_login(city_regulator)
    before = db_state()
    response = client.post(
        ADMIN_CHANGELIST,
        {"action": "remove_action", "_selected_action": [listing.pk], "apply": "1", "reason": "cured", "on": ""},
        follow=True,
    )
    assert "2025年度报告未补报" in response.content.decode()
    assert db_state() == before


def test_the_objection_admin_files_and_accepts_through_the_services(client, county_regulator, enterprise):
    listing = list_annual(enterprise)
    client.force_login(county_regulator)
    response = client.post(
        "/admin/disclosure/objection/add/",
        {"listing": listing.pk, "filed_on": "2026-07-10", "statement": "已按时报送"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    objection = Objection.objects.get(listing=listing)
    assert objection.acceptance_due == dt.date(2026, 7, 17)

    response = client.post(
        "/admin/disclosure/objection/",
        {"action": "accept_action", "_selected_action": [objection.pk], "apply": "1", "on": "2026-07-13"},
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.status == Objection.Status.ACCEPTED
    assert client.get(f"{ADMIN_CHANGELIST}{listing.pk}/change/").status_code == 200


def test_the_objection_admin_is_scoped(client, county_regulator, two_counties_listed):
    _, taigu = two_counties_listed
    objection = Objection.objects.create(
        listing=taigu, filed_on=dt.date(2026, 7, 9), statement="x", acceptance_due=dt.date(2026, 7, 16)
    )
    client.force_login(county_regulator)
    assert client.get("/admin/disclosure/objection/").status_code == 200
    assert client.get(f"/admin/disclosure/objection/{objection.pk}/change/").status_code == 404
