"""Configuration layers: defaults -> instance/config.py -> LMS_* env -> test config."""

from __future__ import annotations

import stat

from flask import Flask

from lms.config import env_overrides, load_config, normalise_database_url


def _app(tmp_path) -> Flask:
    return Flask("cfgtest", instance_path=str(tmp_path / "instance"), instance_relative_config=True)


def test_each_layer_overrides_the_previous_one(tmp_path, monkeypatch):
    app = _app(tmp_path)
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text(
        "SITE_NAME = 'from-instance'\nUSERS_PER_PAGE = 7\nPROVINCE_NAME = 'instance'\nMAIL_PORT = 2525\n"
    )
    monkeypatch.setenv("LMS_USERS_PER_PAGE", "9")
    monkeypatch.setenv("LMS_PROVINCE_NAME", "env")
    load_config(app, {"PROVINCE_NAME": "test"})
    assert app.config["SITE_NAME"] == "from-instance"  # instance beats default
    assert app.config["USERS_PER_PAGE"] == 9  # env beats instance, parsed as a number
    assert app.config["PROVINCE_NAME"] == "test"  # test config beats env
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] == 5  # untouched default


def test_database_url_env_selects_postgres_with_psycopg(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/lms")
    monkeypatch.setenv("LMS_SECRET_KEY", "k" * 48)
    app = _app(tmp_path)
    load_config(app, None)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/lms"


def test_lms_database_url_beats_database_url(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://a/x")
    monkeypatch.setenv("LMS_DATABASE_URL", "sqlite:////tmp/other.sqlite3")
    assert env_overrides({"DATABASE_URL": "postgresql://a/x", "LMS_DATABASE_URL": "sqlite:///b"})[
        "SQLALCHEMY_DATABASE_URI"
    ] == "sqlite:///b"


def test_default_database_is_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    app = _app(tmp_path)
    load_config(app, None)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'lms.sqlite3'}"


def test_secret_key_is_generated_once_into_instance_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    first = _app(tmp_path)
    load_config(first, None)
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 40
    second = _app(tmp_path)
    load_config(second, None)
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_environment_values_are_typed():
    values = env_overrides({"LMS_A": "true", "LMS_B": "12", "LMS_C": "text", "OTHER": "x"})
    assert values == {"A": True, "B": 12, "C": "text"}


def test_plain_postgresql_url_uses_psycopg3():
    assert normalise_database_url("postgresql://x/y") == "postgresql+psycopg://x/y"
    assert normalise_database_url("sqlite:///a") == "sqlite:///a"


def test_a_database_server_without_lms_secret_key_stops_start_up_with_the_reason(tmp_path, monkeypatch):
    from lms.config import ConfigurationError

    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/lms")
    app = _app(tmp_path)
    try:
        load_config(app, None)
    except ConfigurationError as error:
        assert "LMS_SECRET_KEY" in str(error) and "postgresql" in str(error)
    else:
        raise AssertionError("start-up went on with a key only this server knows")
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_redis_without_secret_key_or_public_address_is_refused(tmp_path, monkeypatch):
    from lms.config import ConfigurationError

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    monkeypatch.delenv("LMS_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("LMS_REDIS_URL", "redis://127.0.0.1:6379/6")
    import pytest

    with pytest.raises(ConfigurationError, match="LMS_SECRET_KEY"):
        load_config(_app(tmp_path), None)
    monkeypatch.setenv("LMS_SECRET_KEY", "k" * 48)
    with pytest.raises(ConfigurationError, match="LMS_PUBLIC_BASE_URL"):
        load_config(_app(tmp_path), None)
    monkeypatch.setenv("LMS_PUBLIC_BASE_URL", "https://lms.example.gov.vn")
    app = _app(tmp_path)
    load_config(app, None)
    assert app.config["REDIS_URL"] == "redis://127.0.0.1:6379/6"


def test_the_same_lms_secret_key_on_two_servers_signs_the_same_sessions(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_SECRET_KEY", "shared-" + "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/lms")
    a, b = Flask("a", instance_path=str(tmp_path / "a")), Flask("b", instance_path=str(tmp_path / "b"))
    load_config(a, None)
    load_config(b, None)
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"]
    assert not (tmp_path / "a" / "secret_key").exists()
