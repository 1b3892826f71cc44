"""Dates and numbers as people in each locale write them (used by templates and exports).

CLDR's short Vietnamese date is "31/5/24"; Vietnamese administrative practice writes 31/05/2024, so
the patterns are explicit here rather than left to the locale's defaults.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale
from markupsafe import Markup

DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
DATETIME_PATTERNS = {"vi": "HH:mm dd/MM/yyyy", "en": "d MMM yyyy, HH:mm"}


def _lang() -> str:
    return str(get_locale() or "vi")


def date_short(value: date | datetime | None) -> str:
    """31/05/2024 in Vietnamese, 31 May 2024 in English; datetimes shown in the local timezone."""
    if value is None:
        return ""
    pattern = DATE_PATTERNS.get(_lang(), DATE_PATTERNS["vi"])
    if isinstance(value, datetime):
        return format_datetime(value, pattern)
    return format_date(value, pattern)


def datetime_short(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, DATETIME_PATTERNS.get(_lang(), DATETIME_PATTERNS["vi"]))


def number(value: float | int | None, digits: int | None = None) -> str:
    if value is None:
        return ""
    if digits is not None:
        return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0")
    return format_decimal(value)


def percent(value: float | None, digits: int = 0) -> str:
    """A fraction 0..1 as a percentage in the locale's style (Vietnamese: 87,5%)."""
    if value is None:
        return "—"
    return format_percent(value, format="#,##0" + ("." + "0" * digits if digits else "") + "%")


def table_wrap_attrs() -> Markup:
    """Attributes of a table's scrolling box: reachable by keyboard, named, with the hint a phone shows."""
    from flask_babel import gettext

    return Markup('tabindex="0" role="region" aria-label="{}" data-hint="{}"').format(
        gettext("Table"), gettext("Swipe sideways to see every column")
    )
