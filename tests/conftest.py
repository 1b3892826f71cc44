"""Fixtures shared by every test: app, client, runner, database, login helper.

By default each test gets a fresh SQLite file. With ``LMS_TEST_DATABASE_URL`` set (CI does this for
PostgreSQL) the schema is created once per session and every table is emptied after each test.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import event, text

from lms import create_app
from lms.extensions import db

# The tests' calendar is the province's: due dates are Vietnamese calendar days (lms's local_today), and
# a test that wrote date.today() on a UTC machine got yesterday between 17:00 and 24:00 UTC (a due
# date "in the past" the moment it was set).
os.environ["TZ"] = "Asia/Ho_Chi_Minh"
time.tzset()

# Property tests are bounded by their example counts, not by wall-clock time: on a shared 2-core machine a
# per-example deadline fails at random (the brief: speed is measured in make bench, not asserted in tests).
settings.register_profile("lms", deadline=None)
settings.load_profile("lms")



def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker process gets its own PostgreSQL database, ``<name>_<worker>``,
    created here when missing (tables are emptied after every test, so workers must not share one)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    server = make_url(url)
    name = f"{server.database}_{worker}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("LMS_TEST_DATABASE_URL"))
PASSWORD = "đúng-mật-khẩu-2024"


def base_config(tmp_path: Path, url: str | None) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_PROFILE": "fast",
        "SERVER_NAME": "lms.test",
        "PUBLIC_BASE_URL": "http://lms.test",
        # The second factor is off unless a test turns it on (tests/auth/test_two_factor.py): the login
        # helper signs HR and admin accounts in with their password alone.
        "REQUIRE_2FA_ROLES": "",
    }


@pytest.fixture(scope="session")
def _pg_schema() -> Iterator[None]:
    if PG_URL:
        app = create_app(base_config(Path("/tmp"), PG_URL))
        with app.app_context():
            db.drop_all()
            db.create_all()
            db.session.remove()
            db.engine.dispose()
    yield


def _empty_pg_tables() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, Any]:
    """Override in a test module (or parametrise) to change the configuration."""
    return {}


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path, _pg_schema: None, app_config: dict[str, Any]
        ) -> Iterator[Flask]:
    config = base_config(tmp_path, PG_URL)
    config.update(app_config)
    app = create_app(config)
    with app.app_context():
        if not PG_URL:
            db.create_all()
        yield app
        if "stale_pairs" not in request.keywords:
            _assert_pairs_in_step()
        db.session.remove()
        if PG_URL:
            _empty_pg_tables()
        db.engine.dispose()


def _assert_pairs_in_step() -> None:
    """After every test: the columns the pairs keep for the reports equal their recomputation
    (tests/pairs.py), whatever the test wrote. A test whose session is left broken (an expected
    database error) has nothing to check."""
    from sqlalchemy.exc import SQLAlchemyError

    from tests.pairs import stale_pairs

    try:
        stale = stale_pairs()
    except SQLAlchemyError:
        return
    assert stale == {}, "assigned_course kept stale report columns (pair: {column: (stored, expected)})"


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The test itself holds an app context (for factories and checks). Without this, requests would
    share it, and with it ``g`` (Flask-Login's cached user) and the database session, hiding bugs
    such as a session that survives logout. The test's own transaction is committed first so that
    it never holds a lock a request is waiting for.
    """

    def open(self, *args: Any, **kwargs: Any):
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


class AuthActions:
    """Sign in and out through the real login form."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str, password: str = PASSWORD, **kwargs: Any):
        return self._client.post(
            "/auth/login", data={"username": username, "password": password}, **kwargs
        )

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


class QueryCounter:
    """Counts SQL statements sent while the ``with`` block runs."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, *args) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):
    """``with count_queries() as counter: ...`` then ``counter.count``."""
    from contextlib import contextmanager

    @contextmanager
    def _counting():
        counter = QueryCounter()
        engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return _counting
