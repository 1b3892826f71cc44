"""The roster-import task: applies a confirmed batch once, and nothing when the data changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.org import imports
from lms.org import tasks as org_tasks
from lms.org.models import ImportBatch, User
from lms.tasks import queue
from lms.tasks.models import TaskRun
from tests import factories

ROSTER = ("Họ và tên,Mã đơn vị,Tên đăng nhập\n"
          "Nguyễn Văn An,STP,annv\nTrần Thị Bình,STP,binhtt\n").encode()


@pytest.fixture
def app_config():
    return {"TASKS_IN_THREAD": False}  # run tracked tasks inside the call, to check their outcome


def _batch():
    admin = factories.user("admin", agency=factories.agency("STP"), roles={"officer", "admin"})
    batch = imports.create_batch("officers", "roster.csv", ROSTER, owner=admin)
    db.session.commit()
    return admin, batch


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_a_confirmed_roster_is_applied_by_the_task_once_even_if_delivered_twice(app):
    admin, batch = _batch()
    fingerprint = imports.plan_batch(batch, admin).fingerprint
    db.session.rollback()
    before = _users()
    run = queue.start(org_tasks.APPLY, batch.id, fingerprint, user=admin)
    assert db.session.get(TaskRun, run.id).state == "done"
    assert _users() == before + 2
    queue.execute(queue.REGISTRY[org_tasks.APPLY], [run.id, batch.id, fingerprint], final=True)
    org_tasks.apply_import(db.session.get(TaskRun, run.id), batch.id, fingerprint)  # redelivered
    assert _users() == before + 2
    assert db.session.get(ImportBatch, batch.id).applied_at is not None


def test_a_roster_whose_preview_is_stale_fails_without_writing(app):
    admin, batch = _batch()
    before = _users()
    run = queue.start(org_tasks.APPLY, batch.id, "not-the-previewed-fingerprint", user=admin)
    run = db.session.get(TaskRun, run.id)
    assert run.state == "failed" and "changed since the preview" in run.error
    assert _users() == before
    assert db.session.get(ImportBatch, batch.id).applied_at is None
