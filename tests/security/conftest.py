"""One seeded province shared by the whole security session (building it per test would cost minutes).

Every request runs against the same SQLite file; whenever a request wrote anything, the file is put
back from a pristine copy (SQLite's online backup API), so every request sees the same world. Each role
has its own signed-in client whose session cookie and CSRF token are kept and set again before every
request, so a logout or a language switch by one request does not change who the next one is.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from lms import create_app
from lms.extensions import db
from tests.security import world as world_module

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
COOKIE = "lms_session"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Identity:
    """A browser (session cookie + CSRF token) or an API client (bearer token)."""

    role: str
    client: Any
    cookie: str | None = None
    csrf: str | None = None
    bearer: str | None = None


@dataclass
class Harness:
    app: Flask
    world: world_module.World
    db_file: Path
    pristine: Path
    browsers: dict[str, Identity] = field(default_factory=dict)
    tokens: dict[str, Identity] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)

    def restore(self) -> None:
        """Put the database back as it was after seeding."""
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        source, target = sqlite3.connect(self.pristine), sqlite3.connect(self.db_file)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        self.writes.clear()

    def request(self, who: Identity, method: str, url: str, *, csrf: bool = True,
                data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Send one request as ``who``; ``self.writes`` then holds the statements that wrote."""
        self.writes.clear()
        client = who.client
        if who.cookie is not None:
            client.set_cookie(COOKIE, who.cookie)
        else:
            client.delete_cookie(COOKIE)
        headers = dict(kwargs.pop("headers", {}) or {})
        if who.bearer:
            headers["Authorization"] = f"Bearer {who.bearer}"
        body = dict(data or {})
        if method == "POST" and csrf and who.csrf:
            body.setdefault("csrf_token", who.csrf)
        response = client.open(url, method=method, data=body if method == "POST" else None,
                               headers=headers, **kwargs)
        # Read a streamed body to its end and close it, so its transaction ends before the next one.
        response.get_data()
        response.close()
        return response

    def ids(self, key: str) -> Any:
        return self.world.ids[key]


def _csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _sign_in(app: Flask, role: str, username: str) -> Identity:
    client = app.test_client()
    page = client.get("/auth/login")
    token = _csrf_of(page.get_data(as_text=True))
    response = client.post("/auth/login", data={"username": username, "password": world_module.f.PASSWORD,
                                                "csrf_token": token})
    assert response.status_code == 302, f"{role} could not sign in"
    home = client.get("/")
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return Identity(role, client, cookie=cookie.value, csrf=_csrf_of(home.get_data(as_text=True)))


def _anonymous(app: Flask) -> Identity:
    client = app.test_client()
    token = _csrf_of(client.get("/auth/login").get_data(as_text=True))
    cookie = client.get_cookie(COOKIE)
    return Identity("anonymous", client, cookie=cookie.value if cookie else None, csrf=token)


@pytest.fixture(scope="session")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    folder = tmp_path_factory.mktemp("security-world")
    db_file = folder / "world.sqlite3"
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "security-matrix-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}",
        "WTF_CSRF_ENABLED": True,
        "PASSWORD_HASH_PROFILE": "fast",
        "PUBLIC_BASE_URL": "http://localhost",
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 10_000,
        "SQLITE_BUSY_TIMEOUT_MS": 2000,
        "REQUIRE_2FA_ROLES": "",  # every role signs in with its password (the matrix is about authorisation)
    })
    with app.app_context():
        db.create_all()
        the_world = world_module.build()
        db.session.remove()
    h = Harness(app, the_world, db_file, folder / "pristine.sqlite3")
    h.browsers["anonymous"] = _anonymous(app)
    for role, username in the_world.usernames.items():
        h.browsers[role] = _sign_in(app, role, username)
    for role, token in the_world.tokens.items():
        h.tokens[role] = Identity(f"token:{role}", app.test_client(), bearer=token)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    source, target = sqlite3.connect(db_file), sqlite3.connect(h.pristine)
    source.backup(target)
    source.close()
    target.close()

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if WRITE.match(statement):
            h.writes.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
    yield h
    with app.app_context():
        db.engine.dispose()
