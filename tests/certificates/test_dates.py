"""Formal and short dates on certificates (Decree 30/2020/NĐ-CP, Appendix I)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.printing import formal_date, short_date


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2024, 5, 31), "ngày 31 tháng 5 năm 2024"),
        (date(2024, 1, 5), "ngày 05 tháng 01 năm 2024"),
        (date(2024, 2, 29), "ngày 29 tháng 02 năm 2024"),
        (date(2024, 3, 2), "ngày 02 tháng 3 năm 2024"),
        (date(2024, 12, 10), "ngày 10 tháng 12 năm 2024"),
        (date(2025, 11, 9), "ngày 09 tháng 11 năm 2025"),
    ],
)
def test_vietnamese_formal_date_pads_days_below_10_and_months_1_and_2(d, expected):
    assert formal_date(d, "vi") == expected


@given(st.dates())
def test_vietnamese_formal_date_pads_only_what_could_be_altered_by_a_prefix_digit(d):
    _, day, _, month, _, year = formal_date(d, "vi").split(" ")
    assert len(day) == 2 and int(day) == d.day
    assert month == (f"0{d.month}" if d.month <= 2 else str(d.month))
    assert int(year) == d.year


def test_vietnamese_formal_date_is_nfc():
    import unicodedata

    text = formal_date(date(2024, 5, 31), "vi")
    assert unicodedata.is_normalized("NFC", text)


@pytest.mark.parametrize(
    ("d", "expected"),
    [(date(2024, 5, 31), "31 May 2024"), (date(2024, 1, 5), "5 January 2024")],
)
def test_english_formal_date_is_day_month_name_year(d, expected):
    assert formal_date(d, "en") == expected


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_short_date_is_dd_mm_yyyy_in_both_languages(lang):
    assert short_date(date(2024, 5, 31), lang) == "31/05/2024"
    assert short_date(date(2024, 1, 5), lang) == "05/01/2024"


def test_datetimes_are_written_as_their_date():
    assert short_date(datetime(2024, 5, 31, 23, 59), "vi") == "31/05/2024"


@pytest.mark.parametrize("fn", [formal_date, short_date])
def test_unknown_language_is_refused(fn):
    with pytest.raises(ValueError):
        fn(date(2024, 5, 31), "fr")
