"""The steps ``create_app`` runs, in order. Each is small and named after what it sets up."""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from lms import formatting, policy, ui
from lms.config import load_config
from lms.extensions import babel, csrf, db, login_manager, migrate
from lms.org.fields import SIMPLE_FIELDS, filled_simple_fields
from lms.security import SessionInterface, add_security_headers

# Models of every domain, imported so that metadata (and Alembic) sees all tables.
MODEL_MODULES = [
    "lms.org.models",
    "lms.auth.models",
    "lms.audit",
    "lms.ratelimit",
    "lms.catalog.models",
    "lms.progress.models",
    "lms.certificates.models",
    "lms.api.models",
    "lms.quizzes.models",
    "lms.reports.models",
    "lms.tasks.models",
    "lms.backup",
    "lms.mail",
]

# Modules that register background tasks (``lms.tasks.queue.task``): imported before the queue starts.
TASK_MODULES = [
    "lms.certificates.tasks",
    "lms.org.tasks",
    "lms.tasks.daily",
    "lms.mail",
]

# (module, blueprint attribute) for every feature.
BLUEPRINTS = [
    ("lms.home.views", "bp"),
    ("lms.auth.views", "bp"),
    ("lms.org.views", "bp"),
    ("lms.catalog.views", "bp"),
    ("lms.progress.views", "bp"),
    ("lms.certificates.views", "bp"),
    ("lms.api.views", "bp"),
    ("lms.api.views", "tokens_bp"),
    ("lms.quizzes.views", "bp"),
    ("lms.reports.views", "bp"),
    ("lms.tasks.views", "bp"),
]

# Domain packages whose ``connect(app)`` connects their signal handlers and adds their menu entries,
# panels and sections (see lms.signals and lms.ui); called in this order by ``connect_domains``.
DOMAINS = [
    "lms.home",
    "lms.org",
    "lms.auth",
    "lms.catalog",
    "lms.progress",
    "lms.certificates",
    "lms.api",
    "lms.quizzes",
    "lms.reports",
    "lms.tasks",
]

# Click groups registered on the ``flask`` command.
CLI_GROUPS = [
    ("lms.org.cli", "org_cli"),
    ("lms.org.cli", "users_cli"),
    ("lms.auth.cli", "users_cli"),  # adds `users reset-2fa` to the same group
    ("lms.org.cli", "agencies_cli"),
    ("lms.demo", "demo_command"),
    ("lms.backup", "backup_command"),
    ("lms.backup", "restore_command"),
    ("lms.catalog.cli", "content_cli"),
    ("lms.certificates.cli", "certificates_cli"),
    ("lms.progress.cli", "training_cli"),
    ("lms.quizzes.cli", "questions_cli"),
    ("lms.quizzes.cli", "quizzes_cli"),
    ("lms.reports.cli", "reports_cli"),
    ("lms.reports.cli", "jobs_cli"),
    ("lms.tasks.cli", "tasks_cli"),
    ("lms.generator", "bench_cli"),
]


def configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    load_config(app, test_config)
    app.session_interface = SessionInterface()
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def init_database(app: Flask, _cfg: Any) -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {})
        options["connect_args"].setdefault("timeout", app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    with app.app_context():
        from lms.sqlite import configure_engine

        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @app.before_request
    def _choose_begin_mode() -> None:
        from lms.sqlite import set_begin_mode
        from lms.transaction import request_writes

        g._lms_begin_token = set_begin_mode("IMMEDIATE" if request_writes() else "DEFERRED")

    @app.teardown_request
    def _restore_begin_mode(_exc: BaseException | None) -> None:
        from lms.sqlite import reset_begin_mode

        token = g.pop("_lms_begin_token", None)
        if token is not None:
            # A token made in another context (a streamed response) has nothing to undo here.
            with contextlib.suppress(ValueError):
                reset_begin_mode(token)


def init_tasks(app: Flask, _cfg: Any) -> None:
    """Register every task; with REDIS_URL, connect the queue (a clear error if Redis is not there)."""
    from lms.tasks import queue

    for module in TASK_MODULES:
        importlib.import_module(module)
    queue.init_app(app)


def init_login(app: Flask, _cfg: Any) -> None:
    from lms.org.models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.login_message = None  # the login page explains itself

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        user_id, _, epoch = token.partition(":")
        if not user_id.isdigit() or not epoch.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        return user


def init_csrf(app: Flask, _cfg: Any) -> None:
    csrf.init_app(app)


def init_babel(app: Flask, _cfg: Any) -> None:
    root = Path(app.root_path)
    dirs = [str(root / "translations")] + sorted(
        str(p) for p in root.glob("*/translations") if p.is_dir()
    )
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs)

    def select_locale() -> str:
        languages = app.config["LANGUAGES"]
        if not has_request_context():
            return app.config["BABEL_DEFAULT_LOCALE"]
        if current_user and current_user.is_authenticated and current_user.locale in languages:
            return current_user.locale
        chosen = session.get("lang") or request.cookies.get("lms_lang")
        if chosen in languages:
            return str(chosen)
        return str(app.config["BABEL_DEFAULT_LOCALE"])

    babel.init_app(app, locale_selector=select_locale)


def init_templates(app: Flask, _cfg: Any) -> None:
    from flask_babel import get_locale

    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    def ngettext_with_formatted_num(singular: str, plural: str, count: int, /, **variables: Any) -> str:
        # Plural chosen by the number, shown in the locale's style: "1.234 tài khoản", "1,234 accounts".
        # Positional-only, so a template may still pass its own ``num=`` (an already formatted value).
        from flask_babel import get_translations

        variables.setdefault("num", formatting.number(count))
        return get_translations().ungettext(singular, plural, count) % variables

    app.jinja_env.globals["ngettext"] = ngettext_with_formatted_num
    app.jinja_env.filters["date"] = formatting.date_short
    app.jinja_env.filters["datetime"] = formatting.datetime_short
    app.jinja_env.filters["number"] = formatting.number
    app.jinja_env.filters["percent"] = formatting.percent
    # A global, not a context value: macros imported without context (reports/_macros.html) use it too.
    app.jinja_env.globals["table_wrap_attrs"] = formatting.table_wrap_attrs
    # The simple officer fields (lms.org.fields): _macros/officer.html and the import preview.
    app.jinja_env.globals["filled_simple_fields"] = filled_simple_fields
    app.jinja_env.globals["simple_fields"] = SIMPLE_FIELDS

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "can": lambda name, obj=None: policy.can(current_user, name, obj),
            "has_role": lambda role: policy.has_role(current_user, role),
            "locale": str(get_locale() or "vi"),
            "ui_languages": app.config["LANGUAGES"],
            "site_name": app.config["SITE_NAME"],
            "has_endpoint": lambda endpoint: endpoint in app.view_functions,
        }


def register_blueprints(app: Flask, _cfg: Any) -> None:
    for module, attr in BLUEPRINTS:
        app.register_blueprint(getattr(importlib.import_module(module), attr))


def connect_domains(app: Flask, _cfg: Any) -> None:
    ui.init_app(app)
    for package in DOMAINS:
        importlib.import_module(package).connect(app)


def register_cli(app: Flask, _cfg: Any) -> None:
    for module, attr in CLI_GROUPS:
        app.cli.add_command(getattr(importlib.import_module(module), attr))


def register_errors(app: Flask, _cfg: Any) -> None:
    from lms.home.errors import register

    register(app)


def register_hooks(app: Flask, _cfg: Any) -> None:
    app.after_request(add_security_headers)


STEPS = [
    configure,
    init_database,
    init_tasks,
    init_login,
    init_csrf,
    init_babel,
    init_templates,
    register_blueprints,
    connect_domains,
    register_cli,
    register_errors,
    register_hooks,
]
