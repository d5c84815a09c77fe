"""The working-day calendar against the official schedules, overrides and refused years."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from core.calendar import CalendarUnavailable, WorkingCalendar
from core.models import CalendarYear, WorkingDayOverride

D = dt.date


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def test_it_counts_across_national_day_2025_and_its_make_up_days(cal):
    # 2025: 1-8 Oct off; Sun 28 Sep and Sat 11 Oct are make-up working days.
    assert cal.is_working_day(D(2025, 9, 28))
    assert not cal.is_working_day(D(2025, 10, 8))
    assert cal.is_working_day(D(2025, 10, 11))
    assert cal.add_working_days(D(2025, 9, 26), 3) == D(2025, 9, 30)
    assert cal.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert cal.add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)


def test_it_counts_across_spring_festival_2026(cal):
    # 2026-02-14 (Sat) and 2026-02-28 (Sat) are make-up working days.
    assert cal.is_working_day(D(2026, 2, 14))
    assert cal.is_working_day(D(2026, 2, 28))
    assert not cal.is_working_day(D(2026, 2, 17))


def test_it_counts_backwards_and_zero(cal):
    assert cal.add_working_days(D(2025, 10, 9), -1) == D(2025, 9, 30)
    assert cal.add_working_days(D(2025, 10, 4), 0) == D(2025, 10, 9)
    assert cal.add_working_days(D(2025, 10, 9), 0) == D(2025, 10, 9)
    assert cal.working_days_between(D(2025, 9, 26), D(2025, 10, 9)) == 4


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_it_agrees_with_chinese_calendar_for_every_day(cal, year):
    day = D(year, 1, 1)
    while day.year == year:
        assert cal.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_it_refuses_a_year_without_official_data(cal):
    with pytest.raises(CalendarUnavailable) as exc:
        cal.is_working_day(D(2027, 3, 1))
    assert "2027" in exc.value.message
    with pytest.raises(CalendarUnavailable):
        cal.add_working_days(D(2026, 12, 28), 10)


@pytest.mark.django_db
def test_overrides_and_a_confirmed_year_are_used():
    WorkingDayOverride.objects.create(date=D(2026, 11, 23), is_working_day=False, reason="本地假日（测试）")
    CalendarYear.objects.create(year=2027, source="国办发明电〔2026〕X号（测试）")
    WorkingDayOverride.objects.create(date=D(2027, 1, 1), is_working_day=False, reason="元旦")
    cal = WorkingCalendar.load()
    assert not cal.is_working_day(D(2026, 11, 23))
    assert cal.add_working_days(D(2026, 11, 20), 1) == D(2026, 11, 24)
    assert not cal.is_working_day(D(2027, 1, 1))
    assert cal.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)


@pytest.mark.django_db
def test_api_answers_and_refuses(api_client):
    url = "/api/v1/calendar/working-days/"
    ok = api_client.get(url, {"start": "2025-09-30", "add": 1})
    assert ok.status_code == 200, ok.content
    assert ok.json()["date"] == "2025-10-09"
    bad = api_client.get(url, {"start": "2025-13-01", "add": 1})
    assert bad.status_code == 400
    assert "start" in bad.json()["error"]["fields"]
    missing = api_client.get(url, {"start": "2027-02-01", "add": 3})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "calendar_year_unavailable"
