"""Quizzes under load: 200 officers submitting at once while 50 others autosave every second.

On a scratch copy of the 1,000-officer province served by gunicorn: 250 officers start an attempt
(in this process, through the services), each gets a signed session and CSRF token; then 200 threads
post their submit at the same moment (a barrier) while 50 threads autosave a changing answer every
second. Afterwards the database must show every submit graded once with the answers sent (0 lost,
0 doubled), every autosaver's last answer stored, and no request may have failed.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bench.core import Figure, Run, median
from bench.pages import app_for
from bench.server import serve

SUBMITTERS = 200
AUTOSAVERS = 50
AUTOSAVE_SECONDS = 10


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.perf_counter()
    try:
        with _opener.open(request, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as err:
        status = err.code
    except OSError:  # no answer within the timeout, connection refused or reset: an error for the officer
        status = 0
    return status, time.perf_counter() - started


def _prepare(app: Any, rng: random.Random) -> list[dict[str, Any]]:
    """Start an attempt for 250 officers; their cookie, CSRF token and the answers to send."""
    from flask import g, session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    from lms.catalog.models import Course
    from lms.demo import _Replay
    from lms.extensions import db
    from lms.org.models import User
    from lms.progress import services as progress
    from lms.quizzes import services as quizzes
    from lms.quizzes.models import Attempt, Quiz

    answerer = _Replay(None, rng, None, None)  # type: ignore[arg-type]
    people = []
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.key == "misinformation-response"))
        quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.final.is_(False))
                                 .order_by(Quiz.id))
        busy = select(Attempt.user_id).where(Attempt.quiz_id == quiz.id)
        users = list(db.session.scalars(select(User).where(User.username.like("%@%").is_(False),
                                                           User.id.not_in(busy), User.active.is_(True))
                                        .order_by(User.id).limit(SUBMITTERS + AUTOSAVERS)))
        now = datetime.now(UTC)
        for user in users:
            progress.enrol(user, course)
            attempt = quizzes.start_attempt(user, quiz, "vi", now=now)
            values = {int(s["slot"]): answerer._answer(s, rng.random() < 0.8, "vi") for s in attempt.slots}
            other = {int(s["slot"]): answerer._answer(s, False, "vi") for s in attempt.slots}
            people.append({"user_id": user.id, "attempt_id": attempt.id, "values": values, "other": other,
                           "slots": [int(s["slot"]) for s in attempt.slots]})
        db.session.commit()
        for person in people:
            user = db.session.get(User, person["user_id"])
            with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
                g.__dict__.clear()  # the app context (and g's cached CSRF token) outlives each request
                login_user(user)
                person["csrf"] = generate_csrf()
                value = app.session_interface.get_signing_serializer(app).dumps(dict(session))
            person["cookie"] = f"{app.config['SESSION_COOKIE_NAME']}={value}"
    return people


def run(ctx: Run) -> None:
    from lms.extensions import db
    from lms.progress.models import QuizResult
    from lms.quizzes.models import Attempt, AttemptAnswer

    url = ctx.scratch_copy(ctx.sizes[0], "quizzes")
    app = app_for(url)
    rng = random.Random(5)
    people = _prepare(app, rng)
    submitters, savers = people[:SUBMITTERS], people[SUBMITTERS:]
    results: dict[str, list[tuple[int, float]]] = {"submit": [], "save": []}
    last_saved: dict[tuple[int, int], list[str]] = {}  # (attempt, slot) -> last value saved with 200
    lock = threading.Lock()
    with serve("lms:create_app()", url, port=ctx.port()) as server:
        barrier = threading.Barrier(SUBMITTERS + 1)

        def submit(person: dict[str, Any]) -> None:
            form = [("csrf_token", person["csrf"]), ("slots", ",".join(map(str, person["slots"])))]
            for slot, values in person["values"].items():
                form += [(f"q{slot}", v) for v in values]
            body = urllib.parse.urlencode(form).encode()
            headers = {"Cookie": person["cookie"], "Content-Type": "application/x-www-form-urlencoded",
                       "Referer": server.base + "/"}
            barrier.wait()
            outcome = _post(f"{server.base}/quizzes/attempts/{person['attempt_id']}/submit", body, headers)
            with lock:
                results["submit"].append(outcome)

        stop = threading.Event()

        def autosave(person: dict[str, Any]) -> None:
            headers = {"Cookie": person["cookie"], "Content-Type": "application/json",
                       "X-CSRFToken": person["csrf"], "Accept": "application/json",
                       "Referer": server.base + "/"}
            slots = list(person["values"].items())
            turn = 0
            while not stop.is_set():
                slot, _value = slots[turn % len(slots)]
                value = person["values"][slot] if turn % 2 == 0 else person["other"][slot]
                body = json.dumps({"answers": {str(slot): value}}).encode()
                outcome = _post(f"{server.base}/quizzes/attempts/{person['attempt_id']}/save", body, headers)
                with lock:
                    results["save"].append(outcome)
                    if outcome[0] == 200:
                        last_saved[(person["attempt_id"], slot)] = value
                turn += 1
                stop.wait(1.0)

        savers_threads = [threading.Thread(target=autosave, args=(p,)) for p in savers]
        for t in savers_threads:
            t.start()
        time.sleep(1.5)
        threads = [threading.Thread(target=submit, args=(p,)) for p in submitters]
        for t in threads:
            t.start()
        barrier.wait()
        burst_started = time.perf_counter()
        for t in threads:
            t.join()
        burst = time.perf_counter() - burst_started
        time.sleep(max(0.0, AUTOSAVE_SECONDS - burst))
        stop.set()
        for t in savers_threads:
            t.join()

    with app.app_context():
        from lms.quizzes.services import parse_values

        everyone = [p["attempt_id"] for p in people]
        rows = {a.id: a for a in db.session.scalars(select(Attempt).where(Attempt.id.in_(everyone)))}
        stored = {(r.attempt_id, r.slot): r.response for r in db.session.scalars(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id.in_(everyone)))}

        def canonical(attempt_id: int, slot: int, value: list[str]) -> Any:
            # As stored: through JSON (a tuple of choices comes back as a list).
            return json.loads(json.dumps(parse_values(rows[attempt_id], {slot: value})[slot]))

        lost = sum(1 for p in submitters if rows[p["attempt_id"]].status == "in_progress")
        wrong_answers = sum(1 for p in submitters for slot, value in p["values"].items()
                            if stored.get((p["attempt_id"], slot)) != canonical(p["attempt_id"], slot, value))
        counts = dict(db.session.execute(
            select(QuizResult.user_id, QuizResult.attempts_count)
            .where(QuizResult.user_id.in_([p["user_id"] for p in submitters]))).all())
        doubled = sum(1 for p in submitters if counts.get(p["user_id"], 0) > 1)
        extra_attempts = db.session.scalar(
            select(func.count()).select_from(Attempt)
            .where(Attempt.quiz_id == rows[people[0]["attempt_id"]].quiz_id,
                   Attempt.user_id.in_([p["user_id"] for p in people]))) - len(people)
        lost_saves = sum(1 for (attempt_id, slot), value in last_saved.items()
                         if stored.get((attempt_id, slot)) != canonical(attempt_id, slot, value))
    submit_errors = sum(1 for status, _s in results["submit"] if status != 302)
    save_errors = sum(1 for status, _s in results["save"] if status != 200)
    latencies = sorted(s for _st, s in results["submit"])
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0
    save_lat = sorted(s for _st, s in results["save"])
    save_p95 = save_lat[int(0.95 * (len(save_lat) - 1))] if save_lat else 0.0
    ok = lost == 0 and wrong_answers == 0 and doubled == 0 and extra_attempts == 0 and submit_errors == 0
    ctx.add(Figure("quizzes", f"{SUBMITTERS} simultaneous submits", SUBMITTERS / burst if burst else 0,
                   "submits/s", size=ctx.sizes[0], target="0 lost, 0 doubled, 0 errors", met=ok,
                   extra={"p95_s": p95, "p50_s": median(latencies), "seconds": burst, "lost": lost,
                          "answers_lost": wrong_answers, "doubled": doubled, "extra_attempts": extra_attempts,
                          "errors": submit_errors,
                          "statuses": dict(Counter(status for status, _s in results["submit"]))}))
    ctx.add(Figure("quizzes", f"{AUTOSAVERS} officers autosaving every second", len(results["save"]) / max(
        1.0, AUTOSAVE_SECONDS), "saves/s", size=ctx.sizes[0], target="0 lost, 0 errors",
        met=save_errors == 0 and lost_saves == 0,
        extra={"p95_s": save_p95, "saves": len(results["save"]), "errors": save_errors, "lost": lost_saves,
               "statuses": dict(Counter(status for status, _s in results["save"]))}))
