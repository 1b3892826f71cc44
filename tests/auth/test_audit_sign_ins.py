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
