"""Migrations build an empty database from nothing, match the models, and go down cleanly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from lms import create_app
from lms.extensions import db
from tests.conftest import PG_URL, base_config


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    server = make_url(PG_URL)
    name = f"lms_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_builds_every_table_and_matches_the_models(empty_database_url, tmp_path):
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == [], "models and migrations differ: run `flask db migrate`"
        db.engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_database_url, tmp_path):
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        upgrade()
        assert "user" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_there_is_exactly_one_migration_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parents[2] / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrading_a_database_with_data_keeps_every_row(empty_database_url, tmp_path):
    """Rebuilding a table on SQLite (batch mode) must not cascade-delete the rows pointing at it."""
    app = create_app(base_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade(revision="0001_organisation")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO agency (id, code, name_vi, name_en, kind, path, depth, active, created_at) "
                              "VALUES (1, 'A', 'Sở A', '', 'department', '/1/', 0, true, '2024-01-01 00:00:00')"))
            conn.execute(text('INSERT INTO "user" (id, username, full_name, agency_id, job_title, locale, active, '
                              'session_epoch, hr_all_agencies, created_at) VALUES (1, \'u\', \'Nguyễn Văn Bình\', 1, '
                              "'', 'vi', true, 0, false, '2024-01-01 00:00:00')"))
            conn.execute(text("INSERT INTO duty (id, code, name_vi, name_en, builtin) VALUES (1, 'press', 'Báo chí', 'Press', true)"))
            conn.execute(text("INSERT INTO user_duty (user_id, duty_id) VALUES (1, 1)"))
            conn.execute(text("INSERT INTO user_role (user_id, role) VALUES (1, 'officer')"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM user_duty")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM user_role")).scalar() == 1
            assert conn.execute(text('SELECT sort_name FROM "user"')).scalar()  # filled by 0002
        db.engine.dispose()
