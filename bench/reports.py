"""Reports at 20,000 and 200,000 officers, each next to the bare SQL aggregate over the same rows.

The page is timed through the whole Flask stack in this process (query, Python, template or export
writer); the floor is one hand-written aggregate that counts the same assigned pairs and completions
and returns them, with nothing around it. Targets: at most 1.5x the bare query; the agency table and
the plan dashboard under 150 ms at 20,000 officers and under 1 s at 200,000.
"""

from __future__ import annotations

from sqlalchemy import select, text

from bench.core import Figure, Run
from bench.inprocess import site

PAIRS = """SELECT u.agency_id, count(*), count(cc.id)
FROM assigned_course ac JOIN "user" u ON u.id = ac.user_id JOIN agency a ON a.id = u.agency_id
LEFT JOIN course_completion cc ON cc.user_id = ac.user_id AND cc.course_id = ac.course_id
WHERE a.path LIKE :path GROUP BY u.agency_id"""
BY_COURSE = """SELECT ac.course_id, count(*), count(cc.id)
FROM assigned_course ac LEFT JOIN course_completion cc ON cc.user_id = ac.user_id AND cc.course_id = ac.course_id
GROUP BY ac.course_id"""
OFFICERS = """SELECT u.id, u.full_name, count(ac.course_id), count(cc.id)
FROM "user" u JOIN agency a ON a.id = u.agency_id
LEFT JOIN assigned_course ac ON ac.user_id = u.id
LEFT JOIN course_completion cc ON cc.user_id = ac.user_id AND cc.course_id = ac.course_id
WHERE a.path LIKE :path GROUP BY u.id, u.full_name, u.sort_name ORDER BY u.sort_name LIMIT 50"""

FAST = {"HR agency report": (0.150, 1.0), "plan dashboard": (0.150, 1.0)}


def run(ctx: Run) -> None:
    from lms.extensions import db
    from lms.org.models import Agency
    from lms.reports.models import Plan

    for size in [s for s in ctx.sizes if s >= 20000]:
        url = ctx.database(size)
        with site(url) as s:
            root = db.session.scalar(select(Agency).where(Agency.code == "SH"))
            unit = db.session.scalar(select(Agency).where(Agency.code == "STP"))
            plan = db.session.scalar(select(Plan).where(Plan.status == "active"))
            whole, part = {"path": f"{root.path}%"}, {"path": f"{unit.path}%"}
            cases = [
                ("HR agency report", "/reports/agencies", PAIRS, whole, False),
                ("agency drill-down", f"/reports/agencies?agency={unit.id}", PAIRS, part, False),
                ("plan dashboard", f"/reports/plans/{plan.id}", PAIRS, whole, False),
                ("course report", "/reports/courses", BY_COURSE, {}, False),
                ("officers of an agency", f"/reports/agencies/{unit.id}/officers", OFFICERS, part, False),
                ("agency CSV export", "/reports/agencies/export.csv", PAIRS, whole, False),
                ("agency XLSX export", "/reports/agencies/export.xlsx", PAIRS, whole, False),
                ("agency PDF export", "/reports/agencies/export.pdf", PAIRS, whole, False),
                ("officers CSV export", f"/reports/agencies/{unit.id}/officers/export.csv", OFFICERS, part, False),
                ("API completion by agency", f"/api/v1/completion/agencies?plan={plan.id}", PAIRS, whole, True),
                ("API completion by officer", f"/api/v1/completion/officers?plan={plan.id}&agency=STP", OFFICERS, whole,
                 True),
            ]
            if size > 20000 and not ctx.quick:
                # A report takes tens of seconds here on a busy 2-core machine: only the two with a
                # time target, so that make bench stays within its budget.
                cases = [c for c in cases if c[0] in FAST]
            for name, path, sql, params, api in cases:
                statement = text(sql)

                def bare(statement=statement, params=params) -> float:  # noqa: ANN001
                    import time

                    started = time.perf_counter()
                    db.session.execute(statement, params).all()
                    elapsed = time.perf_counter() - started
                    db.session.rollback()
                    return elapsed

                def page(path=path, api=api, s=s) -> float:  # noqa: ANN001
                    return s.timed(path, api=api)

                page()  # warm
                value, floor, _a, _b = ctx.alternate(page, bare)
                ceiling = FAST.get(name)
                limit = (ceiling[0] if size <= 20000 else ceiling[1]) if ceiling else None
                met = value <= 1.5 * floor and (limit is None or value < limit)
                target = "<= 1.5x bare" + (f", < {limit * 1000:.0f} ms" if limit else "")
                ctx.add(Figure("reports", name, value * 1000, "ms", floor=floor * 1000,
                               floor_name="bare SQL aggregate", size=size, target=target, met=met,
                               extra={"path": path}))
