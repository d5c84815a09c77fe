"""The risk class is internal (DESIGN.md §3.5): the enterprise's own portal pages, its repair notices and the
decision documents it downloads never show it, nor its score or explanation."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from django.test import Client
from django.urls import reverse

from enterprises.models import Enterprise
from repair.services import applications as services
from tests.credit.test_no_leak import FORBIDDEN
from tests.repair.conftest import TODAY, drain, materials, penalty_for

pytestmark = pytest.mark.django_db
D = dt.date


def test_the_portal_and_the_decision_never_show_the_class(tmp_path, firm, owner, reviewer, amr_department):
    Enterprise.objects.filter(pk=firm.pk).update(risk_class="D")
    penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))
    drain("repair_issue_notices", TODAY)
    application = services.application_submit(
        actor=owner, enterprise=firm, target_type="penalty", target_id=penalty.pk, statement="已履行",
        contact_name="王", contact_phone="139", uploads=materials(),
    )  # fmt: skip
    services.application_accept(actor=reviewer, application=application)
    services.application_approve(actor=reviewer, application=application)
    client = Client()
    client.force_login(owner)
    for url in (
        reverse("repair:dashboard"),
        reverse("repair:application", args=[application.pk]),
        "/api/v1/repair/eligibility/",
        f"/api/v1/repair/applications/{application.pk}/",
    ):
        text = client.get(url).content.decode()
        assert not FORBIDDEN.search(text), (url, FORBIDDEN.search(text).group(0))
        assert "D 类" not in text and "D类" not in text
    if shutil.which("pdftotext"):
        path = tmp_path / "decision.pdf"
        path.write_bytes(application.documents.get().file.read())
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert not FORBIDDEN.search(text)
