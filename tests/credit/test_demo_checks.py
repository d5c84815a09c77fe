"""The demo's credit checks (credit.demo, step "credit_checks"): a red-list policy in force, single checks with
certificates (one reprinted), a small batch with its bad rows listed and its zip, today's warnings — all present
after seed_demo, and a rerun of the warnings job the same day queues nothing new."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.management import call_command

from core.models import Job
from credit import redlist
from credit.models import CertificatePrint, CheckLine, CreditCheck, CreditWarning, RedListPolicy
from credit.warnings import warnings_step

DEMO_TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def seeded(db):
    call_command("seed_demo", enterprises=1500, seed=2026, today=DEMO_TODAY, stdout=io.StringIO())


def test_the_demo_has_checks_certificates_a_batch_warnings_and_the_red_list_policy(seeded):
    policy = RedListPolicy.objects.filter(effective_from__lte=DEMO_TODAY).order_by("-effective_from").first()
    assert policy is not None and policy.years_free == 3
    assert redlist.policy_on(DEMO_TODAY).name == policy.name  # the policy row is what the red list applies

    singles = CreditCheck.objects.filter(kind=CreditCheck.Kind.SINGLE).order_by("pk")
    assert singles.count() == 3
    lines = [check.lines.get() for check in singles]
    assert [line.outcome for line in lines] == ["records", "records", "no_record"]
    assert lines[0].facts["abnormal"] and lines[1].facts["penalties"] and lines[2].red_listed
    assert lines[0].prints == 2 and CertificatePrint.objects.filter(line=lines[0], counter=1).exists()
    assert all(line.serial.startswith("P") for line in lines)

    batch = CreditCheck.objects.get(kind=CreditCheck.Kind.BATCH)
    assert batch.status == CreditCheck.Status.DONE
    outcomes = list(batch.lines.values_list("outcome", flat=True))
    assert len(outcomes) == 22 and outcomes.count(CheckLine.Outcome.MALFORMED) == 1
    assert outcomes.count(CheckLine.Outcome.UNKNOWN) == 1
    assert any("重复" in note["message"] for note in batch.input_notes)
    job = Job.objects.get(pk=batch.job_id)
    assert job.status == Job.Status.SUCCEEDED
    with zipfile.ZipFile(job.result["path"]) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == 20

    warned = CreditWarning.objects.count()
    assert warned > 0
    assert warnings_step(DEMO_TODAY) is None  # a rerun the same day finds nothing new: no repeats
