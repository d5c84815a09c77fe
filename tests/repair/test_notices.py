"""两书同达: every disclosed penalty and every listing gets its credit-repair notice (when and how it can be
repaired), in the portal and through the outbox for recent decisions; the sweep is idempotent and crash-safe."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from core.models import JobRun, OutboxMessage
from repair import jobs
from repair.models import RepairNotice
from tests.disclosure.factories import AbnormalListingFactory, SeriousListingFactory
from tests.repair.conftest import TODAY, drain, penalty_for

D = dt.date


@pytest.mark.django_db
def test_each_new_penalty_and_listing_gets_its_notice_once(firm, owner, amr_department):
    penalty = penalty_for(firm, amr_department, decided=D(2026, 11, 18), disclosed_from=D(2026, 11, 19))
    listing = AbnormalListingFactory(enterprise=firm, year=2025, decided_on=D(2026, 11, 2))
    serious = SeriousListingFactory(enterprise=firm, decided_on=D(2026, 11, 3), listed_until=D(2029, 11, 2))
    counts = drain("repair_issue_notices", TODAY)
    assert counts == {"penalty_notices": 1, "abnormal_listing_notices": 1, "serious_listing_notices": 1, "sent": 3}
    notice = RepairNotice.objects.get(penalty=penalty)
    assert notice.repairable and notice.repair_from == D(2027, 2, 19)  # 2025 rules: 3 months of disclosure
    assert "2027年2月19日" in notice.text and "不收取任何费用" in notice.text
    assert RepairNotice.objects.get(abnormal_listing=listing).text.count("即申即办") == 1
    assert RepairNotice.objects.get(serious_listing=serious).repair_from == D(2027, 11, 3)
    messages = OutboxMessage.objects.filter(related_type="repair.repairnotice")
    assert messages.count() == 3 and {m.recipient for m in messages} == {firm.contact_phone}
    # Run again: nothing new, nothing sent twice.
    assert drain("repair_issue_notices", TODAY) == {}
    assert OutboxMessage.objects.filter(related_type="repair.repairnotice").count() == 3
    # The entity reads them in its portal; another entity does not.
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("repair:dashboard")).content.decode()
    assert notice.text in page


@pytest.mark.django_db
def test_a_minor_penalty_notice_says_it_expires_by_itself(firm, amr_department):
    penalty = penalty_for(
        firm, amr_department, decided=D(2026, 11, 18), disclosed_from=D(2026, 11, 19), fine_amount=Decimal("2000")
    )
    drain("repair_issue_notices", TODAY)
    notice = RepairNotice.objects.get(penalty=penalty)
    assert not notice.repairable and "自动停止公示" in notice.text


@pytest.mark.django_db
def test_old_records_get_a_portal_notice_but_no_message(firm, amr_department):
    penalty = penalty_for(firm, amr_department, decided=D(2026, 6, 1), disclosed_from=D(2026, 6, 2))
    assert drain("repair_issue_notices", TODAY)["sent"] == 0
    assert not RepairNotice.objects.get(penalty=penalty).sent
    assert not OutboxMessage.objects.filter(related_type="repair.repairnotice").exists()


@pytest.mark.django_db(transaction=True)
def test_a_killed_sweep_finishes_on_rerun_like_a_clean_run(firm, amr_department):
    for n in range(5):
        penalty_for(
            firm,
            amr_department,
            decided=D(2026, 11, 2 + n),
            disclosed_from=D(2026, 11, 3 + n),
            number=f"K{n}",
            violation_type=f"违法{n}",
        )
    first = jobs.run("repair_issue_notices", as_of=TODAY, chunk_size=2, max_chunks=1)
    assert first.counts["penalty_notices"] == 2
    second = jobs.run("repair_issue_notices", as_of=TODAY, chunk_size=2)
    assert second.status == JobRun.Status.SUCCEEDED and second.counts["penalty_notices"] == 3
    assert RepairNotice.objects.count() == 5
    assert OutboxMessage.objects.filter(related_type="repair.repairnotice").count() == 5
    third = jobs.run("repair_issue_notices", as_of=TODAY, chunk_size=2)
    assert third.counts == {}
    assert not jobs.notices_pending(TODAY)


@pytest.mark.django_db
def test_overdue_applications_are_flagged_to_the_offices_regulators_once_a_day(
    monkeypatch, firm, owner, amr_department
):
    from core.models import User
    from repair.services import applications as services
    from tests.factories import UserFactory
    from tests.repair.conftest import materials, set_today

    supervisor = UserFactory(
        username="yuci-boss", role=User.Role.COUNTY_REGULATOR, region_code="140702", email="boss@yuci.example"
    )
    UserFactory(
        username="taigu-boss", role=User.Role.COUNTY_REGULATOR, region_code="140703", email="boss@taigu.example"
    )
    penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))
    application = services.application_submit(
        actor=owner, enterprise=firm, target_type="penalty", target_id=penalty.pk, statement="已履行",
        contact_name="王", contact_phone="139", uploads=materials(),
    )  # fmt: skip
    assert application.acceptance_due == D(2026, 11, 25)
    set_today(monkeypatch, D(2026, 11, 25))
    assert drain("repair_overdue_digest", D(2026, 11, 25)) == {"offices": 0, "overdue": 0, "messages": 0}
    counts = drain("repair_overdue_digest", D(2026, 11, 26))
    assert counts == {"offices": 1, "overdue": 1, "messages": 1}
    message = OutboxMessage.objects.get(dedupe_key__startswith="repair-overdue:")
    assert message.recipient == supervisor.email and application.number in message.body
    assert drain("repair_overdue_digest", D(2026, 11, 26))["messages"] == 0  # the same day again: nothing new
    assert drain("repair_overdue_digest", D(2026, 11, 27))["messages"] == 1  # the next day: reminded again
