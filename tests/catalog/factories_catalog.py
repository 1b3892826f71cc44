"""Factory functions for catalog and progress tests: courses built directly, without content files."""

from __future__ import annotations

import itertools
from typing import Any

from lms.catalog.models import Course, Lesson, LessonText, Module
from lms.catalog.services import apply_course_metadata, render_lesson_body
from lms.extensions import db

_seq = itertools.count(1)


def course(
    key: str | None = None,
    *,
    lessons: int = 3,
    modules: int = 1,
    languages: tuple[str, ...] = ("vi",),
    published: bool = True,
    open_: bool = True,
    source: str = "files",
    topic: str = "foundations",
    hours: float = 2,
    quizzes: list[dict[str, Any]] | None = None,
    completion: dict[str, Any] | None = None,
) -> Course:
    """A course with ``modules`` modules sharing ``lessons`` lessons, texts in every language."""
    n = next(_seq)
    key = key or f"course-{n}"
    row = Course(key=key, source=source, published=published, folder=key)
    apply_course_metadata(
        row, version=1, topic=topic, hours=hours, languages=list(languages), open_=open_,
        title={lang: f"Khoá học {n} ({lang})" for lang in languages},
        summary={lang: f"Tóm tắt khoá học {n} ({lang})" for lang in languages},
    )  # fmt: skip
    row.completion = completion or {"lessons": "all", "quizzes": [], "min_final_score": None}
    row.certificate = {"enabled": False}
    row.quizzes = quizzes or []
    db.session.add(row)
    db.session.flush()
    mods = []
    for m in range(modules):
        module = Module(course_id=row.id, key=f"m{m + 1}", position=m, title={lang: f"Chương {m + 1}" for lang in languages})
        db.session.add(module)
        mods.append(module)
    db.session.flush()
    for index in range(lessons):
        module = mods[min(index * modules // max(lessons, 1), modules - 1)]
        lesson = Lesson(course_id=row.id, module_id=module.id, key=f"lesson-{index + 1}", position=index, minutes=10)
        for lang in languages:
            body = f"## Phần {index + 1}\n\nNội dung bài {index + 1} bằng {lang}."
            lesson.texts.append(
                LessonText(lang=lang, title=f"Bài {index + 1} ({lang})", minutes=10, body_md=body,
                           body_html=render_lesson_body(body, lang), content_hash=f"h{index}{lang}")
            )
        db.session.add(lesson)
    db.session.flush()
    return row


def lessons_of(row: Course) -> list[Lesson]:
    from sqlalchemy import select

    return list(db.session.scalars(select(Lesson).where(Lesson.course_id == row.id).order_by(Lesson.position)))
