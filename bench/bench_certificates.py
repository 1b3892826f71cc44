"""Certificates: issue cost inside a completion, render time per PDF, bulk throughput, ZIP export.

Builds a scratch SQLite database (or ``LMS_BENCH_DATABASE_URL``) with one course that prints a seal,
``LMS_BENCH_CERTIFICATES`` officers (default 120) and their certificates, then times:

* issuing a certificate record (what the completing request pays: no rendering there);
* rendering one certificate PDF in-process (median of a few, after a warm-up render);
* the first download (render + store) and a cached download, through the test client;
* ``flask certificates issue`` bulk rendering with one worker and with one per core;
* streaming the ZIP of every certificate once all PDFs are stored.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

N = int(os.environ.get("LMS_BENCH_CERTIFICATES", "120"))
SAMPLES = 7


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def main() -> str:
    from sqlalchemy import delete, select

    from lms import create_app
    from lms.catalog.models import Asset, Course
    from lms.certificates import cli, services
    from lms.certificates.models import Certificate, CertificatePdf
    from lms.certificates.pdf import STATIC_ROOT
    from lms.db import utcnow
    from lms.extensions import db
    from lms.org import services as org
    from lms.progress.models import CourseCompletion

    tmp = Path(tempfile.mkdtemp(prefix="bench-certs-"))
    url = os.environ.get("LMS_BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "PUBLIC_BASE_URL": "https://lms.sonha.gov.vn",
        "PASSWORD_HASH_PROFILE": "fast", "SERVER_NAME": "lms.bench", "WTF_CSRF_ENABLED": False,
    })
    rows: list[tuple[str, str, str]] = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        org.ensure_builtin_duties()
        province = org.create_agency(code="SH", name_vi="Ủy ban nhân dân tỉnh Sơn Hà",
                                     name_en="Son Ha", kind="province", parent=None)
        agency = org.create_agency(code="STTTT", name_vi="Sở Thông tin và Truyền thông tỉnh Sơn Hà",
                                   name_en="Department of Information", kind="department",
                                   parent=province)
        seal = (STATIC_ROOT / "img" / "specimen-seal.svg").read_bytes()
        course = Course(
            key="spokesperson-press", version=1, hours=24, languages=["vi", "en"], lang_codes=",vi,en,",
            title={"vi": "Kỹ năng phát ngôn và cung cấp thông tin cho báo chí về công tác nhân quyền",
                   "en": "Spokesperson skills"},
            summary={"vi": "…"}, published=True,
            certificate={"enabled": True, "validity_months": 24,
                         "issuer": {"vi": "Sở Tư pháp tỉnh Sơn Hà"}, "signer_name": "Trần Văn Đức",
                         "signer_title": {"vi": "GIÁM ĐỐC"}, "seal": "seal.svg"},
        )
        db.session.add(course)
        db.session.flush()
        db.session.add(Asset(course_id=course.id, path="seal.svg", content_type="image/svg+xml",
                             size=len(seal), sha256="0" * 64, data=seal))
        completions = []
        for n in range(N):
            user = org.create_user(org.UserData(
                username=f"cb{n:05d}", full_name=f"Nguyễn Thị Hồng Nhung {n}", agency=agency,
                roles={"officer"}, duty_codes=set(), hr_agency_ids=set(), hr_all_agencies=False,
            ))
            db.session.flush()
            completion = CourseCompletion(user_id=user.id, course_id=course.id, completed_at=utcnow(),
                                          score=90, course_version=1, agency_id=agency.id, lang="vi")
            db.session.add(completion)
            completions.append((completion, user))
        db.session.flush()
        started = time.perf_counter()
        for completion, user in completions:
            services.issue_certificate(completion, user, course)
        issue_seconds = (time.perf_counter() - started) / N
        db.session.commit()
        rows.append(("issue one certificate record (inside the completing transaction)",
                     _ms(issue_seconds) + " ms", f"mean of {N}"))

        certificates = list(db.session.scalars(select(Certificate).order_by(Certificate.id)))
        services.render_certificate(certificates[0])  # warm-up: fonts, templates, WeasyPrint caches
        samples, cpu = [], []
        for certificate in certificates[:SAMPLES]:
            started, started_cpu = time.perf_counter(), time.process_time()
            pdf = services.render_certificate(certificate)
            samples.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        rows.append(("render one certificate PDF (in-process, warm)",
                     _ms(statistics.median(samples)) + " ms",
                     f"median of {SAMPLES}; CPU {_ms(statistics.median(cpu))} ms; "
                     f"{len(pdf) / 1024:.0f} KiB each"))
        db.session.rollback()

        client = app.test_client()
        holder = certificates[-1]
        with client.session_transaction() as session:
            session["_user_id"] = f"{holder.user_id}:0"
            session["_fresh"] = True
        started = time.perf_counter()
        response = client.get(f"/certificates/{holder.code}.pdf")
        first = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        started = time.perf_counter()
        response = client.get(f"/certificates/{holder.code}.pdf")
        cached = time.perf_counter() - started
        rows.append(("first download (render + store), HTTP", _ms(first) + " ms", ""))
        rows.append(("later download (stored PDF), HTTP", _ms(cached) + " ms", ""))

        ids = [c.id for c in certificates]
        for workers in sorted({1, os.cpu_count() or 1}):
            db.session.execute(delete(CertificatePdf))
            db.session.commit()
            result = cli.render_many(ids, workers=workers)
            assert result.rendered == N and not result.failed, result
            rows.append((f"bulk render + store, {workers} worker(s)",
                         f"{result.per_second:.1f} certificates/s",
                         f"{N} in {result.seconds:.1f} s (incl. process start-up)"))

        started = time.perf_counter()
        size = sum(len(chunk) for chunk in services.zip_stream(ids))
        zipped = time.perf_counter() - started
        rows.append((f"ZIP of {N} stored certificates (streamed)", f"{zipped:.2f} s",
                     f"{size / 1024 / 1024:.1f} MiB"))
        db.session.remove()
        db.engine.dispose()

    table = ["| what | time | notes |", "|---|---:|---|"]
    table += [f"| {what} | {value} | {notes} |" for what, value, notes in rows]
    return "\n".join(table)


if __name__ == "__main__":
    print(main())
