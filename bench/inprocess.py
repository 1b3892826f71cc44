"""lms in this process on a seeded database: a signed-in test client and a statement counter."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import g
from sqlalchemy import delete, event, select


@dataclass
class Site:
    app: Any
    client: Any
    token: str  # an API token of the province-wide HR account

    def get(self, path: str, user: str = "hr", **headers: str) -> tuple[int, bytes]:
        sign_in(self.client, user)
        with self.app.app_context():  # a request of its own, as under gunicorn (see ``timed``)
            response = self.client.get(path, headers=headers)
            return response.status_code, response.get_data()

    def api(self, path: str) -> tuple[int, bytes]:
        return self.get(path, Authorization=f"Bearer {self.token}")

    def timed(self, path: str, user: str = "hr", *, api: bool = False) -> float:
        sign_in(self.client, user)
        headers = {"Authorization": f"Bearer {self.token}"} if api else {}
        started = time.perf_counter()
        # Each request in an application context of its own: inside the bench's, Flask would reuse
        # that one, so ``g`` and the database session would outlive the request (the officer home's
        # per-request certificate cache then reloaded four expired rows on every view, which no
        # request under gunicorn does).
        with self.app.app_context():
            response = self.client.get(path, headers=headers)
            response.get_data()
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
        return elapsed


_signed_in: dict[int, str] = {}


def sign_in(client: Any, username: str) -> None:
    if _signed_in.get(id(client)) == username:
        return
    from lms.extensions import db
    from lms.org.models import User

    user_id = db.session.scalar(select(User).where(User.username == username)).get_id()
    db.session.rollback()  # hold no SQLite lock while the request runs
    # Requests run inside the bench's app context, so its ``g`` (Flask-Login's current user among
    # others) outlives a request: forget it when the user changes.
    g.__dict__.clear()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    _signed_in[id(client)] = username


@contextmanager
def site(url: str) -> Iterator[Site]:
    from lms import create_app
    from lms.api import services as api_services
    from lms.extensions import db
    from lms.org.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key",
                      "RATELIMIT_ENABLED": False, "REQUIRE_2FA_ROLES": ""})
    with app.app_context():
        hr = db.session.scalar(select(User).where(User.username == "hr"))
        token = api_services.create_token(hr, "bench")[1]
        db.session.commit()
        client = app.test_client()
        try:
            yield Site(app, client, token)
        finally:
            # A seeded province is reused run after run, and an account holds at most 10 tokens.
            from lms.api.models import ApiToken

            db.session.rollback()
            db.session.execute(delete(ApiToken).where(ApiToken.user_id == hr.id, ApiToken.name == "bench"))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()


@contextmanager
def counting(engine: Any) -> Iterator[list[str]]:
    """Collect the SQL statements ``engine`` runs inside the block."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
