"""Imports as HR and trainers run them, each as a whole ``flask`` process (start-up included):
a 5,000-row roster (target < 10 s), a GIFT bank of 1,000 questions, and content/ synced twice (the
second sync finds nothing to change). Peak RSS of each process is recorded; the roster import and
the CSV export of the completion report also run on every seeded size, to show memory does not grow
with the province (both are streamed or bounded).
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from bench.core import OUT, ROOT, Figure, Run, env_for

ROWS = 5000
QUESTIONS = 1000

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Ngọc", "Minh", "Thanh", "Quốc", "Thu", "Đức", "Bích"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Đào", "Hà", "Hải", "Hương", "Khánh", "Lan", "Linh",
         "Long", "Mai", "Nam", "Nga", "Phong", "Phượng", "Quang", "Sơn", "Thảo", "Trang", "Tuấn"]
DUTIES = ["", "", "", "Người phát ngôn", "Nhân quyền", "Thông tin đối ngoại; Báo chí"]
HEADER = ["STT", "Họ và tên", "Mã đơn vị", "Chức vụ", "Email", "Nhiệm vụ", "Mã cán bộ"]

# Runs a flask command and prints its peak RSS (KB) on the last line of stderr.
MEASURE = """import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)"""


def roster(path: Path, agency_codes: list[str], prefix: str, rows: int = ROWS, *, usernames: bool = False) -> Path:
    """A roster in the shape HR sends: without usernames (the import derives them and matches
    officers by employee id, else by name in the agency), or with a username per row (``usernames``:
    every row is its own officer whatever names the seeded province already holds)."""
    import csv

    rng = random.Random(3)
    # A name is drawn once per agency: a real roster names two people of one office alike only with
    # their ids, and two such rows would both match a seeded officer of that name who has no employee
    # id (the importer then rightly refuses them as the same officer).
    taken: set[tuple[str, str]] = set()
    names = len(FAMILY) * len(MIDDLE) * len(GIVEN)
    if rows > names * len(set(agency_codes)) // 2:  # drawing without repeats would crawl, then never end
        raise ValueError(f"{rows:,} rows need more than {len(set(agency_codes))} agencies of {names:,} names each")
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER + (["Tên đăng nhập"] if usernames else []))
        for n in range(1, rows + 1):
            code = rng.choice(agency_codes)
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            while (code, name) in taken:
                name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            taken.add((code, name))
            writer.writerow([n, name, code, "Chuyên viên", f"{prefix}{n:05d}@sonha.gov.vn", rng.choice(DUTIES),
                             f"{prefix.upper()}{n:05d}"] + ([f"{prefix}.{n:05d}"] if usernames else []))
    return path


def gift(path: Path, questions: int = QUESTIONS) -> Path:
    rng = random.Random(4)
    parts = []
    for n in range(1, questions + 1):
        kind = n % 3
        if kind == 0:
            parts.append(f"::q{n}:: Công ước số {n} có hiệu lực với Việt Nam? {{{'T' if rng.random() < 0.5 else 'F'}}}")
        elif kind == 1:
            parts.append(f"::q{n}:: Cơ quan nào chủ trì báo cáo số {n}? {{=Bộ Ngoại giao ~Bộ Y tế ~Bộ Tài chính "
                         f"~Bộ Xây dựng}}")
        else:
            parts.append(f"::q{n}:: Năm Hiến pháp ban hành (câu {n})? {{#2013:0}}")
    path.write_text("$CATEGORY: bench\n\n" + "\n\n".join(parts) + "\n", encoding="utf-8")
    return path


def flask_measured(url: str, *args: str) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one ``flask`` process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, str(ROOT / ".venv" / "bin" / "flask"), "--app", "lms",
                           *args], cwd=ROOT, env=env_for(url), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed: {done.stdout[-400:]} {done.stderr[-800:]}")
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def _web_course(url: str) -> str:
    from bench.pages import app_for
    from lms.catalog.models import Course
    from lms.extensions import db
    from lms.org.models import Agency

    app = app_for(url)
    with app.app_context():
        if db.session.scalar(select(Course).where(Course.key == "bench-bank")) is None:
            db.session.add(Course(key="bench-bank", source="web", published=False, folder=None, version=1,
                                  topic="foundations", hours=1, languages=["vi"], lang_codes=",vi,",
                                  title={"vi": "Ngân hàng câu hỏi thử"}, summary={"vi": ""},
                                  completion={"lessons": "all", "quizzes": []}, certificate={"enabled": False},
                                  quizzes=[]))
            db.session.commit()
        codes = list(db.session.scalars(select(Agency.code)))
        db.session.remove()
        db.engine.dispose()
    return ",".join(codes)


def run(ctx: Run) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in ctx.sizes:
        cached = ctx.database(size)
        if size == ctx.sizes[0]:
            url = ctx.scratch_copy(size, "imports")
            codes = _web_course(url).split(",")
            file = roster(OUT / "roster.csv", codes, "bench")
            seconds, rss = flask_measured(url, "users", "import", str(file), "--links-out", str(OUT / "links.csv"))
            ctx.add(Figure("imports", f"roster of {ROWS:,} rows (whole process)", seconds, "s", size=size,
                           target="< 10 s", met=seconds < 10, extra={"peak_rss_mb": rss}))
            bank = gift(OUT / "bank.gift")
            seconds, rss = flask_measured(url, "questions", "import", str(bank), "--course", "bench-bank")
            ctx.add(Figure("imports", f"GIFT bank of {QUESTIONS:,} questions (whole process)", seconds, "s",
                           size=size, extra={"peak_rss_mb": rss}))
            for n in (1, 2):
                seconds, rss = flask_measured(url, "content", "sync", str(ROOT / "content"))
                ctx.add(Figure("imports", f"content sync of content/, run {n}", seconds, "s", size=size,
                               extra={"peak_rss_mb": rss}))
        # Read-only on the cached province: the dry run reads, checks and classifies every row
        # against the database (what could grow with N); the export reads the whole report. The rows
        # carry usernames: a big province holds officers of the same name in one agency, and rows
        # matched by name alone would be refused as ambiguous (rightly) instead of measured.
        file = roster(OUT / f"roster-{size}.csv", ["SH", "STP", "SNGV", "SNV", "X-AVUONG"], "dry", usernames=True)
        seconds, rss = flask_measured(cached, "users", "import", "--dry-run", str(file))
        ctx.add(Figure("memory", f"roster import of {ROWS:,} rows (dry run) peak RSS", rss, "MB", size=size,
                       target="flat in N", extra={"seconds": seconds}))
        export = OUT / "completions.csv"
        seconds, rss = flask_measured(cached, "reports", "completions", "--format", "csv", "--out", str(export))
        ctx.add(Figure("memory", "completion report CSV export peak RSS", rss, "MB", size=size,
                       target="flat in N", extra={"seconds": seconds, "bytes": export.stat().st_size}))
