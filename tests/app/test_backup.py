"""`flask backup` / `flask restore`: a round trip gives back every row of every table, on SQLite and on
PostgreSQL (the suite's engine: LMS_TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from lms.extensions import db
from lms.org.models import Agency
from tests.security import world


def _rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered by primary key, as comparable tuples."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = db.session.execute(select(table).order_by(*order)).all()
        out[table.name] = [tuple(_plain(v) for v in row) for row in rows]
    db.session.rollback()
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, memoryview):
        return bytes(value)
    return value


@pytest.fixture
def seeded(app):
    world.build()
    db.session.commit()
    return _rows()


def test_backup_and_restore_round_trip_every_row_of_every_table(app, runner, tmp_path: Path, seeded):
    assert sum(len(v) for v in seeded.values()) > 100  # a meaningful province, not an empty file
    backup = tmp_path / "lms.backup"
    result = runner.invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    # Then the data changes: a row goes, a row comes.
    db.session.execute(text("DELETE FROM notice"))
    db.session.add(Agency(code="NEW", name_vi="Đơn vị mới", name_en="New", kind="other", path="/x/"))
    db.session.commit()
    assert _rows() != seeded
    result = runner.invoke(args=["restore", str(backup), "--force"])
    assert result.exit_code == 0, result.output
    restored = _rows()
    for table, rows in seeded.items():
        assert restored[table] == rows, f"table {table} differs after the round trip"


def test_restore_refuses_to_overwrite_a_database_with_data_without_force(app, runner, tmp_path, seeded):
    backup = tmp_path / "lms.backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    db.session.execute(text("DELETE FROM notice"))
    db.session.commit()
    before = _rows()
    result = runner.invoke(args=["restore", str(backup)])
    assert result.exit_code != 0
    assert "--force" in result.output and "not empty" in result.output
    assert _rows() == before


def test_restore_into_an_empty_database_needs_no_force(app, runner, tmp_path, seeded):
    backup = tmp_path / "lms.backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    result = runner.invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output
    assert _rows() == seeded


def test_restore_refuses_a_file_that_is_not_a_backup(app, runner, tmp_path):
    junk = tmp_path / "roster.xlsx"
    junk.write_bytes(b"PK\x03\x04 not a database")
    result = runner.invoke(args=["restore", str(junk), "--force"])
    assert result.exit_code != 0 and "not a backup" in result.output


def test_restore_refuses_a_backup_of_the_other_engine(app, runner, tmp_path):
    other = tmp_path / "other.backup"
    is_sqlite = db.engine.url.get_backend_name() == "sqlite"
    other.write_bytes((b"PGDMP" if is_sqlite else b"SQLite format 3\x00") + b"\x00" * 64)
    result = runner.invoke(args=["restore", str(other), "--force"])
    assert result.exit_code != 0 and "backup; this installation uses" in result.output


def _runs():
    from lms.backup import BackupRun

    runs = [(r.ok, r.path, r.size_bytes, r.message) for r in
            db.session.scalars(select(BackupRun).order_by(BackupRun.id))]
    db.session.rollback()
    return runs


def test_every_backup_run_is_recorded_with_its_file_and_size(app, runner, tmp_path):
    target = tmp_path / "nightly" / "lms-2026-12-03.backup"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    [(ok, path, size, message)] = _runs()
    assert ok and path == str(target.resolve()) and size == target.stat().st_size > 0 and message == ""
    # The record is not inside the file it describes: a restore does not bring back a run it never saw.
    db.session.execute(text("DELETE FROM backup_run"))
    db.session.commit()
    result = runner.invoke(args=["restore", str(target), "--force"])
    assert result.exit_code == 0, result.output
    assert _runs() == []


def test_a_failed_backup_is_recorded_with_its_message_and_the_command_fails(app, runner, tmp_path):
    not_a_folder = tmp_path / "backups"
    not_a_folder.write_text("a file where the folder should be")
    result = runner.invoke(args=["backup", str(not_a_folder / "lms.backup")])
    assert result.exit_code != 0
    assert "failed" in result.output
    [(ok, path, size, message)] = _runs()
    assert not ok and path.endswith("lms.backup") and size is None and message
    assert message in result.output  # the same reason on screen and on the admin's page
