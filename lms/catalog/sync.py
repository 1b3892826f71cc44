"""Write what the loader read from ``content/`` to the database, matching everything by stable keys.

The loader has already checked everything; this module refuses to run on a result with errors. Courses
owned by the web editor are reported as skipped and left untouched. A lesson that disappeared from the
files is archived, never deleted, so officers' progress keeps pointing at it. The sync only flushes: the
caller commits (or, for a dry run, rolls back). Other domains add their part of a course (quizzes and
question banks) on ``signals.course_synced``, sent in the same transaction once the course, its modules
and lessons are written; they add lines to the same report.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms import audit, signals
from lms.catalog import loader, services
from lms.catalog.models import Asset, Course, Lesson, LessonRevision, LessonText, Module
from lms.catalog.services import apply_course_metadata, render_lesson_body
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import _

STATUSES = ("added", "changed", "archived", "removed", "unchanged", "skipped")


@dataclass(frozen=True)
class SyncLine:
    kind: str  # course, module, lesson, file, and whatever hooks add (quiz, question ...)
    key: str
    status: str  # one of STATUSES
    detail: str = ""


@dataclass
class SyncReport:
    """What a sync did (or would do), line by line; hooks add their own lines with :meth:`add`."""

    dry_run: bool = False
    lines: list[SyncLine] = field(default_factory=list)

    def add(self, kind: str, key: str, status: str, detail: str = "") -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown sync status {status!r}")
        self.lines.append(SyncLine(kind, key, status, detail))

    def counts(self) -> dict[str, dict[str, int]]:
        """{kind: {status: n}} in the order kinds first appeared."""
        out: dict[str, dict[str, int]] = {}
        for line in self.lines:
            bucket = out.setdefault(line.kind, {})
            bucket[line.status] = bucket.get(line.status, 0) + 1
        return out

    def changes(self) -> list[SyncLine]:
        """Every line except the unchanged ones."""
        return [line for line in self.lines if line.status != "unchanged"]

    @property
    def skipped(self) -> list[SyncLine]:
        return [line for line in self.lines if line.status == "skipped"]

    def summary(self) -> str:
        parts = []
        for kind, statuses in self.counts().items():
            detail = ", ".join(f"{n} {status}" for status, n in statuses.items())
            parts.append(f"{kind}: {detail}")
        return "; ".join(parts) or "nothing to sync"


class SyncRefused(DomainError):
    """The content has errors: nothing may be written."""


def sync_content(
    result: loader.LoadResult,
    root: Path,
    *,
    dry_run: bool = False,
    publish_new: bool = False,
    archive_missing: bool = False,
) -> SyncReport:
    """Upsert every course of ``result`` (read from ``root``); flush only."""
    if not result.ok:
        raise SyncRefused("; ".join(str(error) for error in result.errors[:5]))
    report = SyncReport(dry_run=dry_run)
    existing = {
        course.key: course
        for course in db.session.scalars(
            select(Course).options(
                selectinload(Course.modules),
            )
        )
    }
    for loaded in result.courses:
        course = existing.get(loaded.key)
        if course is not None and course.source == "web":
            report.add(
                "course",
                loaded.key,
                "skipped",
                _(
                    "edited on the web since %(date)s; the files are ignored until it is handed back",
                    date=course.updated_at.date().isoformat(),
                ),
            )
            continue
        rule_before = None if course is None else (course.completion, course.certificate)
        course = _sync_course(course, loaded, Path(root), report, publish_new)
        signals.course_synced.send(course, loaded=loaded, report=report, dry_run=dry_run)
        if rule_before is not None and rule_before != (course.completion, course.certificate) and not dry_run:
            # The same as a change on the settings page: audited, open completions re-evaluated.
            audit.record("catalog.completion_rule_changed", target=course, key=course.key, source="files",
                         before={"completion": rule_before[0], "certificate": rule_before[1]},
                         after={"completion": course.completion, "certificate": course.certificate})
            services.rule_changed(course, None)
    if archive_missing:
        seen = {loaded.key for loaded in result.courses}
        for key, course in existing.items():
            if key in seen or course.source != "files" or course.archived_at is not None:
                continue
            course.archived_at = utcnow()
            course.published = False
            report.add("course", key, "archived", _("its folder is gone"))
    db.session.flush()
    if not dry_run:
        audit.record("catalog.content_synced", target_type="course", counts=report.counts())
    return report


def _sync_course(
    course: Course | None, loaded: loader.Course, root: Path, report: SyncReport, publish_new: bool
) -> Course:
    if course is None:
        course = Course(key=loaded.key, source="files", published=publish_new)
        db.session.add(course)
        status = "added"
    else:
        status = "unchanged"
    before = _course_fingerprint(course)
    apply_course_metadata(
        course,
        version=loaded.version,
        topic=loaded.topic,
        hours=loaded.hours,
        languages=list(loaded.languages),
        open_=loaded.open,
        title=dict(loaded.title),
        summary=dict(loaded.summary),
    )
    course.folder = loaded.folder
    course.completion = {
        "lessons": list(loaded.completion.lessons),
        "quizzes": list(loaded.completion.quizzes),
        "min_final_score": loaded.completion.min_final_score,
    }
    course.certificate = _plain(asdict(loaded.certificate))
    course.quizzes = [
        {
            "key": quiz.key,
            "title": dict(quiz.title),
            "module": quiz.module,
            "final": quiz.final,
            "pass_mark": quiz.pass_mark,
            "review_score": quiz.review.score,
        }
        for quiz in loaded.quizzes.values()
    ]
    restored = course.archived_at is not None
    course.archived_at = None
    if status == "unchanged" and (restored or before != _course_fingerprint(course)):
        status = "changed"
    course.content_hash = loaded.content_hash
    db.session.flush()
    report.add("course", loaded.key, status, _("restored") if restored else "")

    modules = _sync_modules(course, loaded, report)
    _sync_lessons(course, loaded, modules, report)
    _sync_assets(course, loaded, root, report)
    return course


def _plain(value: Any) -> Any:
    """Mappings and tuples from the loader as JSON-friendly dicts and lists."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "items"):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _course_fingerprint(course: Course) -> tuple[Any, ...]:
    return (
        course.version, course.topic, course.hours, list(course.languages or []), course.open,
        dict(course.title or {}), dict(course.summary or {}), course.completion, course.certificate,
        course.quizzes,
    )  # fmt: skip


def _sync_modules(course: Course, loaded: loader.Course, report: SyncReport) -> dict[str, Module]:
    rows = {module.key: module for module in course.modules}
    for position, module in enumerate(loaded.modules):
        row = rows.get(module.key)
        if row is None:
            row = Module(course=course, key=module.key)
            db.session.add(row)
            rows[module.key] = row
            status = "added"
        else:
            same = (
                row.position == position
                and dict(row.title or {}) == dict(module.title)
                and row.quiz_key == module.quiz
                and not row.archived
            )
            status = "unchanged" if same else "changed"
        row.position = position
        row.title = dict(module.title)
        row.quiz_key = module.quiz
        row.archived = False
        report.add("module", f"{loaded.key}/{module.key}", status)
    wanted = {module.key for module in loaded.modules}
    for key, row in rows.items():
        if key not in wanted and not row.archived:
            row.archived = True
            row.position = 1000 + row.position
            report.add("module", f"{loaded.key}/{key}", "archived")
    db.session.flush()
    return rows


def _sync_lessons(
    course: Course, loaded: loader.Course, modules: dict[str, Module], report: SyncReport
) -> None:
    rows = {
        lesson.key: lesson
        for lesson in db.session.scalars(
            select(Lesson).where(Lesson.course_id == course.id).options(selectinload(Lesson.texts))
        )
    }
    original = loaded.original_language
    now = utcnow()
    for key, lesson in loaded.lessons.items():
        row = rows.get(key)
        module = modules[lesson.module]
        minutes = lesson.texts[original].minutes
        if row is None:
            row = Lesson(course_id=course.id, key=key, revision=1)
            db.session.add(row)
            status = "added"
        else:
            same = (
                row.content_hash == lesson.content_hash
                and row.archived_at is None
                and row.position == lesson.position
                and row.module_id == module.id
                and row.minutes == minutes
            )
            status = "unchanged" if same else "changed"
            if row.content_hash != lesson.content_hash:
                row.revision += 1
        detail = _("restored") if row.archived_at is not None else ""
        row.module_id = module.id
        row.position = lesson.position
        row.minutes = minutes
        row.archived_at = None
        if row.content_hash != lesson.content_hash:
            _sync_texts(row, lesson, status == "added")
            row.content_hash = lesson.content_hash
        report.add("lesson", f"{loaded.key}/{key}", status, detail)
    for key, row in rows.items():
        if key not in loaded.lessons and row.archived_at is None:
            row.archived_at = now
            row.position = 10_000 + row.position
            report.add("lesson", f"{loaded.key}/{key}", "archived")
    db.session.flush()


def _sync_texts(row: Lesson, lesson: loader.Lesson, new: bool) -> None:
    texts = {text.lang: text for text in ([] if new else row.texts)}
    for lang, edition in lesson.texts.items():
        text = texts.get(lang)
        if text is not None and text.content_hash == edition.content_hash:
            continue
        if text is None:
            text = LessonText(lang=lang)
            row.texts.append(text)
        text.title = edition.title
        text.minutes = edition.minutes
        text.body_md = edition.body
        text.body_html = render_lesson_body(edition.body, lang)
        text.content_hash = edition.content_hash
        db.session.add(
            LessonRevision(
                lesson=row, lang=lang, revision=row.revision, title=edition.title,
                minutes=edition.minutes, body_md=edition.body, source="files",
            )
        )  # fmt: skip
    for lang, text in texts.items():
        if lang not in lesson.texts:
            row.texts.remove(text)


def _sync_assets(course: Course, loaded: loader.Course, root: Path, report: SyncReport) -> None:
    rows = {
        asset.path: asset
        for asset in db.session.scalars(select(Asset).where(Asset.course_id == course.id))
    }
    folder = root / loaded.folder / "files"
    for path, asset in loaded.assets.items():
        row = rows.get(path)
        if row is not None and row.sha256 == asset.sha256 and row.content_type == asset.content_type:
            report.add("file", f"{loaded.key}/{path}", "unchanged")
            continue
        data = (folder / path).read_bytes()
        if hashlib.sha256(data).hexdigest() != asset.sha256:
            raise SyncRefused(f"{loaded.folder}/files/{path} changed while it was being synced")
        if row is None:
            row = Asset(course_id=course.id, path=path)
            db.session.add(row)
            status = "added"
        else:
            status = "changed"
        row.content_type = asset.content_type
        row.size = asset.size
        row.sha256 = asset.sha256
        row.data = data
        report.add("file", f"{loaded.key}/{path}", status)
    for path, row in rows.items():
        if path not in loaded.assets:
            db.session.delete(row)
            report.add("file", f"{loaded.key}/{path}", "removed")
    db.session.flush()
