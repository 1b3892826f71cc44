"""Tasks: background work that must not run inside a web request or on one machine's cron.

Rendering certificates (on first download and in bulk), the daily jobs (certificate expiry, overdue
attempts, reminders), reminders sent by HR and roster imports are *tasks*: plain functions registered
by name with ``queue.task`` in the domain that owns them, and started with ``queue.enqueue``.

Where a task runs depends on one setting. With ``REDIS_URL`` (``LMS_REDIS_URL``) set, ``enqueue`` sends
a message to a Dramatiq queue on that Redis and any worker (``dramatiq lms.tasks.worker``) picks it up;
a worker that dies before finishing a message has it redelivered to another one, and a failed task is
retried with back-off. Without it (the embedded default, ``make run``), the task runs at once in the
process that asked for it, exactly as the same work ran before there was a queue.

Either way a task must be idempotent: running it twice issues, sends or renders nothing twice, because
a redelivered message or a retry runs it again. Long tasks are *tracked*: a ``TaskRun`` row holds their
state and progress, which the task's page (``/tasks/<id>``) shows while it runs.
"""

from __future__ import annotations

from flask import Flask


def connect(app: Flask) -> None:
    """The background-work health card, first on an administrator's home page."""
    from lms import policy, ui

    ui.add_dashboard_panel(app, "tasks/_health_panel.html", lambda user: policy.is_admin(user), 5)
