"""Due dates as iCalendar (RFC 5545): pure core, plain data in, bytes out (no Flask, no database).

One all-day event per assigned course on its due date, with a reminder the day before, so that a
phone's calendar app shows "what is due" next to the officer's other appointments. The UID is stable
per officer and course, so a calendar that re-reads the feed updates the event instead of adding one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Alarm, Calendar, Event

PRODID = "-//lms//due dates//VI"


@dataclass(frozen=True)
class DueEvent:
    uid: str  # stable: the same officer and course give the same event
    title: str
    due: date
    url: str = ""
    description: str = ""


def due_calendar(events: Sequence[DueEvent], *, name: str, now: datetime,
                 method: str | None = None) -> bytes:
    """A VCALENDAR with one all-day VEVENT per due date (``method="PUBLISH"`` for an e-mail attachment)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    cal.add("x-wr-calname", name)
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", now)
        event.add("summary", item.title)
        event.add("dtstart", item.due)
        event.add("dtend", item.due + timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: the officer is not busy
        if item.description:
            event.add("description", item.description)
        if item.url:
            event.add("url", item.url)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", item.title)
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
