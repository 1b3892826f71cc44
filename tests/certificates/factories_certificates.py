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


def png(width: int = 240, height: int = 240, *, kind: str = "seal", fmt: str = "PNG") -> bytes:
    """A seal (red rings and a star on transparency) or a signature (a blue stroke) drawn with Pillow."""
    import io

    from PIL import Image, ImageDraw

    mode = "RGBA" if fmt == "PNG" else "RGB"
    image = Image.new(mode, (width, height), (255, 255, 255, 0) if mode == "RGBA" else (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if kind == "seal":
        red = (200, 20, 30, 235)
        side = min(width, height)
        pad = max(1, side // 24)
        draw.ellipse((pad, pad, width - pad, height - pad), outline=red, width=max(1, side // 24))
        inner = side // 5
        draw.ellipse((inner, inner, width - inner, height - inner), outline=red, width=max(1, side // 60))
        cx, cy, r = width / 2, height / 2, side / 8
        import math

        points = [(cx + r * math.sin(i * math.pi / 5) * (1 if i % 2 == 0 else 0.4),
                   cy - r * math.cos(i * math.pi / 5) * (1 if i % 2 == 0 else 0.4)) for i in range(10)]
        draw.polygon(points, fill=red)
    else:
        blue = (20, 40, 140, 255)
        xs = range(width // 10, width - width // 10, max(1, width // 60))
        import math

        line = [(x, height / 2 + height / 4 * math.sin(x / width * 9) * math.cos(x / width * 3)) for x in xs]
        draw.line(line, fill=blue, width=max(2, height // 30), joint="curve")
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def template(name: str = "Mẫu Sở Nội vụ", *, layout: str = "classic", scope: str = "none",
             agency: Any = None, course: Course | None = None, seal: bytes | None = None,
             signature: bytes | None = None, actor: Any = None, **texts: str) -> Any:
    """A certificate template saved through the service (audited), flushed."""
    from lms.certificates import services

    data = services.TemplateData(
        name=name, layout=layout, issuer_vi=texts.get("issuer_vi", "Sở Nội vụ tỉnh Sơn Hà"),
        issuer_en=texts.get("issuer_en", "Son Ha Department of Home Affairs"),
        signer_name=texts.get("signer_name", "Phạm Thị Thu Hương"),
        signer_title_vi=texts.get("signer_title_vi", "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"),
        signer_title_en=texts.get("signer_title_en", "FOR THE DIRECTOR\nDEPUTY DIRECTOR"),
        scope=scope, agency_id=agency.id if agency is not None else None,
        course_id=course.id if course is not None else None,
    )
    return services.save_template(None, data, actor=actor, seal=seal, signature=signature)
