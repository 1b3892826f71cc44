"""Factories for certificate tests: a published course with one lesson, and its completion.

Completing goes through the progress domain's real service, so the certificate is issued by the
registered completion listener exactly as in production.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy import select

from lms.catalog.models import Asset, Course, Lesson, LessonText, Module
from lms.certificates.models import Certificate
from lms.extensions import db
from lms.printing import STATIC_ROOT
from lms.progress import services as progress
from lms.progress.models import CourseCompletion

_seq = itertools.count(1)
SEAL_SVG = (STATIC_ROOT / "img" / "specimen-seal.svg").read_bytes()


def course(
    key: str | None = None,
    *,
    enabled: bool = True,
    validity_months: int | None = 24,
    languages: tuple[str, ...] = ("vi", "en"),
    title: dict[str, str] | None = None,
    hours: float = 8,
    seal: bytes | None = None,
    seal_type: str = "image/svg+xml",
) -> Course:
    n = next(_seq)
    c = Course(
        key=key or f"course-{n}",
        version=3,
        hours=hours,
        languages=list(languages),
        lang_codes="," + ",".join(languages) + ",",
        title=title or {
            "vi": f"Kỹ năng phát ngôn và cung cấp thông tin cho báo chí ({n})",
            "en": f"Spokesperson skills and working with the press ({n})",
        },
        summary={lang: "…" for lang in languages},
        published=True,
        completion={"lessons": "all", "quizzes": [], "min_final_score": None},
        certificate={
            "enabled": enabled,
            "validity_months": validity_months,
            "issuer": {"vi": "Sở Tư pháp tỉnh Sơn Hà", "en": "Son Ha Department of Justice"},
            "signer_name": "Trần Văn Đức",
            "signer_title": {"vi": "GIÁM ĐỐC", "en": "DIRECTOR"},
            "seal": "seal.svg" if seal else None,
        },
    )
    db.session.add(c)
    db.session.flush()
    module = Module(course=c, key="m1", position=0, title={"vi": "Phần 1"})
    db.session.add(module)
    db.session.flush()
    lesson = Lesson(course_id=c.id, module_id=module.id, key="l1", position=0, minutes=10)
    lesson.texts.append(LessonText(lang="vi", title="Bài 1", body_md="x", body_html="<p>x</p>"))
    db.session.add(lesson)
    if seal:
        db.session.add(Asset(course_id=c.id, path="seal.svg", content_type=seal_type, size=len(seal),
                             sha256="0" * 64, data=seal))
    db.session.flush()
    return c


def complete(user: Any, the_course: Course, *, lang: str = "vi",
             at: datetime | None = None) -> CourseCompletion:
    """Complete ``the_course`` for ``user`` through progress.services (listeners run)."""
    progress.enrol(user, the_course)
    lesson = db.session.scalars(select(Lesson).where(Lesson.course_id == the_course.id)).one()
    completion = progress.complete_lesson(user, lesson, the_course, lang)
    assert completion is not None
    if at is not None:
        completion.completed_at = at
    db.session.flush()
    return completion


def certificate_of(user: Any, the_course: Course) -> Certificate:
    return db.session.scalars(select(Certificate).where(
        Certificate.user_id == user.id, Certificate.course_id == the_course.id,
        Certificate.superseded_by_id.is_(None),
    )).one()


def certified(user: Any, the_course: Course | None = None, **kw: Any) -> Certificate:
    """A certificate for ``user`` (a fresh course unless one is given), issued by completing it."""
    the_course = the_course or course(**kw)
    complete(user, the_course)
    return certificate_of(user, the_course)
