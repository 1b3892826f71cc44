"""``flask certificates issue``: issues what is missing, renders in bulk (also across processes)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.certificates import cli, services
from lms.certificates.models import Certificate, CertificatePdf
from lms.extensions import db
from lms.progress.models import CourseCompletion
from tests import factories as f
from tests.certificates import factories_certificates as cf


def _pdfs() -> int:
    return db.session.scalar(select(func.count()).select_from(CertificatePdf)) or 0


def test_issue_renders_every_certificate_in_process(runner, app):
    course = cf.course()
    for _ in range(3):
        cf.certified(f.user(), course)
    db.session.commit()
    result = runner.invoke(args=["certificates", "issue", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "issued 0, rendered 3, failed 0" in result.output
    assert _pdfs() == 3


@pytest.mark.slow
def test_issue_renders_in_worker_processes_and_the_parent_writes(runner, app):
    course = cf.course(key="bulk")
    codes = [cf.certified(f.user(), course).code for _ in range(9)]
    db.session.commit()
    result = runner.invoke(args=["certificates", "issue", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "rendered 9, failed 0" in result.output and "2 worker(s)" in result.output
    rows = db.session.execute(select(Certificate.code, CertificatePdf.data).join(
        CertificatePdf, CertificatePdf.certificate_id == Certificate.id)).all()
    assert sorted(code for code, _ in rows) == sorted(codes)
    assert all(data.startswith(b"%PDF") for _, data in rows)


def test_missing_only_skips_certificates_that_have_a_pdf(runner, app):
    course = cf.course()
    first = cf.certified(f.user(), course)
    services.store_pdf(first, b"%PDF-stored", 1)
    cf.certified(f.user(), course)
    db.session.commit()
    result = runner.invoke(args=["certificates", "issue", "--missing-only", "--workers", "1"])
    assert "rendered 1," in result.output
    assert db.session.get(CertificatePdf, first.id).data == b"%PDF-stored"


def test_course_option_limits_the_run_and_unknown_courses_are_named(runner, app):
    one, two = cf.course(key="one"), cf.course(key="two")
    cf.certified(f.user(), one)
    cf.certified(f.user(), two)
    db.session.commit()
    result = runner.invoke(args=["certificates", "issue", "--course", "one", "--workers", "1"])
    assert "rendered 1," in result.output
    result = runner.invoke(args=["certificates", "issue", "--course", "nope"])
    assert result.exit_code == 2 and "no course has the key 'nope'" in result.output


def test_issue_creates_certificates_for_past_completions(runner, app):
    """A course whose certificate was switched on after officers completed it."""
    course = cf.course(enabled=False)
    officers = [f.user() for _ in range(2)]
    for officer in officers:
        cf.complete(officer, course)
    course.certificate = {**course.certificate, "enabled": True}
    db.session.commit()
    result = runner.invoke(args=["certificates", "issue", "--dry-run"])
    assert "would issue 2 certificates" in result.output
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0
    result = runner.invoke(args=["certificates", "issue", "--workers", "1"])
    assert "issued 2, rendered 2" in result.output
    completions = db.session.scalar(select(func.count()).select_from(CourseCompletion))
    assert completions == 2


def test_failures_are_listed_and_leave_the_certificate_valid(runner, app, monkeypatch):
    certificate = cf.certified(f.user())
    db.session.commit()

    def broken(*args, **kwargs):
        raise services.CertificateRenderError("too long")

    monkeypatch.setattr(services, "render_certificate_pdf", broken)
    result = runner.invoke(args=["certificates", "issue", "--workers", "1"])
    assert result.exit_code == 1
    assert f"failed: {certificate.code}: too long" in result.output
    db.session.expire_all()
    kept = db.session.get(Certificate, certificate.id)
    assert kept.status == "valid" and kept.render_error == "too long" and _pdfs() == 0


def test_bulk_rendering_needs_a_public_address_for_the_qr_codes(runner, app):
    app.config["PUBLIC_BASE_URL"] = None
    result = runner.invoke(args=["certificates", "issue"])
    assert result.exit_code == 2 and "PUBLIC_BASE_URL" in result.output


def test_worker_config_carries_the_database_and_public_address(app):
    config = cli._portable_config(app)
    assert config["SQLALCHEMY_DATABASE_URI"] == app.config["SQLALCHEMY_DATABASE_URI"]
    assert config["PUBLIC_BASE_URL"] == "http://lms.test"
