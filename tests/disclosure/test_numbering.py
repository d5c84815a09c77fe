"""Decision-document numbers: per office, type and year, consecutive, never reused, given back on rollback."""

from __future__ import annotations

import pytest
from django.db import transaction

from disclosure import numbering
from enterprises.models import Region


@pytest.mark.django_db
def test_it_numbers_per_office_type_and_year():
    yuci, qixian = Region.objects.get(code="140702"), Region.objects.get(code="140727")
    with transaction.atomic():
        assert numbering.allocate(office=yuci, doc_type=numbering.ABNORMAL_IN, year=2026, count=2) == [
            "榆次市监异入〔2026〕第1号",
            "榆次市监异入〔2026〕第2号",
        ]
        assert numbering.allocate(office=yuci, doc_type=numbering.ABNORMAL_IN, year=2026) == [
            "榆次市监异入〔2026〕第3号"
        ]
        assert numbering.allocate(office=yuci, doc_type=numbering.ABNORMAL_OUT, year=2026) == [
            "榆次市监异出〔2026〕第1号"
        ]
        assert numbering.allocate(office=yuci, doc_type=numbering.ABNORMAL_IN, year=2027) == [
            "榆次市监异入〔2027〕第1号"
        ]
        assert numbering.allocate(office=qixian, doc_type=numbering.SERIOUS_IN, year=2026) == [
            "祁县市监严入〔2026〕第1号"
        ]


@pytest.mark.django_db
def test_a_rolled_back_transaction_gives_its_numbers_back():
    yuci = Region.objects.get(code="140702")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        numbering.allocate(office=yuci, doc_type=numbering.ABNORMAL_IN, year=2026, count=5)
        1 / 0  # noqa: B018
    with transaction.atomic():
        assert numbering.allocate(office=yuci, doc_type=numbering.ABNORMAL_IN, year=2026) == [
            "榆次市监异入〔2026〕第1号"
        ]


@pytest.mark.django_db
def test_it_refuses_unknown_types():
    with pytest.raises(ValueError), transaction.atomic():
        numbering.allocate(office=Region.objects.get(code="140702"), doc_type="XX", year=2026)
