"""Registering, starting and running tasks, on Dramatiq when ``REDIS_URL`` is set, in-process otherwise.

Why Dramatiq on Redis: its Redis broker acknowledges a message only after the task returned, and a
worker's unacknowledged messages go back to the queue when its heartbeat stops, so killing a worker in
the middle of a bulk render loses nothing; retries with exponential back-off are built in; and it needs
only Redis, which a scaled-out installation already runs. A PostgreSQL-backed queue would have saved a
service, but the ones available are asyncio-first and would have put queue polling on the database that
the deadline burst already loads. RQ and Huey do not redeliver a dead worker's message; Celery does, but
with much more machinery than these few tasks need.

Rules for a task function:

* it is registered with ``@task("domain.what")`` in the domain that owns the work, and takes only
  JSON values (ids, codes, dates as text);
* it commits its own work (it runs like a CLI command, never inside the caller's transaction);
* it is idempotent: running it again after a retry or a redelivery changes nothing more.

Callers commit first and then call :func:`enqueue` (or :func:`start` for a tracked run), or call
:func:`on_commit` from inside a transaction to send the message only if that transaction commits.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.db import utcnow
from lms.extensions import db
from lms.tasks.models import TaskRun, TaskState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskSpec:
    name: str
    fn: Callable[..., Any]
    tracked: bool
    retries: int
    queue: str
    time_limit_ms: int


REGISTRY: dict[str, TaskSpec] = {}


def task(
    name: str, *, tracked: bool = False, retries: int = 3, queue: str = "default",
    time_limit_seconds: int = 600,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` as the task ``name``. A tracked task gets its ``TaskRun`` as first argument."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY[name] = TaskSpec(name, fn, tracked, retries, queue, time_limit_seconds * 1000)
        return fn

    return decorate


def queued(app: Flask | None = None) -> bool:
    """True when tasks go to the Redis queue; False on the embedded default (run in-process)."""
    return bool((app or current_app).config.get("REDIS_URL"))


# Starting ----------------------------------------------------------------------------------------


def enqueue(name: str, *args: Any, once_per_seconds: int = 0) -> None:
    """Run the task ``name`` with ``args``: on the queue, or here and now without one.

    ``once_per_seconds`` drops a second identical request within that many seconds (a page that polls
    while a certificate renders asks once, not every two seconds). Only meaningful with a queue.
    """
    spec = REGISTRY[name]
    if not queued():
        execute(spec, list(args), final=True, inline=True)
        return
    state = _state()
    if once_per_seconds:
        marker = f"{state.namespace}:once:{name}:{json.dumps(list(args), separators=(',', ':'))}"
        if not state.redis.set(marker, b"1", nx=True, ex=once_per_seconds):
            return
    state.actors[name].send(*args)


def start(name: str, *args: Any, total: int = 0, key: str | None = None, user: Any = None,
          summary: dict[str, Any] | None = None) -> TaskRun:
    """Record a tracked run (committed) and start it; with ``key``, a second start finds the first run."""
    if key is not None:
        existing = db.session.scalar(select(TaskRun).where(TaskRun.key == key))
        if existing is not None:
            return existing
    run = TaskRun(name=name, key=key, args={"args": list(args)}, total=total,
                  created_by_id=getattr(user, "id", None), summary=summary or {})
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another server started the same key a moment ago
        return db.session.scalars(select(TaskRun).where(TaskRun.key == key)).one()
    run_id = run.id
    if not queued() and _in_thread():
        spec = REGISTRY[name]
        _background(lambda: execute(spec, [run_id, *args], final=True, inline=True))
    else:
        enqueue(name, run_id, *args)
    return db.session.get(TaskRun, run_id) or run


def start_fan_out(name: str, chunks: Sequence[Sequence[Any]], *, total: int, user: Any = None,
                  summary: dict[str, Any] | None = None) -> TaskRun:
    """Record a run made of many small messages, ``name(run_id, chunk)`` each, and send them all.

    Each chunk task counts what it finished with :func:`add_progress` in the transaction that stores
    its work, so a chunk redelivered after a crash counts only what it did not count before, and the
    run is done when every item is counted. Spreading the chunks lets every worker help.
    """
    run = TaskRun(name=name, state=TaskState.running.value, total=total, started_at=utcnow(),
                  created_by_id=getattr(user, "id", None), summary=summary or {})
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    if total == 0:
        run.state, run.finished_at = TaskState.done.value, utcnow()
        db.session.commit()
    if not queued() and _in_thread():
        spec, todo = REGISTRY[name], [list(chunk) for chunk in chunks]
        _background(lambda: [execute(spec, [run_id, chunk], final=True) for chunk in todo])
    else:
        for chunk in chunks:
            enqueue(name, run_id, list(chunk))
    return db.session.get(TaskRun, run_id) or run


def _in_thread() -> bool:
    return bool(current_app.config.get("TASKS_IN_THREAD", True))


def _background(work: Callable[[], Any]) -> None:
    """Without a queue, run a tracked task in a thread of this process, so its page shows at once.

    The thread has its own app context (and so its own database session). A process that stops
    mid-task leaves the run unfinished: tracked tasks are idempotent, so starting it again is safe.
    """
    import threading

    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def target() -> None:
        with app.app_context():
            try:
                work()
            except Exception:  # noqa: BLE001 - a thread has no caller to tell; the run shows it
                log.exception("background task failed")

    threading.Thread(target=target, name="lms-task", daemon=True).start()


def on_commit(name: str, *args: Any) -> None:
    """Send the task when the current transaction commits (nothing on rollback). Queue only.

    For work that only speeds things up (rendering a new certificate before anyone asks for it): the
    embedded default does that work on first use instead, as it always did.
    """
    if not queued():
        return
    pending = db.session().info.setdefault("lms_on_commit", [])
    pending.append((name, args))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop("lms_on_commit", None)
    if not pending:
        return
    try:
        state = _state()
        for name, args in pending:
            state.actors[name].send(*args)
    except Exception:  # noqa: BLE001 - the commit stands; the work is redone on first use
        log.exception("could not queue %d task(s) after commit", len(pending))


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop("lms_on_commit", None)


# Progress ----------------------------------------------------------------------------------------


def add_progress(run_id: int, *, done: int = 0, failed: int = 0) -> None:
    """Count finished items of a fan-out run in one UPDATE (in the caller's transaction).

    The run is marked done in the same statement series when every item is counted.
    """
    db.session.execute(
        update(TaskRun).where(TaskRun.id == run_id)
        .values(done=TaskRun.done + done, failed=TaskRun.failed + failed, updated_at=utcnow(),
                state=TaskState.running.value, started_at=db.func.coalesce(TaskRun.started_at, utcnow()))
        .where(TaskRun.state.in_((TaskState.queued.value, TaskState.running.value)))
    )
    db.session.execute(
        update(TaskRun).where(TaskRun.id == run_id, TaskRun.state == TaskState.running.value,
                              TaskRun.done + TaskRun.failed >= TaskRun.total)
        .values(state=TaskState.done.value, finished_at=utcnow())
    )


def prune_runs(older_than_days: int = 30) -> int:
    """Delete finished runs (and their files) older than a month; returns how many went."""
    from datetime import timedelta

    from sqlalchemy import delete

    since = utcnow() - timedelta(days=older_than_days)
    result = db.session.execute(delete(TaskRun).where(
        TaskRun.state.in_((TaskState.done.value, TaskState.failed.value)), TaskRun.created_at < since))
    return result.rowcount or 0  # type: ignore[attr-defined]


# Running -----------------------------------------------------------------------------------------


def execute(spec: TaskSpec, args: Sequence[Any], *, final: bool, inline: bool = False) -> Any:
    """Run one task (the caller provides the app context). Tracked runs record state and errors.

    ``final`` says whether a failure now is the last try (then a tracked run is marked failed).
    Inline (no queue), a tracked run's failure is recorded and not raised: its page shows it.
    """
    if not spec.tracked:
        try:
            return spec.fn(*args)
        except Exception:
            db.session.rollback()
            raise
    run_id, rest = args[0], list(args[1:])
    run = db.session.get(TaskRun, run_id)
    if run is None or run.state in (TaskState.done, TaskState.failed):
        return None  # deleted, or a redelivered message of a run that finished
    run.state = TaskState.running.value
    run.started_at = run.started_at or utcnow()
    run.attempts += 1
    db.session.commit()
    try:
        result = spec.fn(run, *rest)
    except Exception as error:
        db.session.rollback()
        run = db.session.get(TaskRun, run_id)
        if run is not None:
            run.error = "".join(traceback.format_exception_only(error)).strip()[:4000]
            if final:
                run.state = TaskState.failed.value
                run.finished_at = utcnow()
            else:
                run.state = TaskState.queued.value  # the queue will try again
            db.session.commit()
        if inline:
            log.exception("task %s (run %s) failed", spec.name, run_id)
            return None
        raise
    run = db.session.get(TaskRun, run_id)
    if run is not None and run.state == TaskState.running:
        run.state = TaskState.done.value
        run.finished_at = utcnow()
        run.done = max(run.done, run.total)
    db.session.commit()
    return result


# The broker --------------------------------------------------------------------------------------


@dataclass
class _QueueState:
    broker: Any
    actors: dict[str, Any]
    redis: Any
    namespace: str


def _state() -> _QueueState:
    state: _QueueState = current_app.extensions["lms_tasks"]
    return state


def init_app(app: Flask) -> None:
    """With ``REDIS_URL``: connect the Dramatiq broker and declare an actor per registered task."""
    url = app.config.get("REDIS_URL")
    if not url:
        return
    import redis
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.middleware import CurrentMessage

    from lms.config import ConfigurationError

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
    try:
        client.ping()
    except redis.RedisError as error:
        raise ConfigurationError(
            f"LMS_REDIS_URL is set to {url!r}, but Redis does not answer there ({error}). Start Redis "
            "or fix the address; without LMS_REDIS_URL tasks run inside the web process."
        ) from error
    namespace = app.config.get("QUEUE_NAMESPACE") or "lms"
    broker = RedisBroker(
        client=client, namespace=namespace,
        heartbeat_timeout=int(app.config["QUEUE_HEARTBEAT_TIMEOUT_MS"]),
        maintenance_chance=int(app.config["QUEUE_MAINTENANCE_CHANCE"]),
    )
    broker.add_middleware(CurrentMessage())
    actors = {spec.name: _declare(app, broker, spec) for spec in REGISTRY.values()}
    app.extensions["lms_tasks"] = _QueueState(broker, actors, client, namespace)


def _declare(app: Flask, broker: Any, spec: TaskSpec) -> Any:
    import dramatiq
    from dramatiq.middleware import CurrentMessage

    def perform(*args: Any) -> Any:
        message = CurrentMessage.get_current_message()
        retries = int(message.options.get("retries", 0)) if message is not None else 0
        with app.app_context():
            return execute(spec, args, final=retries >= spec.retries)

    perform.__name__ = spec.name.replace(".", "_")
    return dramatiq.Actor(
        perform, broker=broker, actor_name=spec.name, queue_name=spec.queue, priority=0,
        options={"max_retries": spec.retries, "min_backoff": 1_000, "max_backoff": 120_000,
                 "time_limit": spec.time_limit_ms},
    )
