"""Concurrent writers queue for the lock instead of failing: zero errors, zero lost writes.

Eight processes (as eight gunicorn workers would be) each run read-modify-write transactions on the
same counter row and insert a row per transaction. On SQLite the write lock is taken at BEGIN
(IMMEDIATE), so the read and the write of one transaction never interleave with another's; on
PostgreSQL the row lock (SELECT ... FOR UPDATE) does the same.
"""

from __future__ import annotations

import multiprocessing
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
