"""The interface the credit-check/report code uses: published_results and inspection_statistics."""

from __future__ import annotations

import datetime as dt

import pytest

from inspections.selectors import inspection_statistics, published_results

pytestmark = pytest.mark.django_db


def test_it_answers_on_an_empty_database():
    assert list(published_results()) == []
    stats = inspection_statistics(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    assert stats["plans"] == 0 and stats["problem_rate"] == 0.0
    assert set(stats["by_class"]) == {"A", "B", "C", "D", ""}
    stats = inspection_statistics(regions=["140702"], start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    assert stats["tasks"] == 0
