"""Concurrent writers queue for the lock instead of failing: zero errors, zero lost writes.

Eight processes (as eight gunicorn workers would be) each run read-modify-write transactions on the
same counter row and insert a row per transaction. On SQLite the write lock is taken at BEGIN
(IMMEDIATE), so the read and the write of one transaction never interleave with another's; on
PostgreSQL the row lock (SELECT ... FOR UPDATE) does the same.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update

from tests.conftest import PG_URL, base_config

WRITERS = 8
ROUNDS = 25

scratch = MetaData()
counter = Table("zz_test_counter", scratch, Column("id", Integer, primary_key=True), Column("value", Integer))
events = Table("zz_test_event", scratch, Column("id", Integer, primary_key=True), Column("who", String(20)))


def _writer(url: str, worker: int, results) -> None:
    from lms import create_app
    from lms.extensions import db

    errors = 0
    first_error = ""
    app = create_app(base_config(Path("/tmp"), url))
    with app.app_context():
        for _ in range(ROUNDS):
            try:
                current = db.session.execute(
                    select(counter.c.value).where(counter.c.id == 1).with_for_update()
                ).scalar_one()
                db.session.execute(update(counter).where(counter.c.id == 1).values(value=current + 1))
                db.session.execute(insert(events).values(who=f"w{worker}"))
                db.session.commit()
            except Exception as exc:  # counted, never hidden: the assertion below reports it
                db.session.rollback()
                errors += 1
                first_error = first_error or repr(exc)[:300]
        db.engine.dispose()
    results.put((errors, first_error))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return PG_URL or f"sqlite:///{tmp_path / 'concurrency.sqlite3'}"


def test_eight_concurrent_writers_lose_nothing(database_url, app):
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    scratch.drop_all(engine)
    scratch.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(counter).values(id=1, value=0))

    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(database_url, i, results)) for i in range(WRITERS)]
    for p in procs:
        p.start()
    # Generous limits: on a loaded CI machine eight app start-ups alone take a while.
    outcomes = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)

    with engine.connect() as conn:
        value = conn.execute(select(counter.c.value)).scalar_one()
        rows = conn.execute(select(events.c.id)).all()
    scratch.drop_all(engine)
    engine.dispose()
    assert all(p.exitcode == 0 for p in procs)
    assert sum(n for n, _ in outcomes) == 0, [msg for _, msg in outcomes if msg]
    assert value == WRITERS * ROUNDS
    assert len(rows) == WRITERS * ROUNDS


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(app):
    from sqlalchemy import text

    from lms.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000


def test_post_transactions_begin_immediate_and_get_requests_deferred(app, client, auth):
    from sqlalchemy import event

    from lms.extensions import db
    from tests import factories

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite begin modes")
    factories.user("begins")
    db.session.commit()
    seen: list[str] = []

    def spy(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        auth.login("begins")
        post_begins = list(seen)
        seen.clear()
        assert client.get("/auth/profile").status_code == 200
        get_begins = list(seen)
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert get_begins and all(s == "BEGIN DEFERRED" for s in get_begins)
    assert post_begins and all(s == "BEGIN IMMEDIATE" for s in post_begins)


def test_a_get_request_does_not_leave_deferred_mode_behind(app, client):
    """After a read-only request, work done outside requests (CLI, jobs, forked workers) still
    takes the write lock up front; a leftover DEFERRED once made concurrent writers fail."""
    from lms.sqlite import current_begin_mode

    assert current_begin_mode() == "IMMEDIATE"
    client.get("/auth/login")
    assert current_begin_mode() == "IMMEDIATE"


# Exports and other reads that only add an audit line (lms.sqlite.appends) --------------------------

SLOW_EXPORT_S = 4
SHORT_BUSY_TIMEOUT = {"SQLITE_BUSY_TIMEOUT_MS": 1500}
OFFICERS_DURING_EXPORTS = 6


def _hr(name: str = "hr.all"):
    from tests import factories

    return factories.user(name, roles={"hr"}, hr_all=True)


def test_an_export_reads_without_the_write_lock_and_logs_itself_in_a_short_transaction(app):
    """The export's queries and rendering run in BEGIN DEFERRED; its audit entry is inserted alone,
    after them, in a BEGIN IMMEDIATE transaction: the lock is held for one INSERT, not the export."""
    from sqlalchemy import event, func, select

    from lms.audit import AuditEntry
    from lms.extensions import db
    from tests.quizzes.test_concurrency import signed_in_client

    hr = _hr()
    db.session.commit()
    client = signed_in_client(app, hr)
    statements: list[str] = []

    def spy(conn, cursor, statement, *args):
        statements.append(statement.split()[0] + (" " + statement.split()[1] if statement.startswith("BEGIN")
                                                  else ""))

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        response = client.get("/reports/agencies/export.csv")
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(func.count(AuditEntry.id))
                             .where(AuditEntry.action == "reports.exported")) == 1
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL: one transaction, committed by the boundary as before
    begins = [i for i, s in enumerate(statements) if s.startswith("BEGIN")]
    assert statements[begins[-1]] == "BEGIN IMMEDIATE"
    assert all(statements[i] == "BEGIN DEFERRED" for i in begins[:-1])
    assert statements[begins[-1] + 1:] == ["INSERT"], statements[begins[-1]:]
    assert "INSERT" not in statements[:begins[-1]]


def test_an_appends_view_that_flushes_is_refused_not_silently_lost(app):
    """A flush inside an @appends view would write in the read transaction, which the boundary then
    rolls back: it fails loudly instead (and the boundary still rolls back everything)."""
    from lms import audit
    from lms.extensions import db
    from lms.sqlite import appends
    from lms.transaction import AppendsViolation

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the split happens on SQLite only")

    @appends
    def flushing_view():
        audit.record("test.flushed")
        db.session.flush()
        return "flushed"

    app.add_url_rule("/zz-test-flushing", "zz_test_flushing", flushing_view)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with app.test_request_context("/zz-test-flushing"), pytest.raises(AppendsViolation):
        app.preprocess_request()
        app.dispatch_request()


@pytest.mark.parametrize("app_config", [SHORT_BUSY_TIMEOUT])
def test_slow_exports_never_make_concurrent_autosaves_and_submits_fail_with_database_is_locked(
        app, monkeypatch):
    """What make scan saw: while HR exports took seconds each, autosaves, submits and reminders failed
    with "database is locked". Three exports that take 2.5 s each run at once with twelve officers
    autosaving and submitting, with a busy timeout of 1 s: every request succeeds, every answer and
    every export's audit entry is written."""
    from sqlalchemy import func, select

    from lms.audit import AuditEntry
    from lms.extensions import db
    from lms.quizzes import services
    from lms.quizzes.models import Attempt, AttemptAnswer
    from lms.reports import exports
    from tests import factories
    from tests.quizzes import factories_quizzes as fq
    from tests.quizzes.test_concurrency import right_values, run_together, signed_in_client

    real_write_csv = exports.write_csv

    def slow_write_csv(table):  # a big export on a loaded machine
        time.sleep(SLOW_EXPORT_S)
        return real_write_csv(table)

    monkeypatch.setattr(exports, "write_csv", slow_write_csv)
    _course, quiz = fq.setup_quiz()
    agency = factories.agency()
    users = [factories.user(f"hv{i:02d}", agency=agency, password=None) for i in range(OFFICERS_DURING_EXPORTS)]
    attempts = [services.start_attempt(u, quiz, "vi") for u in users]
    hrs = [_hr(f"hr{i}") for i in range(3)]
    db.session.commit()
    plan = {a.id: right_values(a) for a in attempts}
    officer_clients = {a.id: signed_in_client(app, u) for a, u in zip(attempts, users, strict=True)}
    hr_clients = [signed_in_client(app, h) for h in hrs]

    def officer_job(attempt_id):
        def job():
            c = officer_clients[attempt_id]
            codes = []
            time.sleep(0.3)  # let the exports start first: they are the ones that held the lock
            for slot, values in plan[attempt_id].items():
                codes.append(c.post(f"/quizzes/attempts/{attempt_id}/save",
                                    json={"answers": {str(slot): values}}).status_code)
            codes.append(c.post(f"/quizzes/attempts/{attempt_id}/submit", data={"slots": ""}).status_code)
            return codes
        return job

    def export_job(c):
        return lambda: [c.get("/reports/agencies/export.csv").status_code]

    codes = run_together([export_job(c) for c in hr_clients] + [officer_job(a.id) for a in attempts])
    assert codes[:3] == [[200]] * 3
    assert codes[3:] == [[200] * 6 + [302]] * OFFICERS_DURING_EXPORTS
    db.session.expire_all()
    assert db.session.scalar(select(func.count(AttemptAnswer.id))
                             .where(AttemptAnswer.response.is_not(None))) == OFFICERS_DURING_EXPORTS * 6
    assert {(a.status, a.score) for a in db.session.scalars(select(Attempt))} == {("graded", 100.0)}
    assert db.session.scalar(select(func.count(AuditEntry.id))
                             .where(AuditEntry.action == "reports.exported")) == 3
