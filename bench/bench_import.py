"""Roster import: plan (= --dry-run) and apply a generated 5,000-row roster, CSV and XLSX.

Times the three phases HR waits for: reading and checking the file with the dry run, applying it
(new accounts with activation tokens), and re-importing the same file (nothing changes). The
database is a fresh SQLite file (or ``LMS_BENCH_DATABASE_URL``) with 60 agencies.
"""

from __future__ import annotations

import csv
import io
import os
import random
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

ROWS = 5_000
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Ngọc", "Minh", "Thanh", "Quốc", "Thu", "Đức", "Bích"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Đào", "Hà", "Hải", "Hương", "Khánh", "Lan", "Linh",
         "Long", "Mai", "Nam", "Nga", "Phong", "Phượng", "Quang", "Sơn", "Thảo", "Trang", "Tuấn"]
DUTIES = ["", "", "", "Người phát ngôn", "Nhân quyền", "Thông tin đối ngoại; Báo chí"]
HEADER = ["STT", "Họ và tên", "Mã đơn vị", "Chức vụ", "Email", "Nhiệm vụ", "Mã cán bộ"]


def roster_rows(agency_codes: list[str], rows: int = ROWS, seed: int = 3) -> list[list[str]]:
    rng = random.Random(seed)
    out = []
    for n in range(1, rows + 1):
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        out.append([str(n), name, rng.choice(agency_codes), "Chuyên viên", f"cb{n:05d}@sonha.gov.vn",
                    rng.choice(DUTIES), f"CB{n:05d}"])
    return out


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([HEADER, *rows])
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def as_xlsx(rows: list[list[str]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách cán bộ")
    ws.append(["DANH SÁCH CÁN BỘ THAM GIA BỒI DƯỠNG"])
    ws.append([])
    ws.append(HEADER)
    for row in rows:
        ws.append([int(row[0]), *row[1:]])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def run_one(fmt: str) -> list[tuple[str, str, str]]:
    from lms import create_app
    from lms.extensions import db
    from lms.org import imports, services

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("LMS_BENCH_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False})
        with app.app_context():
            db.drop_all()
            db.create_all()
            services.ensure_builtin_duties()
            root = services.create_agency(code="SH", name_vi="Tỉnh Sơn Hà", kind="province")
            codes = []
            for n in range(60):
                code = f"DV{n:02d}"
                services.create_agency(code=code, name_vi=f"Đơn vị {n}", kind="department", parent=root)
                codes.append(code)
            db.session.commit()
            rows = roster_rows(codes)
            data = as_csv(rows) if fmt == "csv" else as_xlsx(rows)
            name = f"roster.{fmt}"
            results = []

            plan, seconds = _timed(lambda: imports.plan_officers(name, data))
            assert plan.ok and plan.counts["new"] == ROWS, plan.errors[:3]
            db.session.rollback()
            results.append(("dry run (read, check, classify)", f"{ROWS:,} new", f"{seconds:.2f}"))

            def apply():
                the_plan = imports.plan_officers(name, data)
                imports.apply_officers(the_plan, token_days=14)
                db.session.commit()
                return the_plan

            plan, seconds = _timed(apply)
            results.append(("import (plan + write + commit)", f"{plan.counts['new']:,} new", f"{seconds:.2f}"))

            plan, seconds = _timed(lambda: imports.plan_officers(name, data))
            db.session.rollback()
            results.append(("re-import dry run", f"{plan.counts['unchanged']:,} unchanged", f"{seconds:.2f}"))

            rows[0][3] = "Trưởng phòng"
            rows[1][2] = codes[-1] if rows[1][2] != codes[-1] else codes[0]
            changed = as_csv(rows) if fmt == "csv" else as_xlsx(rows)

            def update():
                the_plan = imports.plan_officers(name, changed, deactivate_missing=True)
                imports.apply_officers(the_plan)
                db.session.commit()
                return the_plan

            plan, seconds = _timed(update)
            results.append(("import of an edited file", f"{plan.counts['updated']} updated", f"{seconds:.2f}"))
            db.session.remove()
            db.engine.dispose()
            return [(fmt.upper(), *r) for r in results]


def main() -> str:
    lines = ["| file | step | rows | seconds |", "|---|---|---|---:|"]
    for fmt in ("csv", "xlsx"):
        for row in run_one(fmt):
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
