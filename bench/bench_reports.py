"""Agency report over 20,000 officers: time per report and per export, and statements per report.

Builds a scratch SQLite province (``LMS_BENCH_OFFICERS`` officers, default 20,000) in 200 agencies
under 20 departments, two courses in an active plan over the whole province, and completions or
started lessons for about two thirds of the pairs, inserted in bulk.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, select

OFFICERS = int(os.environ.get("LMS_BENCH_OFFICERS", "20000"))


def _timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> str:
    from lms import create_app
    from lms.extensions import db
    from lms.org import services as org
    from lms.org.models import User
    from lms.progress.models import AssignedCourse, CourseCompletion, LessonProgress
    from lms.reports import documents, exports, queries
    from lms.reports import services as reports
    from lms.reports.cli import SystemViewer
    from lms.reports.queries import Filters
    from tests.catalog.factories_catalog import course, lessons_of

    folder = Path(tempfile.mkdtemp(prefix="bench_reports_"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}", "SECRET_KEY": "bench",
                      "TESTING": True})
    rng = random.Random(7)
    rows: list[tuple[str, str, str]] = []
    with app.app_context():
        db.create_all()
        root = org.create_agency(code="SH", name_vi="Ủy ban nhân dân tỉnh Sơn Hà", kind="province")
        agencies = []
        for d in range(20):
            dept = org.create_agency(code=f"D{d}", name_vi=f"Sở {d + 1}", kind="department", parent=root)
            agencies.append(dept)
            for u in range(9):
                agencies.append(org.create_agency(code=f"D{d}U{u}", name_vi=f"Phòng {u + 1} Sở {d + 1}",
                                                  kind="department", parent=dept))
        admin = org.create_user(org.UserData(username="admin", full_name="Quản trị", agency=root, roles={"admin"}))
        db.session.flush()
        db.session.execute(insert(User), [
            {"username": f"cb{n}", "full_name": f"Cán bộ {n}", "agency_id": agencies[n % len(agencies)].id,
             "locale": "vi", "active": True, "session_epoch": 0, "hr_all_agencies": False, "job_title": "",
             "created_at": datetime.now(UTC)}
            for n in range(OFFICERS)
        ])
        courses = [course("bench-a", languages=("vi", "kuf")), course("bench-b")]
        plan = reports.create_plan(reports.PlanData(name="Kế hoạch 2026", year=2026,
                                                    due_date=date.today() + timedelta(days=30)), actor=admin)
        for c in courses:
            reports.add_course(plan, c, actor=admin)
        reports.set_target(plan, "officers_completed", 1.0, None, actor=admin)
        reports.add_member(plan, kind="agency", agency=root, actor=admin)
        started = time.perf_counter()
        reports.activate_plan(plan, actor=admin)
        activate_s = time.perf_counter() - started
        pairs = db.session.execute(select(AssignedCourse.user_id, AssignedCourse.course_id, User.agency_id)
                                   .join(User, User.id == AssignedCourse.user_id)).all()
        first_lesson = {c.id: lessons_of(c)[0].id for c in courses}
        done, begun = [], []
        for user_id, course_id, agency_id in pairs:
            roll = rng.random()
            if roll < 0.45:
                done.append({"user_id": user_id, "course_id": course_id, "course_version": 1, "agency_id": agency_id,
                             "score": rng.randint(50, 100), "lang": "vi",
                             "completed_at": datetime.now(UTC) - timedelta(days=rng.randint(0, 300))})
            elif roll < 0.7:
                begun.append({"user_id": user_id, "course_id": course_id, "lesson_id": first_lesson[course_id],
                              "lang": "vi", "completed_at": datetime.now(UTC)})
        db.session.execute(insert(CourseCompletion), done)
        db.session.execute(insert(LessonProgress), begun)
        db.session.commit()

        viewer = SystemViewer()
        filters = Filters(plan_id=plan.id)
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        report = queries.agency_report(viewer, filters, root)
        event.remove(db.engine, "before_cursor_execute", count)

        def page():
            return documents.agency_page(queries.agency_report(viewer, filters, root), [], "vi",
                                         per_month=queries.completions_per_month(viewer, filters))

        data = page()
        doc = documents.document(data, "vi")
        rows.append(("activate the plan (2 courses × province)", f"{len(pairs):,} pairs", f"{activate_s:.2f}"))
        rows.append(("agency report (province → 20 departments)", f"{len(report.rows)} rows, "
                     f"{len(statements)} statements", f"{_timed(lambda: queries.agency_report(viewer, filters, root)):.3f}"))
        dept = agencies[0]
        rows.append(("agency report, one department", "drill-down",
                     f"{_timed(lambda: queries.agency_report(viewer, filters, dept)):.3f}"))
        rows.append(("plan targets", "officers completing all courses",
                     f"{_timed(lambda: queries.plan_targets(viewer, plan, filters)):.3f}"))
        rows.append(("course report", "2 courses", f"{_timed(lambda: queries.course_report(viewer, filters)):.3f}"))
        rows.append(("whole page data (report + 12 months + charts)", "", f"{_timed(page):.3f}"))
        rows.append(("CSV export", "", f"{_timed(lambda: exports.write_csv(doc.table)):.3f}"))
        rows.append(("XLSX export", "", f"{_timed(lambda: exports.write_xlsx(doc)):.3f}"))
        rows.append(("PDF export", "", f"{_timed(lambda: exports.write_pdf(doc), repeat=1):.3f}"))
        db.session.remove()
        db.engine.dispose()
    lines = [f"{OFFICERS:,} officers, {len(pairs):,} assigned pairs, {len(done):,} completions (SQLite)", "",
             "| step | size | seconds |", "|---|---|---:|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
