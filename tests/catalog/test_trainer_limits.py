"""Admins limit trainers to some courses on the web; the policy then refuses the others."""

from __future__ import annotations

from sqlalchemy import select

from lms import policy
from lms.audit import AuditEntry
from lms.catalog.models import Course
from lms.extensions import db
from tests import factories


def _course(key: str) -> Course:
    course = Course(key=key, version=1, topic="other", hours=1, languages=["vi"], title={"vi": f"Khóa {key}"},
                    summary={"vi": ""}, published=True, source="web")
    db.session.add(course)
    db.session.flush()
    return course


def test_admin_limits_a_trainer_and_policy_follows(client, auth):
    admin = factories.user("qtv", roles={"officer", "admin"})
    trainer = factories.user("gv1", roles={"officer", "trainer"}, full_name="Phạm Minh Khoa")
    a, b = _course("khoa-a"), _course("khoa-b")
    db.session.commit()
    assert policy.can(trainer, "catalog.edit_course", b)
    auth.login("qtv")
    page = client.get("/catalog/author/trainers").get_data(as_text=True)
    assert "Phạm Minh Khoa" in page and "Khóa khoa-a" in page
    assert client.post(f"/catalog/author/trainers/{trainer.id}", data={"course_ids": [str(a.id)]}).status_code == 302
    db.session.expire_all()
    from flask import g

    from lms.catalog.services import trainer_course_ids

    g.pop("_lms_trainer_limits", None)
    assert trainer_course_ids(trainer) == {a.id}
    assert policy.can(trainer, "catalog.edit_course", a)
    assert not policy.can(trainer, "catalog.edit_course", b)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "catalog.trainer_limited"))
    assert admin.id


def test_only_admins_manage_trainer_limits(client, auth):
    factories.user("gv2", roles={"officer", "trainer"})
    factories.user("tc", roles={"officer", "hr"}, hr_all=True)
    db.session.commit()
    auth.login("gv2")
    assert client.get("/catalog/author/trainers").status_code == 403
    auth.logout()
    auth.login("tc")
    assert client.get("/catalog/author/trainers").status_code == 403


def test_unknown_course_ids_are_refused(client, auth):
    factories.user("qtv2", roles={"officer", "admin"})
    trainer = factories.user("gv3", roles={"officer", "trainer"})
    db.session.commit()
    auth.login("qtv2")
    assert client.post(f"/catalog/author/trainers/{trainer.id}", data={"course_ids": ["999"]}).status_code == 400
