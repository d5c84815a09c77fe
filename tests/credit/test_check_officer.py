"""The credit-check officer (信用核查专员, issue 7): another department's staff account, scoped to a county, that runs
single and batch checks and prints their certificates, sees only the checks it requested itself, and sees nothing
else — no reports, no dashboard, no registry, lists, inspections or repair."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from core.errors import NotPermitted
from core.models import Job, User
from core.services import user_create
from credit import checks, dashboard, reports
from credit.models import CertificatePrint, CheckLine, CreditCheck
from enterprises.models import Region
from tests.factories import EnterpriseFactory, UserFactory

OFFICER_PERMISSIONS = {
    "credit.add_creditcheck",
    "credit.view_creditcheck",
    "credit.view_checkline",
    "credit.view_certificateprint",
}
CHECK_ADMINS = {CreditCheck, CertificatePrint}


@pytest.fixture
def officer(db) -> User:
    """A procurement officer of 榆次区 (140702)."""
    return UserFactory(username="officer", role=User.Role.CHECK_OFFICER, region_code="140702")


def period() -> dict[str, str]:
    today = timezone.localdate()
    return {"period_start": (today - dt.timedelta(days=365)).isoformat(), "period_end": today.isoformat()}


def check_by(user: User, enterprise) -> CreditCheck:
    today = timezone.localdate()
    return checks.check_single(
        actor=user, uscc=enterprise.uscc, purpose="procurement", start=today - dt.timedelta(days=365), end=today
    )


def print_url(line: CheckLine) -> str:
    return reverse("admin:credit_creditcheck_print", args=[line.check_run_id, line.pk])


# --- the account -------------------------------------------------------------------------------------------------


def test_an_officer_account_needs_a_county(db):
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as caught:
            User(username="nocounty", role=User.Role.CHECK_OFFICER, region_code="").full_clean()
        assert "信用核查专员必须指定所属县（区、市）。" in str(caught.value)
    with pytest.raises(ValidationError):
        user_create(actor=None, username="nocounty", role="check_officer", password=None, region_code="")
    # The database refuses it too, whatever the code path (a bulk update, a shell, a raw save).
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="nocounty", role=User.Role.CHECK_OFFICER, region_code="")
    user = UserFactory(role=User.Role.CHECK_OFFICER, region_code="140702")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(region_code="")


def test_an_officer_account_is_staff_with_only_the_check_permissions(db):
    user = user_create(
        actor=None, username="buyer", role="check_officer", password="Passw0rd!2024", region_code="140702"
    )
    assert user.is_staff and not user.is_superuser
    assert [g.name for g in user.groups.all()] == ["role:check_officer"]
    assert user.get_all_permissions() == OFFICER_PERMISSIONS
    with translation.override("zh-hans"):
        assert user.get_role_display() == "信用核查专员"


# --- checks, batches and certificates ----------------------------------------------------------------------------


def test_an_officer_runs_a_single_check_and_prints_and_reprints_its_certificate(client, officer):
    enterprise = EnterpriseFactory()
    client.force_login(officer)
    assert client.get(reverse("admin:credit_creditcheck_add")).status_code == 200
    response = client.post(
        reverse("admin:credit_creditcheck_add"),
        {"uscc": enterprise.uscc, "purpose": "procurement", "output": "zip", **period()},
    )
    check = CreditCheck.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:credit_creditcheck_change", args=[check.pk]
    )
    assert check.requested_by == officer and check.region_code == "140702" and check.kind == CreditCheck.Kind.SINGLE
    page = client.get(response["Location"])
    assert page.status_code == 200 and enterprise.uscc in page.content.decode()
    # The entity is named, but not linked to the registry record the officer may not open (a 403).
    registry_url = reverse("admin:enterprises_enterprise_change", args=[enterprise.pk])
    assert enterprise.name in page.content.decode() and registry_url not in page.content.decode()
    assert client.get(registry_url).status_code == 403

    line = check.lines.get()
    for counter in (0, 1):  # the print, then a reprint
        response = client.post(print_url(line))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        printed = CertificatePrint.objects.get(line=line, counter=counter)
        assert printed.printed_by == officer and printed.channel == "admin"
    log = client.get(reverse("admin:credit_certificateprint_changelist"))
    assert log.status_code == 200 and line.serial in log.content.decode()


def test_an_officer_runs_a_batch_follows_its_job_and_prints_a_certificate(
    client, officer, django_capture_on_commit_callbacks
):
    mine = [EnterpriseFactory(), EnterpriseFactory()]
    elsewhere = EnterpriseFactory(region=Region.objects.get(code="140703"))
    codes = "\n".join([mine[0].uscc, mine[1].uscc, elsewhere.uscc])
    client.force_login(officer)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("admin:credit_creditcheck_add"), {"codes": codes, "purpose": "funding", "output": "zip", **period()}
        )
    assert response.status_code == 302
    assert len(callbacks) == 1  # the batch job is queued after commit
    check = CreditCheck.objects.get()
    assert check.kind == CreditCheck.Kind.BATCH and check.requested_by == officer
    outcomes = dict(check.lines.values_list("uscc", "outcome"))
    assert outcomes[elsewhere.uscc] == CheckLine.Outcome.OUT_OF_SCOPE  # their county only, like a county regulator

    checks.check_batch_run(check.job_id, workers=1)
    job = Job.objects.get(pk=check.job_id)
    assert job.status == Job.Status.SUCCEEDED and job.created_by == officer
    assert client.get(reverse("core:job-detail", args=[job.pk])).status_code == 200
    download = client.get(reverse("core:job-download", args=[job.pk]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")

    line = check.lines.get(uscc=mine[0].uscc)
    response = client.post(print_url(line))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert CertificatePrint.objects.filter(line=line, printed_by=officer).exists()


# --- only their own checks ---------------------------------------------------------------------------------------


def test_an_officer_sees_only_the_checks_they_requested(client, officer, county_regulator):
    enterprise = EnterpriseFactory()
    own = check_by(officer, enterprise)
    colleague = UserFactory(username="officer2", role=User.Role.CHECK_OFFICER, region_code="140702")
    others = [check_by(county_regulator, enterprise), check_by(colleague, enterprise)]  # same county, other requester

    assert list(CreditCheck.objects.visible_to(officer)) == [own]
    client.force_login(officer)
    listing = client.get(reverse("admin:credit_creditcheck_changelist"))
    assert listing.status_code == 200
    assert [c.pk for c in listing.context["cl"].result_list] == [own.pk]
    assert client.get(reverse("admin:credit_creditcheck_change", args=[own.pk])).status_code == 200
    for other in others:
        assert client.get(reverse("admin:credit_creditcheck_change", args=[other.pk])).status_code == 404
        line = other.lines.get()
        assert client.post(print_url(line)).status_code == 404
        assert not CertificatePrint.objects.filter(line=line).exists()
    # Nor another officer's job page.
    assert client.get(reverse("core:job-detail", args=[_job_of(colleague).pk])).status_code == 404


def _job_of(user: User) -> Job:
    from core.jobs import job_create

    return job_create(kind="credit_check_batch", created_by=user, params={})


def test_an_officer_sees_only_the_prints_of_their_own_checks(client, officer, county_regulator):
    from credit import certificates

    enterprise = EnterpriseFactory()
    theirs = check_by(county_regulator, enterprise).lines.get()
    mine = check_by(officer, enterprise).lines.get()
    certificates.certificate_print(line=theirs, actor=county_regulator, channel="admin")
    certificates.certificate_print(line=mine, actor=officer, channel="admin")
    client.force_login(officer)
    log = client.get(reverse("admin:credit_certificateprint_changelist"))
    assert [p.line_id for p in log.context["cl"].result_list] == [mine.pk]


def test_regulators_still_see_every_check_of_their_scope(
    officer, county_regulator, other_county_regulator, city_regulator
):
    own = check_by(officer, EnterpriseFactory())
    assert list(CreditCheck.objects.visible_to(county_regulator)) == [own]
    assert list(CreditCheck.objects.visible_to(city_regulator)) == [own]
    assert list(CreditCheck.objects.visible_to(other_county_regulator)) == []
    superuser = UserFactory(role=User.Role.CHECK_OFFICER, region_code="140702", is_superuser=True)
    assert list(CreditCheck.objects.visible_to(superuser)) == [own]


# --- nothing else ------------------------------------------------------------------------------------------------


def test_an_officer_cannot_open_the_reports_the_export_or_the_dashboard(client, officer):
    client.force_login(officer)
    assert client.get(reverse("admin:credit_reports")).status_code == 403
    assert client.get(reverse("admin:credit_reports"), {"start": "2026-01-01", "end": "2026-01-31"}).status_code == 403
    assert client.post(reverse("admin:credit_abnormal_detail"), {"status": "listed"}).status_code == 403
    assert client.get(reverse("admin:credit_supervision_dashboard")).status_code == 403
    assert not Job.objects.exists()
    listing = client.get(reverse("admin:credit_creditcheck_changelist"))
    assert listing.context["credit_links"] == []
    html = listing.content.decode()
    assert reverse("admin:credit_reports") not in html and reverse("admin:credit_supervision_dashboard") not in html


def test_the_report_services_refuse_an_officer(officer):
    today = timezone.localdate()
    with pytest.raises(NotPermitted):
        reports.resolve_scope(user=officer, region=None, start=today.replace(day=1), end=today)
    with pytest.raises(NotPermitted):
        dashboard.dashboard_for(officer)
    with pytest.raises(NotPermitted):
        reports.abnormal_detail_start(actor=officer, filters={})


def test_regulators_still_get_the_report_and_dashboard_links(client, county_regulator):
    client.force_login(county_regulator)
    listing = client.get(reverse("admin:credit_creditcheck_changelist"))
    assert [url for url, _label in listing.context["credit_links"]] == [
        reverse("admin:credit_reports"),
        reverse("admin:credit_supervision_dashboard"),
    ]


def test_an_officer_sees_no_other_admin_page(client, officer):
    client.force_login(officer)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    listed = {(app["app_label"], m["object_name"]) for app in index.context["app_list"] for m in app["models"]}
    assert listed == {("credit", "CreditCheck"), ("credit", "CertificatePrint")}
    opened = []
    for model in admin.site._registry:
        if model in CHECK_ADMINS:
            continue
        opts = model._meta
        status = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code
        if status != 403:
            opened.append((opts.label, status))
    assert opened == []


def test_an_officer_cannot_read_the_registry_api(client, officer, enterprise):
    client.force_login(officer)
    assert client.get(reverse("api:enterprise-list")).status_code == 403
    assert client.get(reverse("api:enterprise-detail", args=[enterprise.uscc])).status_code == 403


def test_a_regulator_opens_the_checked_entity_from_the_check(client, county_regulator):
    enterprise = EnterpriseFactory()
    check = check_by(county_regulator, enterprise)
    client.force_login(county_regulator)
    page = client.get(reverse("admin:credit_creditcheck_change", args=[check.pk])).content.decode()
    assert reverse("admin:enterprises_enterprise_change", args=[enterprise.pk]) in page
