"""Writes to the catalog: course metadata, web authoring (courses, modules, lessons, files), trainer limits.

Flush only; the view or CLI command commits. Errors are :class:`CatalogError` with a message fit for the
author and, where there is one, the form field it belongs to.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from flask import current_app, g, has_app_context
from flask_babel import force_locale, gettext
from sqlalchemy import delete, func, select

from lms import audit, signals
from lms.catalog import loader
from lms.catalog.models import (
    Asset,
    Course,
    Lesson,
    LessonRevision,
    LessonText,
    Module,
    TrainerCourse,
)
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import _
from lms.markup import heading_slug, render_markdown

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_BODY_CHARS = 200_000


class CatalogError(DomainError):
    """A domain error with a message for the author, optionally tied to a form field."""


# Text helpers ---------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without diacritics (``đ`` -> ``d``): how search text is stored and matched."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).lower().split())


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "").replace("\r\n", "\n").replace("\r", "\n")


def asset_href(name: str) -> str:
    """How a lesson links a course file: relative to the lesson page (/catalog/c/KEY/LESSON)."""
    return "files/" + quote(name)


def render_lesson_body(
    body: str, lang: str, asset_url: Any = asset_href
) -> str:
    """Sanitised HTML for a lesson edition; callout headings in the lesson's language when we have it."""
    if not has_app_context():
        return render_markdown(body, asset_url=asset_url)
    ui = lang if lang in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(ui):
        return render_markdown(body, asset_url=asset_url, translate=gettext)


def apply_course_metadata(
    course: Course,
    *,
    version: int,
    topic: str,
    hours: float,
    languages: list[str],
    open_: bool,
    title: dict[str, str],
    summary: dict[str, str],
) -> None:
    """Set the descriptive fields and the columns derived from them (language filter, search text)."""
    course.version = version
    course.topic = topic
    course.hours = hours
    course.languages = list(languages)
    course.lang_codes = "," + ",".join(languages) + ","
    course.open = open_
    course.title = dict(title)
    course.summary = dict(summary)
    course.search_text = fold(" ".join([course.key, *title.values(), *summary.values()]))


# Trainer limits --------------------------------------------------------------------------------


def trainer_course_ids(user: Any) -> frozenset[int]:
    """Courses a trainer is limited to (empty: none), cached for the request."""
    user_id = getattr(user, "id", None)
    if user_id is None:
        return frozenset()
    cache = g.setdefault("_lms_trainer_limits", {}) if has_app_context() else {}
    if user_id not in cache:
        cache[user_id] = frozenset(
            db.session.scalars(select(TrainerCourse.course_id).where(TrainerCourse.user_id == user_id))
        )
    return cache[user_id]


def set_trainer_courses(user: Any, courses: list[Course], *, actor: Any = None) -> None:
    """Limit a trainer to ``courses`` (an empty list lifts the limit)."""
    db.session.execute(delete(TrainerCourse).where(TrainerCourse.user_id == user.id))
    for course in courses:
        db.session.add(TrainerCourse(user_id=user.id, course_id=course.id))
    db.session.flush()
    if has_app_context():
        g.pop("_lms_trainer_limits", None)
    audit.record(
        "catalog.trainer_limited", actor=actor, target=user, courses=[c.key for c in courses]
    )


# Web authoring: courses ------------------------------------------------------------------------


def parse_languages(raw: str) -> list[str]:
    """"vi, en kuf" -> ["vi", "en", "kuf"], checked."""
    codes = [code for code in re.split(r"[\s,;]+", raw.strip()) if code]
    if not codes:
        raise CatalogError(_("List at least one language code, the original first (e.g. vi, en)."), "languages")
    seen: list[str] = []
    for code in codes:
        if not loader.is_language_code(code):
            raise CatalogError(
                _("'%(code)s' is not a language code (two or three lower-case letters, e.g. vi, en, kuf).", code=code),
                "languages",
            )
        if code in seen:
            raise CatalogError(_("The language %(code)s is listed twice.", code=code), "languages")
        seen.append(code)
    return seen


def _check_hours(hours: float | None) -> float:
    if hours is None or not (0 < hours <= 1000):
        raise CatalogError(_("Hours must be more than 0 and at most 1000."), "hours")
    return float(hours)


def _check_topic(topic: str) -> str:
    if topic not in loader.TOPICS:
        raise CatalogError(_("Unknown topic."), "topic")
    return topic


def _text(value: str | None, field: str, what: str, limit: int = 300) -> str:
    value = " ".join(nfc(value or "").split())
    if not value:
        raise CatalogError(_("%(what)s is required.", what=what), field)
    if len(value) > limit:
        raise CatalogError(_("%(what)s is too long (at most %(num)s characters).", what=what, num=limit), field)
    return value


def create_course(
    *,
    key: str,
    title: str,
    summary: str,
    languages: str,
    topic: str,
    hours: float | None,
    open_: bool,
    actor: Any,
) -> Course:
    """A new course owned by the web editor, unpublished, with one empty module."""
    key = (key or "").strip()
    if not (3 <= len(key) <= 60 and loader.COURSE_KEY_RE.fullmatch(key)):
        raise CatalogError(_("A course key uses a-z, 0-9 and '-', 3 to 60 characters (e.g. press-basics)."), "key")
    if db.session.scalar(select(Course.id).where(Course.key == key)):
        raise CatalogError(_("The key %(key)s is already used by another course.", key=key), "key")
    langs = parse_languages(languages)
    original = langs[0]
    course = Course(key=key, source="web", published=False, revision=1)
    apply_course_metadata(
        course,
        version=1,
        topic=_check_topic(topic),
        hours=_check_hours(hours),
        languages=langs,
        open_=open_,
        title={original: _text(title, "title", _("The title"))},
        summary={original: _text(summary, "summary", _("The summary"), 2000)},
    )
    # Every quiz added later counts too (the final test always does): the author narrows it on the
    # course's completion page.
    course.completion = {"lessons": "all", "quizzes": "all", "min_final_score": None}
    course.certificate = {"enabled": False}
    course.quizzes = []
    db.session.add(course)
    db.session.flush()
    db.session.add(Module(course=course, key="m1", position=0, title={original: _("Module 1")}))
    if actor is not None and trainer_course_ids(actor):
        # A trainer limited to some courses can still edit the ones they create.
        db.session.add(TrainerCourse(user_id=actor.id, course_id=course.id))
        g.pop("_lms_trainer_limits", None)
    db.session.flush()
    audit.record("catalog.course_created", actor=actor, target=course, key=key)
    return course


def _require_web(course: Course) -> None:
    if course.source != "web":
        raise CatalogError(
            _("This course is maintained as files in content/. Take it over for web editing first.")
        )


def _touch(course: Course) -> None:
    course.revision = (course.revision or 0) + 1
    course.updated_at = utcnow()


def update_course(
    course: Course,
    *,
    lang: str,
    title: str,
    summary: str,
    languages: str,
    topic: str,
    hours: float | None,
    open_: bool,
    actor: Any,
) -> None:
    """Save the course's details; title and summary are those of ``lang``."""
    _require_web(course)
    langs = parse_languages(languages)
    if lang not in langs:
        raise CatalogError(_("The language %(code)s is not one of the course languages.", code=lang), "languages")
    titles = {k: v for k, v in (course.title or {}).items() if k in langs}
    summaries = {k: v for k, v in (course.summary or {}).items() if k in langs}
    titles[lang] = _text(title, "title", _("The title"))
    summaries[lang] = _text(summary, "summary", _("The summary"), 2000)
    apply_course_metadata(
        course, version=course.version, topic=_check_topic(topic), hours=_check_hours(hours),
        languages=langs, open_=open_, title=titles, summary=summaries,
    )  # fmt: skip
    _touch(course)
    audit.record("catalog.course_updated", actor=actor, target=course, lang=lang, revision=course.revision)


def set_published(course: Course, published: bool, *, actor: Any) -> None:
    """Show the course to officers, or hide it again (their progress stays)."""
    if published:
        has_lessons = db.session.scalar(
            select(func.count()).select_from(Lesson)
            .where(Lesson.course_id == course.id, Lesson.archived_at.is_(None))
        )  # fmt: skip
        if not has_lessons:
            raise CatalogError(_("A course needs at least one lesson before it can be published."))
        if course.archived_at is not None:
            raise CatalogError(_("This course is archived; it cannot be published."))
    course.published = published
    audit.record(
        "catalog.course_published" if published else "catalog.course_unpublished",
        actor=actor, target=course,
    )  # fmt: skip


def take_over(course: Course, *, actor: Any) -> None:
    """Move a file-owned course to the web editor: the sync will skip it from now on."""
    if course.source == "web":
        return
    course.source = "web"
    _touch(course)
    audit.record("catalog.course_taken_over", actor=actor, target=course, folder=course.folder)


def hand_back(course: Course, *, actor: Any = None) -> None:
    """Let the files own the course again: the next sync overwrites the web edits."""
    if course.source == "files":
        return
    course.source = "files"
    course.content_hash = ""  # so the next sync rewrites everything from the files
    audit.record("catalog.course_handed_back", actor=actor, target=course)


# Web authoring: modules and lessons ------------------------------------------------------------


def renumber(course: Course) -> None:
    """Positions 0..n of modules, and of lessons in reading order (module by module)."""
    modules = sorted(course.modules, key=lambda m: (m.archived, m.position, m.id or 0))
    lessons = list(
        db.session.scalars(select(Lesson).where(Lesson.course_id == course.id, Lesson.archived_at.is_(None)))
    )
    by_module: dict[int, list[Lesson]] = {}
    for lesson in lessons:
        by_module.setdefault(lesson.module_id, []).append(lesson)
    position = 0
    for index, module in enumerate(modules):
        module.position = index
        for lesson in sorted(by_module.get(module.id, []), key=lambda le: (le.position, le.id)):
            lesson.position = position
            position += 1
    db.session.flush()


def _unique_key(wanted: str, taken: set[str], field: str) -> str:
    key = wanted.strip().lower()
    if not key:
        raise CatalogError(_("A key is required."), field)
    if not (len(key) <= 60 and loader.ITEM_KEY_RE.fullmatch(key)):
        raise CatalogError(
            _("A key uses a-z, 0-9, '-' and '_', starting with a letter or digit (at most 60)."), field
        )
    if key in taken:
        raise CatalogError(_("The key %(key)s is already used in this course.", key=key), field)
    return key


def add_module(course: Course, *, title: str, lang: str, actor: Any) -> Module:
    """Append a module (its key is made from the title)."""
    _require_web(course)
    title = _text(title, "title", _("The title"))
    taken = {m.key for m in course.modules}
    base = heading_slug(title)[:50]
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    module = Module(course=course, key=key, position=len(course.modules), title={lang: title})
    db.session.add(module)
    _touch(course)
    db.session.flush()
    audit.record("catalog.module_added", actor=actor, target=course, module=key)
    return module


def rename_module(module: Module, *, title: str, lang: str, actor: Any) -> None:
    _require_web(module.course)
    titles = dict(module.title or {})
    titles[lang] = _text(title, "title", _("The title"))
    module.title = titles
    _touch(module.course)
    audit.record("catalog.module_renamed", actor=actor, target=module.course, module=module.key)


def move_module(module: Module, delta: int, *, actor: Any) -> None:
    """Move a module up (-1) or down (+1)."""
    course = module.course
    _require_web(course)
    active = [m for m in sorted(course.modules, key=lambda m: m.position) if not m.archived]
    index = active.index(module)
    target = index + delta
    if 0 <= target < len(active):
        active[index], active[target] = active[target], active[index]
        for position, row in enumerate(active):
            row.position = position
        db.session.flush()
        renumber(course)
        _touch(course)


def add_lesson(
    course: Course,
    module: Module,
    *,
    key: str,
    title: str,
    minutes: int | None,
    body: str,
    lang: str,
    actor: Any,
) -> Lesson:
    """Add a lesson at the end of ``module``, with its first edition in ``lang``."""
    _require_web(course)
    taken = set(db.session.scalars(select(Lesson.key).where(Lesson.course_id == course.id)))
    title_clean = _text(title, "title", _("The title"))
    key = _unique_key(key or heading_slug(title_clean)[:60], taken, "key")
    last = db.session.scalar(
        select(func.max(Lesson.position)).where(Lesson.module_id == module.id, Lesson.archived_at.is_(None))
    )
    lesson = Lesson(
        course_id=course.id, module_id=module.id, key=key,
        position=(last if last is not None else -1) + 1, minutes=minutes or 10, revision=0,
    )  # fmt: skip
    db.session.add(lesson)
    db.session.flush()
    save_lesson_text(lesson, course, lang=lang, title=title_clean, minutes=minutes, body=body, actor=actor)
    renumber(course)
    return lesson


def save_lesson_text(
    lesson: Lesson,
    course: Course,
    *,
    lang: str,
    title: str,
    minutes: int | None,
    body: str,
    actor: Any,
) -> LessonRevision:
    """Save one edition of a lesson: a new revision, re-rendered and sanitised."""
    _require_web(course)
    if lang not in course.languages:
        raise CatalogError(_("The language %(code)s is not one of the course languages.", code=lang))
    title = _text(title, "title", _("The title"))
    if minutes is None or not (1 <= minutes <= 600):
        raise CatalogError(_("Reading time must be between 1 and 600 minutes."), "minutes")
    body = nfc(body)
    if len(body) > MAX_BODY_CHARS:
        raise CatalogError(
            _("The text is too long (at most %(num)s characters).", num=MAX_BODY_CHARS), "body"
        )
    problems = missing_files(course, body)
    if problems:
        raise CatalogError(
            _("These files are not in the course: %(names)s. Upload them first.", names=", ".join(problems)),
            "body",
        )
    text = lesson.text(lang)
    if text is None:
        text = LessonText(lang=lang)
        lesson.texts.append(text)
    text.title = title
    text.minutes = minutes
    text.body_md = body
    text.body_html = render_lesson_body(body, lang)
    text.content_hash = hashlib.sha256(f"{title}\n{minutes}\n{body}".encode()).hexdigest()
    lesson.revision = (lesson.revision or 0) + 1
    if lang == course.original_language:
        lesson.minutes = minutes
    lesson.content_hash = hashlib.sha256(
        "".join(sorted(t.content_hash for t in lesson.texts)).encode()
    ).hexdigest()
    revision = LessonRevision(
        lesson=lesson, lang=lang, revision=lesson.revision, title=title, minutes=minutes,
        body_md=body, source="web", created_by_id=getattr(actor, "id", None),
    )  # fmt: skip
    db.session.add(revision)
    _touch(course)
    db.session.flush()
    audit.record(
        "catalog.lesson_saved", actor=actor, target=course, lesson=lesson.key, lang=lang,
        revision=lesson.revision,
    )  # fmt: skip
    return revision


def missing_files(course: Course, body: str) -> list[str]:
    """``files/NAME`` references of ``body`` that the course does not have."""
    from lms.markup import asset_references

    names = {ref.name for ref in asset_references(body)}
    if not names:
        return []
    have = set(
        db.session.scalars(select(Asset.path).where(Asset.course_id == course.id, Asset.path.in_(names)))
    )
    return sorted(names - have)


def move_lesson(lesson: Lesson, course: Course, delta: int, *, actor: Any) -> None:
    """Move a lesson up or down within its module, or into the neighbouring module at its edge."""
    _require_web(course)
    renumber(course)
    ordered = list(
        db.session.scalars(
            select(Lesson)
            .where(Lesson.course_id == course.id, Lesson.archived_at.is_(None))
            .order_by(Lesson.position)
        )
    )
    index = ordered.index(lesson)
    target = index + delta
    if not 0 <= target < len(ordered):
        return
    other = ordered[target]
    if other.module_id != lesson.module_id:
        # At a module's edge the lesson changes module and keeps its place in the reading order.
        lesson.module_id = other.module_id
    else:
        ordered[index], ordered[target] = other, lesson
    for position, row in enumerate(ordered):
        row.position = position
    db.session.flush()
    renumber(course)
    _touch(course)
    audit.record("catalog.lesson_moved", actor=actor, target=course, lesson=lesson.key, delta=delta)


def archive_lesson(lesson: Lesson, course: Course, *, actor: Any) -> None:
    """Remove a lesson from the course; officers' progress on it is kept."""
    _require_web(course)
    lesson.archived_at = utcnow()
    lesson.position = 10_000 + lesson.position
    db.session.flush()
    renumber(course)
    _touch(course)
    audit.record("catalog.lesson_archived", actor=actor, target=course, lesson=lesson.key)


def add_asset(course: Course, *, filename: str, data: bytes, actor: Any) -> Asset:
    """Store an uploaded file in the course's files (replacing one of the same name)."""
    _require_web(course)
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    name = re.sub(r"[^\w.\-]+", "-", unicodedata.normalize("NFC", name)).strip("-.")
    suffix = PurePosixPath(name).suffix.lower()
    if not name or suffix not in loader.CONTENT_TYPES:
        raise CatalogError(
            _("Files of this type are not accepted (accepted: %(accepted)s).",
              accepted=" ".join(sorted(loader.CONTENT_TYPES))),
            "file",
        )  # fmt: skip
    if not data:
        raise CatalogError(_("The file is empty."), "file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise CatalogError(_("The file is larger than %(num)s MB.", num=MAX_UPLOAD_BYTES // 2**20), "file")
    asset = db.session.scalar(select(Asset).where(Asset.course_id == course.id, Asset.path == name))
    if asset is None:
        asset = Asset(course_id=course.id, path=name)
        db.session.add(asset)
    asset.content_type = loader.CONTENT_TYPES[suffix]
    asset.size = len(data)
    asset.sha256 = hashlib.sha256(data).hexdigest()
    asset.data = data
    _touch(course)
    db.session.flush()
    audit.record("catalog.file_uploaded", actor=actor, target=course, path=name, size=len(data))
    return asset


def trainer_limits_receiver(user: Any) -> frozenset[int]:
    """``signals.trainer_course_limits`` receiver: the courses this trainer is limited to."""
    return trainer_course_ids(user)


# Completion rule and certificate settings -----------------------------------------------------

@dataclass
class CompletionSettings:
    """What completes a course and what completing it gives, as the settings page edits it."""

    lessons: list[str] | None  # None: every lesson, including lessons added later
    quizzes: list[str] | None  # None: every quiz, including quizzes added later
    min_final_score: int | None
    certificate: bool
    validity_months: int | None = None
    issuer: str = ""  # in ``lang``
    signer_name: str = ""
    signer_title: str = ""  # in ``lang``
    lang: str = "vi"


def set_completion_rule(course: Course, settings: CompletionSettings, *, actor: Any) -> dict[str, int]:
    """Change a web course's completion rule and certificate settings, audited with the rule before
    and after; officers who have not completed it are re-evaluated against the new rule at once, and
    completions (and certificates) already issued stay. Returns the listeners' counts."""
    _require_web(course)
    lessons = {lesson.key for lesson in db.session.scalars(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.archived_at.is_(None)))}
    quizzes = {q["key"] for q in course.quizzes or []}
    for field_name, chosen, known in (("lessons", settings.lessons, lessons),
                                      ("quizzes", settings.quizzes, quizzes)):
        unknown = sorted(set(chosen or ()) - known)
        if unknown:
            raise CatalogError(_("Not part of this course: %(keys)s.", keys=", ".join(unknown)), field_name)
    some_lesson = lessons if settings.lessons is None else settings.lessons
    some_quiz = quizzes if settings.quizzes is None else settings.quizzes
    if not some_lesson and not some_quiz and course.final_quiz_key is None:
        raise CatalogError(_("Require at least one lesson or quiz: an empty rule completes nothing."),
                           "lessons")
    if settings.min_final_score is not None:
        if not 0 <= settings.min_final_score <= 100:
            raise CatalogError(_("The minimum score is a percentage between 0 and 100."), "min_final_score")
        if course.final_quiz_key is None:
            raise CatalogError(_("A minimum score needs a final test: mark one quiz as the final test."),
                               "min_final_score")
    if settings.validity_months is not None and not 1 <= settings.validity_months <= 1200:
        raise CatalogError(_("The validity is between 1 and 1200 months."), "validity_months")
    certificate = dict(course.certificate or {})
    issuer = dict(certificate.get("issuer") or {})
    title = dict(certificate.get("signer_title") or {})
    if settings.certificate:
        texts = (("issuer", settings.issuer, _("The issuing body")), ("signer_name", settings.signer_name,
                 _("The signer's name")), ("signer_title", settings.signer_title, _("The signer's title")))
        for name, value, label in texts:
            if not nfc(value).strip():
                raise CatalogError(_("%(what)s is needed on a certificate.", what=label), name)
            if len(nfc(value).strip()) > 200:
                raise CatalogError(_("%(what)s is too long (at most 200 characters).", what=label), name)
    if nfc(settings.issuer).strip():
        issuer[settings.lang] = nfc(settings.issuer).strip()
    if nfc(settings.signer_title).strip():
        title[settings.lang] = nfc(settings.signer_title).strip()
    before = {"completion": dict(course.completion or {}), "certificate": dict(course.certificate or {})}
    course.completion = {
        "lessons": "all" if settings.lessons is None else list(settings.lessons),
        "quizzes": "all" if settings.quizzes is None else list(settings.quizzes),
        "min_final_score": settings.min_final_score,
    }
    course.certificate = {
        "enabled": settings.certificate, "validity_months": settings.validity_months, "issuer": issuer,
        "signer_name": nfc(settings.signer_name).strip() or certificate.get("signer_name"), "signer_title": title,
        "seal": certificate.get("seal"),
    }  # fmt: skip
    course.revision = (course.revision or 1) + 1
    db.session.flush()
    audit.record("catalog.completion_rule_changed", actor=actor, target=course, key=course.key,
                 before=before, after={"completion": course.completion, "certificate": course.certificate})
    return rule_changed(course, actor)


def rule_changed(course: Course, actor: Any) -> dict[str, int]:
    """Tell the other domains that a course's rule changed; returns their counts, added up."""
    counts: dict[str, int] = {}
    for found in signals.values(signals.course_rule_changed.send(course, actor=actor)):
        for name, value in found.items():
            counts[name] = counts.get(name, 0) + value
    return counts
