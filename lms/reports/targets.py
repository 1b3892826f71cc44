"""Plan targets and how far along they are: pure rules, no Flask, no database.

A target asks that an actual share (0..1) lie within [minimum, maximum]. Its status compares the
actual value with where it should be by now: the minimum scaled by the share of the plan's time that
has passed. "On track" when met or ahead of that pace, "at risk" within 80% of it, "behind" below
that, or whenever the due date has passed without the target being met.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from lms.i18n import N_

AT_RISK_RATIO = 0.8


class Status(enum.StrEnum):
    on_track = "on_track"
    at_risk = "at_risk"
    behind = "behind"
    no_data = "no_data"


STATUS_LABELS = {
    Status.on_track: N_("On track"),
    Status.at_risk: N_("At risk"),
    Status.behind: N_("Behind"),
    Status.no_data: N_("No data yet"),
}

# The registry of target kinds: label and explanation for forms, pages and exports.
TARGET_KINDS: dict[str, tuple[str, str]] = {
    "officers_completed": (
        N_("Officers who completed every course of the plan"),
        N_("Share of the officers in the target group who completed all the plan's courses."),
    ),
    "completed_on_time": (
        N_("Assigned courses completed on time"),
        N_("Share of the plan's assigned courses completed by their due date."),
    ),
    "courses_other_language": (
        N_("Courses in minority or foreign languages or in digital formats"),
        N_("Share of the plan's courses that have an edition in a language of the province's ethnic "
           "minorities (ISO 639-3 codes set in MINORITY_LANGUAGES), an edition in a foreign language, or "
           "audio or video files; each part is counted from the courses' language editions and files "
           "and shown apart, and a course counts once however many parts it has."),
    ),
}


def elapsed_share(start: date | None, due: date | None, today: date) -> float:
    """How much of the plan's time has passed (0..1); 1 without dates (judge against the full goal)."""
    if due is None or start is None or due <= start:
        return 1.0
    return min(1.0, max(0.0, (today - start).days / (due - start).days))


def is_met(actual: float, minimum: float | None, maximum: float | None) -> bool:
    return (minimum is None or actual >= minimum - 1e-9) and (maximum is None or actual <= maximum + 1e-9)


def target_status(
    actual: float | None,
    minimum: float | None,
    maximum: float | None,
    *,
    start: date | None,
    due: date | None,
    today: date,
) -> Status:
    """Where a target stands today (see the module docstring for the rule)."""
    if actual is None:
        return Status.no_data
    if is_met(actual, minimum, maximum):
        return Status.on_track
    if due is not None and today > due:
        return Status.behind
    if minimum is None or actual > (maximum if maximum is not None else 1.0):
        # Above a ceiling: nothing time will fix.
        return Status.behind
    expected = minimum * elapsed_share(start, due, today)
    if actual >= expected:
        return Status.on_track
    if actual >= expected * AT_RISK_RATIO:
        return Status.at_risk
    return Status.behind


@dataclass(frozen=True)
class TargetResult:
    kind: str
    minimum: float | None
    maximum: float | None
    actual: float | None
    numerator: int
    denominator: int
    status: Status
    note: str = ""
    # The parts that make up the actual value (key "minority", "foreign", "digital" -> courses).
    parts: tuple[tuple[str, int], ...] = ()


def share(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when there is nothing to divide."""
    return numerator / denominator if denominator else None


# The parts of the communication-products target and what each one counts.
PRODUCT_PARTS: dict[str, tuple[str, str]] = {
    "minority": (N_("Ethnic-minority languages"),
                 N_("an edition in a language of the province's ethnic minorities")),
    "foreign": (N_("Foreign languages"), N_("an edition in a foreign language (English, French ...)")),
    "digital": (N_("Digital formats"), N_("audio or video files in the course")),
}


def product_parts(languages: list[str], has_media: bool, minority: frozenset[str]) -> set[str]:
    """Which parts of the communication-products target one course counts for (pure).

    ``languages`` are its editions' codes (BCP 47; the primary subtag decides); Vietnamese is neither
    minority nor foreign."""
    parts: set[str] = set()
    for code in languages:
        primary = code.split("-")[0].lower()
        if primary == "vi":
            continue
        parts.add("minority" if primary in minority else "foreign")
    if has_media:
        parts.add("digital")
    return parts
