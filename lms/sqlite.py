"""SQLite as a safe embedded default: WAL, foreign keys, a busy timeout and write locks taken up front.

pysqlite's own transaction handling starts transactions lazily with a plain ``BEGIN``; two such
transactions that both read and then write end in "database is locked" for one of them, whatever the
busy timeout. We take over: the driver runs in autocommit mode and SQLAlchemy's ``begin`` event issues
``BEGIN IMMEDIATE`` for transactions that may write, so concurrent writers wait in line for the lock.
Read-only requests (GET and HEAD) begin ``DEFERRED`` so readers never queue behind writers (WAL lets
them read while a writer works); a GET view that must write opts in with :func:`writes`.

``BEGIN IMMEDIATE`` holds the one write lock for the whole transaction, so a GET that reads and renders
for seconds (a report export, a transcript PDF) only to add an audit line would make every other writer
wait those seconds, and under load longer than the busy timeout ("database is locked"). Such a view is
marked :func:`appends` instead: it reads in a ``DEFERRED`` transaction like any GET, and the rows it
added are inserted after it returns, in a short ``BEGIN IMMEDIATE`` transaction of their own
(:class:`lms.transaction.App`). PostgreSQL has no database-wide write lock and keeps one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

_begin_mode: ContextVar[str] = ContextVar("lms_sqlite_begin_mode", default="IMMEDIATE")

F = TypeVar("F", bound=Callable[..., Any])


def set_begin_mode(mode: str) -> Token[str]:
    """Choose how the next SQLite transactions of this context begin: IMMEDIATE or DEFERRED.

    Returns the token to give back to :func:`reset_begin_mode` when the request ends: a server
    thread that handled a GET must not carry DEFERRED into whatever it runs next.
    """
    if mode not in {"IMMEDIATE", "DEFERRED"}:
        raise ValueError(mode)
    return _begin_mode.set(mode)


def reset_begin_mode(token: Token[str]) -> None:
    """Restore the begin mode that was in force before :func:`set_begin_mode`."""
    _begin_mode.reset(token)


def current_begin_mode() -> str:
    return _begin_mode.get()


def writes(view: F) -> F:
    """Mark a GET view that writes, so its transaction takes the SQLite write lock up front."""
    view._lms_writes = True  # type: ignore[attr-defined]
    return view


def appends(view: F) -> F:
    """Mark a GET view whose only writes are new rows that depend on nothing it read (an audit entry).

    Its reads take no write lock; the rows it adds (``db.session.add``, never flushed by the view) are
    inserted when it returns, in a transaction of their own that holds the lock for the insert only.
    """
    view._lms_appends = True  # type: ignore[attr-defined]
    return view


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Attach the pragmas and the BEGIN handling to one SQLite engine."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(f"BEGIN {_begin_mode.get()}")
