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
