"""Big admin imports run as a background job: the same import_file, run by a Celery worker, with a progress page."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from core.models import AuditEvent, Job
from enterprises.importing.background import import_file_run, import_file_start
from enterprises.models import Enterprise
from tests.enterprises.test_import import row, write_csv


@pytest.mark.django_db
def test_the_admin_queues_a_background_import_and_shows_its_progress_page(
    client, data_clerk, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(data_clerk)
    with (
        write_csv(tmp_path, [row(1), row(2)]).open("rb") as fh,
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        response = client.post(reverse("admin:enterprises_enterprise_import"), {"file": fh, "background": "on"})

    job = Job.objects.get(kind="import_file")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:job-detail", args=[job.pk])
    assert len(callbacks) == 1  # the task is enqueued once the job row is committed
    assert Enterprise.objects.count() == 0
    assert AuditEvent.objects.filter(action="enterprise.import_queued").count() == 1

    import_file_run(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["summary"] == "导入成功：2 行（新增 2，更新 0，未变 0）"
    assert (job.progress_done, job.progress_total) == (2, 2)
    assert Enterprise.objects.count() == 2
    assert not list(tmp_path.glob("**/*.upload"))  # the saved upload is removed after the run
    page = client.get(reverse("core:job-detail", args=[job.pk]) + "?format=json").json()
    assert page["finished"] and page["result"]["created"] == 2

    import_file_run(job.pk)  # a job already run is left alone
    assert Enterprise.objects.count() == 2


@pytest.mark.django_db
def test_a_background_import_with_bad_rows_fails_with_the_rows_and_imports_nothing(data_clerk, tmp_path):
    path = write_csv(tmp_path, [row(1), row(2, region_code="000000")])
    job = import_file_start(actor=data_clerk, path=path, file_name="bad.csv")

    import_file_run(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.result["error_count"] == 1
    assert "未知的区县代码“000000”" in job.result["error"]
    assert job.result["errors"][0].startswith("行 3，列 region_code：")
    assert Enterprise.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_background_import(data_clerk, tmp_path, celery_worker_session):
    job = import_file_start(actor=data_clerk, path=write_csv(tmp_path, [row(1)]), file_name="one.csv")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in {Job.Status.SUCCEEDED, Job.Status.FAILED}:
            break
        time.sleep(0.2)
    assert job.status == Job.Status.SUCCEEDED, job.result
    assert Enterprise.objects.count() == 1
