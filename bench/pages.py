"""Pages under gunicorn: requests/s and p50/p99 of the pages officers and HR use, next to the floors.

For each size, lms and the floor app (:mod:`bench.floors`) are served on the same seeded database
with the same gunicorn settings; wrk (16 connections) measures every page and both floors in turn,
round after round. Also recorded here: peak RSS of a worker after the runs, and the weight of the
officer pages (HTML bytes, sub-resources, third-party requests).
"""

from __future__ import annotations

import re
import time
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from bench.core import Figure, Run, median
from bench.server import serve, wrk


@dataclass
class Page:
    name: str
    path: str
    user: str
    officer: bool  # officer pages: >= 0.4x the bare endpoint and >= 1x the bare Jinja page


def session_cookie(app: Any, username: str) -> str:
    """A signed session cookie for ``username`` (what logging in would set), valid on any server with
    the same secret key."""
    from flask import session
    from flask_login import login_user
    from sqlalchemy import select

    from lms.extensions import db
    from lms.org.models import User

    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        user = db.session.scalar(select(User).where(User.username == username))
        login_user(user)
        value = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def app_for(url: str) -> Any:
    from lms import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key"})


def pages_for(app: Any) -> list[Page]:
    """The main pages, with ids from the database (an in-progress attempt is started for the take page)."""
    from sqlalchemy import select

    from lms.catalog.models import Course, Lesson
    from lms.extensions import db
    from lms.org.models import User
    from lms.quizzes import services as quizzes
    from lms.quizzes.models import Quiz
    from lms.reports.models import Plan

    with app.app_context():
        officer = db.session.scalar(select(User).where(User.username == "officer"))
        course = db.session.scalar(select(Course).where(Course.key == "hr-foundations"))
        lesson = db.session.scalar(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.position))
        quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.key == "m1-quiz"))
        plan = db.session.scalar(select(Plan).where(Plan.status == "active"))
        from datetime import UTC, datetime, timedelta

        from lms.progress import services as progress

        # The same state at every size: the generator may leave the demo officer in this course or not,
        # and a page for an officer who is not enrolled takes other branches (other statements).
        if progress.enrollment_for(officer, course) is None:
            progress.enrol(officer, course)

        # Started "now" plus a day, so the attempt stays open while the bench reads it.
        attempt = quizzes.start_attempt(officer, quiz, "vi", now=datetime.now(UTC) + timedelta(days=1))
        db.session.commit()
        return [
            Page("officer home", "/", "officer", True),
            Page("course page", f"/catalog/c/{course.key}", "officer", True),
            Page("lesson", f"/catalog/c/{course.key}/{lesson.key}", "officer", True),
            Page("quiz take page", f"/quizzes/attempts/{attempt.id}", "officer", True),
            Page("HR agency report", "/reports/agencies", "hr", False),
            Page("plan dashboard", f"/reports/plans/{plan.id}", "hr", False),
        ]


class _Resources(HTMLParser):
    """The sub-resources a browser would fetch for a page: scripts, images, stylesheets, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "img") and a.get("src"):
            self.urls.append(a["src"] or "")
        elif tag == "link" and a.get("href") and (a.get("rel") or "") in ("stylesheet", "icon", "preload"):
            self.urls.append(a["href"] or "")


def weight(base: str, page: Page, cookie: str) -> dict[str, Any]:
    request = urllib.request.Request(base + page.path, headers={"Cookie": cookie})
    html = urllib.request.urlopen(request, timeout=30).read()  # noqa: S310 (our own server)
    parser = _Resources()
    parser.feed(html.decode("utf-8", "replace"))
    third = [u for u in parser.urls if re.match(r"(https?:)?//", u) and "127.0.0.1" not in u]
    return {"bytes": len(html), "requests": 1 + len(set(parser.urls)), "third_party": len(third)}


def single(url: str, cookie: str) -> float:
    """Seconds one request takes (nothing else in flight)."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        urllib.request.urlopen(request, timeout=300).read()  # noqa: S310 (our own server)
    except TimeoutError:
        return float("inf")  # more than 5 minutes (the HR pages at 200,000 officers on a busy machine)
    return time.monotonic() - started


def drain(base: str) -> None:
    """Wait for the requests wrk left in flight (the server finishes them after wrk has gone): a slow
    page must not eat the next page's round. Waits until a static file answers within 0.5 s."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            urllib.request.urlopen(base + "/static/css/app.css", timeout=5).read()  # noqa: S310
            if time.monotonic() - started < 0.5:
                return
        except OSError:
            pass
        time.sleep(0.5)


def run(ctx: Run) -> None:
    for size in ctx.sizes:
        url = ctx.database(size)
        seconds = 3 if ctx.quick or size != 20000 else 10
        app = app_for(url)
        pages = pages_for(app)
        with app.app_context():
            cookies = {u: session_cookie(app, u) for u in {p.user for p in pages}}
        with serve("lms:create_app()", url, port=ctx.port()) as lms_server, \
                serve("bench.floors:create_app()", url, port=ctx.port(), probe="/bare") as floor_server:
            too_slow: set[str] = set()
            for page in pages:  # warm every worker's caches before measuring
                warm = wrk(lms_server.base + page.path, seconds=seconds, cookie=cookies[page.user])
                drain(lms_server.base)
                if warm.requests == 0 and single(lms_server.base + page.path, cookies[page.user]) > 10:
                    too_slow.add(page.name)  # one request takes longer than wrk's timeout: no rounds
            samples: dict[str, list[Any]] = {p.name: [] for p in pages}
            floors: dict[str, list[Any]] = {"bare": [], "jinja": []}
            for _round in range(ctx.rounds):
                floors["bare"].append(wrk(floor_server.base + "/bare", seconds=seconds))
                for page in pages:
                    if page.name in too_slow:
                        continue
                    result = wrk(lms_server.base + page.path, seconds=seconds, cookie=cookies[page.user])
                    samples[page.name].append(result)
                    drain(lms_server.base)
                floors["jinja"].append(wrk(floor_server.base + "/bare-jinja", seconds=seconds))
            bare = median([r.rps for r in floors["bare"]])
            jinja = median([r.rps for r in floors["jinja"]])
            ctx.add(Figure("pages", "bare Flask endpoint", bare, "req/s", size=size, better="higher",
                           extra={"p50_ms": median([r.p50_ms for r in floors["bare"]]),
                                  "p99_ms": median([r.p99_ms for r in floors["bare"]])}))
            ctx.add(Figure("pages", "bare 50-row Jinja page", jinja, "req/s", size=size, better="higher",
                           extra={"p50_ms": median([r.p50_ms for r in floors["jinja"]]),
                                  "p99_ms": median([r.p99_ms for r in floors["jinja"]])}))
            for page in pages:
                results = samples[page.name]
                if page.name in too_slow:
                    ctx.add(Figure("pages", page.name, 0.0, "req/s", floor=bare, floor_name="bare endpoint",
                                   better="higher", target=">= 0.2x bare", met=False, size=size,
                                   extra={"path": page.path, "note": "no answer within wrk's 10 s timeout; "
                                          "see the reports scenario for its time"}))
                    continue
                rps = median([r.rps for r in results])
                extra = {"p50_ms": median([r.p50_ms for r in results]),
                         "p99_ms": median([r.p99_ms for r in results]),
                         "errors": sum(r.errors for r in results), "path": page.path,
                         "vs_jinja": rps / jinja if jinja else None}
                if page.officer:
                    met = rps >= 0.4 * bare and rps >= jinja and extra["errors"] == 0
                    target = ">= 0.4x bare and >= 1x Jinja"
                else:
                    met = rps >= 0.2 * bare and extra["errors"] == 0
                    target = ">= 0.2x bare"
                ctx.add(Figure("pages", page.name, rps, "req/s", floor=bare, floor_name="bare endpoint",
                               better="higher", target=target, met=met, size=size, extra=extra))
            rss = lms_server.peak_rss_mb()
            ctx.add(Figure("memory", "gunicorn worker peak RSS after the page runs", rss, "MB", size=size,
                           floor=floor_server.peak_rss_mb(), floor_name="floor app worker",
                           target="< 150 MB", met=rss < 150))
            if size == ctx.sizes[0]:
                for page in pages:
                    if not page.officer:
                        continue
                    w = weight(lms_server.base, page, cookies[page.user])
                    ctx.add(Figure("weight", f"{page.name}: HTML", w["bytes"] / 1024, "KB", size=size,
                                   target="< 100 KB, 0 third-party",
                                   met=w["bytes"] < 100 * 1024 and w["third_party"] == 0,
                                   extra={"requests": w["requests"], "third_party": w["third_party"]}))
