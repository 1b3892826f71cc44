"""``flask bench seed``: a province of any size, written in bulk, for benchmarks and scale tests.

The demo (``lms.demo``) replays a year through the services, which is exact but costs hundreds of SQL
statements per completed course. The generator writes the same kinds of rows directly, many thousands
per statement, in the demo's proportions: the demo province's agencies plus generated communes and
units (three levels), officers with duties, this year's plan activated through the services (so the
assignments are what the pages expect), lesson progress, quiz attempts with their answers, quiz
results, completions and certificates. Everything a service would derive is derived the same way:
each attempt is a real draw from the course's bank (``engine.build_slots``) answered and graded by the
engine, a quiz result is what :func:`lms.quizzes.queries.quiz_standing` would compute from the
officer's attempts, and a completion exists only where the course's rule is met. The pages and
reports therefore read the result exactly as they read real data (``tests/test_generator.py``).

Attempts reuse a few dozen draws per quiz (the snapshot is the large part of an attempt row), so the
database stays about the size a real province's would be with the same number of attempts.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select, text, update

from lms import transaction
from lms.auth.passwords import hash_password
from lms.catalog.models import Course
from lms.certificates.codes import new_code
from lms.certificates.models import CertificateTemplate
from lms.certificates.services import design_for, expiry_instant
from lms.extensions import db
from lms.org.models import Agency, Duty, User
from lms.progress.models import AssignedCourse, Assignment
from lms.progress.services import refresh_pairs
from lms.quizzes import engine
from lms.quizzes import services as quizzes
from lms.quizzes.models import Question
from lms.reports import services as reports
from lms.reports.models import Plan
from lms.reports.queries import local_today
from lms.reports.targets import Status
from lms.text import person_sort_text

# Bump when the generated data changes shape: bench caches seeded databases under this version.
GENERATOR_VERSION = 1
DETAILED_OFFICERS = 5000  # officers whose attempts are written in full, by default
DRAWS_PER_QUIZ = 12  # distinct attempts (draw + answers) per quiz, language and outcome


# Writing rows in bulk -------------------------------------------------------------------------


class BulkWriter:
    """Appends rows to tables through the driver directly: ``executemany`` on SQLite, ``COPY`` on
    PostgreSQL. Rows are tuples in the given column order, with naive-UTC datetimes."""

    def __init__(self) -> None:
        self.connection = db.session.connection()
        self.dialect = self.connection.dialect.name
        raw = self.connection.connection.dbapi_connection
        if raw is None:  # only a connection already closed or invalidated has none
            raise RuntimeError("the database connection is closed")
        self.raw = raw
        self.counts: dict[str, int] = defaultdict(int)

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        quoted = ", ".join(f'"{c}"' for c in columns)
        count = 0
        cursor = self.raw.cursor()
        try:
            if self.dialect == "postgresql":
                with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            else:
                # SQLite keeps datetimes as text: format only the time columns (named *_at, deadline).
                times = [i for i, c in enumerate(columns) if c.endswith("_at") or c == "deadline"]
                marks = ", ".join("?" for _ in columns)
                sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})'  # noqa: S608 (our table names)
                batch: list[Sequence[Any]] = []
                for row in rows:
                    if times:
                        row = list(row)
                        for i in times:
                            if row[i] is not None:
                                row[i] = row[i].isoformat(" ", "microseconds")
                    batch.append(row)
                    if len(batch) >= 20000:
                        cursor.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    count += len(batch)
        finally:
            cursor.close()
        self.counts[table] += count
        return count

    def next_id(self, table: str) -> int:
        found = self.connection.execute(text(f'SELECT max(id) FROM "{table}"')).scalar()  # noqa: S608
        return (found or 0) + 1

    def finish(self) -> None:
        """Fix the id sequences (PostgreSQL) and refresh the planner's statistics."""
        if self.dialect == "postgresql":
            for table in self.counts:
                has_id = self.connection.execute(text(
                    "SELECT 1 FROM information_schema.columns WHERE table_name = :t AND column_name = 'id'"
                ), {"t": table}).scalar()
                if has_id:
                    sql = (f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                           f"(SELECT coalesce(max(id), 1) FROM \"{table}\"))")
                    self.connection.execute(text(sql))
        self.connection.execute(text("ANALYZE"))


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


# The plan of the generated province -------------------------------------------------------------


@dataclass
class _Draw:
    """One ready attempt: a draw from the bank, answered and graded, serialised once."""

    slots_json: str
    points_max: float
    points_awarded: float
    score: float
    passed: bool
    answers: list[tuple[int, str, float | None, bool, float | None]]  # slot, response, fraction, manual, grade
    essay_slots: list[int]


@dataclass
class _QuizPlan:
    id: int
    key: str
    final: bool
    pass_mark: int
    time_limit: int
    draws: dict[tuple[str, bool], list[_Draw]] = field(default_factory=dict)


@dataclass
class _CoursePlan:
    id: int
    key: str
    version: int
    languages: list[str]
    hours: float
    title: dict[str, str]
    certificate: dict[str, Any]
    steps: list[tuple[str, Any]]  # ("lesson", lesson id) | ("quiz", _QuizPlan), in course order
    final: _QuizPlan | None
    last_lesson: int | None


@dataclass
class SeedSummary:
    officers: int = 0
    agencies: int = 0
    pairs: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        parts = ", ".join(f"{n:,} {t}" for t, n in sorted(self.rows.items()))
        return (f"bench seed: {self.officers:,} officers in {self.agencies:,} agencies, {self.pairs:,} "
                f"assigned course pairs; rows written: {parts}; {self.seconds:.1f} s")


def _course_plans(keys: Sequence[str], rng: random.Random, hard: set[tuple[int, str]]) -> dict[str, _CoursePlan]:
    """Steps of each course and, for every quiz, ready attempts drawn and graded by the engine."""
    from lms.demo import _course_maps, _Replay

    maps = _course_maps(tuple(keys))
    if maps is None:
        raise click.ClickException("the plan's courses are not synced: run flask content sync --publish-new")
    answerer = _Replay(None, rng, None, None)  # type: ignore[arg-type]
    answerer.hard = hard
    plans = {}
    for key, cmap in maps.items():
        course = cmap.course
        quiz_plans: dict[int, _QuizPlan] = {}

        def plan_of(quiz: Any, course: Any = course, quiz_plans: dict[int, _QuizPlan] = quiz_plans) -> _QuizPlan:
            if quiz.id in quiz_plans:
                return quiz_plans[quiz.id]
            qp = _QuizPlan(quiz.id, quiz.key, quiz.final, quiz.pass_mark, quiz.time_limit_minutes or 30)
            for lang in course.languages:
                bank = quizzes.bank_entries(course.id, lang)
                picks = [engine.Pick.from_dict(p) for p in quiz.picks or []]
                for passing in (True, False):
                    qp.draws[(lang, passing)] = [
                        _draw(answerer, quiz, course.id, lang, picks, bank, passing, rng)
                        for _ in range(DRAWS_PER_QUIZ if passing else max(2, DRAWS_PER_QUIZ // 4))]
            quiz_plans[quiz.id] = qp
            return qp

        steps: list[tuple[str, Any]] = [(kind, item.id if kind == "lesson" else plan_of(item))
                                        for kind, item in cmap.steps]
        lessons = [i for k, i in steps if k == "lesson"]
        plans[key] = _CoursePlan(
            course.id, course.key, course.version, list(course.languages), float(course.hours),
            dict(course.title), dict(course.certificate or {}), steps,
            plan_of(cmap.final) if cmap.final is not None else None, lessons[-1] if lessons else None)
    return plans


def _draw(answerer: Any, quiz: Any, course_id: int, lang: str, picks: list[engine.Pick],
          bank: list[engine.BankEntry], passing: bool, rng: random.Random) -> _Draw:
    slots = engine.build_slots(picks, bank, seed=rng.randrange(2**31), shuffle=quiz.shuffle_choices)
    attempt = SimpleNamespace(slots=slots, quiz=SimpleNamespace(course_id=course_id), lang=lang,
                              pass_mark=quiz.pass_mark)
    values, essays = answerer._plan_answers(attempt, passing, rng.uniform(0.6, 0.9))
    responses = quizzes.parse_values(attempt, values)  # type: ignore[arg-type]
    result = engine.grade_slots(slots, responses, essays)
    answers = []
    for slot_result in result.slots:
        number = slot_result.slot
        answers.append((number, json.dumps(responses.get(number), ensure_ascii=False),
                        slot_result.grade.fraction, slot_result.needs_manual, essays.get(number)))
    score = result.score or 0.0
    return _Draw(json.dumps(slots, ensure_ascii=False), result.points_max, result.points_awarded or 0.0,
                 score, bool(engine.passed(score, quiz.pass_mark)), answers,
                 [n for n, _r, _f, manual, _g in answers if manual])


# Agencies and officers ------------------------------------------------------------------------

COMMUNE_PARTS = ["An", "Bình", "Hòa", "Phước", "Tân", "Thạnh", "Trà", "Sơn", "Hà", "Quế", "Tiên", "Đại",
                 "Duy", "Điện", "Thăng", "Tam", "Núi", "Nông", "Hiệp", "Phú", "Xuân", "Lộc", "Cẩm", "Kim"]
UNIT_NAMES = [("Phòng Văn hóa - Xã hội", "Culture and Society Office"),
              ("Văn phòng HĐND và UBND", "Office of the People's Council and Committee"),
              ("Phòng Kinh tế", "Economic Office")]


def _agency_rows(writer: BulkWriter, wanted: int, rng: random.Random) -> list[tuple[int, str, str]]:
    """Add generated communes (with their units) until there are ``wanted`` agencies; returns every
    agency as (id, kind, path)."""
    existing = list(db.session.execute(select(Agency.id, Agency.code, Agency.kind, Agency.path, Agency.depth)))
    province = next(a for a in existing if a.code == "SH")
    rows = []
    next_id = writer.next_id("agency")
    now = _naive(datetime.now(UTC))
    count, n = len(existing), 0
    while count < wanted:
        n += 1
        name = f"{rng.choice(COMMUNE_PARTS)} {rng.choice(COMMUNE_PARTS)}"
        commune_id, path = next_id, f"{province.path}{next_id}/"
        next_id += 1
        rows.append((commune_id, f"X-G{n:05d}", f"Xã {name} {n}", f"{name} {n} Commune", "commune",
                     province.id, path, province.depth + 1, True, now))
        count += 1
        for vi, en in UNIT_NAMES[:rng.choice((0, 1, 1, 2, 3))]:
            if count >= wanted:
                break
            rows.append((next_id, f"X-G{n:05d}-{len(rows)}", f"{vi} xã {name} {n}", f"{en}, {name} {n}",
                         "commune", commune_id, f"{path}{next_id}/", province.depth + 2, True, now))
            next_id += 1
            count += 1
    writer.write("agency", ("id", "code", "name_vi", "name_en", "kind", "parent_id", "path", "depth",
                            "active", "created_at"), rows)
    return [(a.id, a.kind, a.path) for a in existing] + [(r[0], r[4], r[6]) for r in rows]


def _officer_rows(writer: BulkWriter, wanted: int, agencies: list[tuple[int, str, str]], password_hash: str,
                  rng: random.Random) -> list[tuple[int, int, str, frozenset[str]]]:
    """Bulk-insert officers with the demo's names, titles and duty shares; returns (id, agency id,
    agency path, duty codes) of each."""
    from lms.demo import (
        FAMILY,
        GIVEN_F,
        GIVEN_M,
        MIDDLE_F,
        MIDDLE_M,
        MINORITY,
        MOUNTAIN,
        TITLES,
        demo_username,
    )

    duties = {d.code: d.id for d in db.session.scalars(select(Duty))}
    mountain = set(db.session.scalars(select(Agency.id).where(Agency.code.in_(MOUNTAIN))))
    taken = {u.lower() for u in db.session.scalars(select(User.username))}
    counters: dict[str, int] = defaultdict(int)
    sort_names: dict[str, str] = {}
    start = writer.next_id("user")
    now = _naive(datetime.now(UTC))
    users, roles, user_duties, made = [], [], [], []
    # Communes and departments get more officers than their small units.
    weights = [1 if path.count("/") > 3 else 3 for _id, _kind, path in agencies]
    chosen = rng.choices(range(len(agencies)), weights=weights, k=wanted)
    for offset, index in enumerate(chosen):
        agency_id, kind, path = agencies[index]
        if agency_id in mountain and rng.random() < 0.45:
            name = rng.choice(MINORITY)
        elif rng.random() < 0.5:
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"
        else:
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"
        base = demo_username(name)
        username = base
        while username in taken:
            counters[base] += 1
            username = f"{base}{counters[base] + 1}"
        taken.add(username)
        if name not in sort_names:
            sort_names[name] = person_sort_text(name)
        user_id = start + offset
        users.append((user_id, username, name, sort_names[name], f"{username}@sonha.example", agency_id,
                      rng.choice(TITLES), "vi", True, password_hash, 0, False, now))
        roles.append((user_id, "officer"))
        roll = rng.random()
        codes = set()
        if roll < 0.12:
            codes.add("spokesperson")
        elif roll < 0.35:
            codes.add("human_rights")
        elif roll < 0.45:
            codes.add("foreign_info")
        if kind == "press" and rng.random() < 0.7:
            codes.add("press")
        user_duties += [(user_id, duties[c]) for c in sorted(codes)]
        made.append((user_id, agency_id, path, frozenset(codes)))
    writer.write("user", ("id", "username", "full_name", "sort_name", "email", "agency_id", "job_title",
                          "locale", "active", "password_hash", "session_epoch", "hr_all_agencies",
                          "created_at"), users)
    writer.write("user_role", ("user_id", "role"), roles)
    writer.write("user_duty", ("user_id", "duty_id"), user_duties)
    return made


# Activity ---------------------------------------------------------------------------------------


class _Activity:
    """Writes the rows of officers' courses: enrolments, lessons, attempts, results, completions."""

    def __init__(self, writer: BulkWriter, rng: random.Random, trainer_id: int) -> None:
        self.writer, self.rng, self.trainer_id = writer, rng, trainer_id
        self.enrollments: list[tuple[Any, ...]] = []
        self.lessons: list[tuple[Any, ...]] = []
        self.attempts: list[tuple[Any, ...]] = []
        self.answers: list[tuple[Any, ...]] = []
        self.results: list[tuple[Any, ...]] = []
        self.completions: list[tuple[Any, ...]] = []
        self.certificates: list[tuple[Any, ...]] = []
        self.attempt_id = writer.next_id("quiz_attempt")
        self.answer_id = writer.next_id("quiz_attempt_answer")
        self.enrollment_id = writer.next_id("enrollment")
        self.completion_id = writer.next_id("course_completion")
        self.certificate_id = writer.next_id("certificate")
        # Certificates get the design issuing would give them (course template, course settings, agency,
        # installation, built-in): one lookup per course, or per course and agency once agencies have
        # templates of their own (a demo loaded into an installation already set up).
        self.designs: dict[tuple[int, int | None], Any] = {}
        self.agency_templates = bool(db.session.scalar(
            select(func.count()).select_from(CertificateTemplate).where(CertificateTemplate.agency_id.is_not(None))))
        self.pending_essays = 0
        self.record = True  # False: the officer's attempts count in results but are not written

    def _attempt(self, user_id: int, quiz: _QuizPlan, lang: str, number: int, start: datetime,
                 passing: bool, graded: bool = True) -> tuple[datetime, float, bool, str]:
        draw = self.rng.choice(quiz.draws[(lang, passing)])
        submitted = start + timedelta(minutes=self.rng.uniform(0.25, 0.8) * quiz.time_limit)
        status = "graded" if graded or not draw.essay_slots else "needs_grading"
        graded_at = submitted + timedelta(hours=self.rng.uniform(1, 30)) if draw.essay_slots else submitted
        done = status == "graded"
        if not self.record:
            return submitted, draw.score, done and draw.passed, status
        attempt_id = self.attempt_id
        self.attempt_id += 1
        self.attempts.append((
            attempt_id, user_id, quiz.id, number, lang, status, start,
            start + timedelta(minutes=quiz.time_limit), submitted, graded_at if done else None, False,
            draw.score if done else None, draw.points_awarded if done else None, draw.points_max,
            draw.passed if done else None, self.rng.randrange(2**31), draw.slots_json, quiz.pass_mark))
        from lms.demo import GRADER_COMMENTS

        for slot, response, fraction, manual, grade in draw.answers:
            essay_done = manual and done
            self.answers.append((
                self.answer_id, attempt_id, slot, response, submitted - timedelta(minutes=1), fraction, manual,
                grade if essay_done else None, self.rng.choice(GRADER_COMMENTS) if essay_done else "",
                self.trainer_id if essay_done else None, graded_at if essay_done else None))
            self.answer_id += 1
        return submitted, draw.score, done and draw.passed, status

    def _quiz(self, user_id: int, course: _CoursePlan, quiz: _QuizPlan, lang: str, start: datetime,
              retake_share: float, pending: bool = False) -> tuple[datetime, int]:
        """The officer's attempts at one quiz ending in a pass (or a pending essay); its result row."""
        number, when = 1, start
        finished: list[tuple[datetime, float, bool, str]] = []
        if self.rng.random() < retake_share:
            finished.append(self._attempt(user_id, quiz, lang, number, when, passing=False))
            number += 1
            when = finished[-1][0] + timedelta(hours=self.rng.uniform(1.2, 30))
        finished.append(self._attempt(user_id, quiz, lang, number, when, passing=True, graded=not pending))
        graded = [f for f in finished if f[3] == "graded"]
        passes = [f[0] for f in graded if f[2]]
        best = max((f[1] for f in graded), default=None)
        best_score = min(100, max(0, int(math.floor(best)))) if best is not None else 0
        waiting = sum(1 for f in finished if f[3] == "needs_grading")
        self.results.append((user_id, course.id, quiz.key, best_score, bool(passes),
                             min(passes) if passes else None, max(passes) if passes else None,
                             len(finished), waiting))
        if pending:
            self.pending_essays += waiting
        return finished[-1][0], best_score

    def course(self, user_id: int, agency_id: int, course: _CoursePlan, lang: str, start: datetime,
               end: datetime, *, complete: bool, holder: str, agency_name: tuple[str, str],
               pending_essay: bool = False, detailed: bool = True) -> None:
        rng = self.rng
        self.record = detailed or pending_essay
        steps = course.steps if complete or pending_essay else course.steps[:rng.randint(1, max(1, len(course.steps) - 2))]
        gap = (end - start) / (len(steps) + 1)
        last_lesson, when = None, start
        for i, (kind, item) in enumerate(steps):
            when = start + gap * i + timedelta(minutes=rng.uniform(0, 20))
            if kind == "lesson":
                self.lessons.append((user_id, item, course.id, when, lang))
                last_lesson = item
            else:
                self._quiz(user_id, course, item, lang, when, 0.05)
        if not complete and not pending_essay:
            following = next((i for k, i in course.steps[len(steps):] if k == "lesson"), last_lesson)
            self.enrollments.append((self.enrollment_id, user_id, course.id, start, "assignment", following,
                                     when + timedelta(minutes=5)))
            self.enrollment_id += 1
            return
        self.enrollments.append((self.enrollment_id, user_id, course.id, start, "assignment",
                                 course.last_lesson or last_lesson, end))
        self.enrollment_id += 1
        if course.final is None:
            # A course without a final test (the Cơ Tu glossary) is completed by reading it, with no score,
            # as lms.progress.services.evaluate_completion does.
            finished, score = end, None
        else:
            finished, score = self._quiz(user_id, course, course.final, lang,
                                         end - timedelta(hours=rng.uniform(3, 40)), 0.08, pending=pending_essay)
            if pending_essay:
                return
        completed_at = max(finished, end)
        completion_id = self.completion_id
        self.completion_id += 1
        self.completions.append((completion_id, user_id, course.id, completed_at, score, course.version,
                                 agency_id, lang))
        settings = course.certificate
        if settings.get("enabled"):
            original = course.languages[0] if course.languages else "vi"
            pdf_lang = lang if lang in ("vi", "en") else "vi"

            def pick(values: dict[str, str] | None) -> str:
                values = values or {}
                return values.get(pdf_lang) or values.get(original) or next(iter(values.values()), "")

            expires = expiry_instant(completed_at.replace(tzinfo=UTC), settings.get("validity_months"))
            design = self._design(course, agency_id)
            self.certificates.append((
                self.certificate_id, new_code(), user_id, course.id, completion_id, course.key, course.version,
                completed_at, completed_at, _naive(expires) if expires else None, "valid", "", holder, agency_id,
                agency_name[1] if pdf_lang == "en" and agency_name[1] else agency_name[0], pick(course.title),
                course.hours, pdf_lang, score, pick(dict(design.issuer)), design.signer_name,
                pick(dict(design.signer_title)), design.seal_path, "", "", design.layout, design.seal_image_id,
                design.signature_image_id, json.dumps(design.snapshot(), ensure_ascii=False)))
            self.certificate_id += 1

    def _design(self, course: _CoursePlan, agency_id: int) -> Any:
        key = (course.id, agency_id if self.agency_templates else None)
        design = self.designs.get(key)
        if design is None:
            agency = db.session.get(Agency, agency_id) if self.agency_templates else None
            design = self.designs[key] = design_for(course, agency)
        return design

    def flush(self) -> None:
        w = self.writer
        w.write("enrollment", ("id", "user_id", "course_id", "enrolled_at", "source", "last_lesson_id",
                               "last_seen_at"), self.enrollments)
        w.write("lesson_progress", ("user_id", "lesson_id", "course_id", "completed_at", "lang"), self.lessons)
        w.write("quiz_attempt", ("id", "user_id", "quiz_id", "number", "lang", "status", "started_at", "deadline",
                                 "submitted_at", "graded_at", "closed_overdue", "score", "points_awarded",
                                 "points_max", "passed", "seed", "slots", "pass_mark"), self.attempts)
        w.write("quiz_attempt_answer", ("id", "attempt_id", "slot", "response", "saved_at", "fraction",
                                        "needs_manual", "manual_fraction", "comment", "grader_id", "graded_at"),
                self.answers)
        w.write("quiz_result", ("user_id", "course_id", "quiz_key", "best_score", "passed", "passed_at",
                                "last_passed_at", "attempts_count", "awaiting_grading"), self.results)
        w.write("course_completion", ("id", "user_id", "course_id", "completed_at", "score", "course_version",
                                      "agency_id", "lang"), self.completions)
        w.write("certificate", ("id", "code", "user_id", "course_id", "completion_id", "course_key",
                                "course_version", "completed_at", "issued_at", "expires_at", "status",
                                "revoked_reason", "holder_name", "agency_id", "agency_name", "course_title",
                                "hours", "lang", "score", "issuer_name", "signer_name", "signer_title",
                                "seal_path", "reissue_reason", "render_error", "layout", "seal_image_id",
                                "signature_image_id", "template_snapshot"), self.certificates)
        for rows in (self.enrollments, self.lessons, self.attempts, self.answers, self.results,
                     self.completions, self.certificates):
            rows.clear()


def _when(start: datetime, end: datetime, rng: random.Random, a: float = 2.2, b: float = 1.3) -> datetime:
    return start + (end - start) * rng.betavariate(a, b)


def ensure_content() -> None:
    """Sync content/ (publishing new courses) when the plan's courses are not there yet."""
    from lms import ROOT
    from lms.catalog import loader
    from lms.catalog.models import Course
    from lms.catalog.sync import sync_content
    from lms.demo import PLAN_COURSES

    found = set(db.session.scalars(select(Course.key).where(Course.key.in_(PLAN_COURSES),
                                                             Course.published.is_(True))))
    if found == set(PLAN_COURSES):
        return
    result = loader.load_content(ROOT / "content")
    if not result.ok:
        raise click.ClickException(f"content/ does not load: {result.errors[:3]}")
    sync_content(result, ROOT / "content", publish_new=True)
    db.session.flush()


def default_detail(officers: int) -> float:
    """Share of officers whose attempts are written in full: all of them up to 20,000 officers, then
    as many as in a 5,000-officer province (an attempt's snapshot is about 9 KB: 200,000 officers'
    full history would be some 24 GB, 5,000 officers' is 0.6 GB)."""
    return min(1.0, DETAILED_OFFICERS / max(1, officers))


def seed_province(officers: int, agencies: int | None = None, *, seed: int = 11, today: date | None = None,
                  detail: float | None = None, step: Callable[[str], None] | None = None) -> SeedSummary:
    """Build a province of ``officers`` officers in bulk on an empty database (see the module docstring)."""
    from lms.demo import (
        AT_RISK,
        BEHIND,
        DEMO_ACCOUNTS,
        DEMO_PASSWORD,
        PLAN_COURSES,
        PLAN_DESCRIPTION,
        PLAN_DUE,
        PLAN_DUTIES,
        PLAN_NAME,
        _done_count,
        _moment,
        load_demo,
    )

    began = time.monotonic()
    say = step or (lambda _message: None)
    if db.session.scalar(select(func.count()).select_from(Plan)):
        raise click.ClickException("the database already has a training plan: seed an empty database")
    rng = random.Random(seed)
    today = today or local_today()
    ensure_content()
    load_demo(officers=0)
    db.session.flush()
    writer = BulkWriter()
    summary = SeedSummary()
    wanted_agencies = agencies or max(42, min(5000, officers // 100))
    agency_list = _agency_rows(writer, wanted_agencies, rng)
    summary.agencies = len(agency_list)
    profile = current_app.config["PASSWORD_HASH_PROFILE"]
    made = _officer_rows(writer, max(0, officers - len(DEMO_ACCOUNTS)), agency_list,
                         hash_password(DEMO_PASSWORD, profile), rng)
    summary.officers = officers
    say(f"{len(made):,} officers in {len(agency_list):,} agencies")
    db.session.expire_all()

    # This year's plan, through the services so its assignments are the pages' own.
    accounts = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_([a[0] for a in DEMO_ACCOUNTS])))}
    hr, trainer = accounts["hr"], accounts["trainer"]
    due = max(PLAN_DUE, today + timedelta(days=19))
    activated_on = due - timedelta(days=288)
    courses = {c.key: c for c in db.session.scalars(select(Course).where(Course.key.in_(PLAN_COURSES)))}
    duties = {d.code: d for d in db.session.scalars(select(Duty))}
    plan = reports.create_plan(reports.PlanData(name=PLAN_NAME.format(year=due.year), year=due.year,
                                                description=PLAN_DESCRIPTION, due_date=due), actor=hr)
    for key in PLAN_COURSES:
        reports.add_course(plan, courses[key], actor=hr)
    for code in PLAN_DUTIES:
        reports.add_member(plan, kind="duty", duty=duties[code], actor=hr)
    reports.set_target(plan, "officers_completed", 1.0, None,
                       "100% cán bộ, công chức được giao nhiệm vụ hoàn thành bồi dưỡng", actor=hr)
    reports.activate_plan(plan, actor=hr)
    activated = _moment(activated_on, 8, 30)
    plan.activated_at = activated
    plan.created_at = activated - timedelta(days=9)
    db.session.flush()
    db.session.execute(update(Assignment).where(Assignment.plan_id == plan.id).values(created_at=activated))
    db.session.execute(update(AssignedCourse).values(first_assigned_at=activated))
    pairs = db.session.execute(select(AssignedCourse.user_id, AssignedCourse.course_id)).all()
    summary.pairs = len(pairs)
    say(f"plan activated: {len(pairs):,} assigned pairs")

    # Hard questions like the demo's: two of the foundations course that most officers miss.
    foundations = courses["hr-foundations"]
    hard: set[tuple[int, str]] = set()
    for category in ("m1", "m2"):
        names = sorted(db.session.scalars(select(Question.name).where(
            Question.course_id == foundations.id, Question.lang == "vi", Question.category == category,
            Question.qtype == "single", Question.archived_at.is_(None))))
        if names:
            hard.add((foundations.id, rng.choice(names)))
    plans = _course_plans(PLAN_COURSES, rng, hard)
    by_id = {p.id: p for p in plans.values()}
    order = {courses[k].id: i for i, k in enumerate(PLAN_COURSES)}
    say("attempt draws ready")

    # Which officers and units: the province's direct units, three behind, three at risk.
    province = db.session.scalars(select(Agency).where(Agency.code == "SH")).one()
    units = {a.code: a.id for a in db.session.scalars(select(Agency).where(Agency.parent_id == province.id))}
    agency_names = {a.id: (a.name_vi, a.name_en) for a in db.session.execute(select(Agency.id, Agency.name_vi,
                                                                              Agency.name_en))}
    info = {u[0]: u for u in made}
    info.update({u.id: (u.id, u.agency_id, u.agency.path, frozenset(d.code for d in u.duties))
                 for u in accounts.values()})
    full_names = dict(db.session.execute(select(User.id, User.full_name)).all())
    root_prefix = province.path

    def top_unit(path: str) -> int | None:
        rest = path[len(root_prefix):].strip("/")
        return int(rest.split("/")[0]) if rest else None

    pairs_of_unit: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for user_id, course_id in pairs:
        unit = top_unit(info[user_id][2]) if user_id in info else None
        if unit is not None:
            pairs_of_unit[unit].append((user_id, course_id))
    behind = [units[c] for c in BEHIND if c in units and pairs_of_unit.get(units[c])][:3]
    at_risk = [units[c] for c in AT_RISK if c in units and pairs_of_unit.get(units[c]) and units[c] not in behind][:3]
    now = _moment(today, 7, 30)
    activity = _Activity(writer, rng, trainer.id)
    share = default_detail(officers) if detail is None else detail
    always = {u.id for u in accounts.values()}

    def detailed(user_id: int) -> bool:
        return user_id in always or (user_id * 2654435761) % 10007 < share * 10007
    diligence: dict[int, float] = {}
    pending_left = 1
    done_pairs = 0
    for unit_id in sorted(pairs_of_unit):
        mine = pairs_of_unit[unit_id]
        wanted = Status.behind if unit_id in behind else Status.at_risk if unit_id in at_risk else Status.on_track
        k = _done_count(len(mine), 0, 0, wanted, activated_on, due, today, rng)
        for user_id, _c in mine:
            diligence.setdefault(user_id, rng.random())
        ranked = sorted(mine, key=lambda p: diligence[p[0]] + 0.3 * order[p[1]] + rng.uniform(0, 0.2))
        started_share = {Status.on_track: 1.0, Status.at_risk: 0.75, Status.behind: 0.45}[wanted]
        first_open: dict[int, int] = {}
        done_set = set(ranked[:k])
        for user_id, course_id in sorted(ranked, key=lambda p: order[p[1]]):
            course = by_id[course_id]
            duty_codes = info[user_id][3]
            lang = "en" if "en" in course.languages and "foreign_info" in duty_codes and rng.random() < 0.4 else "vi"
            agency_id = info[user_id][1]
            holder, agency_name = full_names[user_id], agency_names[agency_id]
            if (user_id, course_id) in done_set:
                end = _when(activated + timedelta(days=10), now - timedelta(days=1), rng)
                start = max(activated + timedelta(days=1), end - timedelta(days=rng.uniform(3, 25)))
                activity.course(user_id, agency_id, course, lang, _naive(start), _naive(end), complete=True,
                                holder=holder, agency_name=agency_name, detailed=detailed(user_id))
                done_pairs += 1
            else:
                first = first_open.setdefault(user_id, order[course_id]) == order[course_id]
                if rng.random() < (started_share if first else 0.15):
                    start = _when(activated + timedelta(days=5), now - timedelta(days=20), rng, 1.5, 1.5)
                    last = _when(start + timedelta(days=1), now - timedelta(hours=2), rng, 3, 1.2)
                    pending = bool(pending_left and unit_id in at_risk and course.final is not None)
                    if pending:
                        pending_left -= 1
                        last = now - timedelta(hours=rng.uniform(14, 30))
                    activity.course(user_id, agency_id, course, lang, _naive(start), _naive(last), complete=False,
                                    holder=holder, agency_name=agency_name, pending_essay=pending,
                                    detailed=detailed(user_id))
        if len(activity.answers) > 200_000:
            activity.flush()
            say(f"{done_pairs:,} completed pairs written")
    activity.flush()
    refresh_pairs()  # what the pairs keep for the reports, from the rows written in bulk
    writer.finish()
    summary.rows = dict(writer.counts)
    summary.seconds = time.monotonic() - began
    return summary


@click.group("bench", cls=transaction.Group, help="Data for benchmarks and scale tests.")
def bench_cli() -> None:
    pass


@bench_cli.command("seed", help="Build a province of N officers in bulk on an empty database.")
@click.option("--officers", type=click.IntRange(10, 5_000_000), default=20000, show_default=True)
@click.option("--agencies", type=click.IntRange(42, 100_000), default=None,
              help="How many agencies in all (default: one per 100 officers, at least the demo's 42).")
@click.option("--seed", "seed_value", type=int, default=11, show_default=True, help="Random seed.")
@click.option("--detail", type=click.FloatRange(0, 1), default=None,
              help="Share of officers whose quiz attempts are written in full (default: all up to 5,000 "
                   "officers, then as many as 5,000); the others' results, completions and certificates "
                   "are written without the attempt rows.")
@with_appcontext
def seed_command(officers: int, agencies: int | None, seed_value: int, detail: float | None) -> None:
    def say(message: str) -> None:
        click.echo(f"bench seed: {message}", err=True)

    summary = seed_province(officers, agencies, seed=seed_value, detail=detail, step=say)
    click.echo(summary.line())
