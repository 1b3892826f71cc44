"""Issuing: one transaction with the completion, a snapshot of what is printed, no rendering."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from lms.audit import AuditEntry
from lms.certificates import codes, services
from lms.certificates.models import Certificate, CertificatePdf
from lms.extensions import db
from tests import factories as f
from tests.certificates import factories_certificates as cf


def test_completing_a_course_issues_a_certificate_in_the_same_transaction(app):
    officer = f.user(full_name="Nguyễn Thị Hồng Nhung")
    course = cf.course()
    completion = cf.complete(officer, course)
    certificate = cf.certificate_of(officer, course)
    assert certificate.completion_id == completion.id
    assert codes.is_well_formed(certificate.code)
    db.session.rollback()  # the completion and the certificate go together
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_the_certificate_snapshots_what_the_pdf_prints(app):
    officer = f.user(full_name="Nguyễn Thị Hồng Nhung")
    course = cf.course(hours=7.5)
    certificate = cf.certified(officer, course)
    assert certificate.holder_name == "Nguyễn Thị Hồng Nhung"
    assert certificate.agency_name == officer.agency.name_vi
    assert certificate.course_title == course.title["vi"]
    assert certificate.hours == 7.5
    assert certificate.lang == "vi"
    assert certificate.issuer_name == "Sở Tư pháp tỉnh Sơn Hà"
    assert certificate.signer_title == "GIÁM ĐỐC"
    assert certificate.course_key == course.key and certificate.course_version == 3
    officer.full_name = "Tên Đã Đổi"
    course.title = {"vi": "Tên khóa mới"}
    db.session.flush()
    db.session.refresh(certificate)
    assert certificate.holder_name == "Nguyễn Thị Hồng Nhung"
    assert certificate.course_title.startswith("Kỹ năng phát ngôn")


def test_an_english_completion_gets_an_english_certificate_and_minority_languages_print_in_vietnamese(app):
    course = cf.course(languages=("vi", "en", "kuf"))
    reader = f.user(locale="en")
    cf.complete(reader, course, lang="en")
    certificate = cf.certificate_of(reader, course)
    assert certificate.lang == "en"
    assert certificate.course_title == course.title["en"]
    assert certificate.issuer_name == "Son Ha Department of Justice"
    assert certificate.agency_name == reader.agency.name_en
    katu = f.user()
    cf.complete(katu, course, lang="kuf")
    assert cf.certificate_of(katu, course).lang == "vi"


def test_completion_does_not_render_the_pdf(app, monkeypatch):
    calls = []
    monkeypatch.setattr(services, "render_certificate_pdf", lambda *a, **k: calls.append(1))
    cf.certified(f.user())
    assert calls == []
    assert db.session.scalar(select(func.count()).select_from(CertificatePdf)) == 0


def test_courses_without_certificates_issue_none(app):
    officer = f.user()
    course = cf.course(enabled=False)
    cf.complete(officer, course)
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_validity_runs_through_the_last_day_in_the_province_time_zone(app):
    certificate = cf.certified(f.user(), validity_months=24)
    # 31 May 2024 18:00 UTC is already 1 June in Vietnam.
    certificate.completed_at = datetime(2024, 5, 31, 18, 0, tzinfo=UTC)
    certificate.expires_at = services.expiry_instant(certificate.completed_at, 24)
    assert services.valid_until(certificate) == date(2026, 6, 1)
    assert certificate.expires_at == datetime(2026, 6, 1, 17, 0, tzinfo=UTC)  # midnight 2 June, UTC+7


def test_add_months_clamps_to_the_end_of_the_month():
    assert services.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert services.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert services.add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert services.add_months(date(2024, 5, 31), 24) == date(2026, 5, 31)


def test_courses_without_validity_never_expire(app):
    certificate = cf.certified(f.user(), validity_months=None)
    assert certificate.expires_at is None
    assert services.valid_until(certificate) is None


def test_issuing_is_idempotent_for_the_same_completion(app):
    officer = f.user()
    course = cf.course()
    completion = cf.complete(officer, course)
    first = cf.certificate_of(officer, course)
    assert services.issue_certificate(completion) is first
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_issuing_is_in_the_audit_log(app):
    certificate = cf.certified(f.user())
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "certificate.issue")).one()
    assert entry.target_id == str(certificate.id) and entry.details["code"] == certificate.code
