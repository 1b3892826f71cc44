"""Proof of scale-out: two gunicorn servers, one PostgreSQL, one Redis, one queue worker.

Run by ``.ci/run`` (marker ``scaleout``; needs ``LMS_TEST_DATABASE_URL`` for the PostgreSQL server and
``LMS_TEST_REDIS_URL``). Each process gets its own working directory and its own ``instance/`` folder,
configured only from the environment, as the README's deployment section describes; at the end every
instance folder must still be empty: nothing any server needed was kept on its own disk.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from lms import create_app
from lms.extensions import db
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.scaleout, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PG_SERVER = os.environ.get("LMS_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL")

if not (PG_SERVER and REDIS_URL):
    pytest.skip("needs LMS_TEST_DATABASE_URL and LMS_TEST_REDIS_URL (.ci/run sets both)",
                allow_module_level=True)


def procfile() -> dict[str, list[str]]:
    """The Procfile's commands, with its paths made absolute (each process runs in its own folder)."""
    import shlex

    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if command.strip():
            commands[name.strip()] = [str(ROOT / part) if "/" in part or part.endswith(".py") else part
                                      for part in shlex.split(command)]
    return commands


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Sink(socketserver.StreamRequestHandler):
    """Just enough SMTP to count the messages the servers and the worker send."""

    def handle(self) -> None:
        self.wfile.write(b"220 sink\r\n")
        data, lines = False, []
        while line := self.rfile.readline():
            if data:
                if line in (b".\r\n", b".\n"):
                    self.server.messages.append(b"".join(lines))  # type: ignore[attr-defined]
                    data, lines = False, []
                    self.wfile.write(b"250 OK\r\n")
                else:
                    lines.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                data = True
                self.wfile.write(b"354 go\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@dataclass
class Cluster:
    env: dict[str, str]
    base: Path
    a: str
    b: str
    smtp: Any
    url: str
    procs: dict[str, subprocess.Popen[bytes]]

    def start(self, name: str, argv: list[str], extra: dict[str, str] | None = None) -> None:
        folder = self.base / name
        (folder / "instance").mkdir(parents=True, exist_ok=True)
        env = dict(self.env, LMS_INSTANCE_PATH=str(folder / "instance"), **(extra or {}))
        log = open(folder / "log.txt", "ab")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(argv, cwd=folder, env=env, stdout=log, stderr=log,
                                            start_new_session=True)

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def start_worker(self) -> None:
        self.start("worker", procfile()["worker"])

    def flask(self, name: str, *args: str) -> str:
        folder = self.base / name
        (folder / "instance").mkdir(parents=True, exist_ok=True)
        out = subprocess.run([str(BIN / "flask"), "--app", "lms", *args], cwd=folder, check=True,
                             env=dict(self.env, LMS_INSTANCE_PATH=str(folder / "instance")),
                             capture_output=True, text=True, timeout=300)
        return out.stdout

    def log(self, name: str) -> str:
        path = self.base / name / "log.txt"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _wait_until(check, timeout: float, what: str, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    server = make_url(PG_SERVER)
    name = f"lms_scaleout_proof_{os.getpid()}"
    admin = server.set(database="postgres")
    import psycopg

    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Sink)
    smtp.messages = []  # type: ignore[attr-defined]
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    namespace = f"scaleout-proof-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "DATABASE_URL"))}
    env.update({
        "DATABASE_URL": url,
        "LMS_SECRET_KEY": "proof-" + "s" * 42,
        "LMS_REDIS_URL": REDIS_URL,
        "LMS_QUEUE_NAMESPACE": namespace,
        "LMS_QUEUE_HEARTBEAT_TIMEOUT_MS": "3000",
        "LMS_QUEUE_MAINTENANCE_CHANCE": "1000000",
        "LMS_PUBLIC_BASE_URL": "https://lms.sonha.example",
        "LMS_MAIL_SERVER": "127.0.0.1",
        "LMS_MAIL_PORT": str(smtp.server_address[1]),
        "LMS_PASSWORD_HASH_PROFILE": "fast",
        "LMS_REQUIRE_2FA_ROLES": "",  # root and HR sign in by password here; tests/auth covers the second factor
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "2",
    })
    base = tmp_path_factory.mktemp("scaleout")
    ports = _free_port(), _free_port()
    c = Cluster(env, base, f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}", smtp, url, {})
    try:
        c.flask("admin", "db", "upgrade")
        _seed(url)
        for name_, port in (("a", ports[0]), ("b", ports[1])):
            c.start(name_, procfile()["web"], {"PORT": str(port), "HOST": "127.0.0.1"})
        c.start_worker()
        for base_url, name_ in ((c.a, "a"), (c.b, "b")):
            _wait_until(lambda u=base_url: _answers(u), 90, f"server {name_}\n{c.log(name_)}")
        yield c
    finally:
        for proc in list(c.procs):
            c.stop(proc)
        smtp.shutdown()
        smtp.server_close()
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/auth/login", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "seed", "REDIS_URL": None,
                       "PASSWORD_HASH_PROFILE": "fast", "PUBLIC_BASE_URL": "https://lms.sonha.example",
                       "TESTING": True})


BULK = 24


def _seed(url: str) -> None:
    """Accounts, a quiz, certificates without PDFs, a course due tomorrow (written with no queue)."""
    from lms.progress import services as progress
    from lms.reports.queries import local_today
    from tests import factories as f
    from tests.certificates import factories_certificates as cf
    from tests.quizzes import factories_quizzes as fq

    app = _app(url)
    with app.app_context():
        agency = f.agency("SO-TU-PHAP")
        f.user("root", agency=agency, roles={"officer", "admin"})
        f.user("victim", agency=agency)
        officer = f.user("officer", agency=agency, email="officer@sonha.example")
        course, _quiz = fq.setup_quiz()
        progress.enrol(officer, course)
        cf.certified(officer, cf.course("mine"))  # rendered by the worker on first download
        bulk_course = cf.course("bulk")
        for n in range(BULK):
            cf.certified(f.user(f"bulk{n}", agency=agency), bulk_course)
        due = cf.course("due")
        reminded = [f.user(f"due{n}", agency=agency, email=f"due{n}@sonha.example") for n in range(3)]
        progress.create_assignments(due, kind="user", due_date=local_today() + timedelta(days=2),
                                    actor=None, users=reminded)
        db.session.commit()
        db.engine.dispose()


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _login(http: requests.Session, base: str, username: str, password: str = PASSWORD) -> requests.Response:
    token = _token(http.get(base + "/auth/login").text)
    return http.post(base + "/auth/login", data={"username": username, "password": password,
                                                 "csrf_token": token}, allow_redirects=False)


def test_a_session_signed_in_on_a_works_on_b(cluster):
    http = requests.Session()
    assert _login(http, cluster.a, "officer").status_code == 302
    page = http.get(cluster.b + "/certificates/", allow_redirects=False)
    assert page.status_code == 200, "server B did not accept server A's session"
    # A form whose CSRF token B signed is accepted by A (same key, nothing per server).
    token = _token(http.get(cluster.b + "/").text)
    out = http.post(cluster.a + "/auth/logout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status_code == 302
    assert http.get(cluster.b + "/certificates/", allow_redirects=False).status_code == 302


def test_a_quiz_started_on_a_autosaved_on_b_and_submitted_on_a_loses_nothing(cluster):
    from lms.quizzes.models import Attempt, AttemptAnswer

    http = requests.Session()
    _login(http, cluster.a, "officer")
    app = _app(cluster.url)
    with app.app_context():
        from lms.quizzes.models import Quiz

        quiz = db.session.scalars(select(Quiz)).first()
        course_key, quiz_key = quiz.course.key, quiz.key
    page = http.get(f"{cluster.a}/quizzes/c/{course_key}/{quiz_key}").text
    started = http.post(f"{cluster.a}/quizzes/c/{course_key}/{quiz_key}/start",
                        data={"csrf_token": _token(page)}, allow_redirects=False)
    assert started.status_code == 302, started.text[:500]
    take_url = started.headers["Location"]
    attempt_id = int(re.search(r"/attempts/(\d+)", take_url).group(1))
    take = http.get(cluster.b + f"/quizzes/attempts/{attempt_id}").text  # the take page from B
    slots = [int(s) for s in re.search(r'name="slots" value="([^"]*)"', take).group(1).split(",") if s]
    answers: dict[str, list[str]] = {}
    for slot in slots:
        box = re.search(rf'id="q{slot}-box".*?</fieldset>', take, re.S).group(0)
        choice = re.search(rf'type="(?:radio|checkbox)" name="q{slot}" value="([^"]+)"', box)
        if choice:
            answers[str(slot)] = [choice.group(1)]
        elif re.search(rf'<(?:input type="text"[^>]*|textarea[^>]*) name="q{slot}"', box) or \
                re.search(rf'name="q{slot}"[^>]*(?:inputmode|autocomplete)', box):
            answers[str(slot)] = ["7"]
    assert len(answers) >= 4, "the quiz shows too few answerable questions to prove anything"
    saved = http.post(cluster.b + f"/quizzes/attempts/{attempt_id}/save",
                      data=json.dumps({"answers": answers}),
                      headers={"Content-Type": "application/json", "X-CSRFToken": _token(take)})
    assert saved.status_code == 200 and saved.json()["ok"], saved.text[:300]
    # Submit on A: the form carries one answer (the others were autosaved on B).
    first = next(iter(answers))
    submitted = http.post(cluster.a + f"/quizzes/attempts/{attempt_id}/submit",
                          data={"csrf_token": _token(take), "slots": first, f"q{first}": answers[first]},
                          allow_redirects=False)
    assert submitted.status_code == 302
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.finished
        stored = {a.slot: a.response for a in db.session.scalars(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id))}
        assert set(stored) >= {int(s) for s in answers}, "an answer autosaved on B was lost"
        db.engine.dispose()


def test_login_throttling_counts_failures_on_both_servers(cluster):
    for base in (cluster.a, cluster.b, cluster.a, cluster.b, cluster.a):
        http = requests.Session()
        assert _login(http, base, "victim", "wrong-password-1").status_code != 302
    # Five failures in all, spread over two servers: the right password is refused on either now.
    for base in (cluster.b, cluster.a):
        http = requests.Session()
        response = _login(http, base, "victim")
        assert response.status_code != 302, "a server forgot the failures counted by the other"
    from lms.ratelimit import RateEvent

    with _app(cluster.url).app_context():
        assert db.session.scalar(select(func.count()).select_from(RateEvent)) == 0  # counted in Redis
        db.engine.dispose()


def test_a_certificate_rendered_by_the_worker_downloads_from_either_server(cluster):
    from lms.certificates.models import Certificate
    from lms.org.models import User

    app = _app(cluster.url)
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.username == "officer"))
        code = db.session.scalars(select(Certificate.code).where(Certificate.user_id == officer.id)).first()
        db.engine.dispose()
    http = requests.Session()
    _login(http, cluster.b, "officer")
    first = http.get(f"{cluster.a}/certificates/{code}.pdf")
    assert first.status_code in (200, 202)

    def ready_on_b():
        r = http.get(f"{cluster.b}/certificates/{code}.pdf")
        return r if r.status_code == 200 else None

    from_b = _wait_until(ready_on_b, 60, f"the worker's PDF\n{cluster.log('worker')}")
    from_a = http.get(f"{cluster.a}/certificates/{code}.pdf")
    assert from_a.status_code == 200 and from_a.content == from_b.content
    assert from_a.content.startswith(b"%PDF")


def test_a_reminder_run_twice_sends_once(cluster):
    from lms.reports.models import ReminderLog

    cluster.smtp.messages.clear()
    # The scheduler starts today's run (its hour has passed) on the queue and the worker does it; then
    # two cron-style runs at once from two servers.
    cluster.start("scheduler", procfile()["scheduler"], {"LMS_DAILY_JOBS_AT": "00:00"})
    app = _app(cluster.url)
    with app.app_context():
        from lms.tasks.models import TaskRun

        def daily_done():
            db.session.rollback()
            return db.session.scalar(select(TaskRun.state).where(TaskRun.name == "jobs.daily")) == "done"

        _wait_until(daily_done, 60, f"the daily run\n{cluster.log('scheduler')}\n{cluster.log('worker')}")
        cluster.stop("scheduler")
        cluster.flask("b", "tasks", "daily")  # a second start of the same day finds the first run
        assert db.session.scalar(select(func.count()).where(TaskRun.name == "jobs.daily")) == 1
        runs = [subprocess.Popen([str(BIN / "flask"), "--app", "lms", "jobs", "run"], cwd=cluster.base / n,
                                 env=dict(cluster.env, LMS_INSTANCE_PATH=str(cluster.base / n / "instance")),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for n in ("a", "b")]
        for proc in runs:
            assert proc.wait(120) == 0, proc.stdout.read().decode()[-2000:]
        logs = db.session.scalar(select(func.count()).select_from(ReminderLog))
        db.engine.dispose()
    recipients = [re.search(rb"^To: .*<(.+?)>", m, re.M).group(1) for m in cluster.smtp.messages]
    assert logs == 3
    assert sorted(recipients) == [b"due0@sonha.example", b"due1@sonha.example", b"due2@sonha.example"]


def test_killing_the_worker_mid_bulk_render_loses_and_duplicates_nothing(cluster):
    from lms.certificates.models import Certificate, CertificatePdf
    from lms.tasks.models import TaskRun

    http = requests.Session()
    _login(http, cluster.a, "root")
    page = http.get(cluster.a + "/certificates/manage?course=0").text
    started = http.post(cluster.b + "/certificates/manage/render", data={"csrf_token": _token(page)},
                        allow_redirects=False)
    assert started.status_code == 302, started.text[:300]
    run_id = int(started.headers["Location"].rstrip("/").split("/")[-1])
    app = _app(cluster.url)
    with app.app_context():
        certificates_before = db.session.scalar(select(func.count()).select_from(Certificate))

        def run_row():
            db.session.rollback()
            return db.session.get(TaskRun, run_id)

        total = run_row().total
        assert total >= BULK
        _wait_until(lambda: run_row().done >= 5, 120, f"the first chunk\n{cluster.log('worker')}")
        cluster.stop("worker", signal.SIGKILL)
        at_kill = run_row().done
        assert at_kill < total, "the bulk render finished before the worker could be killed"
        time.sleep(1)
        cluster.start_worker()
        _wait_until(lambda: run_row().state == "done", 180, f"the resumed run\n{cluster.log('worker')}")
        run = run_row()
        pdfs = db.session.scalar(select(func.count()).select_from(CertificatePdf))
        without = db.session.scalar(select(func.count()).select_from(Certificate).where(
            ~select(CertificatePdf.certificate_id).where(
                CertificatePdf.certificate_id == Certificate.id).exists()))
        assert (run.done, run.failed) == (total, 0), "a certificate was counted twice or lost"
        assert without == 0
        assert pdfs == db.session.scalar(select(func.count()).select_from(Certificate))
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == certificates_before
        db.engine.dispose()
    status = http.get(f"{cluster.a}/tasks/{run_id}.json").json()
    assert status["state"] == "done" and status["percent"] == 100


def test_a_roster_uploaded_on_a_and_confirmed_on_b_is_imported_by_the_worker(cluster):
    from lms.org.models import User

    http = requests.Session()
    _login(http, cluster.a, "root")
    form = http.get(cluster.a + "/org/import/officers").text
    roster = "Họ và tên,Mã đơn vị,Tên đăng nhập\nNguyễn Văn An,SO-TU-PHAP,annv\nTrần Thị Bình,SO-TU-PHAP,binhtt\n"
    uploaded = http.post(cluster.a + "/org/import/officers", data={"csrf_token": _token(form)},
                         files={"file": ("roster.csv", roster.encode(), "text/csv")}, allow_redirects=False)
    assert uploaded.status_code == 302, uploaded.text[:500]
    preview = http.get(cluster.b + uploaded.headers["Location"]).text  # the upload is in the database
    fingerprint = re.search(r'name="fingerprint"[^>]*value="([^"]+)"', preview).group(1)
    action = re.search(r'action="([^"]*/confirm)"', preview).group(1)
    confirmed = http.post(cluster.b + action, data={"csrf_token": _token(preview), "fingerprint": fingerprint},
                          allow_redirects=False)
    assert "/tasks/" in confirmed.headers["Location"], "the import ran in the web request"
    status_url = cluster.a + confirmed.headers["Location"] + ".json"
    _wait_until(lambda: http.get(status_url).json()["state"] == "done", 60,
                f"the import\n{cluster.log('worker')}")
    with _app(cluster.url).app_context():
        names = set(db.session.scalars(select(User.username).where(User.username.in_(["annv", "binhtt"]))))
        db.engine.dispose()
    assert names == {"annv", "binhtt"}


def test_no_server_kept_anything_in_its_own_instance_folder(cluster):
    for name in ("a", "b", "worker", "scheduler", "admin"):
        folder = cluster.base / name / "instance"
        assert not folder.exists() or list(folder.iterdir()) == [], name
