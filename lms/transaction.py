"""One unit of work per request and per command: the boundary commits once or rolls back, nothing else.

Services only flush. A request that may write (POST and the other unsafe methods, or a GET view marked
with :func:`lms.sqlite.writes`) is committed once, right after its view returns, whatever the status it
returns (a 404 that records a failed certificate lookup keeps the record); a view that raises (``abort``,
a bug, a failed commit) rolls everything back. Read-only requests never commit. A GET view marked with
:func:`lms.sqlite.appends` (it only adds rows that depend on nothing it read: an export's audit entry)
reads without SQLite's write lock; on SQLite the boundary ends its read transaction and inserts the
added rows in a short transaction of their own, on PostgreSQL it commits the one transaction as usual. This is Indico's
``RH.process`` discipline, put in ``Flask.dispatch_request`` so no view can forget it.

A view that catches a :class:`lms.errors.DomainError` hands it to :func:`lms.errors.show_error`, which
discards what the failed service flushed before putting the message on the form or flashing it; later
writes of the same request (a login failure being counted) are still committed by the boundary.

Commands get the same boundary from :class:`Group` (use it instead of ``click.group``): the command's
function runs inside an app context and is committed when it returns, rolled back when it raises
(``click.ClickException`` included). A dry run calls :func:`discard` before it returns; a long batch
job may call :func:`checkpoint` between batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask, current_app, request
from flask.cli import ScriptInfo
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_APPENDING = "lms_appending"  # Session.info key: an @appends view is running and must not flush


class AppendsViolation(RuntimeError):
    """An ``@appends`` view flushed, changed or deleted rows: it may only add new ones."""


def request_writes() -> bool:
    """Whether the current request may write: an unsafe method, or a view marked ``@writes``."""
    view = current_app.view_functions.get(request.endpoint or "")
    return request.method not in SAFE_METHODS or bool(getattr(view, "_lms_writes", False))


def request_appends() -> bool:
    """Whether the current request is a GET (or HEAD) whose view is marked ``@appends``."""
    view = current_app.view_functions.get(request.endpoint or "")
    return request.method in SAFE_METHODS and bool(getattr(view, "_lms_appends", False))


@event.listens_for(Session, "before_flush")
def _no_flush_while_appending(session: Session, _context: Any, _instances: Any) -> None:
    # A flush inside the view would write in the read transaction, and the rollback that ends it
    # would then lose the row without a word: refuse it loudly instead.
    if session.info.get(_APPENDING):
        raise AppendsViolation("an @appends view flushed: it may only db.session.add() new rows")


def _insert_appended() -> None:
    """End the view's read transaction, then insert what it added in a short write transaction."""
    from lms.sqlite import reset_begin_mode, set_begin_mode

    if db.session.dirty or db.session.deleted:
        raise AppendsViolation("an @appends view changed or deleted rows: mark it @writes instead")
    added = list(db.session.new)
    db.session.rollback()  # the rows added and never flushed come out of the session unchanged
    if not added:
        return
    token = set_begin_mode("IMMEDIATE")
    try:
        db.session.add_all(added)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        reset_begin_mode(token)


@contextmanager
def reads_only() -> Iterator[None]:
    """A block of a background job that only reads (queries, rendering PDFs), run between its units of
    work: on SQLite its transaction begins DEFERRED, so it takes no write lock however long it works,
    and it is ended (rolled back: it wrote nothing) when the block exits; what follows begins IMMEDIATE
    as before. On PostgreSQL nothing changes: the block stays in the one transaction."""
    from lms.sqlite import reset_begin_mode, set_begin_mode

    if db.engine.dialect.name != "sqlite":
        yield
        return
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("reads_only() entered with unsaved changes: it would discard them")
    db.session.rollback()
    token = set_begin_mode("DEFERRED")
    try:
        yield
    finally:
        db.session.rollback()
        reset_begin_mode(token)


def discard() -> None:
    """Undo everything this unit of work has flushed so far (a failed service, a dry run)."""
    db.session.rollback()


def checkpoint() -> None:
    """Commit what a long batch job has done so far (between batches only; views never call it)."""
    db.session.commit()


class App(Flask):
    """The Flask application with the request boundary around every view."""

    def dispatch_request(self) -> Any:
        appends = request_appends()
        split = appends and db.engine.dialect.name == "sqlite"
        try:
            if split:
                db.session.info[_APPENDING] = True
                try:
                    with db.session.no_autoflush:
                        rv = super().dispatch_request()
                finally:
                    db.session.info.pop(_APPENDING, None)
            else:
                rv = super().dispatch_request()
        except BaseException:
            db.session.rollback()
            raise
        if split:
            _insert_appended()
        elif request_writes() or appends:
            db.session.commit()
        else:
            db.session.rollback()
        return rv


class Command(click.Command):
    """A click command whose function is one unit of work inside an application context."""

    def invoke(self, ctx: click.Context) -> Any:
        if current_app:  # already inside an app context (a test, or a command calling another)
            return _in_unit_of_work(super().invoke, ctx)
        app = ctx.ensure_object(ScriptInfo).load_app()
        with app.app_context():
            return _in_unit_of_work(super().invoke, ctx)


def _in_unit_of_work(invoke: Any, ctx: click.Context) -> Any:
    try:
        rv = invoke(ctx)
    except click.exceptions.Exit as done:
        if done.exit_code:
            db.session.rollback()
        else:
            db.session.commit()
        raise
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return rv


class Group(click.Group):
    """``click.group`` whose commands (and sub-groups) are units of work: see :class:`Command`."""

    command_class = Command
    group_class = type  # sub-groups are of this same class


def group(name: str, **attrs: Any) -> Group:
    """A click group of unit-of-work commands, e.g. ``org_cli = transaction.group("org", help=...)``."""
    return Group(name, **attrs)
