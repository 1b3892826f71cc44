"""Roster imports as a task: the confirmed batch is applied by a worker, not by the web server.

Idempotent: a batch is applied once (``applied_at``); a redelivered message finds it applied and stops.
The plan is made again inside the task, so the worker applies exactly what the database allows now, and
only when it is still what the officer previewed (the fingerprint).
"""

from __future__ import annotations

from lms.db import utcnow
from lms.extensions import db
from lms.org import imports
from lms.org.models import ImportBatch, User
from lms.tasks import queue
from lms.tasks.models import TaskRun, TaskState

APPLY = "org.apply_import"


@queue.task(APPLY, tracked=True, retries=2, time_limit_seconds=1800)
def apply_import(run: TaskRun, batch_id: int, fingerprint: str) -> None:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.applied_at is not None:
        return
    actor = db.session.get(User, batch.created_by_id)
    plan = imports.plan_batch(batch, actor)
    if not plan.ok or plan.fingerprint != fingerprint:
        # Not worth a retry: the officer must look at a new preview. Nothing was written.
        db.session.rollback()
        fresh = db.session.get(TaskRun, run.id)
        if fresh is None:  # the run row went with the rollback: nothing to record
            return
        run = fresh
        run.state, run.finished_at = TaskState.failed.value, utcnow()
        run.error = "the data changed since the preview; nothing was written"
        run.summary = dict(run.summary, next=None)
        db.session.commit()
        return
    imports.apply_batch(batch, plan, actor=actor)
    run.summary = dict(run.summary, counts=batch.summary)
    db.session.commit()
