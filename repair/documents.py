"""The documents decided on a repair application, rendered as PDF with WeasyPrint (Chinese font embedded:
fonts-wqy-microhei, installed by scripts/install-system-deps.sh) and stored as issued, with their SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils.translation import override

from repair.models import RepairApplication, RepairDocument

TEMPLATE = "repair/pdf/document.html"

TITLES = {
    RepairDocument.DocType.APPROVAL: "信用修复决定书",
    RepairDocument.DocType.REJECTION: "不予信用修复决定书",
    RepairDocument.DocType.REFUSAL: "信用修复申请不予受理通知书",
    RepairDocument.DocType.REVOCATION: "撤销信用修复决定书",
}

REMEDIES = (
    "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，"
    "或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。"
)


def render_pdf(context: dict[str, Any]) -> bytes:
    """The PDF bytes of the document template for `context` (always in Chinese, whatever the staff's UI language)."""
    from weasyprint import HTML  # imported here: loading WeasyPrint costs ~0.5 s, only document work needs it

    with override("zh-hans"):
        html = render_to_string(TEMPLATE, context)
    return HTML(string=html).write_pdf()


def document_context(
    *, application: RepairApplication, doc_type: str, number: str, issued_on: dt.date, body: list[str]
) -> dict[str, Any]:
    enterprise = application.enterprise
    return {
        "title": TITLES[doc_type],
        "number": number,
        "issued_on": issued_on,
        "authority": application.responsible_authority,
        "party_name": enterprise.name,
        "party_uscc": enterprise.uscc,
        "party_representative": enterprise.legal_representative,
        "party_address": enterprise.address,
        "application_number": application.number,
        "filed_on": application.filed_on,
        "record": application.target_label,
        "body": body,
        "remedies": REMEDIES if doc_type != RepairDocument.DocType.APPROVAL else "",
        "free_of_charge": "信用修复不收取任何费用。",
    }


def issue_document(
    *, application: RepairApplication, doc_type: str, number: str, issued_on: dt.date, body: list[str]
) -> RepairDocument:
    """Render and store one document; must run in the transaction of the decision it records."""
    pdf = render_pdf(
        document_context(application=application, doc_type=doc_type, number=number, issued_on=issued_on, body=body)
    )
    digest = hashlib.sha256(pdf).hexdigest()
    document = RepairDocument(
        application=application, doc_type=doc_type, number=number, issued_on=issued_on, sha256=digest
    )
    document.file.save(f"{application.pk}-{doc_type}-{digest[:16]}.pdf", ContentFile(pdf), save=False)
    document.full_clean()
    document.save()
    return document
