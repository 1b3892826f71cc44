"""Reads of progress: one officer's state in a course, the "My training" list, assignments in scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from lms import policy
from lms.catalog.models import Course, Lesson
from lms.db import utcnow
from lms.extensions import db
from lms.org.models import Agency, User
from lms.progress.models import (
    AssignedCourse,
    Assignment,
    CourseCompletion,
    Enrollment,
    LessonProgress,
    Override,
    QuizResult,
)
from lms.progress.services import assignment_targets, required_quiz_keys


@dataclass
class CourseState:
    """Everything the course and lesson pages need to know about one officer in one course."""

    enrollment: Enrollment | None = None
    assigned: AssignedCourse | None = None
    completion: CourseCompletion | None = None
    done_lesson_ids: set[int] = field(default_factory=set)
    quiz_results: dict[str, QuizResult] = field(default_factory=dict)
    # While a renewal is required: the required quizzes not passed again since the certificate expired.
    # A course without a required quiz asks for its lessons again: done_lesson_ids then holds only the
    # lessons marked done since.
    renewal_quiz_keys: list[str] = field(default_factory=list)
    # HR's arrangement for this officer in this course (more time, attempts, a later due date).
    override: Override | None = None

    @property
    def has_access(self) -> bool:
        return self.enrollment is not None or self.assigned is not None

    @property
    def renewal_required(self) -> bool:
        return self.completion is not None and self.completion.renewal_required_since is not None


def course_state(user: Any, course: Course) -> CourseState:
    """Five small queries, whatever the size of the course."""
    state = CourseState()
    state.enrollment = db.session.scalar(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
    )
    state.assigned = db.session.get(AssignedCourse, (user.id, course.id))
    state.override = db.session.scalar(
        select(Override).where(Override.user_id == user.id, Override.course_id == course.id)
    )
    state.completion = db.session.scalar(
        select(CourseCompletion).where(
            CourseCompletion.user_id == user.id, CourseCompletion.course_id == course.id
        )
    )
    if state.enrollment is not None or state.completion is not None:
        lessons = db.session.execute(
            select(LessonProgress.lesson_id, LessonProgress.completed_at).where(
                LessonProgress.user_id == user.id, LessonProgress.course_id == course.id
            )
        ).all()
        state.done_lesson_ids = {lesson_id for lesson_id, _at in lessons}
        state.quiz_results = {
            r.quiz_key: r
            for r in db.session.scalars(
                select(QuizResult).where(QuizResult.user_id == user.id, QuizResult.course_id == course.id)
            )
        }
        since = state.completion.renewal_required_since if state.completion is not None else None
        if since is not None:
            required = required_quiz_keys(course)
            if required:
                state.renewal_quiz_keys = [
                    key for key in required
                    if not ((r := state.quiz_results.get(key)) and r.passed and r.last_passed_at
                            and r.last_passed_at > since)
                ]
            else:
                state.done_lesson_ids = {lesson_id for lesson_id, at in lessons if at > since}
    return state


def catalogue_progress(user: Any, course_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{course_id: {"enrolled", "assigned", "completed", "done"}} for the catalogue (two queries)."""
    if not course_ids:
        return {}
    out: dict[int, dict[str, Any]] = {
        cid: {"enrolled": False, "assigned": False, "completed": False, "done": 0} for cid in course_ids
    }
    done = (
        select(LessonProgress.course_id, func.count().label("n"))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.user_id == user.id, Lesson.archived_at.is_(None))
        .group_by(LessonProgress.course_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Course.id, Enrollment.id, AssignedCourse.user_id, CourseCompletion.id, done.c.n,
               CourseCompletion.renewal_required_since)
        .outerjoin(Enrollment, and_(Enrollment.course_id == Course.id, Enrollment.user_id == user.id))
        .outerjoin(AssignedCourse, and_(AssignedCourse.course_id == Course.id, AssignedCourse.user_id == user.id))
        .outerjoin(CourseCompletion, and_(CourseCompletion.course_id == Course.id,
                                          CourseCompletion.user_id == user.id))
        .outerjoin(done, done.c.course_id == Course.id)
        .where(Course.id.in_(course_ids))
    ).all()  # fmt: skip
    for course_id, enrollment_id, assigned, completion_id, n, renewal_since in rows:
        out[course_id] = {
            "enrolled": enrollment_id is not None,
            "assigned": assigned is not None,
            # A completion waiting for renewal (its certificate expired) is not shown as completed.
            "completed": completion_id is not None and renewal_since is None,
            "done": n or 0,
        }
    return out


def lesson_counts(course_ids: list[int]) -> dict[int, int]:
    if not course_ids:
        return {}
    return dict(
        db.session.execute(
            select(Lesson.course_id, func.count())
            .where(Lesson.course_id.in_(course_ids), Lesson.archived_at.is_(None))
            .group_by(Lesson.course_id)
        ).all()
    )


@dataclass
class TrainingRow:
    course: Course
    due_date: date | None
    assigned: bool
    enrolled: bool
    total: int
    done: int
    completed_at: datetime | None
    score: int | None
    last_lesson_id: int | None
    status: str = ""  # overdue | renewal | in_progress | not_started | completed
    # Set when the certificate expired and the course must be completed again (by ``due_date``).
    renewal_since: datetime | None = None

    @property
    def fraction(self) -> float:
        if self.completed_at is not None and self.renewal_since is None:
            return 1.0
        return self.done / self.total if self.total else 0.0


STATUS_ORDER = {"overdue": 0, "renewal": 1, "in_progress": 1, "not_started": 2, "completed": 3}


def my_training(user: Any, today: date | None = None) -> list[TrainingRow]:
    """The officer's assigned, enrolled and completed courses: overdue first, then in progress (by due
    date), then not started, then completed (latest first). One query."""
    today = today or utcnow().date()
    totals = (
        select(Lesson.course_id, func.count().label("n"))
        .where(Lesson.archived_at.is_(None))
        .group_by(Lesson.course_id)
        .subquery()
    )
    done = (
        select(LessonProgress.course_id, func.count().label("n"))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.user_id == user.id, Lesson.archived_at.is_(None))
        .group_by(LessonProgress.course_id)
        .subquery()
    )
    assigned = aliased(AssignedCourse)
    stmt = (
        select(
            Course, assigned.due_date, assigned.user_id, Enrollment.id, Enrollment.last_lesson_id,
            CourseCompletion.completed_at, CourseCompletion.score, totals.c.n, done.c.n,
            CourseCompletion.renewal_required_since,
        )
        .outerjoin(assigned, and_(assigned.course_id == Course.id, assigned.user_id == user.id))
        .outerjoin(Enrollment, and_(Enrollment.course_id == Course.id, Enrollment.user_id == user.id))
        .outerjoin(CourseCompletion, and_(CourseCompletion.course_id == Course.id,
                                          CourseCompletion.user_id == user.id))
        .outerjoin(totals, totals.c.course_id == Course.id)
        .outerjoin(done, done.c.course_id == Course.id)
        .where(
            Course.archived_at.is_(None),
            or_(assigned.user_id.is_not(None), Enrollment.id.is_not(None), CourseCompletion.id.is_not(None)),
        )
    )  # fmt: skip
    rows: list[TrainingRow] = []
    for (course, due, assigned_user, enrollment_id, last_id, completed_at, score, total, n,
         renewal_since) in db.session.execute(stmt):
        row = TrainingRow(
            course=course, due_date=due, assigned=assigned_user is not None,
            enrolled=enrollment_id is not None, total=total or 0, done=n or 0,
            completed_at=completed_at, score=score, last_lesson_id=last_id, renewal_since=renewal_since,
        )  # fmt: skip
        if completed_at is not None and renewal_since is None:
            row.status = "completed"
        elif due is not None and due < today:
            row.status = "overdue"
        elif renewal_since is not None:
            row.status = "renewal"
        elif row.done or row.enrolled:
            row.status = "in_progress"
        else:
            row.status = "not_started"
        rows.append(row)

    def order(row: TrainingRow) -> tuple[Any, ...]:
        # Overdue first; then open courses by due date (those without one after), in progress before
        # not started; completed last, latest first.
        if row.status == "completed":
            return (2, 0, date.max, -row.completed_at.timestamp() if row.completed_at else 0, row.course.key)
        if row.status == "overdue":
            return (0, 0, row.due_date, 0, row.course.key)
        return (1, row.due_date is None, row.due_date or date.max, STATUS_ORDER[row.status], row.course.key)

    rows.sort(key=order)
    return rows


# Assignments --------------------------------------------------------------------------------


def assignments_query(viewer: Any, *, course_id: int | None = None, active: bool | None = True) -> Select[Any]:
    """Assignments whose target lies in ``viewer``'s HR scope, newest first."""
    target_user = aliased(User)
    user_agency = aliased(Agency)
    target_agency = aliased(Agency)
    stmt = (
        select(Assignment)
        .outerjoin(target_user, target_user.id == Assignment.user_id)
        .outerjoin(user_agency, user_agency.id == target_user.agency_id)
        .outerjoin(target_agency, target_agency.id == Assignment.agency_id)
        .options(
            selectinload(Assignment.target_user).selectinload(User.agency),
            selectinload(Assignment.agency),
            selectinload(Assignment.duty),
            selectinload(Assignment.created_by),
        )
        .order_by(Assignment.created_at.desc(), Assignment.id.desc())
    )
    if not policy.sees_all_agencies(viewer):
        stmt = stmt.where(
            or_(
                and_(Assignment.kind == "user", policy.agency_scope_clause(viewer, user_agency.path)),
                and_(Assignment.kind != "user", Assignment.agency_id.is_not(None),
                     policy.agency_scope_clause(viewer, target_agency.path)),
            )
        )  # fmt: skip
    if course_id:
        stmt = stmt.where(Assignment.course_id == course_id)
    if active is not None:
        stmt = stmt.where(Assignment.active.is_(active))
    return stmt


def assignment_reach(assignment_ids: list[int]) -> dict[int, dict[str, int]]:
    """{assignment id: {"officers": n, "completed": m}} in one query."""
    if not assignment_ids:
        return {}
    targets = assignment_targets()
    rows = db.session.execute(
        select(
            targets.c.assignment_id,
            func.count(func.distinct(targets.c.user_id)),
            func.count(func.distinct(CourseCompletion.user_id)),
        )
        .outerjoin(CourseCompletion, and_(CourseCompletion.user_id == targets.c.user_id,
                                          CourseCompletion.course_id == targets.c.course_id,
                                          CourseCompletion.renewal_required_since.is_(None)))
        .where(targets.c.assignment_id.in_(assignment_ids))
        .group_by(targets.c.assignment_id)
    ).all()  # fmt: skip
    return {aid: {"officers": n, "completed": c} for aid, n, c in rows}


def assignable_courses() -> list[Course]:
    return list(
        db.session.scalars(
            select(Course).where(Course.published.is_(True), Course.archived_at.is_(None)).order_by(Course.key)
        )
    )


@dataclass(frozen=True)
class Requirement:
    """One thing the course's completion rule still asks of the officer."""

    kind: str  # "lesson", "quiz" or "final_score"
    key: str
    title: str = ""
    pass_mark: int | None = None
    best_score: int | None = None
    pending: bool = False  # waits for a trainer to grade


def missing_requirements(course: Course, state: CourseState, lessons: list[Any], lang: str) -> list[Requirement]:
    """What the officer must still do to complete ``course``, from the state already loaded (no SQL).

    ``lessons`` are the course's live lessons with ``key``, ``id`` and ``title``. Empty once completed
    (and not waiting for renewal)."""
    if state.completion is not None and not state.renewal_required:
        return []
    rule = course.completion or {}
    wanted = rule.get("lessons", "all")
    out = [Requirement("lesson", le.key, le.title) for le in lessons
           if (wanted in (None, "all") or le.key in wanted) and le.id not in state.done_lesson_ids]
    for key in required_quiz_keys(course):
        quiz = course.quiz(key) or {}
        result = state.quiz_results.get(key)
        renewing = state.renewal_required and key in state.renewal_quiz_keys
        if result is not None and result.passed and not renewing:
            continue
        title = (quiz.get("title") or {}).get(lang) or (quiz.get("title") or {}).get(course.original_language) or key
        out.append(Requirement("quiz", key, title, quiz.get("pass_mark"),
                               result.best_score if result and result.graded_count else None,
                               bool(result and result.pending)))
    minimum, final = rule.get("min_final_score"), course.final_quiz_key
    result = state.quiz_results.get(final) if final else None
    if minimum is not None and final and result is not None and result.passed and result.best_score < minimum:
        out.append(Requirement("final_score", final, "", minimum, result.best_score))
    return out


def overrides_of(user_id: int) -> list[Override]:
    """The officer's arrangements, course by course (one query)."""
    return list(db.session.scalars(
        select(Override).where(Override.user_id == user_id)
        .options(selectinload(Override.course), selectinload(Override.created_by))
        .order_by(Override.created_at)
    ))  # fmt: skip


def workshops_query(viewer: Any) -> Select[Any]:
    """Workshops organised by agencies in ``viewer``'s scope, newest first."""
    from lms.progress.models import Workshop

    return (
        select(Workshop)
        .join(Agency, Agency.id == Workshop.agency_id)
        .where(policy.agency_scope_clause(viewer, Agency.path))
        .options(selectinload(Workshop.agency), selectinload(Workshop.course))
        .order_by(Workshop.held_on.desc(), Workshop.id.desc())
    )


def attendance_counts(workshop_ids: list[int]) -> dict[int, int]:
    from lms.progress.models import WorkshopAttendance

    if not workshop_ids:
        return {}
    return dict(db.session.execute(
        select(WorkshopAttendance.workshop_id, func.count())
        .where(WorkshopAttendance.workshop_id.in_(workshop_ids)).group_by(WorkshopAttendance.workshop_id)
    ).all())  # fmt: skip


def workshop_candidates(viewer: Any, workshop: Any) -> list[User]:
    """Officers to tick: the active officers of the organising agency and its units within the viewer's
    scope, plus anyone already ticked (one query)."""
    from lms.progress.models import WorkshopAttendance

    ticked = select(WorkshopAttendance.user_id).where(WorkshopAttendance.workshop_id == workshop.id)
    return list(db.session.scalars(
        select(User).join(Agency, Agency.id == User.agency_id)
        .where(User.active.is_(True), policy.agency_scope_clause(viewer, Agency.path),
               or_(Agency.path.startswith(workshop.agency.path, autoescape=True), User.id.in_(ticked)))
        .order_by(Agency.path, User.sort_name, User.id)
    ))  # fmt: skip


def external_of(user_id: int) -> list[Any]:
    from lms.progress.models import ExternalTraining

    return list(db.session.scalars(
        select(ExternalTraining).where(ExternalTraining.user_id == user_id)
        .options(selectinload(ExternalTraining.course)).order_by(ExternalTraining.completed_on.desc())
    ))  # fmt: skip


def workshops_of(user_id: int) -> list[Any]:
    """The workshops an officer attended, newest first (one query)."""
    from lms.progress.models import Workshop, WorkshopAttendance

    return list(db.session.scalars(
        select(Workshop).join(WorkshopAttendance, WorkshopAttendance.workshop_id == Workshop.id)
        .where(WorkshopAttendance.user_id == user_id)
        .options(selectinload(Workshop.course), selectinload(Workshop.agency))
        .order_by(Workshop.held_on.desc())
    ))  # fmt: skip
