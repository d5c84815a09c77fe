"""Excel export: exactly the filtered, county-scoped screen, streamed by a background job, downloadable by its owner."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.models import Job
from enterprises.exports import enterprise_export_run, enterprise_export_start
from enterprises.models import Enterprise, Region
from tests.factories import EnterpriseFactory


@pytest.fixture
def population(db):
    taigu = Region.objects.get(code="140703")
    return [
        EnterpriseFactory(name="榆次恒泰商贸有限公司"),
        EnterpriseFactory(name='=HYPERLINK("http://x")恒泰', status=Enterprise.Status.SUSPENDED),
        EnterpriseFactory(name="榆次个体超市", entity_type=Enterprise.EntityType.INDIVIDUAL),
        EnterpriseFactory(name="太谷恒泰农业有限公司", region=taigu),
    ]


def _rows(job: Job) -> list[tuple]:
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.result
    sheet = load_workbook(job.result["path"], read_only=True).active
    return list(sheet.iter_rows(values_only=True))


@pytest.mark.django_db
def test_it_exports_only_the_own_county_and_the_filter(
    county_regulator, population, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = enterprise_export_start(actor=county_regulator, filters={"entity_type": "enterprise"})
    enterprise_export_run(job.pk)
    rows = _rows(job)
    assert rows[0][0] == "统一社会信用代码"
    usccs = {r[0] for r in rows[1:]}
    assert usccs == {population[0].uscc, population[1].uscc}
    job.refresh_from_db()
    assert job.progress_done == job.progress_total == 2


@pytest.mark.django_db
def test_it_never_writes_a_formula(city_regulator, population, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = enterprise_export_start(actor=city_regulator, filters={"status": "suspended"})
    enterprise_export_run(job.pk)
    (_header, row) = _rows(job)
    assert row[1].startswith("'=HYPERLINK")
    assert row[9] == "歇业"


@pytest.mark.django_db
def test_running_a_job_twice_does_nothing_the_second_time(
    city_regulator, population, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = enterprise_export_start(actor=city_regulator, filters={})
    enterprise_export_run(job.pk)
    job.refresh_from_db()
    finished = job.finished_at
    enterprise_export_run(job.pk)
    job.refresh_from_db()
    assert job.finished_at == finished


@pytest.mark.django_db
def test_the_admin_button_queues_the_screen_and_only_the_owner_downloads(
    client, county_regulator, other_county_regulator, population, django_capture_on_commit_callbacks
):
    client.force_login(county_regulator)
    changelist = client.get(reverse("admin:enterprises_enterprise_changelist"), {"status__exact": "suspended"})
    assert reverse("admin:enterprises_enterprise_export") in changelist.content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("admin:enterprises_enterprise_export"), {"status__exact": "suspended"})
    assert response.status_code == 302
    assert len(callbacks) == 1
    job = Job.objects.get()
    assert job.params == {"filters": {"status": "suspended"}}
    enterprise_export_run(job.pk)
    download = client.get(reverse("core:job-download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    client.force_login(other_county_regulator)
    assert client.get(reverse("core:job-download", args=[job.pk])).status_code == 404
    assert client.get(reverse("core:job-detail", args=[job.pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_the_export(city_regulator, population, celery_worker_session):
    job = enterprise_export_start(actor=city_regulator, filters={"region": "140703"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in {Job.Status.SUCCEEDED, Job.Status.FAILED}:
            break
        time.sleep(0.2)
    rows = _rows(job)
    assert [r[1] for r in rows[1:]] == ["太谷恒泰农业有限公司"]
