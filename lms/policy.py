"""Every permission rule in one place, used by views, CLI commands and the API alike.

Rules are registered by name in :data:`RULES`; code asks ``can(user, "rule", obj)`` or, in a view,
``authorize("rule", obj)`` (403 when refused). Agency scoping for HR is expressed twice on purpose:
``agency_in_scope`` for one object already loaded, and ``agency_scope_clause`` as a SQL condition so
that lists and reports filter in the database instead of in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, false, or_, true

from lms import signals
from lms.org.models import Agency, Role, User

Rule = Callable[[Any, Any], bool]
RULES: dict[str, Rule] = {}

F = TypeVar("F", bound=Callable[..., Any])


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        if name in RULES:
            raise ValueError(f"rule {name} registered twice")
        RULES[name] = fn
        return fn

    return register


def _signed_in(user: Any) -> bool:
    return bool(user) and getattr(user, "is_authenticated", False) and user.is_active


def has_role(user: Any, role: Role | str) -> bool:
    return _signed_in(user) and user.has_role(role)


def is_admin(user: Any) -> bool:
    return has_role(user, Role.admin)


def sees_all_agencies(user: Any) -> bool:
    """Admins, and HR users scoped to the whole tree."""
    return is_admin(user) or (has_role(user, Role.hr) and user.hr_all_agencies)


def scope_paths(user: Any) -> list[str]:
    """Materialised paths of the agency subtrees an HR user covers (empty for everyone else)."""
    if not has_role(user, Role.hr):
        return []
    return [scope.agency.path for scope in user.hr_scopes]


def agency_in_scope(user: Any, agency: Agency) -> bool:
    """Whether an HR user (or admin) may see ``agency`` and the officers in it."""
    if sees_all_agencies(user):
        return True
    return any(agency.path.startswith(path) for path in scope_paths(user))


def agency_scope_clause(user: Any, path_column: Any = None) -> ColumnElement[bool]:
    """SQL condition on an agency path column restricting rows to ``user``'s HR scope."""
    column = path_column if path_column is not None else Agency.path
    if sees_all_agencies(user):
        return true()
    paths = scope_paths(user)
    if not paths:
        return false()
    return or_(*(column.startswith(path, autoescape=True) for path in paths))


# Rules -------------------------------------------------------------------------------------


@rule("admin.access")
def _admin_access(user: Any, _obj: Any) -> bool:
    return is_admin(user)


@rule("org.manage_agencies")
def _manage_agencies(user: Any, _obj: Any) -> bool:
    return is_admin(user)


@rule("org.manage_users")
def _manage_users(user: Any, _obj: Any) -> bool:
    return is_admin(user)


@rule("org.view_audit")
def _view_audit(user: Any, _obj: Any) -> bool:
    return is_admin(user)


@rule("org.view_user")
def _view_user(user: Any, target: User | None) -> bool:
    if not _signed_in(user):
        return False
    if target is not None and target.id == user.id:
        return True
    if is_admin(user):
        return True
    return has_role(user, Role.hr) and target is not None and agency_in_scope(user, target.agency)


@rule("org.import_roster")
def _import_roster(user: Any, _obj: Any) -> bool:
    return is_admin(user) or has_role(user, Role.hr)


@rule("org.use_import_batch")
def _use_import_batch(user: Any, batch: Any) -> bool:
    """An uploaded roster is seen and confirmed only by the person who uploaded it."""
    if batch is None or not _signed_in(user) or batch.created_by_id != user.id:
        return False
    return RULES["org.import_roster" if batch.kind == "officers" else "org.manage_agencies"](user, None)


@rule("hr.view_agency")
def _hr_view_agency(user: Any, agency: Agency | None) -> bool:
    if not (is_admin(user) or has_role(user, Role.hr)):
        return False
    return agency is None or agency_in_scope(user, agency)


@rule("reports.view")
def _reports_view(user: Any, _obj: Any) -> bool:
    return is_admin(user) or has_role(user, Role.hr)


@rule("assignments.manage")
def _assign(user: Any, _obj: Any) -> bool:
    return is_admin(user) or has_role(user, Role.hr)


@rule("catalog.author")
def _author(user: Any, _obj: Any) -> bool:
    return is_admin(user) or has_role(user, Role.trainer)


@rule("catalog.edit_course")
def _edit_course(user: Any, course: Any) -> bool:
    """Admins edit every course; trainers every course unless limited to a list of them."""
    if is_admin(user):
        return True
    if not has_role(user, Role.trainer):
        return False
    limited = trainer_course_limits(user)
    return not limited or course is None or getattr(course, "id", None) in limited


@rule("catalog.browse")
def _browse(user: Any, _obj: Any) -> bool:
    return _signed_in(user)


@rule("catalog.view_course")
def _view_course(user: Any, course: Any) -> bool:
    """Published courses are visible to everyone signed in; drafts to those who may edit them."""
    if not _signed_in(user) or course is None:
        return False
    if course.published and course.archived_at is None:
        return True
    return _edit_course(user, course)


@rule("catalog.read_lessons")
def _read_lessons(user: Any, access: Any) -> bool:
    """``access`` is (course, enrolled_or_assigned): open courses are readable by all, others by
    their enrolled or assigned officers and their editors."""
    course, has_access = access
    if not _view_course(user, course):
        return False
    return bool(course.open or has_access or _edit_course(user, course))


@rule("progress.enrol")
def _enrol(user: Any, access: Any) -> bool:
    """``access`` is (course, assigned): self-enrolment in open courses, or in one assigned to you."""
    course, assigned = access
    return (
        _signed_in(user) and course.published and course.archived_at is None
        and bool(course.open or assigned)
    )  # fmt: skip


@rule("catalog.manage_trainers")
def _manage_trainers(user: Any, _obj: Any) -> bool:
    return is_admin(user)


@rule("assignments.target")
def _assign_target(user: Any, agency: Agency | None) -> bool:
    """Whom HR may assign to: an agency (subtree) in scope; everyone (``None``) only with full scope."""
    if not (is_admin(user) or has_role(user, Role.hr)):
        return False
    return sees_all_agencies(user) if agency is None else agency_in_scope(user, agency)


@rule("assignments.edit")
def _assign_edit(user: Any, assignment: Any) -> bool:
    """Unassigning needs scope over the assignment's target."""
    if assignment is None:
        return False
    agency = assignment.agency
    if assignment.kind == "user" and assignment.target_user is not None:
        agency = assignment.target_user.agency
    return _assign_target(user, agency)


@rule("progress.override")
def _override(user: Any, target: User | None) -> bool:
    """More time, attempts or a later due date for an officer: HR whose scope covers the officer."""
    if target is None or not (is_admin(user) or has_role(user, Role.hr)):
        return False
    return agency_in_scope(user, target.agency)


@rule("workshops.manage")
def _manage_workshops(user: Any, _obj: Any) -> bool:
    """HR and admins record workshops and attendance (agencies and officers limited to their scope)."""
    return is_admin(user) or has_role(user, Role.hr)


@rule("certificates.revoke")
def _revoke(user: Any, certificate: Any) -> bool:
    """Admins, and HR users whose scope covers the holder's agency."""
    if is_admin(user):
        return True
    return (has_role(user, Role.hr) and certificate is not None
            and agency_in_scope(user, certificate.user.agency))


@rule("certificates.verify")
def _verify_certificate(_user: Any, _obj: Any) -> bool:
    """Anyone, signed in or not, may check a certificate by its code."""
    return True


@rule("certificates.view_own")
def _view_own_certificates(user: Any, _obj: Any) -> bool:
    return _signed_in(user)


@rule("certificates.download")
def _download_certificate(user: Any, certificate: Any) -> bool:
    """The holder, admins, and HR users whose scope covers the holder's agency."""
    if not _signed_in(user) or certificate is None:
        return False
    if certificate.user_id == user.id or is_admin(user):
        return True
    return has_role(user, Role.hr) and agency_in_scope(user, certificate.user.agency)


@rule("certificates.view_transcript")
def _view_transcript(user: Any, target: User | None) -> bool:
    return _view_user(user, target)


@rule("certificates.manage")
def _manage_certificates(user: Any, _obj: Any) -> bool:
    """HR and admins list and export certificates (rows limited by agency_scope_clause)."""
    return is_admin(user) or has_role(user, Role.hr)


@rule("certificates.reissue")
def _reissue(user: Any, _obj: Any) -> bool:
    return is_admin(user)


@rule("certificates.manage_templates")
def _manage_certificate_templates(user: Any, _obj: Any) -> bool:
    """Certificate templates speak for agencies installation-wide: administrators only."""
    return is_admin(user)


def trainer_course_limits(user: Any) -> frozenset[int]:
    """Course ids a trainer is limited to (empty: no limit); the catalog answers the signal."""
    limits: frozenset[int] = frozenset()
    for ids in signals.values(signals.trainer_course_limits.send(user)):
        limits |= frozenset(ids)
    return limits


# Reports and the API (issue 7) ---------------------------------------------------------------


@rule("reports.manage_plans")
def _manage_plans(user: Any, _obj: Any) -> bool:
    return is_admin(user) or has_role(user, Role.hr)


@rule("reports.edit_plan")
def _edit_plan(user: Any, plan: Any) -> bool:
    """Admins, HR users with the whole tree, and the HR user who created the plan."""
    if not _manage_plans(user, None) or plan is None:
        return False
    return sees_all_agencies(user) or plan.created_by_id == user.id


@rule("reports.remind")
def _remind(user: Any, agency: Agency | None) -> bool:
    """Reminding an agency's overdue officers needs scope over that agency."""
    return agency is not None and _hr_view_agency(user, agency)


@rule("api.manage_tokens")
def _manage_tokens(user: Any, _obj: Any) -> bool:
    """API tokens read reports, so only those who may read reports create them."""
    return is_admin(user) or has_role(user, Role.hr)


@rule("api.revoke_token")
def _revoke_token(user: Any, token: Any) -> bool:
    return _signed_in(user) and token is not None and token.user_id == user.id


# Quizzes (issue 5) ---------------------------------------------------------------------------


@rule("quizzes.take")
def _take_quiz(user: Any, access: Any) -> bool:
    """``access`` is (quiz, enrolled_or_assigned): whoever may read the course's lessons."""
    quiz, has_access = access
    if quiz is None or quiz.archived_at is not None:
        return False
    return RULES["catalog.read_lessons"](user, (quiz.course, has_access))


@rule("tasks.view_run")
def _view_task_run(user: Any, run: Any) -> bool:
    """A background task's page (progress, its file) is for the person who started it, and admins."""
    if run is None or not _signed_in(user):
        return False
    return is_admin(user) or (run.created_by_id is not None and run.created_by_id == user.id)


@rule("quizzes.answer")
def _answer_attempt(user: Any, attempt: Any) -> bool:
    """Only the officer who started an attempt saves or submits its answers."""
    return _signed_in(user) and attempt is not None and attempt.user_id == user.id


@rule("quizzes.view_attempt")
def _view_attempt(user: Any, attempt: Any) -> bool:
    """The officer, and whoever may edit the quiz's course (trainers grading it)."""
    if not _signed_in(user) or attempt is None:
        return False
    return attempt.user_id == user.id or _edit_course(user, attempt.quiz.course)


@rule("quizzes.manage")
def _manage_quizzes(user: Any, course: Any) -> bool:
    """Banks, quiz settings, attempts overviews, grading and item analysis of a course."""
    return _edit_course(user, course)


# Entry points ------------------------------------------------------------------------------


def can(user: Any, name: str, obj: Any = None) -> bool:
    """Whether ``user`` may do ``name`` (to ``obj``)."""
    return RULES[name](user, obj)


def authorize(name: str, obj: Any = None) -> None:
    """Abort with 403 (401 for anonymous visitors) unless the current user may do ``name``."""
    user = current_user._get_current_object()  # not the proxy: the rule reads it several times
    if not _signed_in(user):
        abort(401)
    if not can(user, name, obj):
        abort(403)


def require(name: str) -> Callable[[F], F]:
    """View decorator: ``authorize(name)`` before the view runs."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            authorize(name)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
