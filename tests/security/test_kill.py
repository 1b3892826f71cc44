"""Processes killed with SIGKILL lose nothing: a gunicorn worker mid-autosave and mid-submit, a roster import
mid-write.

Real gunicorn (the Procfile's web command: 2 workers, 4 threads each) on the test engine (a SQLite file,
or a fresh PostgreSQL database when ``LMS_TEST_DATABASE_URL`` is set, as in ``make test-pg``). Officers
on threads autosave (the JSON that quiz.js sends) and then submit, retrying what got no answer, as the
page does; meanwhile a worker process is killed twice, mid-request. Then, for every officer:

- the answers stored are exactly the last ones the server acknowledged with 200 (an acknowledged save is
  never lost, and a save that got no answer never overwrites a later one: each officer waits for each
  answer, as quiz.js does);
- the attempt is graded once: a resubmit after the kills gives the same score and grading time, and no
  slot has two answer rows.

A roster import (``flask users import``) killed while it writes leaves no officer of the file behind, and
running it again imports all of them: the command commits once, at its end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from lms import create_app
from lms.extensions import db
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
OFFICERS = 10
SAVES = 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    database: str
    proc: subprocess.Popen[bytes]
    log: Path
    attempts: dict[str, int] = field(default_factory=dict)  # username -> attempt id

    def workers(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _database(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get("LMS_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'kill.db'}"
        return
    import psycopg

    name = f"lms_kill_{os.getpid()}"
    admin = make_url(server).set(database="postgres", drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "seed", "REDIS_URL": None,
                       "PASSWORD_HASH_PROFILE": "fast", "TESTING": True})


def _seed(url: str) -> dict[str, int]:
    """Officers, each with a started attempt on a quiz of every question type."""
    from lms.quizzes import services
    from tests import factories as f
    from tests.quizzes import factories_quizzes as fq

    app = _app(url)
    with app.app_context():
        agency = f.agency("SO-TU-PHAP")
        _course, quiz = fq.setup_quiz()
        attempts = {}
        for n in range(OFFICERS):
            officer = f.user(f"killed{n}", agency=agency)
            attempts[officer.username] = services.start_attempt(officer, quiz, "vi").id
        db.session.commit()
        db.engine.dispose()
    return attempts


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    for url in _database(tmp_path):
        instance = tmp_path / "instance"
        instance.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "DATABASE_URL"))}
        port = _free_port()
        env.update({"DATABASE_URL": url, "LMS_INSTANCE_PATH": str(instance), "LMS_SECRET_KEY": "k" * 48,
                    "LMS_PASSWORD_HASH_PROFILE": "fast", "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4",
                    "PORT": str(port), "HOST": "127.0.0.1"})
        subprocess.run([str(BIN / "flask"), "--app", "lms", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=300)
        attempts = _seed(url)
        log = tmp_path / "gunicorn.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "lms:create_app()"],
                                    cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
        srv = Server(f"http://127.0.0.1:{port}", url, proc, log, attempts)
        try:
            deadline = time.monotonic() + 90
            while not _answers(srv.url):
                assert proc.poll() is None and time.monotonic() < deadline, srv.tail()
                time.sleep(0.3)
            yield srv
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/auth/login", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


RETRIED: list[str] = []  # requests cut by a kill (no answer), for the test's output


def _retrying(call, tries: int = 40) -> requests.Response:
    """What the quiz page does with a request that got no answer: wait a little and send it again."""
    for _ in range(tries):
        try:
            response = call()
        # A worker killed mid-answer either refuses the connection or cuts the body short.
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as err:
            RETRIED.append(type(err).__name__)
            time.sleep(0.2)
            continue
        if response.status_code in (502, 503):
            time.sleep(0.2)
            continue
        return response
    raise AssertionError("the server never answered")


@dataclass
class Officer:
    username: str
    attempt_id: int
    acknowledged: dict[int, list[str]] | None = None  # the last save answered with 200
    submitted: requests.Response | None = None
    errors: list[str] = field(default_factory=list)


def _take(base: str, officer: Officer, right: dict[int, list[str]], short_slot: int,
          kills_done: threading.Event) -> None:
    http = requests.Session()
    token = _token(_retrying(lambda: http.get(base + "/auth/login", timeout=10)).text)
    login = _retrying(lambda: http.post(base + "/auth/login", allow_redirects=False, timeout=10,
                                        data={"username": officer.username, "password": PASSWORD,
                                              "csrf_token": token}))
    if login.status_code != 302:
        officer.errors.append(f"login answered {login.status_code}")
        return
    take = f"{base}/quizzes/attempts/{officer.attempt_id}"
    csrf = _token(_retrying(lambda: http.get(take, timeout=10)).text)
    n = 0
    while n < SAVES or (not kills_done.is_set() and n < 2000):  # saving until both kills are done
        n += 1
        values = {**right, short_slot: [f"lần lưu {n}"]}
        payload = {"answers": {str(k): v for k, v in values.items()}}
        response = _retrying(lambda payload=payload: http.post(
            take + "/save", json=payload, timeout=10,
            headers={"X-CSRFToken": csrf, "Accept": "application/json"}))
        if response.status_code == 200 and response.json().get("ok"):
            officer.acknowledged = values
        else:
            officer.errors.append(f"save {n} answered {response.status_code}: {response.text[:200]}")
    final = {**right}
    form = {"csrf_token": csrf, "slots": ",".join(str(k) for k in final)}
    for slot, items in final.items():
        form[f"q{slot}"] = items  # type: ignore[assignment]
    officer.submitted = _retrying(lambda: http.post(take + "/submit", data=form, allow_redirects=False,
                                                    timeout=10))
    officer.acknowledged = final if officer.submitted.status_code == 302 else officer.acknowledged
    # The officer presses Submit again (a second tab, the back button): the same result, graded once.
    again = _retrying(lambda: http.post(take + "/submit", data=form, allow_redirects=False, timeout=10))
    if again.status_code != 302 or "/review" not in again.headers.get("Location", ""):
        officer.errors.append(f"resubmit answered {again.status_code}")


def _killer(srv: Server, done: threading.Event, kills: list[int]) -> None:
    """SIGKILL one worker after a second, and another one two seconds later, while requests run."""
    try:
        for delay in (1.0, 2.0):
            time.sleep(delay)
            workers = srv.workers()
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                kills.append(workers[0])
        time.sleep(0.5)  # requests on the respawned worker too
    finally:
        done.set()


def test_a_killed_worker_loses_no_acknowledged_answer_and_grades_no_attempt_twice(server):
    from lms.quizzes import services
    from lms.quizzes.models import Attempt, AttemptAnswer
    from tests.quizzes import factories_quizzes as fq

    app = _app(server.database)
    with app.app_context():
        officers, plans = [], {}
        for username, attempt_id in server.attempts.items():
            attempt = db.session.get(Attempt, attempt_id)
            short = next(int(s["slot"]) for s in attempt.slots if s["question"]["type"] == "short")
            plans[username] = (fq.right_values(attempt), short)
            officers.append(Officer(username, attempt_id))
        db.session.rollback()

    kills_done, kills = threading.Event(), []
    killer = threading.Thread(target=_killer, args=(server, kills_done, kills))
    threads = [threading.Thread(target=_take, args=(server.url, o, *plans[o.username], kills_done))
               for o in officers]
    killer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(240)
    killer.join()

    assert len(kills) == 2, f"the workers were not killed\n{server.tail()}"
    print(f"killed workers {kills}; {len(RETRIED)} requests got no answer and were sent again")
    assert [o.errors for o in officers if o.errors] == []
    with app.app_context():
        for officer in officers:
            attempt = db.session.get(Attempt, officer.attempt_id)
            assert officer.submitted is not None and officer.submitted.status_code == 302, officer.username
            stored = {a.slot: a.response for a in attempt.answers}
            # As stored: a JSON column gives mapping keys back as strings.
            expected = json.loads(json.dumps(services.parse_values(attempt, officer.acknowledged or {})))
            expected = {int(k): v for k, v in expected.items()}
            assert {k: stored.get(k) for k in expected} == expected, officer.username
            assert attempt.status != "in_progress" and attempt.graded_at is not None
            assert attempt.score == 100, officer.username  # the right answers of the submit, graded once
            rows = db.session.execute(select(AttemptAnswer.slot, func.count()).where(
                AttemptAnswer.attempt_id == attempt.id).group_by(AttemptAnswer.slot)).all()
            assert all(count == 1 for _slot, count in rows), officer.username
        db.session.rollback()
        db.engine.dispose()


ROSTER_ROWS = 800
KILL_AFTER_PLAN = 0.05  # small: on a loaded machine the plan is read late and the write is short


def _roster(path: Path) -> None:
    lines = ["Họ và tên,Mã đơn vị,Tên đăng nhập,Chức vụ"]
    lines += [f"Nguyễn Văn Số {n},SO-TU-PHAP,roster{n},Chuyên viên" for n in range(ROSTER_ROWS)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def _import(env: dict[str, str], roster: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(BIN / "flask"), "--app", "lms", "users", "import", str(roster)], cwd=ROOT,
                            env=dict(env, PYTHONUNBUFFERED="1"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _planned(proc: subprocess.Popen[str], output: list[str], wait: bool = True) -> float:
    """Wait until the command has printed its plan (it writes only after that); the time then. The rest
    of its output is read on a thread, so a full pipe never stalls it."""
    assert proc.stdout is not None
    planned = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if f"roster{ROSTER_ROWS - 1} " in line:  # the plan's last row: writing starts after it
                planned.set()
        planned.set()

    threading.Thread(target=read, daemon=True).start()
    assert not wait or planned.wait(120), "the import printed no plan"
    return time.monotonic()


@contextmanager
def _audit_held(url: str) -> Iterator[None]:
    """On PostgreSQL, hold the audit table so that the import, which audits after writing its officers,
    waits there with its officers written but not committed: the kill then lands mid-write for sure."""
    if not url.startswith("postgresql"):
        yield
        return
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        conn.execute("LOCK TABLE audit_entry IN EXCLUSIVE MODE")
        yield
        conn.rollback()


def _has_written(url: str) -> bool:
    """On PostgreSQL: another session holds a transaction id (given at its first write) and waits for a
    lock. On SQLite (uncommitted pages stay in the writer's memory), a while after the plan."""
    if not url.startswith("postgresql"):
        time.sleep(KILL_AFTER_PLAN)
        return True
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND backend_xid IS NOT NULL AND wait_event_type = 'Lock' "
                           "AND pid <> pg_backend_pid()").fetchone()
    return bool(row and row[0])


def _roster_users(url: str) -> int:
    from lms.org.models import User

    app = _app(url)
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(User).where(User.username.like("roster%")))
        db.session.rollback()
        db.engine.dispose()
    return int(count or 0)


def test_a_roster_import_killed_while_writing_leaves_nothing_and_the_rerun_imports_everything(
    tmp_path,
):
    roster = tmp_path / "roster.csv"
    _roster(roster)
    for url in _database(tmp_path):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "DATABASE_URL"))}
        env.update({"DATABASE_URL": url, "LMS_INSTANCE_PATH": str(tmp_path), "LMS_SECRET_KEY": "k" * 48,
                    "LMS_PASSWORD_HASH_PROFILE": "fast"})
        subprocess.run([str(BIN / "flask"), "--app", "lms", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=300)
        with _app(url).app_context():
            from tests import factories as f

            f.agency("SO-TU-PHAP")
            db.session.commit()
            db.engine.dispose()

        with _audit_held(url):
            proc = _import(env, roster)
            lines: list[str] = []
            planned = _planned(proc, lines, wait=not url.startswith("postgresql"))
            # Kill once the import's transaction has written (PostgreSQL shows it; on SQLite, after a while).
            deadline = time.monotonic() + 60
            while not _has_written(url):
                assert proc.poll() is None, "the import finished before it could be killed"
                assert time.monotonic() < deadline, "the import never started writing"
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
            killed_at = time.monotonic() - planned
        proc.wait(30)
        time.sleep(0.2)
        output = "".join(lines)
        assert proc.returncode == -signal.SIGKILL, output
        assert "imported:" not in output, "the import finished before it could be killed"
        assert f"roster{ROSTER_ROWS - 1} " in output, f"killed before the import had made its plan:\n{output[-2000:]}"
        assert _roster_users(url) == 0  # all or nothing: the killed import wrote nothing

        started = time.monotonic()
        rerun = subprocess.run([str(BIN / "flask"), "--app", "lms", "users", "import", str(roster)], cwd=ROOT,
                               env=env, capture_output=True, text=True, timeout=600)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        rerun_seconds = time.monotonic() - started
        assert _roster_users(url) == ROSTER_ROWS
        print(f"killed {killed_at:.1f} s into writing; rerun in {rerun_seconds:.1f} s")
