"""What every assigned pair keeps for the reports, recomputed in Python from the rows it comes from.

``AssignedCourse`` denormalises ``started`` (a lesson done or a finished quiz attempt) and what the
pair's completion says (the agency the pair counts for, completion time, on time, score, earned
elsewhere). The app keeps them in step in the same transaction as every write; ``stale_pairs`` finds
any pair where they disagree with a recomputation written independently of lms's SQL. The ``app``
fixture runs it after every test, so each write path the suite exercises is checked.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from lms.extensions import db
from lms.org.models import User
from lms.progress.models import AssignedCourse, CourseCompletion, LessonProgress, QuizResult

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
COLUMNS = ("started", "agency_id", "completed_at", "completed_on", "on_time", "score", "elsewhere")


def expected_pairs() -> dict[tuple[int, int], dict[str, Any]]:
    session = db.session
    agency_of = dict(session.execute(select(User.id, User.agency_id)).all())
    completions = {(c.user_id, c.course_id): c for c in session.scalars(select(CourseCompletion))}
    begun = set(session.execute(select(LessonProgress.user_id, LessonProgress.course_id)).all())
    begun |= set(session.execute(
        select(QuizResult.user_id, QuizResult.course_id).where(QuizResult.attempts_count > 0)).all())
    expected = {}
    for user_id, course_id, due in session.execute(
        select(AssignedCourse.user_id, AssignedCourse.course_id, AssignedCourse.due_date)
    ):
        cc = completions.get((user_id, course_id))
        done = cc is not None and cc.renewal_required_since is None
        expected[(user_id, course_id)] = {
            "started": (user_id, course_id) in begun,
            "agency_id": cc.agency_id if done else agency_of.get(user_id),
            "completed_at": cc.completed_at if done else None,
            "completed_on": cc.completed_at.astimezone(LOCAL).date() if done else None,
            "on_time": done and (due is None or cc.completed_at.astimezone(LOCAL).date() <= due),
            "score": cc.score if done else None,
            "elsewhere": done and cc.source != "online",
        }
    return expected


def stored_pairs() -> dict[tuple[int, int], dict[str, Any]]:
    rows = db.session.execute(select(AssignedCourse.user_id, AssignedCourse.course_id,
                                     *(getattr(AssignedCourse, c) for c in COLUMNS)))
    return {(r[0], r[1]): {c: (bool(v) if c in ("started", "on_time", "elsewhere") else v)
                           for c, v in zip(COLUMNS, r[2:], strict=True)} for r in rows}


def stale_pairs() -> dict[tuple[int, int], dict[str, tuple[Any, Any]]]:
    """Every pair whose stored columns differ from the recomputation: {pair: {column: (stored, expected)}}."""
    db.session.flush()
    stored, expected = stored_pairs(), expected_pairs()
    stale: dict[tuple[int, int], dict[str, tuple[Any, Any]]] = {}
    # The reports read no officer row: a pair must exist only for an active officer (the rebuild
    # gives pairs to active officers, and disabling one rebuilds theirs).
    inactive = set(db.session.scalars(select(User.id).where(User.active.is_(False))))
    for pair in expected:
        if pair[0] in inactive:
            stale[pair] = {"officer active": (False, True)}
    for pair, want in expected.items():
        have = stored[pair]
        diff = {c: (have[c], want[c]) for c in COLUMNS if have[c] != want[c]}
        if diff:
            stale.setdefault(pair, {}).update(diff)
    return stale
