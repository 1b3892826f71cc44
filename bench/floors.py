"""The floors pages are measured against, served by the same gunicorn settings as lms.

``/bare`` is a Flask endpoint that returns a short text: the cost of gunicorn, WSGI and Flask routing.
``/bare-jinja`` runs one SQL query (50 officers of the same database) and renders them as an HTML table
with Jinja: the cost of a minimal real page. An lms page does more (session, user, permissions,
translations, several queries, a larger template), so the targets are ratios of these.
"""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import create_engine, text

PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><table><thead><tr><th>#</th><th>Họ và tên</th><th>Tài khoản</th><th>Thư điện tử</th>
</tr></thead><tbody>{% for row in rows %}<tr><td>{{ row.id }}</td><td>{{ row.full_name }}</td>
<td>{{ row.username }}</td><td>{{ row.email }}</td></tr>{% endfor %}</tbody></table></body></html>"""


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["DATABASE_URL"]
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)
                           if url.startswith("postgresql://") else url)
    template = app.jinja_env.from_string(PAGE)
    query = text('SELECT id, full_name, username, email FROM "user" ORDER BY id LIMIT 50')

    @app.get("/bare")
    def bare() -> tuple[str, int, dict[str, str]]:
        return "ok", 200, {"Content-Type": "text/plain"}

    @app.get("/bare-jinja")
    def bare_jinja() -> str:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        return template.render(title="Cán bộ", rows=rows)

    return app
