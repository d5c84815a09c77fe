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


@pytest.mark.django_db
@pytest.mark.parametrize("postgres_sql", [True, False], ids=["upsert", "portable"])
def test_blocks_for_several_offices_and_types_follow_on_earlier_numbers(monkeypatch, postgres_sql):
    monkeypatch.setattr(numbering, "USE_POSTGRES_SQL", postgres_sql)
    yuci, qixian = Region.objects.get(code="140702"), Region.objects.get(code="140727")
    with transaction.atomic():
        numbering.allocate(office=yuci, doc_type=numbering.ABNORMAL_IN, year=2026, count=3)
        blocks = numbering.allocate_blocks(
            {(qixian, numbering.ABNORMAL_MARK): 2, (yuci, numbering.ABNORMAL_IN): 2, (yuci, numbering.SERIOUS_IN): 1},
            year=2026,
        )
        assert blocks == {
            ("140702", numbering.ABNORMAL_IN): ["榆次市监异入〔2026〕第4号", "榆次市监异入〔2026〕第5号"],
            ("140702", numbering.SERIOUS_IN): ["榆次市监严入〔2026〕第1号"],
            ("140727", numbering.ABNORMAL_MARK): ["祁县市监标异〔2026〕第1号", "祁县市监标异〔2026〕第2号"],
        }
        assert numbering.allocate(office=yuci, doc_type=numbering.ABNORMAL_IN, year=2026) == [
            "榆次市监异入〔2026〕第6号"
        ]
        assert numbering.allocate_blocks({(yuci, numbering.ABNORMAL_IN): 0}, year=2026) == {}


@pytest.mark.django_db
def test_blocks_refuse_unknown_types_and_negative_counts_allocating_nothing():
    yuci = Region.objects.get(code="140702")
    with transaction.atomic():
        with pytest.raises(ValueError):
            numbering.allocate_blocks({(yuci, numbering.ABNORMAL_IN): 1, (yuci, "XX"): 1}, year=2026)
        with pytest.raises(ValueError):
            numbering.allocate_blocks({(yuci, numbering.ABNORMAL_IN): -1}, year=2026)
        assert numbering.allocate(office=yuci, doc_type=numbering.ABNORMAL_IN, year=2026) == [
            "榆次市监异入〔2026〕第1号"
        ]
