"""The page of a tracked task: its progress while it runs, then its outcome (and its file, if any)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template

from lms import policy
from lms.extensions import db
from lms.i18n import N_
from lms.tasks.models import TaskRun, TaskState

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

TITLES = {
    "certificates.render_chunk": N_("Preparing certificate PDFs"),
    "jobs.daily": N_("Daily jobs"),
    "org.apply_import": N_("Importing officers"),
}


def _run_or_404(run_id: int) -> TaskRun:
    """Load the run or 404, then check that the current user may see it (403 otherwise)."""
    run = db.get_or_404(TaskRun, run_id)
    policy.authorize("tasks.view_run", run)
    return run


def status(run: TaskRun) -> dict[str, Any]:
    return {
        "id": run.id, "state": run.state, "total": run.total, "done": run.done, "failed": run.failed,
        "percent": run.percent, "finished": run.finished, "has_file": bool(run.filename),
        "error": run.error if run.state == TaskState.failed else "",
    }


@bp.get("/<int:run_id>")
def show(run_id: int) -> str:
    run = _run_or_404(run_id)
    return render_template("tasks/show.html", run=run, title=TITLES.get(run.name))


@bp.get("/<int:run_id>.json")
def show_json(run_id: int) -> Response:
    response = jsonify(status(_run_or_404(run_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:run_id>/file")
def download(run_id: int) -> Response:
    run = _run_or_404(run_id)
    if run.state != TaskState.done or not run.filename:
        abort(404)
    response = Response(run.data or b"", mimetype=run.content_type or "application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{run.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.app_template_global()
def installation_health() -> Any:
    from lms.tasks.health import installation_health as read

    return read()


@bp.app_template_global()
def task_title(name: str) -> str:
    from lms.i18n import _

    return _(TITLES[name]) if name in TITLES else name


