"""Dates as they are written on certificates and transcripts.

Vietnamese formal dates follow the rule for administrative documents in Appendix I of Decree
30/2020/NĐ-CP (carried over from Circular 01/2011/TT-BNV): the date is written in full with Arabic
numerals, and days below 10 and the months 1 and 2 take a leading zero, so that nobody can turn
"ngày 5" into "ngày 15" or "tháng 1" into "tháng 11" by adding a digit. Months 3 to 12 are written
as they are: "ngày 05 tháng 01 năm 2024", "ngày 02 tháng 3 năm 2024", "ngày 31 tháng 5 năm 2024".

English formal dates use the day-month-year order of British usage ("31 May 2024"), which reads the
same way as the Vietnamese one. Short dates are dd/mm/yyyy in both languages, the form every officer
and every HR spreadsheet in the province already uses.
"""

from __future__ import annotations

from datetime import date

LANGUAGES = ("vi", "en")

_ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _check_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")


def formal_date(d: date, lang: str) -> str:
    """Return the date as written in a document's place-and-date line, without the place."""
    _check_language(lang)
    if lang == "vi":
        month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
        return f"ngày {d.day:02d} tháng {month} năm {d.year}"
    return f"{d.day} {_ENGLISH_MONTHS[d.month - 1]} {d.year}"


def short_date(d: date, lang: str) -> str:
    """Return the date as dd/mm/yyyy, the form used in tables in both languages."""
    _check_language(lang)
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"
