"""Configuration defaults and the loading order.

Order (later wins): the defaults below -> ``instance/config.py`` -> ``LMS_*`` environment variables
(and ``DATABASE_URL``) -> the ``test_config`` mapping given to ``create_app``.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask


class Defaults:
    """Settings every installation starts from."""

    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # None: SQLite file in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = 30_000

    # Sessions: signed cookie holding the user id and the user's session epoch (see auth).
    SESSION_COOKIE_NAME = "lms_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE: bool | str = "auto"  # "auto": secure when the request came over HTTPS
    PERMANENT_SESSION_LIFETIME = 7 * 24 * 3600
    PROXY_FIX_HOPS = 0  # number of trusted reverse proxies in front of the app
    # Any request body: the largest upload (a 50 MB course file) and its form. Bigger bodies get 413
    # before Werkzeug spools them to a temporary file.
    MAX_CONTENT_LENGTH = 51 * 1024 * 1024

    # CSRF tokens stay valid as long as the session: an officer may sit on a quiz page for hours.
    WTF_CSRF_TIME_LIMIT: int | None = None
    WTF_CSRF_SSL_STRICT = True

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")

    # Login throttling (counted in the database so that every server process sees the same numbers).
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30
    # Roles that must sign in with a second factor (TOTP): an account with one of them that has none is
    # sent to set it up right after its password, before any page opens. "" turns the rule off; anyone
    # may still turn two-factor authentication on from the account page. (LMS_REQUIRE_2FA_ROLES)
    REQUIRE_2FA_ROLES = "admin,hr"

    # argon2id cost: "default" is argon2-cffi's RFC 9106 low-memory profile; tests use "fast".
    PASSWORD_HASH_PROFILE = "default"  # noqa: S105 (a profile name, not a password)
    ACTIVATION_TOKEN_DAYS = 14

    # An officer reached by an assignment after its due date passed (imported, moved, given a duty)
    # gets this many days from that day instead of a date already in the past.
    LATE_ASSIGNMENT_DAYS = 30
    # ISO 639-3 codes of the province's ethnic-minority communities: a course edition in one of these
    # counts as "minority language" in the plan's communication-products target (any other language
    # but Vietnamese counts as foreign). Default: Quảng Nam's Cơ Tu (Eastern and Western Katu), Xơ Đăng,
    # Giẻ (Jeh) and Cor (Cua).
    MINORITY_LANGUAGES = ("ktv", "kuf", "sed", "jeh", "cua")

    CONTENT_DIR: str | None = None  # default: the content/ folder next to the package
    SITE_NAME = "lms"
    PROVINCE_NAME = "Sơn Hà"
    PUBLIC_BASE_URL: str | None = None  # used in certificate QR codes and e-mails
    USERS_PER_PAGE = 50

    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_FROM = "lms@localhost"
    # E-mails go through the outbox (lms.mail): a failed send is tried again after 1, 4, 16 ... minutes,
    # MAIL_MAX_ATTEMPTS times in all, then shown as failed on the administrator's home page.
    MAIL_MAX_ATTEMPTS = 6
    MAIL_RETRY_SECONDS = 60
    # The administrator's home page warns when the last successful `flask backup` is older than this.
    BACKUP_MAX_AGE_HOURS = 26

    # Scale-out (see the README's deployment section). With REDIS_URL set, background work goes to a
    # Dramatiq queue on that Redis; without it, tasks run in the process that asks for them.
    REDIS_URL: str | None = None
    QUEUE_NAMESPACE = "lms"  # Redis key prefix of the queue (two installations may share a Redis)
    QUEUE_HEARTBEAT_TIMEOUT_MS = 60_000  # a worker silent this long is dead: its messages are redelivered
    QUEUE_MAINTENANCE_CHANCE = 10_000  # per million broker commands: how often dead workers are looked for
    # Without a queue, tracked tasks (bulk renders, imports) run in a thread of the web process so
    # that their page shows progress at once; False runs them inside the request (tests, the CLI).
    TASKS_IN_THREAD = True
    DAILY_JOBS_AT = "01:30"  # local time at which the scheduler runs the daily jobs


def _coerce(raw: str) -> Any:
    """Read an environment value: JSON when it parses (numbers, true/false, lists), else text."""
    lowered = raw.strip().lower()
    if lowered in {"true", "yes", "on"}:
        return True
    if lowered in {"false", "no", "off"}:
        return False
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def env_overrides(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    """Settings taken from ``LMS_*`` variables, plus ``DATABASE_URL``."""
    values: dict[str, Any] = {}
    if environ.get("DATABASE_URL"):
        values["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"]
    for name, raw in environ.items():
        if not name.startswith("LMS_") or name == "LMS_":
            continue
        key = name[4:]
        if key == "DATABASE_URL":
            values["SQLALCHEMY_DATABASE_URI"] = raw
        else:
            values[key] = _coerce(raw)
    return values


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain postgres:// and postgresql:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Apply the four configuration layers to ``app.config`` in order."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(env_overrides(os.environ))
    if test_config:
        app.config.update(test_config)

    instance = Path(app.instance_path)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        instance.mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{instance / 'lms.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(uri)
    shared = shared_installation_reasons(app.config)
    if not app.config.get("SECRET_KEY"):
        if shared:
            raise ConfigurationError(
                "LMS_SECRET_KEY is not set. " + " and ".join(shared) + ", so several servers may "
                "serve this installation, and a key generated into one server's instance/ folder "
                "would make the others reject its sessions and forms. Set the same LMS_SECRET_KEY on "
                "every server (for example the output of: python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')."
            )
        app.config["SECRET_KEY"] = _instance_secret_key(instance)
    if app.config.get("REDIS_URL") and not app.config.get("PUBLIC_BASE_URL"):
        raise ConfigurationError(
            "LMS_PUBLIC_BASE_URL is not set. LMS_REDIS_URL is set, so certificates are rendered by "
            "queue workers outside any web request, and their QR codes need the public address "
            "(for example LMS_PUBLIC_BASE_URL=https://lms.example.gov.vn)."
        )
    if not app.config.get("CONTENT_DIR"):
        app.config["CONTENT_DIR"] = str(Path(app.root_path).parent / "content")


class ConfigurationError(RuntimeError):
    """A setting that a multi-server installation needs is missing; the message says which and why."""


def shared_installation_reasons(config: Any) -> list[str]:
    """Why this installation may run on several servers (empty for the embedded default)."""
    reasons = []
    uri = config.get("SQLALCHEMY_DATABASE_URI") or ""
    if not uri.startswith("sqlite"):
        reasons.append("The database is a server (" + uri.split("://", 1)[0] + ")")
    if config.get("REDIS_URL"):
        reasons.append("LMS_REDIS_URL is set")
    return reasons


def _instance_secret_key(instance: Path) -> str:
    """Read the secret key from instance/secret_key, creating it (mode 600) on first run."""
    path = instance / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
