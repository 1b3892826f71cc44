"""Statements per page at every size: a page must run the same number of SQL statements on 1,000,
20,000 and 200,000 officers (the tests count them on small data; this proves it at scale)."""

from __future__ import annotations

from sqlalchemy import select

from bench.core import Figure, Run
from bench.inprocess import counting, site
from bench.pages import pages_for


def main_pages(app: object) -> list[tuple[str, str, str, bool]]:
    """(name, path, user, api) of every main page, with ids from the database."""
    from lms.extensions import db
    from lms.org.models import Agency, User

    pages = [(p.name, p.path, p.user, False) for p in pages_for(app)]
    unit = db.session.scalar(select(Agency).where(Agency.code == "STP"))
    officer = db.session.scalar(select(User).where(User.username == "officer"))
    plan = next(p for p in pages if p[0] == "plan dashboard")[1].rsplit("/", 1)[1]
    return pages + [
        ("agency drill-down", f"/reports/agencies?agency={unit.id}", "hr", False),
        ("officers of an agency", f"/reports/agencies/{unit.id}/officers", "hr", False),
        ("course report", "/reports/courses", "hr", False),
        ("officer transcript", f"/reports/officers/{officer.id}", "hr", False),
        ("API completion by agency", f"/api/v1/completion/agencies?plan={plan}", "hr", True),
        ("API completion by officer", f"/api/v1/completion/officers?plan={plan}&agency=STP", "hr", True),
        ("API agencies", "/api/v1/agencies", "hr", True),
    ]


def run(ctx: Run) -> None:
    counts: dict[str, dict[int, int]] = {}
    for size in ctx.sizes:
        url = ctx.database(size)
        with site(url) as s:
            from lms.extensions import db

            for name, path, user, api in main_pages(s.app):
                s.get(path, user) if not api else s.api(path)  # warm: first-request caches
                with counting(db.engine) as seen:
                    status, _body = s.api(path) if api else s.get(path, user)
                if status != 200:
                    raise RuntimeError(f"{name} {path}: HTTP {status}")
                counts.setdefault(name, {})[size] = len(seen)
    first = ctx.sizes[0]
    for name, by_size in counts.items():
        for size, count in by_size.items():
            ctx.add(Figure("statements", name, count, "statements", floor=by_size[first],
                           floor_name=f"count at {first:,}", size=size, target="same at every size",
                           met=count == by_size[first]))
