"""Writes of the quiz domain: banks, quizzes, attempts, grading. Flush only; the caller commits.

Errors are :class:`QuizError` subclasses with a message for the user (already translated) and, where
there is one, the slot or form field it belongs to.

Concurrency: every write to an attempt first takes a lock on its row (``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite, write requests already hold the database write lock from ``BEGIN IMMEDIATE``)
and re-reads it, so an autosave never lands after the submit, and two submits give one result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import func, select

from lms import audit
from lms.catalog.models import Course
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import N_, _
from lms.org.models import User
from lms.questionformat.questions import (
    MAX_CATEGORY,
    MAX_NAME,
    ParseResult,
    control_character,
    question_from_dict,
    question_limit_problems,
    question_to_dict,
)
from lms.questionformat.questions import Question as QuestionValue
from lms.quizzes import engine, presentation
from lms.quizzes.grading import InvalidResponse
from lms.quizzes.models import Attempt, AttemptAnswer, Question, Quiz

MAX_PICK_COUNT = 500


class QuizError(DomainError):
    """A domain error with a message for the user; ``field`` names a form field or a slot."""


class AttemptClosed(QuizError):
    """The attempt is already submitted (or was closed at its deadline)."""


class DeadlinePassed(QuizError):
    """An answer arrived after the deadline: refused, and the attempt is closed."""

    keeps_writes = True  # the attempt was closed with the answers saved before the deadline


class BadAnswer(QuizError):
    """A submitted value that cannot belong to its question (tampering, a stale page)."""


class StartRefused(QuizError):
    def __init__(self, message: str, refusal: engine.Refusal | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal


class BankLocked(QuizError):
    """The course is owned by its content folder: its bank and quizzes change through the files."""


class ImportRefused(QuizError):
    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors


# --- helpers -------------------------------------------------------------------------------------


def content_hash(data: Mapping[str, Any]) -> str:
    """Hash of a question's content: equal questions (wherever they sit in a file) hash equal."""
    canonical = {key: value for key, value in data.items() if key != "line"}
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def lock_attempt(attempt_id: int) -> Attempt:
    """Load an attempt with its row locked for this transaction (fresh from the database)."""
    stmt = select(Attempt).where(Attempt.id == attempt_id).execution_options(populate_existing=True)
    if _is_postgres():
        stmt = stmt.with_for_update(of=Attempt)
    attempt = db.session.scalar(stmt)
    if attempt is None:
        raise QuizError(_("This attempt does not exist."))
    return attempt


def require_web_course(course: Course) -> None:
    """Refuse web changes to the quizzes of a course kept in content files."""
    if course.source != "web":
        raise BankLocked(
            _(
                "This course is kept in the content folder %(folder)s: change its quizzes in "
                "course.yaml and run the content sync, or take the course over on the web first.",
                folder=course.folder or course.key,
            )
        )


def require_editable_question(course: Course, row: Question) -> None:
    """Questions that came from a course's files change in the files (the sync would undo an edit)."""
    if row.source == "files" and course.source != "web":
        raise BankLocked(
            _(
                "This question comes from the content folder %(folder)s: change it in the GIFT file "
                "and run the content sync, or take the course over on the web first.",
                folder=course.folder or course.key,
            )
        )


def _grace() -> float:
    from flask import current_app

    return float(current_app.config.get("QUIZ_DEADLINE_GRACE_SECONDS", 30))


# --- banks ---------------------------------------------------------------------------------------


@dataclass
class BankChange:
    """One question's fate in an import or sync: added, changed, unchanged, archived."""

    name: str
    status: str
    version: int


def upsert_question(
    course: Course,
    lang: str,
    question: QuestionValue,
    *,
    source: str,
    existing: Question | None = None,
    points: float | None = None,
    actor: Any = None,
    lookup: bool = True,
) -> BankChange:
    """Insert or update one bank question by (course, lang, name); new content makes a new version.

    ``lookup=False`` with no ``existing`` row: the caller knows the name is free (no query).
    """
    data = question_to_dict(question)
    digest = content_hash(data)
    row = existing
    if row is None and lookup:
        row = db.session.scalar(
            select(Question).where(Question.course_id == course.id, Question.lang == lang,
                                   Question.name == question.name)
        )
    now = utcnow()
    if row is None:
        row = Question(course_id=course.id, lang=lang, name=question.name, qtype=question.type,
                       category=question.category, tags=list(question.tags), data=data,
                       content_hash=digest, version=1, points=points or 1.0, source=source,
                       created_at=now, updated_at=now, updated_by_id=getattr(actor, "id", None))
        db.session.add(row)
        return BankChange(question.name, "added", 1)
    status = "unchanged"
    if row.content_hash != digest:
        row.version += 1
        row.data = data
        row.content_hash = digest
        row.qtype = question.type
        row.category = question.category
        row.tags = list(question.tags)
        status = "changed"
    if row.archived_at is not None:
        row.archived_at = None
        status = "changed"
    if points is not None and abs(points - row.points) > 1e-9:
        row.points = points
        status = "changed"
    if status == "changed":
        row.updated_at = now
        row.updated_by_id = getattr(actor, "id", None)
        row.source = source
    return BankChange(question.name, status, row.version)


def bank_rows(course_id: int, lang: str, *, include_archived: bool = False) -> list[Question]:
    stmt = select(Question).where(Question.course_id == course_id, Question.lang == lang)
    if not include_archived:
        stmt = stmt.where(Question.archived_at.is_(None))
    return list(db.session.scalars(stmt.order_by(Question.category, Question.name)))


@dataclass
class ImportReport:
    changes: list[BankChange] = field(default_factory=list)
    skipped: int = 0  # questions refused by the parser and left out (--skip-invalid)

    def count(self, status: str) -> int:
        return sum(1 for change in self.changes if change.status == status)

    def summary(self) -> str:
        text = _(
            "%(added)s added, %(changed)s changed, %(unchanged)s unchanged",
            added=self.count("added"), changed=self.count("changed"),
            unchanged=self.count("unchanged"),
        )
        if self.skipped:
            text += "; " + _("%(num)s bad questions left out", num=self.skipped)
        return text


CONFLICT_CHOICES = ("replace", "keep-both")


@dataclass
class PlannedQuestion:
    """What importing one parsed question does: its key in the bank, the row it meets, and why.

    ``status`` is ``added``, ``unchanged``, ``changed`` (same type and text, other details
    differ: a new version) or ``conflict`` (an existing question would change type or text:
    the trainer chooses to replace it or to keep both).
    """

    question: QuestionValue
    key: str
    status: str
    row: Question | None = None
    alternative_key: str = ""  # the key it takes when the trainer keeps both
    diff: list[tuple[str, str, str]] = field(default_factory=list)  # (what, before, after)


@dataclass
class ImportPlan:
    items: list[PlannedQuestion]

    @property
    def conflicts(self) -> list[PlannedQuestion]:
        return [item for item in self.items if item.status == "conflict"]

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)


def _identity(data: Mapping[str, Any]) -> str:
    """A question's content without its name: two questions that say the same thing match."""
    return content_hash({key: value for key, value in data.items() if key != "name"})


def _diff(row: Question, question: QuestionValue) -> list[tuple[str, str, str]]:
    from lms.questionformat.qtypes import get as qtype

    old = row.data
    out = []
    if old.get("type") != question.type:
        out.append((_("Type"), _(qtype(old.get("type", "")).label) if old.get("type") else "",
                    _(qtype(question.type).label)))
    if old.get("text") != question.text:
        out.append((_("Text"), old.get("text", ""), question.text))
    return out


def plan_import(course: Course, lang: str, parsed: ParseResult,
                default_category: str = "") -> ImportPlan:
    """Decide, for each parsed question, which bank question it is (one query for the bank).

    Identity: the id number when the file gives one; else the explicit name; a question whose
    name was made from its text (no ``::name::``, Aiken) is identified by its content. A file may
    repeat a name (Moodle allows it): the first question takes it, later ones that say something
    else get a numbered key. Nothing is silently replaced: a change of type or text is a conflict.
    """
    rows = list(db.session.scalars(
        select(Question).where(Question.course_id == course.id, Question.lang == lang)))
    by_name = {row.name: row for row in rows}
    by_idnumber = {row.data.get("idnumber"): row for row in rows if row.data.get("idnumber")}
    by_identity: dict[str, Question] = {}
    for row in rows:
        by_identity.setdefault(_identity(row.data), row)
    taken = set(by_name)
    claimed: set[int] = set()
    items: list[PlannedQuestion] = []

    def free_key(base: str) -> str:
        number = 2
        candidate = base
        while candidate in taken:
            suffix = f" ({number})"
            candidate = base[: MAX_NAME - len(suffix)] + suffix
            number += 1
        taken.add(candidate)
        return candidate

    for question in parsed.questions:
        if not question.category and default_category:
            question = _with_category(question, default_category)
        data = question_to_dict(question)
        identity = _identity(data)
        same = by_identity.get(identity)
        if same is not None and same.id not in claimed:
            claimed.add(same.id)
            key = same.name
            status = "unchanged" if same.archived_at is None else "changed"
            items.append(PlannedQuestion(_renamed(question, key), key, status, same))
            continue
        met: Question | None = None
        if question.idnumber and question.idnumber in by_idnumber:
            met = by_idnumber[question.idnumber]
        elif question.line not in parsed.unnamed:
            met = by_name.get(question.name)
        if met is not None and met.id in claimed:
            met = None  # a repeated name in the file: this one is a question of its own
        if met is None:
            key = free_key(question.name)
            items.append(PlannedQuestion(_renamed(question, key), key, "added"))
            continue
        claimed.add(met.id)
        diff = _diff(met, question)
        if diff:
            items.append(PlannedQuestion(_renamed(question, met.name), met.name, "conflict", met,
                                         alternative_key=free_key(question.name), diff=diff))
        else:
            items.append(PlannedQuestion(_renamed(question, met.name), met.name, "changed", met))
    return ImportPlan(items)


def _renamed(question: QuestionValue, name: str) -> QuestionValue:
    return question if question.name == name else dataclasses.replace(question, name=name)


def import_questions(
    course: Course,
    lang: str,
    parsed: ParseResult,
    *,
    actor: Any = None,
    default_category: str = "",
    skip_invalid: bool = False,
    on_conflict: str | None = None,
) -> ImportReport:
    """Add or update the parsed questions in the course's bank.

    All or nothing by default: any error refuses the file. ``skip_invalid`` imports the good
    questions and leaves the bad ones out. A question that would change an existing one's type or
    text is refused unless ``on_conflict`` says ``replace`` (a new version; attempts keep grading
    by their snapshot) or ``keep-both`` (imported next to it under a numbered name). A question
    with the name of one that came from the course's files is refused: the file owns it.
    """
    if lang not in (course.languages or []):
        raise QuizError(_("The course has no edition in the language %(lang)s.", lang=lang), "lang")
    if len(default_category) > MAX_CATEGORY or control_character(default_category):
        raise QuizError(_("The category is longer than %(limit)s characters or contains control "
                          "characters.", limit=MAX_CATEGORY), "category")
    if parsed.errors and not skip_invalid:
        raise ImportRefused(
            _("Nothing was imported: the file has %(num)s errors.", num=len(parsed.errors)),
            [str(error) for error in parsed.errors],
        )
    if not parsed.questions:
        raise ImportRefused(_("Nothing was imported: the file holds no question."), [])
    plan = plan_import(course, lang, parsed, default_category)
    if plan.conflicts and on_conflict not in CONFLICT_CHOICES:
        raise ImportRefused(
            _("Nothing was imported: %(num)s questions would change the type or text of questions "
              "already in the bank; choose to replace them or to keep both.",
              num=len(plan.conflicts)),
            [_("'%(name)s': %(what)s changes.", name=item.key,
               what=", ".join(what for what, _before, _after in item.diff))
             for item in plan.conflicts],
        )
    owned = [item.key for item in plan.items
             if item.row is not None and item.row.source == "files" and item.status != "unchanged"
             and not (item.status == "conflict" and on_conflict == "keep-both")]
    if owned and course.source != "web":
        raise ImportRefused(
            _("Nothing was imported: %(num)s questions have the names of questions kept in the "
              "course's files; rename them in the file to import.", num=len(owned)),
            [_("'%(name)s' comes from the content folder.", name=name) for name in sorted(owned)],
        )
    report = ImportReport(skipped=len(parsed.errors))
    for item in plan.items:
        question, row = item.question, item.row
        if item.status == "conflict" and on_conflict == "keep-both":
            question, row = _renamed(question, item.alternative_key), None
        problems = question_limit_problems(question)
        if problems:  # the parsers check this; a guard so that no engine ever sees a bad row
            raise QuizError(" ".join(problems))
        report.changes.append(upsert_question(
            course, lang, question, source="web", existing=row, actor=actor,
            points=parsed.points.get(question.line), lookup=row is None))
    db.session.flush()
    audit.record("quizzes.questions_imported", actor=actor, target=course, lang=lang,
                 source=parsed.source, added=report.count("added"),
                 changed=report.count("changed"), skipped=report.skipped)
    return report


def export_bank(course: Course, lang: str, fmt: str) -> tuple[str, int, list[tuple[str, str]]]:
    """The live bank as GIFT or Moodle XML: (text, questions written, [(name, why left out)])."""
    from lms.questionformat.gift import export_gift
    from lms.questionformat.moodlexml import export_moodle_xml

    rows = bank_rows(course.id, lang)
    points = {row.name: row.points for row in rows}
    questions = sorted((question_from_dict(row.data) for row in rows),
                       key=lambda q: (q.category != "", q.category, q.name))
    write = (lambda qs: export_moodle_xml(qs, points)) if fmt == "xml" else export_gift
    kept, skipped = [], []
    for question in questions:
        try:
            write([question])
        except ValueError as err:
            skipped.append((question, str(err)))
        else:
            kept.append(question)
    # Whoever opens the file sees the gap: one comment per question left out.
    if fmt == "xml":
        notes = "".join(f"<!-- lms: {escape(q.name).replace('--', '- -')} ({q.type}) left out: "
                        f"{escape(why).replace('--', '- -')} -->\n" for q, why in skipped)
        text = write(kept).replace("<quiz>\n", "<quiz>\n" + notes, 1)
    else:
        notes = "".join(f"// lms: {q.name} ({q.type}) left out: {why}\n".replace("\n", " ")
                        .rstrip() + "\n" for q, why in skipped)
        text = (notes + "\n" if notes else "") + write(kept)
    return text, len(kept), [(q.name, why) for q, why in skipped]


def _with_category(question: QuestionValue, category: str) -> QuestionValue:
    data = question_to_dict(question)
    data["category"] = category
    return question_from_dict(data)


def save_question(
    course: Course,
    lang: str,
    question: QuestionValue,
    *,
    existing: Question | None,
    points: float,
    actor: Any,
) -> BankChange:
    """Create or edit one question from the web editor (an edit that changes it is a new version)."""
    if existing is not None:
        require_editable_question(course, existing)
    if existing is not None and question.name != existing.name:
        raise QuizError(
            _("The name is the question's stable key and cannot change; keep '%(name)s'.",
              name=existing.name), "source")
    if existing is None and db.session.scalar(
        select(Question.id).where(Question.course_id == course.id, Question.lang == lang,
                                  Question.name == question.name)
    ):
        raise QuizError(_("A question named '%(name)s' is already in this bank.",
                          name=question.name), "source")
    if not 0 < points <= 100:
        raise QuizError(_("Points must be more than 0 and at most 100."), "points")
    change = upsert_question(course, lang, question, source="web", existing=existing,
                             points=points, actor=actor)
    db.session.flush()
    audit.record("quizzes.question_saved", actor=actor, target=course, lang=lang,
                 question=question.name, status=change.status, version=change.version)
    return change


def set_question_archived(row: Question, archived: bool, *, course: Course, actor: Any) -> None:
    """Archive a question (it is no longer drawn) or bring it back."""
    require_editable_question(course, row)
    row.archived_at = utcnow() if archived else None
    audit.record("quizzes.question_archived" if archived else "quizzes.question_restored",
                 actor=actor, target=course, question=row.name, lang=row.lang)


# --- quizzes -------------------------------------------------------------------------------------


@dataclass
class QuizSettings:
    title: dict[str, str]
    picks: list[engine.Pick]
    pass_mark: int
    time_limit_minutes: int | None
    max_attempts: int | None
    attempt_delay_minutes: int
    shuffle_choices: bool
    review_score: bool
    review_correct: bool
    review_feedback: bool
    final: bool
    module_key: str | None
    open_at: datetime | None = None
    close_at: datetime | None = None
    questions_per_page: int = 5


_MANIFEST_FIELDS = (
    "pass_mark", "time_limit_minutes", "max_attempts", "attempt_delay_minutes", "shuffle_choices",
    "review_score", "review_correct", "review_feedback", "final", "module_key", "questions_per_page",
)


def apply_quiz_settings(quiz: Quiz, settings: QuizSettings) -> bool:
    """Copy settings onto a quiz; returns whether anything changed."""
    before = _quiz_fingerprint(quiz)
    quiz.title = dict(settings.title)
    quiz.picks = [pick.to_dict() for pick in settings.picks]
    for name in _MANIFEST_FIELDS:
        setattr(quiz, name, getattr(settings, name))
    quiz.open_at = settings.open_at
    quiz.close_at = settings.close_at
    changed = before != _quiz_fingerprint(quiz)
    if changed:
        quiz.updated_at = utcnow()
    return changed


def _quiz_fingerprint(quiz: Quiz) -> tuple[Any, ...]:
    return (dict(quiz.title or {}), list(quiz.picks or []), quiz.open_at, quiz.close_at,
            quiz.archived_at, *(getattr(quiz, name) for name in _MANIFEST_FIELDS))


def _check_settings(course: Course, settings: QuizSettings, lang_banks: Iterable[str]) -> None:
    if settings.open_at and settings.close_at and settings.close_at <= settings.open_at:
        raise QuizError(_("The quiz must close after it opens."), "close_at")
    if not settings.picks:
        raise QuizError(_("Pick at least one question or category."), "picks")
    for lang in lang_banks:
        entries = bank_entries(course.id, lang)
        try:
            engine.build_slots(settings.picks, entries, seed=0, shuffle=False)
        except engine.DrawError as err:
            raise QuizError(draw_error_message(err, lang), "picks") from err


def save_quiz(
    course: Course, quiz: Quiz | None, key: str, settings: QuizSettings, *, actor: Any
) -> Quiz:
    """Create or change a quiz of a course kept on the web (checked against its banks)."""
    require_web_course(course)
    langs = [lang for lang in course.languages or [] if bank_rows(course.id, lang)]
    _check_settings(course, settings, langs or [course.original_language])
    if quiz is None:
        if db.session.scalar(select(Quiz.id).where(Quiz.course_id == course.id, Quiz.key == key)):
            raise QuizError(_("A quiz with the key '%(key)s' already exists.", key=key), "key")
        quiz = Quiz(course_id=course.id, key=key, course=course)
        db.session.add(quiz)
    apply_quiz_settings(quiz, settings)
    if settings.final:
        for other in db.session.scalars(
            select(Quiz).where(Quiz.course_id == course.id, Quiz.final.is_(True))
        ):
            if other is not quiz:
                other.final = False
    db.session.flush()
    refresh_course_quiz_list(course)
    audit.record("quizzes.quiz_saved", actor=actor, target=quiz, course=course.key)
    return quiz


def set_quiz_dates(
    quiz: Quiz, open_at: datetime | None, close_at: datetime | None, *, actor: Any
) -> None:
    """When a quiz opens and closes (the only settings the web changes on a file-kept course)."""
    if open_at and close_at and close_at <= open_at:
        raise QuizError(_("The quiz must close after it opens."), "close_at")
    quiz.open_at, quiz.close_at = open_at, close_at
    quiz.updated_at = utcnow()
    audit.record("quizzes.quiz_dates_set", actor=actor, target=quiz,
                 open_at=open_at.isoformat() if open_at else None,
                 close_at=close_at.isoformat() if close_at else None)


def refresh_course_quiz_list(course: Course) -> None:
    """Keep the catalog's summary of a course's quizzes (``Course.quizzes``) in step with ours."""
    quizzes = db.session.scalars(
        select(Quiz).where(Quiz.course_id == course.id, Quiz.archived_at.is_(None)).order_by(Quiz.id)
    )
    course.quizzes = [
        {"key": q.key, "title": dict(q.title or {}), "module": q.module_key, "final": q.final,
         "pass_mark": q.pass_mark, "review_score": q.review_score}
        for q in quizzes
    ]


def bank_entries(course_id: int, lang: str) -> list[engine.BankEntry]:
    """The live bank of one course edition, as the engine draws from it."""
    return [
        engine.BankEntry(ref=row.id, name=row.name, version=row.version, category=row.category,
                         snapshot=row.data, points=row.points)
        for row in bank_rows(course_id, lang)
    ]


def draw_error_message(err: engine.DrawError, lang: str) -> str:
    if err.code == "missing":
        return _("Question '%(name)s' is not in the %(lang)s question bank.",
                 name=err.params["name"], lang=lang)
    return _(
        "The %(lang)s question bank has %(available)s questions in category '%(category)s'; "
        "the quiz needs %(needed)s.",
        lang=lang, **err.params,
    )


# --- attempts ------------------------------------------------------------------------------------

REFUSALS = {
    "not_open": N_("This quiz opens on %(at)s."),
    "closed": N_("This quiz is closed."),
    "no_attempts_left": N_("You have used all your attempts at this quiz."),
    "wait": N_("You can start a new attempt at %(at)s."),
}


@dataclass(frozen=True)
class Limits:
    """A quiz's time limit and number of attempts for one officer, with HR's arrangement added."""

    time_limit_minutes: int | None
    max_attempts: int | None
    extra_minutes: int = 0
    extra_attempts: int = 0
    reason: str = ""


def limits_for(user_id: int, quiz: Quiz) -> Limits:
    """The quiz's limits plus the officer's override in its course, if any (one query)."""
    from lms.progress.services import override_for

    override = override_for(user_id, quiz.course_id)
    if override is None:
        return Limits(quiz.time_limit_minutes, quiz.max_attempts)
    minutes = quiz.time_limit_minutes + override.extra_minutes if quiz.time_limit_minutes else None
    attempts = quiz.max_attempts + override.extra_attempts if quiz.max_attempts else None
    return Limits(minutes, attempts, override.extra_minutes if quiz.time_limit_minutes else 0,
                  override.extra_attempts if quiz.max_attempts else 0, override.reason)


def in_progress_attempt(user_id: int, quiz_id: int) -> Attempt | None:
    return db.session.scalar(
        select(Attempt).where(Attempt.user_id == user_id, Attempt.quiz_id == quiz_id,
                              Attempt.status == "in_progress")
        .order_by(Attempt.number.desc()).limit(1)
    )


def start_attempt(user: User, quiz: Quiz, lang: str, *, now: datetime | None = None) -> Attempt:
    """Start an attempt, or return the one already in progress (a second tab, a double click)."""
    now = now or utcnow()
    if _is_postgres():  # one start at a time per officer
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    current = in_progress_attempt(user.id, quiz.id)
    if current is not None and close_if_overdue(current, now=now) is None:
        return current
    if quiz.archived_at is not None:
        raise StartRefused(_("This quiz is no longer part of the course."))
    made, last_finished = db.session.execute(
        select(func.count(Attempt.id), func.max(Attempt.submitted_at))
        .where(Attempt.user_id == user.id, Attempt.quiz_id == quiz.id)
    ).one()
    limits = limits_for(user.id, quiz)
    refusal = engine.start_refusal(
        now, open_at=quiz.open_at, close_at=quiz.close_at, max_attempts=limits.max_attempts,
        delay_minutes=quiz.attempt_delay_minutes, attempts_made=made,
        last_finished_at=last_finished,
    )
    if refusal is not None:
        from lms.formatting import datetime_short

        raise StartRefused(
            _(REFUSALS[refusal.code], at=datetime_short(refusal.at) if refusal.at else ""), refusal
        )
    if lang not in (quiz.course.languages or []):
        raise StartRefused(_("The course has no edition in the language %(lang)s.", lang=lang))
    seed = secrets.randbelow(2**31)
    try:
        slots = engine.build_slots([engine.Pick.from_dict(p) for p in quiz.picks or []],
                                   bank_entries(quiz.course_id, lang), seed=seed,
                                   shuffle=quiz.shuffle_choices)
    except engine.DrawError as err:
        raise StartRefused(
            _("This quiz cannot start: %(reason)s Please tell the trainer.",
              reason=draw_error_message(err, lang))
        ) from err
    max_number = db.session.scalar(
        select(func.max(Attempt.number)).where(Attempt.user_id == user.id,
                                               Attempt.quiz_id == quiz.id)
    )
    attempt = Attempt(
        user_id=user.id, quiz_id=quiz.id, number=(max_number or 0) + 1, lang=lang,
        status="in_progress", started_at=now,
        deadline=engine.attempt_deadline(now, limits.time_limit_minutes, quiz.close_at),
        seed=seed, slots=slots, pass_mark=quiz.pass_mark,
        points_max=math.fsum(float(s["points"]) for s in slots),
    )
    attempt.answers = [AttemptAnswer(slot=s["slot"]) for s in slots]
    db.session.add(attempt)
    db.session.flush()
    return attempt


def close_if_overdue(attempt: Attempt, *, now: datetime | None = None) -> Attempt | None:
    """Close an in-progress attempt whose deadline (plus grace) has passed, with its saved answers.

    Returns the attempt when it was closed now, else None.
    """
    now = now or utcnow()
    if attempt.status != "in_progress" or engine.accepts_answers(now, attempt.deadline, _grace()):
        return None
    attempt = lock_attempt(attempt.id)
    if attempt.status != "in_progress":
        return None
    _finish(attempt, now=attempt.deadline or now, overdue=True)
    return attempt


def parse_values(attempt: Attempt, values: Mapping[int, list[str]]) -> dict[int, Any]:
    """Form values per slot -> canonical responses; BadAnswer names the first slot that is wrong."""
    slots = {int(s["slot"]): s for s in attempt.slots}
    responses: dict[int, Any] = {}
    for number, raw in values.items():
        slot = slots.get(number)
        if slot is None:
            raise BadAnswer(_("Question %(num)s is not part of this attempt.", num=number + 1),
                            str(number))
        try:
            responses[number] = presentation.response_from_form(slot["question"], slot["order"],
                                                                [str(v) for v in raw])
        except InvalidResponse as err:
            raise BadAnswer(
                _("The answer to question %(num)s could not be read; reload the page and answer "
                  "it again.", num=number + 1), str(number)
            ) from err
    return responses


def save_answers(
    attempt: Attempt, values: Mapping[int, list[str]], *, now: datetime | None = None
) -> list[int]:
    """Autosave: store the given answers (all or nothing); returns the slots saved."""
    now = now or utcnow()
    attempt = lock_attempt(attempt.id)
    if attempt.status != "in_progress":
        raise AttemptClosed(_("This attempt has already been submitted; answers can no longer "
                              "change."))
    if not engine.accepts_answers(now, attempt.deadline, _grace()):
        _finish(attempt, now=attempt.deadline or now, overdue=True)
        raise DeadlinePassed(_("Time is up: answers sent after the deadline are not accepted. "
                               "The attempt was submitted with the answers saved before then."))
    responses = parse_values(attempt, values)
    by_slot = {answer.slot: answer for answer in attempt.answers}
    for number, response in responses.items():
        answer = by_slot[number]
        answer.response = response
        answer.saved_at = now
    db.session.flush()
    return sorted(responses)


def set_flags(attempt: Attempt, slots: Iterable[int]) -> list[int]:
    """Remember which questions the officer flagged for review (slots not in the attempt are
    ignored); only while the attempt is in progress. Flags never change a grade."""
    if attempt.status != "in_progress":
        raise AttemptClosed(_("This attempt has already been submitted; answers can no longer "
                              "change."))
    known = {int(s["slot"]) for s in attempt.slots}
    attempt.flags = sorted({int(s) for s in slots} & known)
    db.session.flush()
    return list(attempt.flags)


def is_answered(response: Any) -> bool:
    """Whether a stored response counts as answered on the navigation panel and the summary."""
    if response is None:
        return False
    if isinstance(response, str):
        return response.strip() != ""
    if isinstance(response, list | tuple | set):
        return any(is_answered(item) for item in response)
    if isinstance(response, dict):
        return any(is_answered(value) for value in response.values())
    return True


@dataclass
class SubmitOutcome:
    attempt: Attempt
    already: bool = False  # it had been submitted before (a replay, a second tab)
    late: bool = False  # answers sent with the submit arrived after the deadline and were refused


def submit_attempt(
    attempt: Attempt, values: Mapping[int, list[str]] | None = None, *, now: datetime | None = None
) -> SubmitOutcome:
    """Save the last answers (if in time) and grade the attempt; idempotent."""
    now = now or utcnow()
    attempt = lock_attempt(attempt.id)
    if attempt.status != "in_progress":
        return SubmitOutcome(attempt, already=True)
    late = not engine.accepts_answers(now, attempt.deadline, _grace())
    if values and not late:
        responses = parse_values(attempt, values)
        by_slot = {answer.slot: answer for answer in attempt.answers}
        for number, response in responses.items():
            by_slot[number].response = response
            by_slot[number].saved_at = now
    _finish(attempt, now=min(now, attempt.deadline) if late and attempt.deadline else now,
            overdue=late)
    return SubmitOutcome(attempt, late=late and bool(values))


def _finish(attempt: Attempt, *, now: datetime, overdue: bool) -> None:
    attempt.submitted_at = now
    attempt.closed_overdue = overdue
    _grade(attempt, now=now)
    report_result(attempt.user, attempt.quiz, lang=attempt.lang)


def _grade(attempt: Attempt, *, now: datetime) -> engine.AttemptResult:
    """(Re)compute every answer's grade and the attempt's score and status.

    The caller then tells progress (``report_result``): once per attempt on submit and grading,
    once per officer after a regrade.
    """
    answers = {answer.slot: answer for answer in attempt.answers}
    result = engine.grade_slots(
        attempt.slots,
        {slot: answer.response for slot, answer in answers.items()},
        {slot: answer.manual_fraction for slot, answer in answers.items()
         if answer.manual_fraction is not None},
    )
    for slot_result in result.slots:
        answer = answers[slot_result.slot]
        answer.fraction = slot_result.grade.fraction
        answer.needs_manual = slot_result.needs_manual
    attempt.points_max = result.points_max
    attempt.points_awarded = result.points_awarded
    attempt.score = result.score
    attempt.passed = engine.passed(result.score, attempt.pass_mark)
    attempt.status = "needs_grading" if result.pending else "graded"
    if attempt.status == "graded":
        attempt.graded_at = now
    db.session.flush()
    return result


def report_result(user: User, quiz: Quiz, *, lang: str | None = None) -> Any:
    """Rebuild the officer's result on ``quiz`` from all their finished attempts (one aggregate
    query, run under progress's lock on the result row) and let progress evaluate the course.

    Returns the course completion this caused, if any. Recomputing instead of folding in one
    attempt's score keeps the result right whatever happened: a regrade that lowers a score, an
    essay graded after a later attempt, the same attempt reported twice.
    """
    from lms.progress.services import record_quiz_result
    from lms.quizzes.queries import quiz_standing

    return record_quiz_result(user, quiz.course, quiz.key,
                              lambda: quiz_standing(user.id, quiz.id), lang=lang)


def close_overdue_attempts(*, now: datetime | None = None) -> int:
    """Close every in-progress attempt past its deadline (plus grace) with its saved answers."""
    now = now or utcnow()
    from datetime import timedelta

    cutoff = now - timedelta(seconds=_grace())
    ids = list(db.session.scalars(
        select(Attempt.id).where(Attempt.status == "in_progress", Attempt.deadline < cutoff)
    ))
    closed = 0
    for attempt_id in ids:
        attempt = lock_attempt(attempt_id)
        if attempt.status == "in_progress":
            _finish(attempt, now=attempt.deadline or now, overdue=True)
            closed += 1
    return closed


# --- grading by trainers -------------------------------------------------------------------------


def grade_answer(
    answer: AttemptAnswer, fraction: float, comment: str, *, grader: Any,
    now: datetime | None = None,
) -> Attempt:
    """A trainer's grade (0..1 of the question's points) and rubric comment for one answer."""
    now = now or utcnow()
    if not (isinstance(fraction, int | float) and math.isfinite(fraction) and 0 <= fraction <= 1):
        raise QuizError(_("The grade must be between 0 and the question's points."), "points")
    attempt = lock_attempt(answer.attempt_id)
    if attempt.status == "in_progress":
        raise QuizError(_("This attempt is still in progress."))
    answer.manual_fraction = float(fraction)
    answer.comment = comment.strip()
    answer.grader_id = grader.id
    answer.graded_at = now
    _grade(attempt, now=now)
    report_result(attempt.user, attempt.quiz, lang=attempt.lang)
    audit.record("quizzes.answer_graded", actor=grader, target=attempt, slot=answer.slot,
                 fraction=answer.manual_fraction)
    return attempt


# --- regrading -----------------------------------------------------------------------------------


def compatible(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether saved responses to ``old`` still mean the same with ``new`` (same type and shape)."""
    return (
        old.get("type") == new.get("type")
        and len(old.get("answers", ())) == len(new.get("answers", ()))
        and len(old.get("pairs", ())) == len(new.get("pairs", ()))
        and len(old.get("numerical", ())) == len(new.get("numerical", ()))
    )


@dataclass
class RegradeReport:
    attempts: int = 0
    updated_slots: int = 0
    changed_scores: int = 0
    incompatible: list[str] = field(default_factory=list)
    in_progress: int = 0


def regrade_quiz(quiz: Quiz, *, actor: Any, now: datetime | None = None) -> RegradeReport:
    """Regrade every finished attempt against the current version of its questions.

    A slot takes the question's current version only if the saved response still fits it (same
    type and number of answers); others keep their snapshot and are listed. Attempts in progress
    keep theirs: they are regraded by a later run once submitted. Every officer's quiz result is then
    recomputed, lower as well as higher; a course completion already recorded stays.
    """
    now = now or utcnow()
    report = RegradeReport()
    current = {row.id: row for row in db.session.scalars(
        select(Question).where(Question.course_id == quiz.course_id))}
    attempt_ids = list(db.session.scalars(
        select(Attempt.id).where(Attempt.quiz_id == quiz.id).order_by(Attempt.id)))
    incompatible: set[str] = set()
    regraded: dict[int, Attempt] = {}  # per officer, their latest regraded attempt
    for attempt_id in attempt_ids:
        attempt = lock_attempt(attempt_id)
        if attempt.status == "in_progress":
            report.in_progress += 1
            continue
        report.attempts += 1
        slots = []
        for slot in attempt.slots:
            ref = slot.get("ref")
            row = current.get(ref) if ref is not None else None
            if row is not None and row.version != slot["version"]:
                if compatible(slot["question"], row.data):
                    slot = {**slot, "question": dict(row.data), "version": row.version}
                    report.updated_slots += 1
                else:
                    incompatible.add(slot["name"])
            slots.append(slot)
        attempt.slots = slots
        before = attempt.score
        _grade(attempt, now=now)
        regraded[attempt.user_id] = attempt
        if before != attempt.score:
            report.changed_scores += 1
    # Each officer's result is rebuilt from all their attempts once they are all regraded (up or
    # down), and the course re-evaluated in this transaction. Attempt locks are all taken before
    # any result lock, as every other writer does, so a submit meanwhile waits instead of deadlocking.
    for user_id in sorted(regraded):
        attempt = regraded[user_id]
        report_result(attempt.user, quiz, lang=attempt.lang)
    report.incompatible = sorted(incompatible)
    audit.record("quizzes.regraded", actor=actor, target=quiz, attempts=report.attempts,
                 changed=report.changed_scores)
    return report
