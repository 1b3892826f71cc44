"""Writes to progress: enrolment, lesson completion, quiz results, completion, assignments.

Flush only; the caller commits, so a lesson or quiz that completes a course and the listeners that issue
its certificate share one transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import (
    Date,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from lms import audit, signals
from lms.catalog.models import Course, Lesson
from lms.db import affected_rows, local_day, utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import _
from lms.org.models import Agency, Duty, User, user_duty
from lms.progress.models import (
    AssignedCourse,
    Assignment,
    AssignmentReach,
    CalendarFeed,
    CourseCompletion,
    Enrollment,
    LessonProgress,
    Override,
    QuizResult,
    started_clause,
)


class ProgressError(DomainError):
    """A refusal of the progress domain (see lms.errors.DomainError)."""


def _insert_ignore(model: Any, values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: a double click must not become an integrity error."""
    dialect = db.session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(model).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(model).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - other engines are not supported
        stmt = insert(model).values(**values)
    db.session.execute(stmt)


# Enrolment ----------------------------------------------------------------------------------


def enrollment_for(user: Any, course: Course) -> Enrollment | None:
    return db.session.scalar(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
    )


def is_assigned(user: Any, course: Course) -> bool:
    return bool(
        db.session.scalar(
            select(AssignedCourse.user_id).where(
                AssignedCourse.user_id == user.id, AssignedCourse.course_id == course.id
            )
        )
    )


def enrol(user: Any, course: Course, *, source: str = "self") -> Enrollment:
    """Enrol ``user`` (idempotent); the caller has checked the policy."""
    _insert_ignore(
        Enrollment,
        {"user_id": user.id, "course_id": course.id, "source": source, "enrolled_at": utcnow()},
    )
    enrollment = enrollment_for(user, course)
    assert enrollment is not None
    return enrollment


def note_lesson_opened(enrollment: Enrollment, lesson: Lesson) -> None:
    """Remember the lesson an officer opened last, to resume there."""
    enrollment.last_lesson_id = lesson.id
    enrollment.last_seen_at = utcnow()


# Lessons, quizzes, completion -----------------------------------------------------------------


def complete_lesson(user: Any, lesson: Lesson, course: Course, lang: str) -> CourseCompletion | None:
    """Mark ``lesson`` done (idempotent) and evaluate the course; returns a new completion, if any."""
    if lesson.archived_at is not None or lesson.course_id != course.id:
        raise ProgressError(_("This lesson is no longer part of the course."))
    enrollment = enrollment_for(user, course)
    if enrollment is None:
        raise ProgressError(_("Enrol in the course first."))
    _mark_lesson_done(user, lesson, course, lang)
    refresh_started([user.id], [course.id])
    enrollment.last_lesson_id = lesson.id
    enrollment.last_seen_at = utcnow()
    db.session.flush()
    return evaluate_completion(user, course, lang=lang)


def _mark_lesson_done(user: Any, lesson: Lesson, course: Course, lang: str) -> None:
    """Insert the lesson's progress, or move its time to now when it is marked done again (a renewal
    of a course without a quiz asks for that); a double click is neither an error nor a second row."""
    values = {"user_id": user.id, "lesson_id": lesson.id, "course_id": course.id,
              "completed_at": utcnow(), "lang": lang}
    dialect = db.session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - other engines are not supported
        _insert_ignore(LessonProgress, values)
        return
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(LessonProgress).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[LessonProgress.user_id, LessonProgress.lesson_id],
        set_={"completed_at": stmt.excluded.completed_at},
    )
    db.session.execute(stmt)


@dataclass(frozen=True)
class QuizStanding:
    """What an officer's finished attempts at one quiz add up to (computed by the quiz domain)."""

    attempts: int  # finished attempts, graded or waiting for a trainer
    awaiting_grading: int  # finished attempts whose essays are not graded yet
    best_score: int  # best score of a graded attempt, 0..100 (0 when none is graded)
    passed: bool  # whether any graded attempt passed
    passed_at: datetime | None  # when the first passing attempt was submitted
    last_passed_at: datetime | None = None  # when the latest passing attempt was submitted
    # (submitted_at, score 0..100) of every graded attempt: a renewal counts only the later ones.
    graded_scores: tuple[tuple[datetime, int], ...] = ()


def record_quiz_result(
    user: Any,
    course: Course,
    quiz_key: str,
    standing: Callable[[], QuizStanding],
    *,
    lang: str | None = None,
) -> CourseCompletion | None:
    """Replace the officer's result on a quiz with ``standing()`` and evaluate the course.

    The result row is locked before ``standing`` runs, so two attempts graded at once (a trainer's
    grade and a new submit) are summed one after the other and the later one sees the earlier: the
    row always equals what the attempts say, whatever the order. A lower standing (a regrade that
    found a key was too generous) lowers the result; a completion already recorded stays (see
    :func:`evaluate_completion`). Returns a new completion, if any.
    """
    _insert_ignore(Enrollment, {"user_id": user.id, "course_id": course.id, "source": "self",
                                "enrolled_at": utcnow()})
    _insert_ignore(QuizResult, {"user_id": user.id, "course_id": course.id, "quiz_key": quiz_key,
                                "best_score": 0, "passed": False, "attempts_count": 0,
                                "awaiting_grading": 0})
    result = db.session.scalar(
        select(QuizResult)
        .where(QuizResult.user_id == user.id, QuizResult.course_id == course.id,
               QuizResult.quiz_key == quiz_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )  # fmt: skip
    assert result is not None
    latest = standing()
    if not 0 <= latest.best_score <= 100:
        raise ValueError("best_score must be 0..100")
    result.attempts_count = latest.attempts
    result.awaiting_grading = latest.awaiting_grading
    result.best_score = latest.best_score
    result.passed = latest.passed
    result.passed_at = latest.passed_at if latest.passed else None
    result.last_passed_at = (latest.last_passed_at or latest.passed_at) if latest.passed else None
    since = db.session.scalar(
        select(CourseCompletion.renewal_required_since).where(
            CourseCompletion.user_id == user.id, CourseCompletion.course_id == course.id
        )
    )
    fresh = [score for at, score in latest.graded_scores if since is not None and at > since]
    result.renewal_best_score = max(fresh) if fresh else None
    db.session.flush()
    return evaluate_completion(user, course, lang=lang)


def required_lesson_ids(course: Course) -> list[int]:
    """Ids of the lessons the completion rule requires (archived lessons never are)."""
    rule = (course.completion or {}).get("lessons", "all")
    stmt = select(Lesson.id).where(Lesson.course_id == course.id, Lesson.archived_at.is_(None))
    if rule not in (None, "all"):
        stmt = stmt.where(Lesson.key.in_(list(rule)))
    return list(db.session.scalars(stmt))


def required_quiz_keys(course: Course) -> list[str]:
    """Keys of the quizzes the completion rule requires: those it lists (``all``: every quiz of the
    course), and always the final test, whatever the list says."""
    wanted = (course.completion or {}).get("quizzes")
    live = [q["key"] for q in course.quizzes or []]
    keys = live if wanted == "all" else [key for key in wanted or [] if key in live]
    final = course.final_quiz_key
    if final is not None and final not in keys:
        keys.append(final)
    return keys


def evaluate_completion(user: Any, course: Course, *, lang: str | None = None) -> CourseCompletion | None:
    """Record the completion when the course's rule is met; returns it only when it is new or renewed.

    A completion, once recorded, is never withdrawn here: a regrade that lowers a quiz result or a
    lesson added later leaves it (and the certificate issued for it) in place. Certificates are
    withdrawn only by a person, through revocation, never silently by a recomputation.

    A completion whose certificate expired (``renewal_required_since`` set by the expiry job) is
    renewed when the rule is met again with fresh evidence: every required quiz passed by an attempt
    submitted after that moment (lessons stay done); a course without a required quiz has no other
    evidence than reading, so each required lesson must be marked done again after it. The row is
    updated (one row per officer and course, which reports count), the previous facts go to the audit
    log, and the listeners run again so a new certificate is issued.
    """
    found = db.session.execute(
        select(CourseCompletion.id, CourseCompletion.renewal_required_since).where(
            CourseCompletion.user_id == user.id, CourseCompletion.course_id == course.id
        )
    ).first()
    if found is not None and found.renewal_required_since is None:
        return None
    renewing: CourseCompletion | None = None
    if found is not None:
        # Locked and read again: two events renewing at once must renew (and certify) once.
        renewing = db.session.scalar(
            select(CourseCompletion).where(CourseCompletion.id == found.id)
            .with_for_update().execution_options(populate_existing=True)
        )  # fmt: skip
        if renewing is None or renewing.renewal_required_since is None:
            return None
    since = renewing.renewal_required_since if renewing is not None else None
    rule = course.completion or {}
    lesson_ids = required_lesson_ids(course)
    quiz_keys = required_quiz_keys(course)
    if not lesson_ids and not quiz_keys:
        return None  # an empty course is never "completed"
    if lesson_ids:
        done = select(func.count()).select_from(LessonProgress).where(
            LessonProgress.user_id == user.id, LessonProgress.lesson_id.in_(lesson_ids)
        )
        if since is not None and not quiz_keys:
            done = done.where(LessonProgress.completed_at > since)
        if db.session.scalar(done) != len(lesson_ids):
            return None
    results = {
        r.quiz_key: r
        for r in db.session.scalars(
            select(QuizResult).where(QuizResult.user_id == user.id, QuizResult.course_id == course.id)
        )
    }

    def fresh_pass(result: QuizResult | None) -> bool:
        if result is None or not result.passed:
            return False
        return since is None or (result.last_passed_at is not None and result.last_passed_at > since)

    if not all(fresh_pass(results.get(key)) for key in quiz_keys):
        return None
    final_key = course.final_quiz_key
    score = None
    if final_key and final_key in results:
        # A renewal records what the officer scored for it, not their best score of all time.
        final = results[final_key]
        score = final.renewal_best_score if since is not None and final.renewal_best_score is not None \
            else final.best_score
    minimum = rule.get("min_final_score")
    if minimum is not None and final_key and (score is None or score < minimum):
        return None
    lang = lang or course.language_for(getattr(user, "locale", None))
    if renewing is None:
        completion = CourseCompletion(
            user_id=user.id, course_id=course.id, completed_at=utcnow(), score=score,
            course_version=course.version, agency_id=user.agency_id, lang=lang,
        )  # fmt: skip
        db.session.add(completion)
        db.session.flush()
        audit.record("progress.course_completed", actor=user, target=course, score=score)
    else:
        completion = renew_completion(renewing, user, course, score=score, lang=lang)
    signals.course_completed.send(completion, user=user, course=course)
    return completion


def renew_completion(
    completion: CourseCompletion, user: Any, course: Course, *, score: int | None, lang: str
) -> CourseCompletion:
    """Update a completion that needed renewal to this one; the previous facts go to the audit log."""
    previous = {
        "completed_at": completion.completed_at.isoformat(),
        "score": completion.score,
        "course_version": completion.course_version,
        "agency_id": completion.agency_id,
        "lang": completion.lang,
        "renewal_required_since": completion.renewal_required_since.isoformat()
        if completion.renewal_required_since else None,
    }
    completion.completed_at = utcnow()
    completion.score = score
    completion.course_version = course.version
    completion.agency_id = user.agency_id
    completion.lang = lang
    completion.renewal_required_since = None
    db.session.flush()
    audit.record("progress.course_renewed", actor=user, target=course, score=score, previous=previous)
    return completion


def require_renewal(pairs: Iterable[tuple[int, int, datetime]]) -> int:
    """Put the completions of these (user id, course id, expired at) pairs into "renewal required"
    since the given moment (one UPDATE per moment, not per officer); returns how many changed.

    A completion already waiting for renewal keeps its moment. The cycle start moves there too, so
    assignments made for earlier cycles stop setting the officer's due date.
    """
    by_moment: dict[datetime, list[tuple[int, int]]] = {}
    for user_id, course_id, moment in pairs:
        by_moment.setdefault(moment, []).append((user_id, course_id))
    changed = 0
    batches = [(moment, keys[i : i + 500]) for moment, keys in sorted(by_moment.items())
               for i in range(0, len(keys), 500)]
    for moment, keys in batches:
        result = db.session.execute(
            update(CourseCompletion)
            .where(
                tuple_(CourseCompletion.user_id, CourseCompletion.course_id).in_(keys),
                CourseCompletion.renewal_required_since.is_(None),
            )
            .values(renewal_required_since=moment, cycle_started_at=moment)
            .execution_options(synchronize_session=False)
        )
        changed += affected_rows(result)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, CourseCompletion):
            db.session.expire(obj)
    return changed


def reevaluate_course(course: Course, actor: Any = None) -> dict[str, int]:
    """After the course's rule changed: evaluate every enrolled officer who has not completed it (or
    whose completion waits for renewal) against the new rule. Completions already recorded stay, and
    so do their certificates; the counts go to the audit log and back to the caller."""
    open_users = list(db.session.scalars(
        select(User)
        .join(Enrollment, and_(Enrollment.user_id == User.id, Enrollment.course_id == course.id))
        .outerjoin(CourseCompletion, and_(CourseCompletion.user_id == User.id,
                                          CourseCompletion.course_id == course.id))
        .where(User.active.is_(True),
               or_(CourseCompletion.id.is_(None), CourseCompletion.renewal_required_since.is_not(None)))
        .order_by(User.id)
    ))  # fmt: skip
    completed = sum(1 for user in open_users if evaluate_completion(user, course) is not None)
    kept = db.session.scalar(
        select(func.count()).select_from(CourseCompletion).where(
            CourseCompletion.course_id == course.id, CourseCompletion.renewal_required_since.is_(None))
    ) or 0  # fmt: skip
    kept -= completed
    audit.record("progress.completions_reevaluated", actor=actor, target=course,
                 evaluated=len(open_users), completed=completed, kept=kept)
    return {"evaluated": len(open_users), "completed": completed, "kept": kept}



# Overrides ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverrideData:
    extra_minutes: int = 0
    extra_attempts: int = 0
    due_date: date | None = None
    reason: str = ""


def override_for(user_id: int, course_id: int) -> Override | None:
    return db.session.scalar(select(Override).where(Override.user_id == user_id, Override.course_id == course_id))


def set_override(user: User, course: Course, data: OverrideData, *, actor: Any) -> Override:
    """Give one officer more time, more attempts or a later due date in a course, with a reason;
    audited with the values before and after; the officer's due date is recomputed at once."""
    reason = " ".join((data.reason or "").split())
    if not reason:
        raise ProgressError(_("Give the reason for the arrangement (it is kept in the audit log)."), "reason")
    if len(reason) > 500:
        raise ProgressError(_("The reason is too long (at most 500 characters)."), "reason")
    if not 0 <= data.extra_minutes <= 600:
        raise ProgressError(_("Extra time is between 0 and 600 minutes."), "extra_minutes")
    if not 0 <= data.extra_attempts <= 20:
        raise ProgressError(_("Extra attempts are between 0 and 20."), "extra_attempts")
    if data.due_date is not None and data.due_date < local_today():
        raise ProgressError(_("The due date is in the past."), "due_date")
    if not (data.extra_minutes or data.extra_attempts or data.due_date):
        raise ProgressError(_("Give extra time, extra attempts or a later due date."), "extra_minutes")
    row = override_for(user.id, course.id)
    before = None if row is None else {"extra_minutes": row.extra_minutes, "extra_attempts": row.extra_attempts,
                                       "due_date": row.due_date.isoformat() if row.due_date else None,
                                       "reason": row.reason}
    if row is None:
        row = Override(user_id=user.id, course_id=course.id)
        db.session.add(row)
    row.extra_minutes, row.extra_attempts = data.extra_minutes, data.extra_attempts
    row.due_date, row.reason = data.due_date, reason
    row.created_by_id = getattr(actor, "id", None)
    db.session.flush()
    refresh_assigned_courses([user.id], course_ids=[course.id])
    audit.record("progress.override_set", actor=actor, target=user, course=course.key, before=before,
                 extra_minutes=data.extra_minutes, extra_attempts=data.extra_attempts,
                 due_date=data.due_date.isoformat() if data.due_date else None, reason=reason)
    return row


def remove_override(row: Override, *, actor: Any) -> None:
    user_id, course = row.user_id, row.course
    db.session.delete(row)
    db.session.flush()
    refresh_assigned_courses([user_id], course_ids=[course.id])
    audit.record("progress.override_removed", actor=actor, target_type="user", target_id=user_id,
                 course=course.key, reason=row.reason)


# Assignments --------------------------------------------------------------------------------


def create_assignments(
    course: Course,
    *,
    kind: str,
    due_date: date | None,
    actor: Any,
    users: Iterable[User] = (),
    agency: Agency | None = None,
    include_subtree: bool = True,
    duty: Duty | None = None,
    plan_id: int | None = None,
) -> list[Assignment]:
    """Create the assignment(s) (one per chosen officer) and refresh who has the course."""
    if course.archived_at is not None or not course.published:
        raise ProgressError(_("Only published courses can be assigned."), "course_id")
    if due_date is not None and due_date < local_today():
        raise ProgressError(_("The due date is in the past."), "due_date")
    rows: list[Assignment] = []
    common = {"course_id": course.id, "due_date": due_date, "created_by_id": getattr(actor, "id", None),
              "plan_id": plan_id, "kind": kind}
    if kind == "user":
        chosen = list(users)
        if not chosen:
            raise ProgressError(_("Choose at least one officer."), "usernames")
        rows = [Assignment(user_id=u.id, **common) for u in chosen]
    elif kind == "agency":
        if agency is None:
            raise ProgressError(_("Choose an agency."), "agency_id")
        rows = [Assignment(agency_id=agency.id, include_subtree=include_subtree, **common)]
    elif kind == "duty":
        if duty is None:
            raise ProgressError(_("Choose a duty."), "duty_id")
        rows = [Assignment(duty_id=duty.id, agency_id=agency.id if agency else None,
                           include_subtree=include_subtree, **common)]
    else:
        raise ProgressError(_("Unknown kind of assignment."), "kind")
    db.session.add_all(rows)
    db.session.flush()
    refresh_assigned_courses(course_ids=[course.id])
    for row in rows:
        audit.record("progress.assigned", actor=actor, target=row, course=course.key, kind=kind,
                     due=due_date.isoformat() if due_date else None)
    return rows


def deactivate_assignment(assignment: Assignment, *, actor: Any) -> None:
    """Unassign: officers no longer have the course because of it; their progress stays."""
    if not assignment.active:
        return
    assignment.active = False
    assignment.deactivated_at = utcnow()
    db.session.flush()
    refresh_assigned_courses(course_ids=[assignment.course_id])
    audit.record("progress.unassigned", actor=actor, target=assignment, course=assignment.course.key)


def _group_targets(course_ids: list[int] | None = None, user_ids: list[int] | None = None) -> Any:
    """SELECT (assignment_id, user_id) for every active officer each open (active, not frozen)
    assignment's target group reaches now; one UNION ALL, no Python loop."""
    target = Agency.__table__.alias("target_agency")
    home = Agency.__table__.alias("home_agency")

    def base(stmt: Any) -> Any:
        stmt = stmt.where(Assignment.active.is_(True), Assignment.frozen_at.is_(None), User.active.is_(True))
        if course_ids is not None:
            stmt = stmt.where(Assignment.course_id.in_(course_ids))
        if user_ids is not None:
            stmt = stmt.where(User.id.in_(user_ids))
        return stmt

    cols = (Assignment.id.label("assignment_id"), User.id.label("user_id"))
    by_user = base(select(*cols).join(User, User.id == Assignment.user_id).where(Assignment.kind == "user"))
    in_agency = or_(
        and_(Assignment.include_subtree.is_(True), home.c.path.startswith(target.c.path)),
        and_(Assignment.include_subtree.is_(False), home.c.id == target.c.id),
    )
    by_agency = base(
        select(*cols)
        .join(target, target.c.id == Assignment.agency_id)
        .join(home, in_agency)
        .join(User, User.agency_id == home.c.id)
        .where(Assignment.kind == "agency")
    )
    by_duty = base(
        select(*cols)
        .join(user_duty, user_duty.c.duty_id == Assignment.duty_id)
        .join(User, User.id == user_duty.c.user_id)
        .join(home, home.c.id == User.agency_id)
        .outerjoin(target, target.c.id == Assignment.agency_id)
        .where(Assignment.kind == "duty", or_(Assignment.agency_id.is_(None), in_agency))
    )
    return union_all(by_user, by_agency, by_duty).subquery("group_targets")


def effective_due_date(due: Any, reached_on: Any, late_due: Any) -> Any:
    """SQL: the due date an assignment gives an officer: its own, unless that had already passed on
    the day the officer was reached; then the late date recorded for them."""
    return case(
        (due.is_(None), None),
        (due >= reached_on, due),
        else_=func.coalesce(late_due, due),
    )


def assignment_targets(course_ids: list[int] | None = None, user_ids: list[int] | None = None) -> Any:
    """SELECT (assignment_id, course_id, due_date, created_at, user_id) for every active officer each
    active assignment has reached (``AssignmentReach``), with the due date it gives them."""
    stmt = (
        select(
            Assignment.id.label("assignment_id"),
            Assignment.course_id,
            effective_due_date(Assignment.due_date, AssignmentReach.reached_on, AssignmentReach.late_due)
            .label("due_date"),
            Assignment.created_at,
            AssignmentReach.user_id,
        )
        .select_from(AssignmentReach)
        .join(Assignment, Assignment.id == AssignmentReach.assignment_id)
        .join(User, User.id == AssignmentReach.user_id)
        .where(Assignment.active.is_(True), User.active.is_(True))
    )
    if course_ids is not None:
        stmt = stmt.where(Assignment.course_id.in_(course_ids))
    if user_ids is not None:
        stmt = stmt.where(AssignmentReach.user_id.in_(user_ids))
    return stmt.subquery("targets")


def local_today() -> date:
    """Today in the province's time zone (due dates are local calendar days)."""
    zone = "Asia/Ho_Chi_Minh"
    if has_app_context():
        zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE") or zone
    return utcnow().astimezone(ZoneInfo(zone)).date()


def sync_reach(user_ids: list[int] | None = None, course_ids: list[int] | None = None) -> None:
    """Bring ``AssignmentReach`` of the open assignments in line with their target groups (two
    set-based statements): officers no longer reached are dropped, officers newly reached are added
    with today's date. Frozen assignments (closed plans) are left as they are."""
    group = _group_targets(course_ids, user_ids)
    reach = AssignmentReach.__table__
    open_assignments = select(Assignment.id).where(Assignment.active.is_(True), Assignment.frozen_at.is_(None))
    if course_ids is not None:
        open_assignments = open_assignments.where(Assignment.course_id.in_(course_ids))
    stale = delete(reach).where(
        reach.c.assignment_id.in_(open_assignments),
        ~select(group.c.user_id)
        .where(group.c.assignment_id == reach.c.assignment_id, group.c.user_id == reach.c.user_id)
        .exists(),
    )
    if user_ids is not None:
        stale = stale.where(reach.c.user_id.in_(user_ids))
    db.session.execute(stale.execution_options(synchronize_session=False))
    today = local_today()
    late = today + timedelta(days=int(current_app.config.get("LATE_ASSIGNMENT_DAYS", 30)))
    known = aliased(AssignmentReach)
    fresh = (
        select(group.c.assignment_id, group.c.user_id, literal(today, Date()), literal(late, Date()))
        .where(
            ~select(known.user_id)
            .where(known.assignment_id == group.c.assignment_id, known.user_id == group.c.user_id)
            .exists()
        )
        .group_by(group.c.assignment_id, group.c.user_id)
    )
    db.session.execute(
        insert(reach).from_select(["assignment_id", "user_id", "reached_on", "late_due"], fresh)
    )


def refresh_started(user_ids: Iterable[int] | None = None, course_ids: Iterable[int] | None = None) -> None:
    """Recompute ``AssignedCourse.started`` from lesson progress and quiz results (for some officers
    and/or courses, or every pair): one UPDATE, in the caller's transaction. Call it after any write
    to lesson_progress or quiz_result, so the reports never read a stale flag."""
    stmt = update(AssignedCourse).values(started=started_clause(AssignedCourse.user_id, AssignedCourse.course_id))
    if user_ids is not None:
        stmt = stmt.where(AssignedCourse.user_id.in_(sorted(set(user_ids))))
    if course_ids is not None:
        stmt = stmt.where(AssignedCourse.course_id.in_(sorted(set(course_ids))))
    db.session.execute(stmt.execution_options(synchronize_session=False))


def _chunks(values: Iterable[int], size: int = 5000) -> list[list[int] | None]:
    ordered = sorted(set(values))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def refresh_pair_completions(execute: Callable[[Any], Any], dialect: str, *,
                             user_ids: Iterable[int] | None = None,
                             course_ids: Iterable[int] | None = None) -> None:
    """Recompute the completion columns of ``AssignedCourse`` (``agency_id``, ``completed_at``,
    ``completed_on``, ``on_time``, ``score``, ``elsewhere``) for the pairs of these officers and/or courses, or every
    pair: two UPDATEs per 5,000 officers, run with ``execute`` (the session's, or a flush's connection).
    First every pair as not completed, counting for the officer's agency; then the pairs whose
    completion counts take its agency, time, score and source."""
    ac = AssignedCourse.__table__
    cc = CourseCompletion.__table__
    user = User.__table__
    groups = _chunks(user_ids) if user_ids is not None else [None]
    courses = sorted(set(course_ids)) if course_ids is not None else None
    if courses == []:
        return
    for users in groups:
        def scoped(stmt: Any, users: list[int] | None = users) -> Any:
            if users is not None:
                stmt = stmt.where(ac.c.user_id.in_(users))
            if courses is not None:
                stmt = stmt.where(ac.c.course_id.in_(courses))
            return stmt

        execute(scoped(update(ac).values(
            agency_id=select(user.c.agency_id).where(user.c.id == ac.c.user_id).scalar_subquery(),
            completed_at=None, completed_on=None, on_time=False, score=None, elsewhere=False,
        )))
        execute(scoped(
            update(ac)
            .where(cc.c.user_id == ac.c.user_id, cc.c.course_id == ac.c.course_id,
                   cc.c.renewal_required_since.is_(None))
            .values(
                agency_id=cc.c.agency_id,
                completed_at=cc.c.completed_at,
                completed_on=local_day(cc.c.completed_at, dialect),
                score=cc.c.score,
                elsewhere=cc.c.source != "online",
                on_time=or_(ac.c.due_date.is_(None), local_day(cc.c.completed_at, dialect) <= ac.c.due_date),
            )
        ))


def refresh_pairs(user_ids: Iterable[int] | None = None, course_ids: Iterable[int] | None = None) -> None:
    """Every column a pair keeps for the reports (``started`` and the completion columns), for some
    officers and/or courses or every pair: for writers that bypass the ORM (the generator, the demo)."""
    refresh_started(user_ids, course_ids)
    users = None if user_ids is None else set(user_ids)
    refresh_pair_completions(db.session.execute, db.engine.dialect.name, user_ids=users, course_ids=course_ids)


def keep_pairs_after_flush(session: Any, _context: Any) -> None:
    """Session hook (connected by lms.progress.connect): what an ORM flush wrote to lesson progress,
    quiz results, completions or an officer's agency refreshes the pairs' denormalised columns
    (``started``, the completion columns) in the same transaction; a disabled officer loses their
    pairs, as the rebuild would. Writes in Core call
    :func:`refresh_started` themselves; bulk statements on completions are seen by
    :func:`keep_pairs_around_bulk_writes`."""
    users: set[int] = set()
    courses: set[int] = set()
    done_users: set[int] = set()
    done_courses: set[int] = set()
    moved: set[int] = set()
    disabled: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, LessonProgress) or (
            isinstance(obj, QuizResult)
            and (obj in session.new or obj in session.deleted
                 or sa_inspect(obj).attrs.attempts_count.history.has_changes())
        ):
            users.add(obj.user_id)
            courses.add(obj.course_id)
        elif isinstance(obj, CourseCompletion):
            done_users.add(obj.user_id)
            done_courses.add(obj.course_id)
        elif isinstance(obj, User) and obj in session.dirty:
            attrs = sa_inspect(obj).attrs
            if attrs.active.history.has_changes() and not obj.active:
                disabled.add(obj.id)
            elif attrs.agency_id.history.has_changes():
                moved.add(obj.id)
    connection = session.connection()
    if disabled:
        # What the rebuild does when an officer is disabled, so the reports (which read no officer row)
        # never count one, however the flag was written.
        connection.execute(delete(AssignedCourse.__table__).where(AssignedCourse.user_id.in_(sorted(disabled))))
    if users:
        stmt = (
            update(AssignedCourse.__table__)
            .values(started=started_clause(AssignedCourse.user_id, AssignedCourse.course_id))
            .where(AssignedCourse.user_id.in_(sorted(users)), AssignedCourse.course_id.in_(sorted(courses)))
        )
        connection.execute(stmt)
    dialect = connection.dialect.name
    if done_users:
        refresh_pair_completions(connection.execute, dialect, user_ids=done_users, course_ids=done_courses)
    if moved:
        refresh_pair_completions(connection.execute, dialect, user_ids=moved)


def keep_pairs_around_bulk_writes(state: Any) -> Any:
    """Session hook (``do_orm_execute``): a bulk UPDATE or DELETE of completions (renewal, a workshop's
    completions withdrawn) refreshes the pairs it touched, found with the statement's own WHERE
    before it runs."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return None
    if state.bind_mapper.class_ is not CourseCompletion:
        return None
    touched = select(CourseCompletion.user_id, CourseCompletion.course_id)
    if state.statement.whereclause is not None:
        touched = touched.where(state.statement.whereclause)
    pairs = state.session.execute(touched).all()
    result = state.invoke_statement()
    if pairs:
        refresh_pair_completions(state.session.execute, state.session.get_bind().dialect.name,
                                 user_ids={u for u, _c in pairs}, course_ids={c for _u, c in pairs})
    return result


def refresh_assigned_courses(
    user_ids: Iterable[int] | None = None, *, course_ids: Iterable[int] | None = None
) -> None:
    """Rebuild AssignedCourse rows (for some officers and/or courses, or all) from the active
    assignments, in a few set-based statements: first who each open assignment reaches
    (:func:`sync_reach`), then the per-officer result."""
    users = sorted(set(user_ids)) if user_ids is not None else None
    courses = sorted(set(course_ids)) if course_ids is not None else None
    if users == [] or courses == []:
        return
    db.session.flush()
    sync_reach(users, courses)
    purge = delete(AssignedCourse)
    if users is not None:
        purge = purge.where(AssignedCourse.user_id.in_(users))
    if courses is not None:
        purge = purge.where(AssignedCourse.course_id.in_(courses))
    db.session.execute(purge.execution_options(synchronize_session=False))
    targets = assignment_targets(courses, users)
    # After a certificate expired, the officer's cycle starts again (CourseCompletion.cycle_started_at):
    # assignments made before were met by the earlier completion, so only those made since set the due
    # date, and an old plan's past date cannot make a re-certification look overdue at once. Without
    # any assignment made since (the course could not be assigned again), every assignment counts.
    cc = CourseCompletion.__table__.alias("cc")
    ov = Override.__table__.alias("ov")
    current = or_(cc.c.cycle_started_at.is_(None), targets.c.created_at >= cc.c.cycle_started_at)
    current_count = func.count(case((current, 1)))
    due = case(
        (current_count > 0, func.min(case((current, targets.c.due_date)))),
        else_=func.min(targets.c.due_date),
    )
    # An override's later due date wins over the assignments' (never an earlier one).
    overridden = func.max(ov.c.due_date)
    due = case((overridden > due, overridden), else_=due)
    grouped = (
        select(
            targets.c.user_id,
            targets.c.course_id,
            due,
            func.count(func.distinct(targets.c.assignment_id)),
            func.min(targets.c.created_at),
            started_clause(targets.c.user_id, targets.c.course_id),
        )
        .select_from(targets)
        .outerjoin(cc, and_(cc.c.user_id == targets.c.user_id, cc.c.course_id == targets.c.course_id))
        .outerjoin(ov, and_(ov.c.user_id == targets.c.user_id, ov.c.course_id == targets.c.course_id))
        .group_by(targets.c.user_id, targets.c.course_id)
    )
    db.session.execute(
        insert(AssignedCourse).from_select(
            ["user_id", "course_id", "due_date", "assignment_count", "first_assigned_at", "started"], grouped
        )
    )
    refresh_pair_completions(db.session.execute, db.engine.dialect.name, user_ids=users, course_ids=courses)
    # Rows were rewritten behind the ORM's back: forget any loaded copies.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, AssignedCourse):
            db.session.expunge(obj)


# Signal handlers (connected by lms.progress.connect) ----------------------------------------------


def on_users_changed(_sender: Any, *, user_ids: list[int] | None) -> None:
    """Officers who move agency, gain a duty, or are created, disabled or imported get their standing
    assignments recomputed in the same transaction."""
    refresh_assigned_courses(user_ids)


def on_agency_moved(_agency: Agency, **_changes: Any) -> None:
    """A moved subtree changes who an agency-subtree assignment reaches."""
    refresh_assigned_courses(None)


def count_agency_assignments(source: Agency, *, target: Agency) -> list[signals.MergeCount]:
    """Merge preview: the assignments aimed at ``source`` that will aim at ``target``."""
    count = db.session.scalar(
        select(func.count()).select_from(Assignment).where(Assignment.agency_id == source.id)
    ) or 0
    return [signals.MergeCount("assignments", _("assignments move"), count)]


def move_agency_assignments(source: Agency, *, target: Agency, actor: Any = None) -> None:
    """Merge: assignments aimed at ``source`` (its subtree, or a duty within it) now aim at ``target``.

    Assigned courses are recomputed by the merge itself once every domain has moved its rows."""
    db.session.execute(
        update(Assignment)
        .where(Assignment.agency_id == source.id)
        .values(agency_id=target.id)
        .execution_options(synchronize_session=False)
    )


# Personal calendar feed -------------------------------------------------------------------------


def _feed_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_calendar_feed(user: Any) -> str:
    """Make the officer's calendar feed secret (a new one replaces the old, which stops working) and
    return it; only its hash is stored, so it is shown once."""
    token = secrets.token_urlsafe(32)
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if feed is None:
        feed = CalendarFeed(user_id=user.id)
        db.session.add(feed)
    feed.token_hash = _feed_hash(token)
    feed.created_at = utcnow()
    feed.last_used_at = None
    db.session.flush()
    audit.record("progress.calendar_feed_created", actor=user, target=user)
    return token


def remove_calendar_feed(user: Any) -> bool:
    """Stop the officer's calendar feed; returns whether there was one."""
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if feed is None:
        return False
    db.session.delete(feed)
    db.session.flush()
    audit.record("progress.calendar_feed_removed", actor=user, target=user)
    return True


def calendar_feed_of(user: Any) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def calendar_feed_user(token: str) -> Any | None:
    """The active officer a feed secret belongs to (None for an unknown, revoked or disabled one)."""
    if not token or len(token) > 100:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _feed_hash(token)))
    if feed is None:
        return None
    user = db.session.get(User, feed.user_id)
    if user is None or not user.active:
        return None
    feed.last_used_at = utcnow()
    return user
