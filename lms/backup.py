"""Backups of the whole database: ``flask --app lms backup FILE`` and ``flask --app lms restore FILE``.

SQLite is copied with its online backup API (a consistent copy while the app keeps serving);
PostgreSQL with ``pg_dump --format=custom`` and ``pg_restore --single-transaction`` (all or nothing).
A restore refuses to overwrite a database that holds any row unless ``--force`` is given, and refuses a
file made by the other engine.

Every ``flask backup`` run is recorded in ``backup_run`` (when, which file, its size, success or the
error), so the administrator's home page can say when the last good backup was made and warn when it is
older than ``BACKUP_MAX_AGE_HOURS`` or the last run failed. The record is written in a transaction of
its own after the copy is made: a failed run is recorded even though the command fails, and a backup
never contains its own record.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import BigInteger, Boolean, String, Text, func, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import Model, db

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(click.ClickException):
    """A backup or restore that cannot be done; the message says why and what to do."""


class BackupRun(Model):
    """One run of ``flask backup``: when, where to, how big, and whether it worked."""

    __tablename__ = "backup_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    path: Mapped[str] = mapped_column(String(1000))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text, default="")

    @property
    def filename(self) -> str:
        return Path(self.path).name


def record_run(started_at: datetime, path: Path, *, ok: bool, size_bytes: int | None = None,
               message: str = "") -> None:
    """Record a backup run in its own transaction (it must outlive a failed command's rollback)."""
    with Session(db.engine) as session, session.begin():
        session.add(BackupRun(started_at=started_at, finished_at=utcnow(), ok=ok, path=str(path)[:1000],
                              size_bytes=size_bytes, message=message[:4000]))


def _url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _pg_env(url: URL) -> dict[str, str]:
    """libpq settings for pg_dump/pg_restore (the password travels in the environment, not argv)."""
    env = dict(os.environ)
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[name] = str(value)
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found: install the Debian package postgresql-client "
                          "(`make debs` does it).")
    return found


def row_count() -> int:
    """Rows in all the application's tables (0: the database is empty, whatever its schema)."""
    names = set(inspect(db.engine).get_table_names()) - {BackupRun.__tablename__}  # not data: the log
    total = 0
    for table in db.metadata.sorted_tables:
        if table.name in names:
            total += db.session.scalar(select(func.count()).select_from(table)) or 0
    db.session.rollback()
    return total


def backup(target: Path) -> None:
    """Write a consistent copy of the database to ``target`` (replaced only when complete)."""
    url = _url()
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkstemp(prefix=target.name + ".", suffix=".partial", dir=target.parent)[1])
    try:
        if url.get_backend_name() == "sqlite":
            source = sqlite3.connect(_sqlite_path(url))
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                copy.close()
                source.close()
        elif url.get_backend_name() == "postgresql":
            argv = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"]
            subprocess.run(argv, env=_pg_env(url), check=True, capture_output=True)  # noqa: S603 - fixed argv, no shell
        else:
            raise BackupError(f"No backup method for {url.get_backend_name()}.")
        os.replace(partial, target)
    except subprocess.CalledProcessError as err:
        raise BackupError(f"pg_dump failed: {err.stderr.decode(errors='replace').strip()}") from err
    finally:
        partial.unlink(missing_ok=True)


def _kind_of(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a backup made by `flask backup` (neither SQLite nor pg_dump).")


def restore(source: Path, *, force: bool = False) -> None:
    """Replace the database's content with the backup in ``source``."""
    url = _url()
    if not source.is_file():
        raise BackupError(f"{source}: no such file.")
    kind = _kind_of(source)
    if kind != url.get_backend_name():
        raise BackupError(f"{source} is a {kind} backup; this installation uses {url.get_backend_name()}.")
    rows = row_count()
    if rows and not force:
        raise BackupError(f"The database is not empty ({rows} rows): restoring would replace them. "
                          "Run again with --force to do it anyway.")
    db.session.remove()
    db.engine.dispose()  # nothing of ours may hold a lock the restore needs
    if kind == "sqlite":
        check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            if check.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is damaged (SQLite quick_check failed); nothing was changed.")
            live = sqlite3.connect(_sqlite_path(url), timeout=30)
            try:
                check.backup(live)  # one step: the live file becomes the backup, or stays as it was
            finally:
                live.close()
        finally:
            check.close()
    else:
        argv = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                "--single-transaction", "--exit-on-error", f"--dbname={url.database}", str(source)]
        done = subprocess.run(argv, env=_pg_env(url), capture_output=True)  # noqa: S603 - fixed argv, no shell
        if done.returncode:
            raise BackupError("pg_restore failed, nothing was changed: "
                              f"{done.stderr.decode(errors='replace').strip()[-800:]}")
    db.engine.dispose()


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Write a backup of the whole database to FILE (safe while the app is serving); the run is recorded."""
    started, target = utcnow(), file.resolve()
    try:
        backup(file)
        size = file.stat().st_size
    except Exception as error:  # noqa: BLE001 - every failure is recorded, then reported plainly
        message = error.message if isinstance(error, click.ClickException) else f"{type(error).__name__}: {error}"
        _record_or_warn(started, target, ok=False, message=message)
        if isinstance(error, BackupError):
            raise
        raise BackupError(f"The backup to {file} failed: {message}") from error
    _record_or_warn(started, target, ok=True, size_bytes=size)
    click.echo(f"Backup written to {file} ({size:,} bytes).")


def _record_or_warn(started: datetime, target: Path, **outcome: object) -> None:
    try:
        record_run(started, target, **outcome)  # type: ignore[arg-type]
    except Exception as error:  # noqa: BLE001 - the backup's own outcome matters more than its record
        click.echo(f"warning: the backup run could not be recorded in the database ({error}).", err=True)


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(file: Path, force: bool) -> None:
    """Replace the database with the backup in FILE (refused over data without --force)."""
    restore(file, force=force)
    click.echo(f"Database restored from {file}.")
