"""Lifecycle: revocation by an admin with a reason, reissue with a new code, expiry handled once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.audit import AuditEntry
from lms.certificates import services
from lms.certificates.models import Certificate
from lms.db import utcnow
from lms.extensions import db
from lms.progress.models import AssignedCourse, Assignment
from tests import factories as f
from tests.certificates import factories_certificates as cf


@pytest.fixture
def admin(app):
    return f.user("root", roles={"officer", "admin"})


@pytest.fixture
def certificate(app):
    return cf.certified(f.user("holder", full_name="Nguyễn Văn Annh"))


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# Revocation -----------------------------------------------------------------------------------


def test_an_admin_revokes_with_a_reason_and_it_is_audited(client, auth, admin, certificate):
    auth.login("root")
    response = client.post(f"/certificates/{certificate.code}/revoke",
                           data={"reason": "Kết quả kiểm tra bị hủy"})
    assert response.status_code == 302
    db.session.expire_all()
    revoked = db.session.get(Certificate, certificate.id)
    assert revoked.status == "revoked" and revoked.revoked_by_id == admin.id
    assert revoked.revoked_reason == "Kết quả kiểm tra bị hủy"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "certificate.revoke")).one()
    assert entry.actor_id == admin.id and entry.details["reason"] == "Kết quả kiểm tra bị hủy"
    assert client.get(f"/verify/{certificate.code}.json").get_json()["state"] == "revoked"


def test_revoking_without_a_reason_is_refused_with_a_message(client, auth, admin, certificate):
    auth.login("root")
    response = client.post(f"/certificates/{certificate.code}/revoke", data={"reason": "   "})
    assert response.status_code == 400
    assert 'class="errors"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).status == "valid"


def test_hr_revokes_only_within_its_scope_and_the_holder_never(client, auth, certificate):
    elsewhere = f.agency("ELSEWHERE-RV")
    f.user("hr.elsewhere", agency=elsewhere, roles={"officer", "hr"}, hr_agencies=[elsewhere])
    f.user("hr.scope", agency=certificate.user.agency, roles={"officer", "hr"},
           hr_agencies=[certificate.user.agency])
    db.session.commit()
    for outsider in ("hr.elsewhere", "holder"):
        auth.login(outsider)
        assert client.post(f"/certificates/{certificate.code}/revoke", data={"reason": "x"}).status_code == 403
        auth.logout()
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).status == "valid"
    auth.login("hr.scope")
    response = client.post(f"/certificates/{certificate.code}/revoke", data={"reason": "Thi hộ"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).status == "revoked"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "certificate.revoke")).one()
    assert entry.details["reason"] == "Thi hộ"


def test_a_revoked_certificate_cannot_be_revoked_again_or_reissued(admin, certificate):
    services.revoke_certificate(certificate, actor=admin, reason="lý do")
    with pytest.raises(services.CertificateError):
        services.revoke_certificate(certificate, actor=admin, reason="lý do")
    with pytest.raises(services.CertificateError):
        services.reissue_certificate(certificate, actor=admin, reason="lý do")


def test_the_holder_cannot_download_a_revoked_certificate(client, auth, admin, certificate):
    services.revoke_certificate(certificate, actor=admin, reason="lý do")
    auth.login("holder")
    response = client.get(f"/certificates/{certificate.code}.pdf")
    assert response.status_code == 302


# Reissue --------------------------------------------------------------------------------------


def test_reissue_gives_a_new_code_and_keeps_the_history(client, auth, admin, certificate):
    old_code = certificate.code
    auth.login("root")
    response = client.post(f"/certificates/{old_code}/reissue", data={
        "holder_name": "Nguyễn Văn Anh", "agency_name": certificate.agency_name,
        "reason": "Sai chính tả tên",
    })
    assert response.status_code == 302
    db.session.expire_all()
    old = db.session.get(Certificate, certificate.id)
    new = db.session.get(Certificate, old.superseded_by_id)
    assert new.code != old_code and new.replaces_id == old.id
    assert new.holder_name == "Nguyễn Văn Anh" and old.holder_name == "Nguyễn Văn Annh"
    assert new.expires_at == old.expires_at and new.completed_at == old.completed_at
    assert response.headers["Location"].endswith(f"/certificates/{new.code}")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "certificate.reissue")).one()
    assert entry.details["replaces"] == old_code and entry.details["code"] == new.code
    assert entry.details["changes"] == {"holder_name": ["Nguyễn Văn Annh", "Nguyễn Văn Anh"]}
    page = client.get(f"/certificates/{new.code}").get_data(as_text=True)
    assert old_code in page and new.code in page  # the code history
    assert client.get(f"/verify/{old_code}.json").get_json()["state"] == "superseded"
    assert client.get(f"/verify/{new.code}.json").get_json()["state"] == "valid"


def test_the_officer_sees_only_the_corrected_certificate(client, auth, admin, certificate):
    new = services.reissue_certificate(certificate, actor=admin, reason="Sai chính tả",
                                       holder_name="Nguyễn Văn Anh")
    auth.login("holder")
    page = client.get("/certificates/").get_data(as_text=True)
    assert new.code in page and certificate.code not in page


def test_a_replaced_certificate_cannot_be_reissued_twice(admin, certificate):
    services.reissue_certificate(certificate, actor=admin, reason="sửa tên")
    with pytest.raises(services.CertificateError):
        services.reissue_certificate(certificate, actor=admin, reason="sửa tên")


def test_reissue_without_reason_or_name_is_refused_with_messages(client, auth, admin, certificate):
    auth.login("root")
    response = client.post(f"/certificates/{certificate.code}/reissue",
                           data={"holder_name": "", "agency_name": "x", "reason": ""})
    assert response.status_code == 400
    assert response.get_data(as_text=True).count('class="errors"') == 2
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


# Expiry ---------------------------------------------------------------------------------------


def test_expiry_creates_one_recertification_assignment_per_certificate(app, certificate):
    certificate.expires_at = utcnow() - timedelta(hours=1)
    summary = services.expire_certificates(utcnow())
    assert (summary.expired, summary.assignments) == (1, 1)
    assignment = db.session.scalars(select(Assignment)).one()
    assert assignment.kind == "user" and assignment.user_id == certificate.user_id
    assert assignment.course_id == certificate.course_id
    assert assignment.due_date == services.local_date(utcnow()) + timedelta(days=60)
    assert db.session.get(AssignedCourse, (certificate.user_id, certificate.course_id)) is not None
    assert "certificate.expire" in _actions()
    again = services.expire_certificates(utcnow())
    assert (again.expired, again.assignments) == (0, 0)


def test_certificates_still_valid_revoked_or_replaced_are_not_expired(app, admin):
    course = cf.course()
    valid = cf.certified(f.user(), course)
    revoked = cf.certified(f.user(), course)
    replaced = cf.certified(f.user(), course)
    for c in (revoked, replaced):
        c.expires_at = utcnow() - timedelta(days=1)
    services.revoke_certificate(revoked, actor=admin, reason="x")
    services.reissue_certificate(replaced, actor=admin, reason="x")  # the copy inherits the expiry
    summary = services.expire_certificates(utcnow())
    assert summary.expired == 1
    assert valid.code not in summary.codes and revoked.code not in summary.codes
    assert replaced.code not in summary.codes


def test_expire_command_dry_run_changes_nothing(runner, certificate):
    certificate.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    result = runner.invoke(args=["certificates", "expire", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert certificate.code in result.output and "would expire 1" in result.output
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0
    result = runner.invoke(args=["certificates", "expire"])
    assert "1 certificates expired, 1 re-certification assignments" in result.output
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 1


def test_expire_command_accepts_a_moment_and_rejects_nonsense(runner, certificate):
    db.session.commit()
    later = (certificate.expires_at + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    result = runner.invoke(args=["certificates", "expire", "--now", later])
    assert "1 certificates expired" in result.output
    result = runner.invoke(args=["certificates", "expire", "--now", "tomorrow"])
    assert result.exit_code == 2 and "not an ISO date" in result.output


def test_completing_again_after_expiry_issues_a_new_certificate(app, certificate):
    from lms.catalog.models import Lesson
    from lms.progress import services as progress

    certificate.expires_at = utcnow() - timedelta(days=1)
    services.expire_certificates(utcnow())
    course = certificate.course
    lesson = db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)).one()
    progress.complete_lesson(certificate.user, lesson, course, "vi")
    current = db.session.scalars(select(Certificate).where(
        Certificate.user_id == certificate.user_id, Certificate.id != certificate.id)).all()
    assert len(current) == 1 and current[0].state(utcnow()).value == "valid"


def test_the_cron_job_expires_certificates_once(app, runner, certificate):
    """``flask jobs run`` (the daily cron entry) runs the expiry job before the reminders."""
    certificate.expires_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "1 certificates expired, 1 re-certification assignments" in result.output
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 1
    again = runner.invoke(args=["jobs", "run"])
    assert "0 certificates expired" in again.output
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 1


def test_zip_member_names_never_leave_the_archive_folder(app):
    from types import SimpleNamespace

    fake = SimpleNamespace(user=SimpleNamespace(agency=SimpleNamespace(code="..")), holder_name="Lê Văn ../A",
                           code="AAAA-BBBB-CCCC-DDDD-E")
    name = services.zip_member_name(fake)
    assert not name.startswith("..") and "/../" not in name and name.count("/") == 1
