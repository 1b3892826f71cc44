"""Reads of the catalog: the catalogue, course outlines, lessons with their neighbours, files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import undefer

from lms import policy
from lms.catalog.models import Asset, Course, Lesson, LessonRevision, LessonText, Module
from lms.catalog.services import fold
from lms.extensions import db

HOURS_BUCKETS: dict[str, tuple[float, float]] = {
    "short": (0, 2),
    "medium": (2, 6),
    "long": (6, 100_000),
}


def course_by_key(key: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.key == key))


def catalogue_query(
    *,
    text: str = "",
    topic: str | None = None,
    lang: str | None = None,
    hours: str | None = None,
    prefer_lang: str = "vi",
) -> Select[Course]:
    """Published courses matching the filters; courses in ``prefer_lang`` first, then by title."""
    stmt = select(Course).where(Course.published.is_(True), Course.archived_at.is_(None))
    words = fold(text).split()
    for word in words[:8]:
        stmt = stmt.where(Course.search_text.contains(word, autoescape=True))
    if topic:
        stmt = stmt.where(Course.topic == topic)
    if lang:
        stmt = stmt.where(Course.lang_codes.contains(f",{lang},", autoescape=True))
    if hours in HOURS_BUCKETS:
        low, high = HOURS_BUCKETS[hours]
        stmt = stmt.where(Course.hours > low, Course.hours <= high)
    in_mine = case((Course.lang_codes.contains(f",{prefer_lang},", autoescape=True), 0), else_=1)
    return stmt.order_by(in_mine, Course.topic, Course.key)


def catalogue_languages() -> list[str]:
    """Every language some published course exists in (for the filter)."""
    seen: list[str] = []
    for codes in db.session.scalars(
        select(Course.lang_codes).where(Course.published.is_(True), Course.archived_at.is_(None))
        .order_by(Course.key)  # the same filter order on every engine and every request
    ):
        for code in codes.strip(",").split(","):
            if code and code not in seen:
                seen.append(code)
    return seen


@dataclass
class OutlineLesson:
    id: int
    key: str
    position: int
    minutes: int
    title: str
    module_id: int


@dataclass
class OutlineModule:
    module: Module
    title: str
    lessons: list[OutlineLesson] = field(default_factory=list)


@dataclass
class Outline:
    modules: list[OutlineModule]

    @property
    def lessons(self) -> list[OutlineLesson]:
        return [lesson for module in self.modules for lesson in module.lessons]

    def neighbours(self, lesson_id: int) -> tuple[OutlineLesson | None, OutlineLesson | None]:
        ordered = self.lessons
        for index, lesson in enumerate(ordered):
            if lesson.id == lesson_id:
                before = ordered[index - 1] if index > 0 else None
                after = ordered[index + 1] if index + 1 < len(ordered) else None
                return before, after
        return None, None


def course_outline(course: Course, lang: str) -> Outline:
    """Active modules and lessons in reading order, with titles in ``lang`` (or the original).

    Two queries whatever the size of the course: modules, then lessons joined to their titles.
    """
    original = course.original_language
    modules = list(
        db.session.scalars(
            select(Module)
            .where(Module.course_id == course.id, Module.archived.is_(False))
            .order_by(Module.position)
        )
    )
    rows = db.session.execute(
        select(
            Lesson.id, Lesson.key, Lesson.position, Lesson.minutes, Lesson.module_id,
            LessonText.lang, LessonText.title,
        )
        .join(LessonText, LessonText.lesson_id == Lesson.id)
        .where(
            Lesson.course_id == course.id, Lesson.archived_at.is_(None),
            LessonText.lang.in_({lang, original}),
        )
        .order_by(Lesson.position, Lesson.id)
    ).all()  # fmt: skip
    lessons: dict[int, OutlineLesson] = {}
    for row in rows:
        current = lessons.get(row.id)
        if current is None:
            lessons[row.id] = OutlineLesson(
                row.id, row.key, row.position, row.minutes, row.title, row.module_id
            )
        elif row.lang == lang:
            current.title = row.title
    by_module = {m.id: OutlineModule(m, m.title_in(lang, original)) for m in modules}
    for lesson in lessons.values():
        if lesson.module_id in by_module:
            by_module[lesson.module_id].lessons.append(lesson)
    return Outline([by_module[m.id] for m in modules])


def lesson_by_key(course: Course, key: str) -> Lesson | None:
    return db.session.scalar(select(Lesson).where(Lesson.course_id == course.id, Lesson.key == key))


def lesson_text(lesson: Lesson, lang: str, original: str) -> LessonText | None:
    """The edition in ``lang``, else the original (one query)."""
    texts = list(
        db.session.scalars(
            select(LessonText).where(
                LessonText.lesson_id == lesson.id, LessonText.lang.in_({lang, original})
            )
        )
    )
    return next((t for t in texts if t.lang == lang), None) or next(iter(texts), None)


def lesson_languages(lesson: Lesson) -> list[str]:
    return list(
        db.session.scalars(
            select(LessonText.lang).where(LessonText.lesson_id == lesson.id).order_by(LessonText.id)
        )
    )


def assets_named(course: Course, names: list[str]) -> list[Asset]:
    """File rows (without their bytes) for the given paths, in the given order."""
    if not names:
        return []
    rows = {
        a.path: a
        for a in db.session.scalars(
            select(Asset).where(Asset.course_id == course.id, Asset.path.in_(names))
        )
    }
    return [rows[name] for name in names if name in rows]


def course_assets(course: Course) -> list[Asset]:
    return list(
        db.session.scalars(select(Asset).where(Asset.course_id == course.id).order_by(Asset.path))
    )


def asset_with_data(course: Course, path: str) -> Asset | None:
    return db.session.scalar(
        select(Asset).where(Asset.course_id == course.id, Asset.path == path).options(undefer(Asset.data))
    )


def editable_courses(user: Any) -> list[tuple[Course, int]]:
    """Courses ``user`` may edit (drafts and archived ones included) with their lesson counts."""
    counts = (
        select(Lesson.course_id, func.count().label("n"))
        .where(Lesson.archived_at.is_(None))
        .group_by(Lesson.course_id)
        .subquery()
    )
    stmt = (
        select(Course, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.course_id == Course.id)
        .order_by(Course.archived_at.is_not(None), Course.key)
    )
    limits = policy.trainer_course_limits(user) if not policy.is_admin(user) else frozenset()
    if limits:
        stmt = stmt.where(Course.id.in_(limits))
    return [(course, n) for course, n in db.session.execute(stmt).all()]


def all_lessons(course: Course) -> list[Lesson]:
    """Active lessons of a course with their editions loaded (for the editor's list)."""
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            select(Lesson)
            .where(Lesson.course_id == course.id, Lesson.archived_at.is_(None))
            .options(selectinload(Lesson.texts).load_only(LessonText.lang, LessonText.title))
            .order_by(Lesson.position)
        )
    )


def lesson_revisions(lesson: Lesson, limit: int = 20) -> list[LessonRevision]:
    return list(
        db.session.scalars(
            select(LessonRevision)
            .where(LessonRevision.lesson_id == lesson.id)
            .order_by(LessonRevision.id.desc())
            .limit(limit)
        )
    )



@dataclass
class TrainerRow:
    user: Any
    course_ids: frozenset[int]


def trainers_with_limits() -> list[TrainerRow]:
    """Every active trainer with the course ids they are limited to: two queries in all."""
    from lms.catalog.models import TrainerCourse
    from lms.org.models import User, UserRole
    from lms.text import person_sort_key

    users = list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "trainer", User.active.is_(True))
    ))
    limits: dict[int, set[int]] = {}
    for user_id, course_id in db.session.execute(select(TrainerCourse.user_id, TrainerCourse.course_id)):
        limits.setdefault(user_id, set()).add(course_id)
    users.sort(key=lambda u: person_sort_key(u.full_name))
    return [TrainerRow(u, frozenset(limits.get(u.id, ()))) for u in users]


def all_courses_for_limits() -> list[Course]:
    """Courses that are not archived, by key."""
    return list(db.session.scalars(select(Course).where(Course.archived_at.is_(None)).order_by(Course.key)))
