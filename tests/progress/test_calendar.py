"""The personal calendar feed: a secret, revocable URL with every assigned course's due date."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar

from lms.extensions import db
from lms.progress.calendar import DueEvent, due_calendar
from tests import factories as f
from tests.catalog.factories_catalog import course
from tests.reports import factories_reports as fr


def test_the_calendar_has_one_all_day_event_per_due_date_with_a_stable_uid():
    events = [DueEvent("due-1-a@lms", "Hạn hoàn thành: Quyền con người", date(2026, 12, 15), "https://x/c/a"),
              DueEvent("due-1-b@lms", "Due: B; with, commas", date(2027, 1, 31))]
    body = due_calendar(events, name="Lịch", now=datetime(2026, 12, 1, tzinfo=UTC))
    cal = Calendar.from_ical(body)
    parsed = list(cal.walk("VEVENT"))
    assert [str(e["uid"]) for e in parsed] == ["due-1-a@lms", "due-1-b@lms"]
    assert parsed[0].decoded("dtstart") == date(2026, 12, 15)
    assert parsed[0].decoded("dtend") == date(2026, 12, 16)
    assert str(parsed[1]["summary"]) == "Due: B; with, commas"  # escaped and read back intact
    assert b"DTSTART;VALUE=DATE:20261215" in body
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))  # folded as RFC 5545 asks
    assert list(parsed[0].walk("VALARM"))


def _officer_with_plan():
    agency = f.agency()
    admin = f.user(agency=agency, roles={"admin"})
    officer = f.user("lich.canbo", agency=agency)
    officer.locale = "vi"
    c = course("lich-khoa-hoc")
    fr.plan(admin, courses=[c], users=[officer], due=date.today() + timedelta(days=20))
    db.session.commit()
    return officer, c


def _make_link(client) -> str:
    page = client.get("/auth/profile").get_data(as_text=True)
    assert 'id="calendar"' in page
    response = client.post("/progress/calendar")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return re.search(r'<code id="calendar-url">http://[^/]+(/progress/calendar/[^<]+\.ics)</code>',
                     response.get_data(as_text=True)).group(1)


def test_an_officer_makes_a_link_and_a_calendar_app_reads_the_due_dates_without_signing_in(app, client, auth):
    officer, c = _officer_with_plan()
    auth.login("lich.canbo")
    path = _make_link(client)
    auth.logout()
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    event = next(iter(Calendar.from_ical(response.data).walk("VEVENT")))
    assert event.decoded("dtstart") == date.today() + timedelta(days=20)
    assert str(event["summary"]).startswith("Hạn hoàn thành: ")
    assert str(event["uid"]) == f"due-{officer.id}-{c.key}@lms"
    assert str(event["url"]).endswith(f"/catalog/c/{c.key}")


def test_a_new_link_revokes_the_old_one_and_switching_off_revokes_both(app, client, auth):
    _officer_with_plan()
    auth.login("lich.canbo")
    first = _make_link(client)
    second = _make_link(client)
    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert client.post("/progress/calendar/remove").status_code == 302
    assert client.get(second).status_code == 404


def test_a_disabled_officer_and_a_guessed_link_get_nothing(app, client, auth):
    officer, _c = _officer_with_plan()
    auth.login("lich.canbo")
    path = _make_link(client)
    officer.active = False
    db.session.commit()
    assert client.get(path).status_code == 404
    assert client.get("/progress/calendar/" + "x" * 43 + ".ics").status_code == 404
    assert client.get("/progress/calendar/" + "x" * 400 + ".ics").status_code == 404


def test_making_a_link_needs_a_signed_in_officer_and_a_csrf_token(app, client):
    response = client.post("/progress/calendar")
    assert response.status_code in (302, 401, 403)
