"""The documents of a decision are PDFs with the Chinese font embedded (checked with pdffonts, not pdftotext, which
reads Chinese even when the glyphs are missing) and say what was decided."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest

from repair.services import applications as services
from tests.repair.conftest import materials, penalty_for

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils is installed by make test")
def test_the_decision_document_embeds_a_cjk_font_and_states_the_decision(
    tmp_path, firm, owner, reviewer, amr_department
):
    penalty = penalty_for(firm, amr_department, decided=D(2026, 3, 2), disclosed_from=D(2026, 3, 3))
    application = services.application_submit(
        actor=owner, enterprise=firm, target_type="penalty", target_id=penalty.pk, statement="已履行",
        contact_name="王", contact_phone="139", uploads=materials(),
    )  # fmt: skip
    services.application_accept(actor=reviewer, application=application)
    services.application_approve(actor=reviewer, application=application, reason="罚款已缴清，危害后果已消除。")
    document = application.documents.get()
    path = tmp_path / "decision.pdf"
    path.write_bytes(document.file.read())
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "WenQuanYi" in fonts or "wqy" in fonts.lower(), fonts
    embedded = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert embedded and all(" yes " in line for line in embedded), fonts
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    compact = "".join(text.split())
    assert "信用修复决定书" in compact
    assert document.number in compact
    assert firm.name in compact and firm.uscc in compact
    assert penalty.decision_number in compact
    assert "提前停止公示" in compact
    assert "晋中市榆次区市场监督管理局" in compact
