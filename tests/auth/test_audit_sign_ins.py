"""Sign-ins, failed sign-ins, throttled sign-ins, sign-outs and every export are in the audit log."""

from __future__ import annotations

from sqlalchemy import select

from lms.audit import AuditEntry
from lms.extensions import db
from tests import factories
from tests.conftest import PASSWORD


def actions() -> list[tuple[str, dict]]:
    db.session.expire_all()
    return [(e.action, e.details) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.action.startswith(("auth.sign", "reports.exported"))]


def test_sign_ins_failures_and_sign_outs_are_audited(client, auth):
    factories.user("nhatky")
    db.session.commit()
    client.post("/auth/login", data={"username": "nhatky", "password": "sai-mat-khau"})
    client.post("/auth/login", data={"username": "khong-co-ai", "password": "x"})
    auth.login("nhatky", PASSWORD)
    auth.logout()
    got = [(a, d.get("username"), d.get("reason")) for a, d in actions()]
    assert got == [("auth.sign_in_failed", "nhatky", "credentials"),
                   ("auth.sign_in_failed", "khong-co-ai", "credentials"),
                   ("auth.signed_in", None, None), ("auth.signed_out", None, None)]


def test_a_throttled_sign_in_is_audited(client, app):
    factories.user("bikhoa")
    db.session.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] + 1):
        client.post("/auth/login", data={"username": "bikhoa", "password": "sai"})
    assert actions()[-1][0] == "auth.sign_in_throttled"


def test_every_report_export_is_audited_with_its_format(client, auth):
    factories.user("hr.xuat", roles={"officer", "hr"}, hr_all=True)
    db.session.commit()
    auth.login("hr.xuat")
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/reports/agencies/export.{fmt}").status_code == 200
    exported = [d["format"] for a, d in actions() if a == "reports.exported"]
    assert exported == ["csv", "xlsx"]


def _entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_api_answers_with_officers_records_are_audited_as_exports_and_lookups_are_not(client):
    from lms.api import services as api_services

    dept = factories.agency("STP-API", name_vi="Sở Tư pháp")
    hr = factories.user("hr.api", agency=dept, roles={"officer", "hr"}, hr_agencies=[dept])
    factories.user("cb.api1", agency=dept)
    token = api_services.create_token(hr, "Bảng điều khiển")[1]
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/me", "/api/v1/agencies", "/api/v1/completion/agencies",
                 "/api/v1/completion/officers?agency=STP-API&per_page=5", "/api/v1/certificates"):
        assert client.get(path, headers=headers).status_code == 200, path
    assert client.get("/api/v1/completion/officers?agency=NOPE", headers=headers).status_code == 404
    got = [(e.actor_id, e.target_id, e.details["format"], e.details["rows"], e.details["filters"])
           for e in _entries("api.exported")]
    assert got == [(hr.id, "completion_by_agency", "json", 1, {}),
                   (hr.id, "completion_by_officer", "json", 2, {"agency": "STP-API", "per_page": "5"}),
                   (hr.id, "certificates", "json", 0, {})]


def test_hr_taking_an_officers_uploaded_certificate_is_audited_and_the_officers_own_download_is_not(
        client, auth):
    from datetime import date

    from lms.progress import workshops

    dept = factories.agency("STP-EXT")
    hr = factories.user("hr.ext", agency=dept, roles={"officer", "hr"}, hr_agencies=[dept])
    officer = factories.user("cb.ext", agency=dept)
    data = workshops.ExternalData(title="Bồi dưỡng người phát ngôn", issuer="Học viện Báo chí và Tuyên truyền",
                                  hours=16, completed_on=date(2026, 10, 1))
    row = workshops.add_external(officer, data, "cert.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                                 actor=hr)
    db.session.commit()
    auth.login("cb.ext")
    assert client.get(f"/progress/external/{row.id}.pdf").status_code == 200
    auth.logout()
    auth.login("hr.ext")
    assert client.get(f"/progress/external/{row.id}.pdf").status_code == 200
    got = [(e.actor_id, e.target_id, e.details) for e in _entries("progress.external_file_exported")]
    assert got == [(hr.id, str(officer.id), {"external_id": row.id, "format": "pdf"})]
