"""The nightly jobs of disclosure (disclosure.jobs): each rule with its boundary days, idempotence, a killed run
completed by a rerun, two runs at once, the commands, and the nightly task through a real worker.

Rule tests drain a job's steps inside the test's transaction (as run_job does, chunk by chunk); the tests of the
frame itself (twice, killed, concurrent, worker, commands) go through core.nightly.run_job with real commits.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.middleware import use_source
from core.models import AuditEvent, CalendarYear, JobRun, OutboxMessage
from core.nightly import advisory_lock, run_job
from disclosure import jobs, numbering, texts
from disclosure.models import (
    AbnormalListing,
    DisclosurePolicy,
    DocumentSequence,
    Penalty,
    Restriction,
    SeriousListing,
)
from disclosure.selectors import penalty_shown_on
from enterprises.models import Enterprise, Region
from tests.disclosure.factories import AbnormalListingFactory, PenaltyFactory, SeriousListingFactory
from tests.factories import AnnualReportFactory, EnterpriseFactory

D = dt.date
ONE_DAY = dt.timedelta(days=1)


# ==============================================================================================================
# Helpers
# ==============================================================================================================


def drain(name: str, as_of: dt.date, *, chunk_size: int = 2) -> Counter[str]:
    """Run every chunk of a job in the test's transaction, each chunk in its own savepoint (as run_job does)."""
    step = jobs.JOBS[name].step(chunk_size)
    totals: Counter[str] = Counter()
    with use_source("command"):
        for _ in range(10_000):
            with transaction.atomic():
                counts = step(as_of)
            if counts is None:
                return totals
            totals.update(counts)
    raise AssertionError(f"{name} did not finish")


def region(code: str = "140702") -> Region:
    return Region.objects.get(code=code)


def audits(action: str, obj: Any | None = None) -> list[AuditEvent]:
    qs = AuditEvent.objects.filter(action=action)
    if obj is not None:
        qs = qs.filter(object_id=str(obj.pk))
    return list(qs.order_by("id"))


def general_penalty(**kwargs: Any) -> Penalty:
    """An ordinary-procedure fine of 80,000 yuan for an organisation: 3 years under 2021, 1 year under 2025."""
    return PenaltyFactory(policy=DisclosurePolicy.objects.get(code="national-2021"), **kwargs)


def number_of(listing_number: str) -> int:
    return int(re.search(r"第(\d+)号", listing_number).group(1))


# ==============================================================================================================
# Dates
# ==============================================================================================================


def test_it_inverts_three_years_including_29_february():
    assert jobs.last_start_day(D(2026, 7, 10), months=36) == D(2023, 7, 10)
    # 29 Feb 2024 + 3 years = 28 Feb 2027: both 28 and 29 Feb 2024 are three years old on 28 Feb 2027.
    assert jobs.last_start_day(D(2027, 2, 28), months=36) == D(2024, 2, 29)
    assert jobs.last_start_day(D(2027, 2, 27), months=36) == D(2024, 2, 27)
    # 60 days before the third anniversary.
    assert jobs.last_start_day(D(2026, 5, 11), months=36, days_before=60) == D(2023, 7, 10)
    assert jobs.last_start_day(D(2026, 5, 10), months=36, days_before=60) == D(2023, 7, 9)


def test_it_names_the_report_year_only_after_30_june():
    assert jobs.report_year_due(D(2026, 6, 30)) is None
    assert jobs.report_year_due(D(2026, 7, 1)) == 2025
    assert jobs.report_year_due(D(2026, 12, 31)) == 2025
    assert jobs.report_year_due(D(2027, 1, 1)) is None


# ==============================================================================================================
# 1. review_disclosure_policies and 2. expire_disclosures
# ==============================================================================================================


@pytest.mark.django_db
def test_it_keeps_a_disclosure_on_its_last_day_and_ends_it_the_day_after():
    penalty = general_penalty(disclosed_from=D(2026, 3, 3), disclosed_until=D(2026, 6, 2))

    assert drain("expire_disclosures", D(2026, 6, 2)) == Counter()
    penalty.refresh_from_db()
    assert penalty.disclosure_ended_on is None and penalty_shown_on(penalty, on=D(2026, 6, 2))

    assert drain("expire_disclosures", D(2026, 6, 3)) == Counter(expired=1)
    penalty.refresh_from_db()
    assert penalty.disclosure_ended_on == D(2026, 6, 3)
    assert penalty.disclosure_end_reason == Penalty.EndReason.EXPIRED
    assert not penalty_shown_on(penalty, on=D(2026, 6, 2))  # ended by the job, not only by the date
    (event,) = audits("penalty.disclosure_expired", penalty)
    assert event.object_type == "disclosure.penalty"
    assert event.actor is None and event.actor_label == "system" and event.source == "command"
    assert event.before == {"disclosure_ended_on": None, "disclosure_end_reason": ""}
    assert event.after == {"disclosure_ended_on": "2026-06-03", "disclosure_end_reason": "expired"}


@pytest.mark.django_db
def test_it_does_not_expire_withdrawn_undisclosed_or_already_ended_penalties():
    withdrawn = general_penalty(disclosed_until=D(2026, 3, 1), status=Penalty.Status.WITHDRAWN)
    undisclosed = PenaltyFactory(disclosed=False, disclosed_from=None, disclosed_until=None)
    ended = general_penalty(
        disclosed_until=D(2026, 3, 1), disclosure_ended_on=D(2026, 2, 1), disclosure_end_reason="repaired"
    )
    running = general_penalty(disclosed_until=D(2026, 12, 31))

    assert drain("expire_disclosures", D(2026, 7, 1)) == Counter()
    for penalty, ended_on in ((withdrawn, None), (undisclosed, None), (ended, D(2026, 2, 1)), (running, None)):
        penalty.refresh_from_db()
        assert penalty.disclosure_ended_on == ended_on
    assert not audits("penalty.disclosure_expired")


@pytest.mark.django_db
def test_it_shortens_a_running_disclosure_when_the_2025_policy_takes_effect_and_then_expires_it():
    """从旧兼从轻: a general fine disclosed for 3 years under the 2021 rules runs 1 year once the 2025 rules
    (retroactive if lenient) are in force; the review happens on 2025-12-25, not the day before."""
    penalty = general_penalty(
        decision_date=D(2025, 6, 10),
        disclosed_from=D(2025, 6, 12),
        disclosed_until=D(2028, 6, 11),
        policies_reviewed_on=D(2025, 6, 12),
    )

    assert drain("review_disclosure_policies", D(2025, 12, 24)) == Counter()
    penalty.refresh_from_db()
    assert penalty.disclosed_until == D(2028, 6, 11)

    assert drain("review_disclosure_policies", D(2025, 12, 25)) == Counter(reviewed=1, shortened=1)
    penalty.refresh_from_db()
    assert penalty.disclosed_until == D(2026, 6, 11)
    assert penalty.policy.code == "national-2025"
    assert penalty.tier == Penalty.Tier.GENERAL
    assert penalty.repair_possible_from == D(2025, 9, 12)
    assert penalty.policies_reviewed_on == D(2025, 12, 25)
    (event,) = audits("penalty.disclosure_shortened", penalty)
    assert event.before["disclosed_until"] == "2028-06-11" and event.after["disclosed_until"] == "2026-06-11"

    # Reviewed once per policy change: the next night finds nothing.
    assert drain("review_disclosure_policies", D(2025, 12, 26)) == Counter()
    # And the shortened period expires on its new boundary.
    assert drain("expire_disclosures", D(2026, 6, 11)) == Counter()
    assert drain("expire_disclosures", D(2026, 6, 12)) == Counter(expired=1)
    penalty.refresh_from_db()
    assert penalty.disclosure_ended_on == D(2026, 6, 12)


@pytest.mark.django_db
def test_it_never_lengthens_a_disclosure_on_review():
    """A heavy penalty is 3 years under both 2021 and 2025 rules, and a minor one already has 3 months: the review
    records that it looked (policies_reviewed_on) and changes nothing else."""
    heavy = general_penalty(
        kinds=["fine", "licence_revocation"],
        disclosed_from=D(2025, 6, 12),
        disclosed_until=D(2028, 6, 11),
    )
    minor = general_penalty(
        fine_amount=Decimal("3000"), tier="minor", disclosed_from=D(2025, 11, 1), disclosed_until=D(2026, 1, 31)
    )

    assert drain("review_disclosure_policies", D(2026, 1, 5)) == Counter(reviewed=2)
    for penalty, until in ((heavy, D(2028, 6, 11)), (minor, D(2026, 1, 31))):
        penalty.refresh_from_db()
        assert penalty.disclosed_until == until
        assert penalty.policies_reviewed_on == D(2026, 1, 5)
    assert not audits("penalty.disclosure_shortened")


# ==============================================================================================================
# 3. list_missing_annual_reports
# ==============================================================================================================


@pytest.mark.django_db
def test_it_lists_nothing_for_the_current_cycle_before_1_july():
    EnterpriseFactory()
    assert drain("list_missing_annual_reports", D(2026, 6, 30)) == Counter()
    assert not AbnormalListing.objects.exists()

    assert drain("list_missing_annual_reports", D(2026, 7, 1)) == Counter(listed=1)
    listing = AbnormalListing.objects.get()
    assert (listing.reason, listing.year, listing.is_mark) == (AbnormalListing.Reason.ANNUAL_REPORT, 2025, False)
    assert listing.cause_date == D(2026, 6, 30)
    assert listing.decided_on == D(2026, 7, 1)
    assert listing.decision_number == "榆次市监异入〔2026〕第1号"
    assert listing.authority_name == "晋中市榆次区市场监督管理局"
    assert listing.office_id == "140702"
    assert listing.legal_basis and listing.remedies and "六十日" in listing.remedies
    (event,) = audits("abnormal.list", listing)
    assert event.after["year"] == 2025 and event.after["decision_number"] == listing.decision_number


@pytest.mark.django_db
def test_it_lists_enterprises_and_cooperatives_and_marks_individual_businesses():
    S = Enterprise.Status
    T = Enterprise.EntityType
    entities = {
        "enterprise": EnterpriseFactory(entity_type=T.ENTERPRISE),
        "cooperative": EnterpriseFactory(entity_type=T.COOPERATIVE),
        "individual": EnterpriseFactory(entity_type=T.INDIVIDUAL),
        "suspended": EnterpriseFactory(status=S.SUSPENDED),  # 歇业 filers must still file
        "registered_31_december": EnterpriseFactory(registration_date=D(2025, 12, 31)),
        # Not owing or not missing the 2025 report:
        "deregistered": EnterpriseFactory(status=S.DEREGISTERED),
        "revoked": EnterpriseFactory(status=S.REVOKED),
        "registered_2026": EnterpriseFactory(registration_date=D(2026, 1, 2)),
        "filed_on_time": EnterpriseFactory(),
        "filed_late_before_the_job": EnterpriseFactory(),
        "already_listed_and_removed": EnterpriseFactory(),
        "already_listed": EnterpriseFactory(),
    }
    AnnualReportFactory(enterprise=entities["filed_on_time"], year=2025, filed_on=D(2026, 6, 30))
    AnnualReportFactory(enterprise=entities["filed_late_before_the_job"], year=2025, filed_on=D(2026, 7, 10))
    AbnormalListingFactory(
        enterprise=entities["already_listed_and_removed"],
        year=2025,
        status=AbnormalListing.Status.REMOVED,
        removed_on=D(2026, 7, 9),
        decision_number="榆次市监异入〔2026〕第900号",
    )
    AbnormalListingFactory(
        enterprise=entities["already_listed"], year=2025, decision_number="榆次市监异入〔2026〕第901号"
    )
    # A listing for another year does not count for 2025.
    AbnormalListingFactory(enterprise=entities["enterprise"], year=2024, decision_number="榆次市监异入〔2025〕第1号")

    assert drain("list_missing_annual_reports", D(2026, 7, 15)) == Counter(listed=4, marked=1)

    by_entity = {
        l.enterprise_id: l
        for l in AbnormalListing.objects.filter(year=2025, decided_on=D(2026, 7, 15))  # noqa: E741
    }
    listed = {name for name, e in entities.items() if e.pk in by_entity}
    assert listed == {"enterprise", "cooperative", "individual", "suspended", "registered_31_december"}
    assert by_entity[entities["individual"].pk].is_mark
    assert "标异" in by_entity[entities["individual"].pk].decision_number
    assert not any(by_entity[entities[n].pk].is_mark for n in listed - {"individual"})
    assert AbnormalListing.objects.filter(enterprise=entities["already_listed"], year=2025).count() == 1

    # Never twice for the same reason and year: the next night lists nobody.
    assert drain("list_missing_annual_reports", D(2026, 7, 16)) == Counter()


@pytest.mark.django_db
def test_it_numbers_decisions_consecutively_per_office_and_document_type():
    yuci, taigu = region("140702"), region("140703")
    for i in range(5):
        EnterpriseFactory(region=yuci if i % 2 == 0 else taigu)
        EnterpriseFactory(region=yuci, entity_type=Enterprise.EntityType.INDIVIDUAL)
    DocumentSequence.objects.create(office=yuci, doc_type=numbering.ABNORMAL_IN, year=2026, last_number=41)

    drain("list_missing_annual_reports", D(2026, 7, 1), chunk_size=3)  # chunks cut across offices

    def numbers(office: str, mark: bool) -> list[int]:
        rows = AbnormalListing.objects.filter(office_id=office, is_mark=mark).order_by("enterprise_id")
        return [number_of(n) for n in rows.values_list("decision_number", flat=True)]

    assert numbers("140702", False) == [42, 43, 44]  # continues the office's sequence, in entity order
    assert numbers("140703", False) == [1, 2]
    assert numbers("140702", True) == [1, 2, 3, 4, 5]
    assert all(
        "榆次市监标异〔2026〕" in n
        for n in AbnormalListing.objects.filter(is_mark=True).values_list("decision_number", flat=True)
    )
    assert DocumentSequence.objects.get(office=yuci, doc_type=numbering.ABNORMAL_IN, year=2026).last_number == 44


# ==============================================================================================================
# 4. abnormal_three_year_reminders
# ==============================================================================================================


@pytest.mark.django_db
def test_it_publishes_the_reminder_60_days_before_three_years_and_messages_the_entity_once():
    # Decided 2023-07-10: three years on 2026-07-10, reminder due on 2026-05-11 (60 days before).
    sms = AbnormalListingFactory(decided_on=D(2023, 7, 10), enterprise__contact_phone="13912345678")
    both = AbnormalListingFactory(
        decided_on=D(2023, 7, 10), enterprise__contact_phone="0354-3012345", enterprise__contact_email="a@example.com"
    )
    unreachable = AbnormalListingFactory(decided_on=D(2023, 7, 10), enterprise__contact_phone="")
    mark = AbnormalListingFactory(decided_on=D(2023, 7, 10), is_mark=True, enterprise__contact_phone="13900000000")
    removed = AbnormalListingFactory(
        decided_on=D(2023, 7, 10), status=AbnormalListing.Status.REMOVED, removed_on=D(2024, 1, 1)
    )

    assert drain("abnormal_three_year_reminders", D(2026, 5, 10)) == Counter()
    assert drain("abnormal_three_year_reminders", D(2026, 5, 11)) == Counter(reminded=3, sms=2, email=1, no_contact=1)
    for listing, published in ((sms, True), (both, True), (unreachable, True), (mark, False), (removed, False)):
        listing.refresh_from_db()
        assert (listing.reminder_published_on == D(2026, 5, 11)) is published
    messages = {(m.related_id, m.channel): m for m in OutboxMessage.objects.all()}
    assert set(messages) == {(str(sms.pk), "sms"), (str(both.pk), "sms"), (str(both.pk), "email")}
    text = messages[(str(sms.pk), "sms")]
    assert text.recipient == "13912345678" and text.dedupe_key == f"abnormal-3y-reminder:{sms.pk}:sms"
    assert "2026年07月10日" in text.body and sms.decision_number in text.body and sms.enterprise.uscc in text.body
    assert messages[(str(both.pk), "email")].recipient == "a@example.com"
    events = audits("abnormal.reminder")
    assert len(events) == 3
    (event,) = audits("abnormal.reminder", unreachable)
    assert event.before["reminder_published_on"] is None and event.after["reminder_published_on"] == "2026-05-11"
    assert "通知渠道：无" in event.note

    # Again: nothing new, and no second message even if the published date were cleared by hand.
    assert drain("abnormal_three_year_reminders", D(2026, 5, 12)) == Counter()
    AbnormalListing.objects.filter(pk=sms.pk).update(reminder_published_on=None)
    drain("abnormal_three_year_reminders", D(2026, 5, 12))
    assert OutboxMessage.objects.filter(related_id=str(sms.pk)).count() == 1


@pytest.mark.django_db
def test_the_job_and_the_service_never_send_the_same_reminder_twice():
    """A reminder published by staff (services.listings) is not published again by the job, and both use one
    dedupe key per listing and channel."""
    from disclosure.services.listings import abnormal_publish_reminder

    by_staff = AbnormalListingFactory(decided_on=D(2023, 7, 10), enterprise__contact_phone="13912345678")
    by_job = AbnormalListingFactory(decided_on=D(2023, 7, 10), enterprise__contact_phone="13912345679")
    abnormal_publish_reminder(actor=None, listing=by_staff, on=D(2026, 5, 11))

    assert drain("abnormal_three_year_reminders", D(2026, 5, 12)) == Counter(reminded=1, sms=1)
    keys = set(OutboxMessage.objects.values_list("dedupe_key", flat=True))
    assert keys == {f"abnormal-3y-reminder:{by_staff.pk}:sms", f"abnormal-3y-reminder:{by_job.pk}:sms"}
    staff_body = OutboxMessage.objects.get(related_id=str(by_staff.pk)).body
    job_body = OutboxMessage.objects.get(related_id=str(by_job.pk)).body
    assert job_body.replace(by_job.enterprise.name, "X").replace(by_job.enterprise.uscc, "U").replace(
        by_job.decision_number, "N"
    ) == staff_body.replace(by_staff.enterprise.name, "X").replace(by_staff.enterprise.uscc, "U").replace(
        by_staff.decision_number, "N"
    )


# ==============================================================================================================
# 5. abnormal_escalation
# ==============================================================================================================


@pytest.mark.django_db
def test_it_serves_a_notice_on_the_third_anniversary_and_decides_after_the_statement_window():
    listing = AbnormalListingFactory(
        decided_on=D(2023, 7, 10),
        enterprise__legal_representative="王建国",
        enterprise__legal_representative_id_number="140702198001011234",
    )

    assert drain("abnormal_escalation", D(2026, 7, 9)) == Counter()
    assert drain("abnormal_escalation", D(2026, 7, 10)) == Counter(noticed=1)
    notice = SeriousListing.objects.get()
    assert notice.source_abnormal_id == listing.pk and notice.enterprise_id == listing.enterprise_id
    assert notice.ground == SeriousListing.Ground.ABNORMAL_THREE_YEARS
    assert notice.stage == SeriousListing.Stage.NOTICE
    assert notice.notice_number == "榆次市监严告〔2026〕第1号"
    assert notice.noticed_on == D(2026, 7, 10)
    assert notice.statement_due == D(2026, 7, 17)  # Friday 10 July + 5 working days
    assert audits("serious.notice", notice)

    # A notice is never served twice for the same listing; the window is still open on its last day.
    assert drain("abnormal_escalation", D(2026, 7, 17)) == Counter()
    assert drain("abnormal_escalation", D(2026, 7, 18)) == Counter(decided=1, restrictions=5, abnormal_removed=1)
    notice.refresh_from_db()
    assert notice.stage == SeriousListing.Stage.LISTED
    assert notice.decision_number == "榆次市监严入〔2026〕第1号"
    assert notice.decided_on == D(2026, 7, 18)
    assert notice.listed_until == D(2029, 7, 17)
    restrictions = {r.kind: r for r in notice.restrictions.all()}
    assert set(restrictions) == {k.value for k in Restriction.Kind}
    person = restrictions[Restriction.Kind.NO_LEGAL_REPRESENTATIVE]
    assert (person.person_name, person.person_id_number) == ("王建国", "140702198001011234")
    assert all(r.starts_on == D(2026, 7, 18) and r.ends_on == D(2029, 7, 17) for r in restrictions.values())
    assert audits("serious.decide", notice)
    # The source entry leaves the abnormal list, escalated, under a numbered removal decision.
    listing.refresh_from_db()
    assert listing.status == AbnormalListing.Status.REMOVED
    assert listing.removal_reason == AbnormalListing.RemovalReason.ESCALATED
    assert listing.removed_on == D(2026, 7, 18)
    assert listing.removal_decision_number == "榆次市监异出〔2026〕第1号"
    assert notice.decision_number in listing.removal_note
    assert audits("abnormal.remove", listing)
    assert drain("abnormal_escalation", D(2026, 7, 19)) == Counter()


def _notice(**kwargs: Any) -> SeriousListing:
    """A 3-year notice served on 2026-06-24 whose statement window ended on 2026-07-01."""
    source = kwargs.pop("source", None) or AbnormalListingFactory(decided_on=D(2023, 6, 1))
    values = {
        "enterprise": source.enterprise,
        "source_abnormal": source,
        "ground": SeriousListing.Ground.ABNORMAL_THREE_YEARS,
        "stage": SeriousListing.Stage.NOTICE,
        "noticed_on": D(2026, 6, 24),
        "statement_due": D(2026, 7, 1),
        "decision_number": "",
        "decided_on": None,
        "listed_until": None,
    }
    return SeriousListingFactory(**{**values, **kwargs})


@pytest.mark.django_db
def test_it_does_not_decide_when_the_party_made_a_statement_or_asked_for_a_hearing():
    stated = _notice(statement="已于2026年6月补报全部年报。")
    hearing = _notice(hearing_requested=True)
    violation = SeriousListingFactory(
        ground=SeriousListing.Ground.SERIOUS_VIOLATION,
        stage=SeriousListing.Stage.NOTICE,
        statement_due=D(2026, 7, 1),
        decision_number="",
        decided_on=None,
        listed_until=None,
    )
    silent = _notice()

    assert drain("abnormal_escalation", D(2026, 7, 1)) == Counter()  # the window's last day
    assert drain("abnormal_escalation", D(2026, 7, 2)) == Counter(decided=1, restrictions=5, abnormal_removed=1)
    for listing, stage in ((stated, "notice"), (hearing, "notice"), (violation, "notice"), (silent, "listed")):
        listing.refresh_from_db()
        assert listing.stage == stage


@pytest.mark.django_db
def test_it_does_not_list_when_the_source_entry_was_removed_or_the_entity_deregistered():
    cured = _notice(
        source=AbnormalListingFactory(
            decided_on=D(2023, 6, 1), status=AbnormalListing.Status.REMOVED, removed_on=D(2026, 6, 28)
        )
    )
    gone = _notice()
    Enterprise.objects.filter(pk=gone.enterprise_id).update(status=Enterprise.Status.DEREGISTERED)

    assert drain("abnormal_escalation", D(2026, 7, 2)) == Counter(decided=0, not_listed=2)
    for notice, why in ((cured, "已移出"), (gone, "已注销")):
        notice.refresh_from_db()
        assert notice.stage == SeriousListing.Stage.NOT_LISTED and notice.decided_on == D(2026, 7, 2)
        assert not notice.restrictions.exists()
        (event,) = audits("serious.decide", notice)
        assert why in event.note and event.after["stage"] == "not_listed"
    assert drain("abnormal_escalation", D(2026, 7, 3)) == Counter()


@pytest.mark.django_db
def test_it_escalates_listings_but_not_marks_and_one_procedure_per_entity():
    entity = EnterpriseFactory()
    first = AbnormalListingFactory(enterprise=entity, year=2021, decided_on=D(2022, 7, 1))
    second = AbnormalListingFactory(enterprise=entity, year=2022, decided_on=D(2023, 7, 3))
    mark = AbnormalListingFactory(
        enterprise__entity_type=Enterprise.EntityType.INDIVIDUAL, is_mark=True, decided_on=D(2022, 7, 1)
    )
    removed = AbnormalListingFactory(
        decided_on=D(2022, 7, 1), status=AbnormalListing.Status.REMOVED, removed_on=D(2023, 1, 1)
    )

    assert drain("abnormal_escalation", D(2026, 7, 10), chunk_size=1) == Counter(noticed=1)
    notice = SeriousListing.objects.get()
    assert notice.source_abnormal_id == first.pk
    assert not SeriousListing.objects.filter(source_abnormal__in=[second, mark, removed]).exists()
    assert drain("abnormal_escalation", D(2026, 7, 13)) == Counter()  # the second waits for the open procedure


@pytest.mark.django_db
def test_it_serves_no_notice_when_the_statement_window_falls_in_a_year_without_a_calendar():
    """2027 has no official holiday schedule yet (core.calendar refuses to guess): the job records it and serves
    nothing; once staff confirm the year, the next run serves the notice."""
    AbnormalListingFactory(decided_on=D(2023, 12, 28))
    assert drain("abnormal_escalation", D(2026, 12, 28)) == Counter(calendar_unavailable=1)
    assert not SeriousListing.objects.exists()

    CalendarYear.objects.create(year=2027, source="国办发明电〔2026〕测试")
    assert drain("abnormal_escalation", D(2026, 12, 28)) == Counter(noticed=1)


# ==============================================================================================================
# 6. expire_serious_listings and 7. expire_restrictions
# ==============================================================================================================


def _with_restrictions(listing: SeriousListing, *, ends_on: dt.date) -> list[Restriction]:
    return [
        Restriction.objects.create(
            enterprise=listing.enterprise,
            serious_listing=listing,
            kind=kind,
            starts_on=listing.decided_on,
            ends_on=ends_on,
        )
        for kind in jobs.ENTITY_RESTRICTIONS
    ]


@pytest.mark.django_db
def test_it_removes_a_serious_listing_the_day_after_its_last_day_and_ends_its_restrictions():
    listing = SeriousListingFactory(decided_on=D(2023, 3, 2), listed_until=D(2026, 3, 1))
    restrictions = _with_restrictions(listing, ends_on=D(2026, 3, 1))
    Restriction.objects.filter(pk=restrictions[0].pk).update(ended_on=D(2025, 1, 1))  # ended earlier: untouched
    early = SeriousListingFactory(
        listed_until=D(2026, 3, 1),
        stage=SeriousListing.Stage.REMOVED,
        removed_on=D(2025, 1, 10),
        removal_kind=SeriousListing.RemovalKind.EARLY_REPAIR,
        hidden_from_public=True,
    )

    assert drain("expire_serious_listings", D(2026, 3, 1)) == Counter()
    assert drain("expire_serious_listings", D(2026, 3, 2)) == Counter(removed=1, restrictions_ended=3)
    listing.refresh_from_db()
    assert listing.stage == SeriousListing.Stage.REMOVED
    assert listing.removed_on == D(2026, 3, 2)
    assert listing.removal_kind == SeriousListing.RemovalKind.EXPIRED
    assert listing.removal_decision_number == "榆次市监严出〔2026〕第1号"
    assert not listing.hidden_from_public  # an expiry stays on the public history
    ended = dict(Restriction.objects.filter(serious_listing=listing).values_list("pk", "ended_on"))
    assert ended[restrictions[0].pk] == D(2025, 1, 1)
    assert {ended[r.pk] for r in restrictions[1:]} == {D(2026, 3, 2)}
    early.refresh_from_db()
    assert early.removal_kind == SeriousListing.RemovalKind.EARLY_REPAIR and early.removed_on == D(2025, 1, 10)
    (event,) = audits("serious.remove")
    assert event.after["stage"] == "removed" and event.after["restrictions_ended"] == 3
    assert event.before["stage"] == "listed"


@pytest.mark.django_db
def test_it_ends_a_restriction_the_day_after_its_last_day():
    listing = SeriousListingFactory(decided_on=D(2023, 3, 2), listed_until=D(2026, 3, 1))
    (restriction, *_others) = _with_restrictions(listing, ends_on=D(2026, 4, 30))
    Restriction.objects.exclude(pk=restriction.pk).update(ends_on=D(2026, 12, 31))

    assert drain("expire_restrictions", D(2026, 4, 30)) == Counter()
    assert drain("expire_restrictions", D(2026, 5, 1)) == Counter(ended=1)
    restriction.refresh_from_db()
    assert restriction.ended_on == D(2026, 5, 1)
    (event,) = audits("restriction.end", restriction)
    assert event.after == {"ended_on": "2026-05-01"}
    assert drain("expire_restrictions", D(2026, 5, 2)) == Counter()


# ==============================================================================================================
# A world with work for every job: the frame tests run it through run_job
# ==============================================================================================================

AS_OF = D(2026, 7, 15)  # after 30 June; statement windows end in July 2026 (official calendar)


def build_world(code: str, *, n: int = 7) -> None:
    """n due records for every job (and a few not yet due), all in region `code`; same content for any region."""
    office = region(code)
    tag = code
    authority = jobs.offices()[code].authority_name

    def enterprise(i: int, **kwargs: Any) -> Enterprise:
        kwargs.setdefault("name", f"晋中恒泰{i}号商贸有限公司")
        kwargs.setdefault("contact_phone", f"139{i:08d}" if i % 3 else "")
        return EnterpriseFactory(region=office, legal_representative=f"法人{i}", **kwargs)

    def listing(i: int, decided_on: dt.date, **kwargs: Any) -> AbnormalListing:
        return AbnormalListingFactory(
            enterprise=kwargs.pop("enterprise", None) or enterprise(i),
            office=office,
            authority_name=authority,
            decided_on=decided_on,
            year=decided_on.year - 1,
            cause_date=D(decided_on.year, 6, 30),
            decision_number=f"{tag}-异入-{i}",
            **kwargs,
        )

    i = 0
    for k in range(n):  # review: shortened by the 2025 policy; expire: past their last day
        i += 1
        general_penalty(
            enterprise=enterprise(i),
            decision_number=f"{tag}-罚-{i}",
            decision_date=D(2025, 6, 10),
            disclosed_from=D(2025, 6, 12),
            disclosed_until=D(2028, 6, 11),
            policies_reviewed_on=D(2025, 6, 12),
        )
        i += 1
        past = general_penalty(
            enterprise=enterprise(i),
            decision_number=f"{tag}-罚-{i}",
            disclosed_from=D(2025, 4, 1),
            disclosed_until=D(2026, 7, 14),
            policies_reviewed_on=D(2026, 1, 1),
        )
        if k % 2 == 0:  # and some on their last day
            general_penalty(
                enterprise=past.enterprise,
                decision_number=f"{tag}-罚-{i}b",
                disclosed_from=D(2025, 4, 1),
                disclosed_until=AS_OF,
                policies_reviewed_on=D(2026, 1, 1),
            )
        i += 1  # owes the 2025 report: every other one an individual business
        enterprise(i, entity_type=Enterprise.EntityType.INDIVIDUAL if k % 2 else Enterprise.EntityType.ENTERPRISE)
        i += 1  # reminder due (3 years on 2026-08-03), not yet escalated
        listing(i, D(2023, 8, 3))
        i += 1  # three years on the list: a notice
        listing(i, D(2023, 7, 14) if k % 3 else D(2023, 7, 16))  # a third not yet three years
        i += 1  # a notice whose window has passed: the decision (its source entry cured meanwhile: not listed)
        cured = {"status": AbnormalListing.Status.REMOVED, "removed_on": D(2026, 7, 10)} if k == 0 else {}
        source = listing(i, D(2023, 6, 1), reminder_published_on=D(2026, 4, 2), **cured)
        SeriousListingFactory(
            enterprise=source.enterprise,
            source_abnormal=source,
            office=office,
            authority_name=authority,
            ground=SeriousListing.Ground.ABNORMAL_THREE_YEARS,
            stage=SeriousListing.Stage.NOTICE,
            notice_number=f"{tag}-严告-{i}",
            noticed_on=D(2026, 7, 6),
            statement_due=D(2026, 7, 13),
            decision_number="",
            decided_on=None,
            listed_until=None,
        )
        i += 1  # a serious listing past its three years, and restrictions past their last day
        expired = SeriousListingFactory(
            enterprise=enterprise(i),
            office=office,
            authority_name=authority,
            notice_number=f"{tag}-严告-{i}",
            decision_number=f"{tag}-严入-{i}",
            decided_on=D(2023, 7, 14),
            listed_until=D(2026, 7, 13),
        )
        _with_restrictions(expired, ends_on=D(2026, 7, 13))
        early = SeriousListingFactory(
            enterprise=expired.enterprise,
            office=office,
            authority_name=authority,
            ground=SeriousListing.Ground.ABNORMAL_THREE_YEARS,
            notice_number=f"{tag}-严告-{i}b",
            decision_number=f"{tag}-严入-{i}b",
            stage=SeriousListing.Stage.REMOVED,
            decided_on=D(2024, 1, 2),
            listed_until=D(2027, 1, 1),
            removed_on=D(2025, 1, 3),
            removal_kind=SeriousListing.RemovalKind.EARLY_REPAIR,
            hidden_from_public=True,
        )
        # Restrictions outliving an early removal run to their own end (the 3-year personal restriction).
        Restriction.objects.create(
            enterprise=early.enterprise,
            serious_listing=early,
            kind=Restriction.Kind.NO_LEGAL_REPRESENTATIVE,
            person_name=f"法人{i}",
            starts_on=D(2023, 7, 1),
            ends_on=D(2026, 6, 30) if k % 2 else AS_OF,  # the rest on their last day
        )
    # Every entity above owes the 2025 report unless it filed: some did.
    for e in Enterprise.objects.filter(region=office).order_by("id")[::4]:
        AnnualReportFactory(enterprise=e, year=2025, filed_on=D(2026, 5, 1))


def snapshot(code: str) -> dict[str, Any]:
    """Everything the jobs can change for region `code`'s world, without ids, timestamps or the region's own
    names (so two regions' worlds compare equal when the same work was done)."""
    office = region(code)
    tokens = [
        (numbering.office_prefix(office), "<office>"),
        (jobs.offices()[code].authority_name, "<authority>"),
        (texts.review_body(office), "<review body>"),
        (code, "<region>"),
    ]

    def norm(value: Any) -> Any:
        if isinstance(value, str):
            for token, replacement in tokens:
                value = value.replace(token, replacement)
            return re.sub(r"9[123]<region>[0-9A-Z]{10}", "<uscc>", value)
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items() if not k.endswith("_id") and k not in {"id"}}
        if isinstance(value, list | tuple):
            return [norm(v) for v in value]
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    entities = {e.pk: e.name for e in Enterprise.objects.filter(region=office)}
    penalty_fields = [
        "decision_number", "disclosed_until", "disclosure_ended_on", "disclosure_end_reason", "tier",
        "repair_possible_from", "policies_reviewed_on", "policy__code",
    ]  # fmt: skip
    listing_fields = [
        "reason", "year", "is_mark", "cause_date", "decided_on", "decision_number", "office_id", "authority_name",
        "legal_basis", "remedies", "facts", "status", "removed_on", "reminder_published_on",
    ]  # fmt: skip
    serious_fields = [
        "ground", "source_abnormal__decision_number", "stage", "notice_number", "noticed_on", "statement_due",
        "decision_number", "decided_on", "listed_until", "removed_on", "removal_kind", "removal_decision_number",
        "hidden_from_public", "legal_basis", "facts", "authority_name",
    ]  # fmt: skip
    restriction_fields = ["serious_listing__notice_number", "kind", "person_name", "starts_on", "ends_on", "ended_on"]

    def rows(qs, fields):
        return sorted(repr((entities[r.pop("enterprise_id")], norm(r))) for r in qs.values("enterprise_id", *fields))

    in_region = Q(enterprise__region=office)
    objects = {
        "disclosure.penalty": Penalty.objects.filter(in_region),
        "disclosure.abnormallisting": AbnormalListing.objects.filter(in_region),
        "disclosure.seriouslisting": SeriousListing.objects.filter(in_region),
        "disclosure.restriction": Restriction.objects.filter(in_region),
    }
    events = []
    for object_type, qs in objects.items():
        ids = [str(pk) for pk in qs.values_list("pk", flat=True)]
        for e in AuditEvent.objects.filter(object_type=object_type, object_id__in=ids):
            label = re.sub(r" \d+$", " <entity>", e.object_repr)  # a restriction names its entity by id
            events.append(repr(norm([e.action, label, e.before, e.after, e.source, e.actor_label])))
    listing_ids = [str(pk) for pk in objects["disclosure.abnormallisting"].values_list("pk", flat=True)]
    messages = sorted(
        repr(norm([m.channel, m.recipient, m.subject, m.body, m.status]))
        for m in OutboxMessage.objects.filter(related_id__in=listing_ids)
    )
    return {
        "penalties": rows(objects["disclosure.penalty"], penalty_fields),
        "listings": rows(objects["disclosure.abnormallisting"], listing_fields),
        "serious": rows(objects["disclosure.seriouslisting"], serious_fields),
        "restrictions": rows(objects["disclosure.restriction"], restriction_fields),
        "audit": sorted(events),
        "audit_count": len(events),
        "messages": messages,
    }


def whole_database() -> dict[str, Any]:
    """Every row the jobs may touch, in full (for "a second run changes nothing")."""
    tables = [Penalty, AbnormalListing, SeriousListing, Restriction, OutboxMessage, DocumentSequence, Enterprise]
    state = {m.__name__: sorted(map(repr, m.objects.values_list())) for m in tables}
    state["AuditEvent"] = AuditEvent.objects.count()
    return state


def counts_of(run: JobRun) -> dict[str, int]:
    assert run.status == JobRun.Status.SUCCEEDED, run.error
    return run.counts


# ==============================================================================================================
# The frame: twice, killed, concurrent
# ==============================================================================================================


@pytest.mark.django_db
def test_the_world_gives_every_job_work_and_the_portable_path_matches_postgresql(monkeypatch):
    """Every job in nightly order over the same world in two regions: once with the PostgreSQL statements, once
    with the portable writes the SQLite demo uses. Same records, same audit trail, same messages."""
    build_world("140702")
    totals = {name: drain(name, AS_OF, chunk_size=3) for name in jobs.NIGHTLY_ORDER}
    assert totals == {
        # 7 reviewed and shortened by the 2025 policy (to 2026-06-11, already past: they expire tonight too)
        "review_disclosure_policies": Counter(reviewed=7, shortened=7),
        # those 7, and 7 past their last day (4 more are on it)
        "expire_disclosures": Counter(expired=14),
        # 49 entities, every 4th filed (13): 36 owe the 2025 report, 3 of them individual businesses
        "list_missing_annual_reports": Counter(listed=33, marked=3),
        # 7 near three years and 7 at three years; 4 of the 14 have no phone
        "abnormal_three_year_reminders": Counter(reminded=14, sms=10, no_contact=4),
        # 4 of 7 at three years (3 are a day short); 7 notices past their window: 6 listed with 5 restrictions each
        # and their source entries removed, 1 not listed (its source entry was removed meanwhile)
        "abnormal_escalation": Counter(noticed=4, decided=6, restrictions=30, abnormal_removed=6, not_listed=1),
        "expire_serious_listings": Counter(removed=7, restrictions_ended=28),
        # of 7 personal restrictions outliving early removals: 3 past, 4 on their last day
        "expire_restrictions": Counter(ended=3),
    }
    expected = snapshot("140702")

    build_world("140703")
    monkeypatch.setattr(jobs, "USE_POSTGRES_SQL", False)
    for name in jobs.NIGHTLY_ORDER:
        drain(name, AS_OF, chunk_size=3)
    assert snapshot("140703") == expected


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", jobs.NIGHTLY_ORDER)
def test_a_job_run_twice_changes_nothing_the_second_time(name):
    build_world("140702")
    first = jobs.run(name, as_of=AS_OF, chunk_size=3)
    assert counts_of(first)  # the world has work for every job
    state = whole_database()

    second = jobs.run(name, as_of=AS_OF, chunk_size=3)
    assert counts_of(second) == {} and second.chunks_done == 0
    assert whole_database() == state


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", jobs.NIGHTLY_ORDER)
def test_a_job_stopped_after_two_chunks_and_rerun_ends_as_one_clean_run(name):
    build_world("140702")
    stopped = jobs.run(name, as_of=AS_OF, chunk_size=2, max_chunks=2)
    assert stopped.chunks_done == 2
    rerun = jobs.run(name, as_of=AS_OF, chunk_size=2)
    assert rerun.status == JobRun.Status.SUCCEEDED and rerun.chunks_done >= 1

    build_world("140703")
    jobs.run(name, as_of=AS_OF, chunk_size=50)
    assert snapshot("140702") == snapshot("140703")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", jobs.NIGHTLY_ORDER)
def test_a_job_killed_inside_its_third_chunk_loses_that_chunk_and_a_rerun_completes_it(name):
    """The worker dies after the third chunk did its writes but before it committed: those writes (and the
    document numbers it drew) roll back; the rerun does them again and the result equals one clean run."""
    build_world("140702")
    step = jobs.JOBS[name].step(2)
    calls = 0

    def dying_step(as_of: dt.date) -> dict[str, int] | None:
        nonlocal calls
        calls += 1
        counts = step(as_of)
        if calls == 3:
            raise RuntimeError("worker killed")
        return counts

    with pytest.raises(RuntimeError, match="worker killed"):
        run_job(name, dying_step, as_of=AS_OF)
    killed = JobRun.objects.get(name=name)
    assert killed.status == JobRun.Status.FAILED and killed.chunks_done == 2 and "worker killed" in killed.error
    assert jobs.run(name, as_of=AS_OF, chunk_size=2).status == JobRun.Status.SUCCEEDED

    build_world("140703")
    jobs.run(name, as_of=AS_OF, chunk_size=50)
    assert snapshot("140702") == snapshot("140703")


@pytest.mark.django_db(transaction=True)
def test_a_second_run_started_while_one_holds_the_lock_is_skipped_and_changes_nothing():
    build_world("140702")
    state = whole_database()
    holding, release = threading.Event(), threading.Event()

    def other_run() -> None:
        from django.db import connection as thread_connection  # its own connection: another session

        try:
            with advisory_lock("expire_disclosures"):
                holding.set()
                release.wait(30)
        finally:
            thread_connection.close()

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert holding.wait(10)
        skipped = jobs.run("expire_disclosures", as_of=AS_OF)
        assert skipped.status == JobRun.Status.SKIPPED
        assert whole_database() == state
    finally:
        release.set()
        thread.join(10)
    done = jobs.run("expire_disclosures", as_of=AS_OF)
    assert done.status == JobRun.Status.SUCCEEDED and done.counts == {"expired": 7}


@pytest.mark.django_db(transaction=True)
def test_two_runs_started_at_once_never_both_work():
    """Two threads start the same job together: one does the work, the other is skipped or finds nothing left."""
    build_world("140702")
    barrier = threading.Barrier(2)
    results: list[JobRun] = []

    def start() -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait(10)
            results.append(jobs.run("list_missing_annual_reports", as_of=AS_OF, chunk_size=1))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    listed = [sum(r.counts.values()) for r in results if r.status == JobRun.Status.SUCCEEDED]
    assert sum(listed) == 36
    assert AbnormalListing.objects.filter(year=2025).count() == 36


@pytest.mark.django_db(transaction=True)
def test_the_nightly_run_goes_on_after_a_failing_job(monkeypatch):
    build_world("140702")

    class Broken(jobs.ChunkStep):
        def __call__(self, as_of):
            raise RuntimeError("disk full")

    monkeypatch.setitem(jobs.JOBS, "expire_disclosures", jobs.Job("expire_disclosures", "broken", Broken))
    outcomes = jobs.run_nightly(as_of=AS_OF, source="command")
    assert [o.name for o in outcomes] == list(jobs.NIGHTLY_ORDER)
    failed = {o.name: o.error for o in outcomes if o.run is None}
    assert list(failed) == ["expire_disclosures"] and "disk full" in failed["expire_disclosures"]
    runs = {r.name: r for r in JobRun.objects.all()}
    assert runs["expire_disclosures"].status == JobRun.Status.FAILED
    assert all(r.status == JobRun.Status.SUCCEEDED for n, r in runs.items() if n != "expire_disclosures")
    assert runs["expire_restrictions"].counts == {"ended": 3}


# ==============================================================================================================
# Commands
# ==============================================================================================================


@pytest.mark.django_db
@pytest.mark.parametrize("name", [*jobs.NIGHTLY_ORDER, "disclosure_nightly"])
def test_every_command_refuses_a_date_that_is_not_a_date(name):
    with pytest.raises(CommandError, match="日期格式应为 YYYY-MM-DD"):
        call_command(name, "--as-of", "2026-13-01")
    with pytest.raises(CommandError, match="日期格式应为 YYYY-MM-DD"):
        call_command(name, "--as-of", "31.12.2026")
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_the_command_refuses_a_chunk_size_below_one():
    with pytest.raises(CommandError, match="chunk-size"):
        call_command("expire_disclosures", "--chunk-size", "0")


@pytest.mark.django_db(transaction=True)
def test_expire_disclosures_command_runs_for_the_given_date_and_prints_its_run(capsys):
    penalty = general_penalty(disclosed_until=D(2026, 12, 30))
    call_command("expire_disclosures", "--as-of", "2026-12-31", "--chunk-size", "10")
    out = capsys.readouterr().out
    assert "expire_disclosures" in out and "2026-12-31" in out and "完成" in out and "expired: 1" in out
    penalty.refresh_from_db()
    assert penalty.disclosure_ended_on == D(2026, 12, 31)
    run = JobRun.objects.get()
    assert (run.name, run.as_of, run.source, run.counts) == ("expire_disclosures", D(2026, 12, 31), "command",
                                                             {"expired": 1})  # fmt: skip
    assert AuditEvent.objects.get(action="penalty.disclosure_expired").source == "command"

    call_command("expire_disclosures", "--as-of", "2026-12-31")
    assert "没有需要处理的记录" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_the_nightly_command_runs_every_job_in_order(capsys):
    build_world("140702")
    call_command("disclosure_nightly", "--as-of", AS_OF.isoformat())
    out = capsys.readouterr().out
    positions = [out.index(name) for name in jobs.NIGHTLY_ORDER]
    assert positions == sorted(positions)
    assert list(JobRun.objects.order_by("started_at").values_list("name", flat=True)) == list(jobs.NIGHTLY_ORDER)


# ==============================================================================================================
# The nightly task through a real worker
# ==============================================================================================================


@pytest.mark.django_db(transaction=True)
def test_the_nightly_task_runs_every_job_through_a_real_worker(celery_worker_session):
    from disclosure.tasks import nightly

    today = timezone.localdate()
    penalty = general_penalty(disclosed_from=today - dt.timedelta(days=90), disclosed_until=today - ONE_DAY)
    AnnualReportFactory(enterprise=penalty.enterprise, year=today.year - 1)  # nothing to list for this entity
    AnnualReportFactory(enterprise=penalty.enterprise, year=today.year - 2)

    nightly.delay()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        finished = JobRun.objects.exclude(status=JobRun.Status.RUNNING).filter(source="beat")
        if finished.count() == len(jobs.NIGHTLY_ORDER):
            break
        time.sleep(0.2)
    runs = {r.name: r for r in JobRun.objects.filter(source="beat")}
    assert set(runs) == set(jobs.NIGHTLY_ORDER)
    assert all(r.status == JobRun.Status.SUCCEEDED and r.as_of == today for r in runs.values())
    assert runs["expire_disclosures"].counts == {"expired": 1}
    penalty.refresh_from_db()
    assert penalty.disclosure_ended_on == today
    assert AuditEvent.objects.get(action="penalty.disclosure_expired").source == "task"


def test_every_job_has_a_task_and_a_command():
    from django.core.management import get_commands

    from config.celery import app

    app.loader.import_default_modules()
    commands = get_commands()
    for name in jobs.NIGHTLY_ORDER:
        assert f"disclosure.tasks.{name}" in app.tasks
        assert commands.get(name) == "disclosure"
    assert "disclosure.tasks.nightly" in app.tasks
    assert connection.vendor == "postgresql"
