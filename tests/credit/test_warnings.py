"""Warnings (失信警示): each cause found on its day, one reminder per entity and cause through the outbox, channel by
contact data, nothing repeated on a second run, the command with --as-of, the admin list of what was sent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.models import JobRun, OutboxMessage
from credit import warnings
from credit.models import CreditWarning
from disclosure.models import AbnormalListing
from enterprises.models import AnnualReport, Enterprise, Region
from tests.disclosure.factories import AbnormalListingFactory
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db(transaction=True)  # run_job commits chunk by chunk

JUNE_10 = dt.date(2026, 6, 10)


def _entities():
    due = EnterpriseFactory(name="未年报甲公司", contact_phone="13912345678", registration_date=dt.date(2020, 1, 1))
    mail = EnterpriseFactory(name="未年报乙公司", contact_email="yi@example.cn", registration_date=dt.date(2020, 1, 1))
    letter = EnterpriseFactory(name="未年报丙公司", registration_date=dt.date(2020, 1, 1))
    filed = EnterpriseFactory(name="已年报公司", contact_phone="13900000000", registration_date=dt.date(2020, 1, 1))
    AnnualReport.objects.create(enterprise=filed, year=2025, filed_on=dt.date(2026, 3, 1))
    EnterpriseFactory(name="今年新设公司", registration_date=dt.date(2026, 2, 1))  # not due for 2025
    EnterpriseFactory(name="已注销公司", status=Enterprise.Status.DEREGISTERED, registration_date=dt.date(2020, 1, 1))
    return due, mail, letter


def test_it_warns_missing_annual_reports_as_30_june_nears_once(db):
    due, mail, letter = _entities()
    assert warnings.run_warnings(as_of=dt.date(2026, 5, 20)).counts == {}  # too early: more than 30 days before

    run = warnings.run_warnings(as_of=JUNE_10)
    assert run.status == JobRun.Status.SUCCEEDED and run.counts == {"annual_report": 3}
    sent = {w.enterprise_id: w for w in CreditWarning.objects.select_related("message")}
    assert set(sent) == {due.pk, mail.pk, letter.pk}
    assert (sent[due.pk].channel, sent[due.pk].recipient) == ("sms", "13912345678")
    assert (sent[mail.pk].channel, sent[mail.pk].recipient) == ("email", "yi@example.cn")
    assert sent[letter.pk].channel == "letter" and "迎宾街" in sent[letter.pk].recipient
    message = sent[due.pk].message
    assert (
        message.status == OutboxMessage.Status.PENDING
        and "2025 年度报告" in message.body
        and "6月30日前" in message.body
    )
    assert sent[due.pk].cause_key == "2025"

    again = warnings.run_warnings(as_of=JUNE_10)
    later = warnings.run_warnings(as_of=dt.date(2026, 6, 25))
    assert again.counts == {} and later.counts == {}
    assert CreditWarning.objects.count() == 3 and OutboxMessage.objects.count() == 3


def test_it_warns_60_days_before_three_years_on_the_abnormal_list(db):
    listing = AbnormalListingFactory(decided_on=dt.date(2023, 10, 15), year=2022, cause_date=dt.date(2023, 6, 30))
    AbnormalListingFactory(decided_on=dt.date(2024, 1, 10), year=2023)  # not yet 60 days before
    AbnormalListingFactory(
        decided_on=dt.date(2023, 10, 16),
        year=2022,
        status=AbnormalListing.Status.REMOVED,
        removed_on=dt.date(2024, 1, 1),
    )
    assert warnings.run_warnings(as_of=dt.date(2026, 8, 15)).counts == {}  # 61 days before
    run = warnings.run_warnings(as_of=dt.date(2026, 8, 16))  # 60 days before 2026-10-15
    assert run.counts == {"abnormal_expiry": 1}
    warning = CreditWarning.objects.get()
    assert warning.enterprise_id == listing.enterprise_id and warning.cause_key == f"listing:{listing.pk}"
    assert "2026-10-15 满三年" in warning.message.body
    assert warnings.run_warnings(as_of=dt.date(2026, 8, 17)).counts == {}
    assert warnings.run_warnings(as_of=dt.date(2026, 10, 16)).counts == {}  # past three years: the escalation job's


def test_a_second_run_the_same_day_sends_nothing(db):
    _entities()
    first = warnings.run_warnings(as_of=JUNE_10)
    second = warnings.run_warnings(as_of=JUNE_10)
    assert sum(first.counts.values()) == 3 and second.counts == {}
    assert OutboxMessage.objects.filter(dedupe_key__startswith="credit-warning:").count() == 3


def test_the_command_takes_as_of(db, capsys):
    _entities()
    call_command("credit_warnings", "--as-of", "2026-06-10")
    assert "annual_report 3" in capsys.readouterr().out
    call_command("credit_warnings", "--as-of", "2026-06-10")
    assert "无新增" in capsys.readouterr().out


def test_the_admin_shows_what_was_sent_to_whom_in_the_county(db, client, county_regulator, other_county_regulator):
    _entities()
    EnterpriseFactory(
        name="太谷未年报公司", region=Region.objects.get(code="140703"), registration_date=dt.date(2020, 1, 1)
    )
    warnings.run_warnings(as_of=JUNE_10)
    assert CreditWarning.objects.count() == 4
    client.force_login(county_regulator)
    response = client.get(reverse("admin:credit_creditwarning_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "未年报甲公司" in body and "13912345678" in body and "太谷未年报公司" not in body
    client.force_login(other_county_regulator)
    body = client.get(reverse("admin:credit_creditwarning_changelist")).content.decode()
    assert "太谷未年报公司" in body and "未年报甲公司" not in body


def test_inspection_findings_are_warned_once(db, monkeypatch):
    """Unreachable-address and correction-order findings (published inspection results, through credit.sources)."""
    from credit import sources

    lost = EnterpriseFactory(name="失联公司", contact_phone="13811112222")
    ordered = EnterpriseFactory(name="责令改正公司", contact_email="fix@example.cn")
    results = [
        sources.InspectionFact(
            1,
            lost.pk,
            dt.date(2026, 8, 1),
            "not_reachable",
            "通过登记的住所无法联系",
            True,
            dt.date(2026, 8, 5),
            "2026年双随机计划",
        ),
        sources.InspectionFact(
            2,
            ordered.pk,
            dt.date(2026, 8, 2),
            "problem",
            "发现问题，责令改正",
            True,
            dt.date(2026, 8, 6),
            "2026年双随机计划",
        ),
        sources.InspectionFact(
            3, ordered.pk, dt.date(2026, 8, 2), "no_problem", "未发现问题", False, dt.date(2026, 8, 6), "另一计划"
        ),
    ]
    monkeypatch.setattr(sources, "published_results", lambda **kwargs: results)
    run = warnings.run_warnings(as_of=dt.date(2026, 8, 10))
    assert run.counts == {"unreachable": 1, "order_pending": 1}
    got = {(w.enterprise_id, w.cause, w.cause_key) for w in CreditWarning.objects.all()}
    assert got == {(lost.pk, "unreachable", "result:1"), (ordered.pk, "order_pending", "result:2")}
    assert warnings.run_warnings(as_of=dt.date(2026, 8, 11)).counts == {}
