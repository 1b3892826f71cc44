"""Factories for report tests: plans, completions and a generated province dataset."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from lms.extensions import db
from lms.org.models import Agency, User
from lms.progress.models import CourseCompletion, LessonProgress
from lms.reports import services
from tests import factories as f
from tests.catalog.factories_catalog import course, lessons_of


def complete(user: User, the_course, *, at: datetime | None = None, score: int | None = 80,
             agency: Agency | None = None) -> CourseCompletion:
    """Record a completion directly (the progress domain's rules are tested there)."""
    row = CourseCompletion(user_id=user.id, course_id=the_course.id, course_version=1,
                           completed_at=at or datetime.now(UTC), score=score,
                           agency_id=(agency or user.agency).id)
    db.session.add(row)
    db.session.flush()
    return row


def start(user: User, the_course) -> None:
    lesson = lessons_of(the_course)[0]
    db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, course_id=the_course.id))
    db.session.flush()


def plan(actor: User, *, courses=(), agencies=(), duties=(), users=(), due: date | None = None,
         targets=(("officers_completed", 1.0, None),), activate: bool = True, name: str = "Kế hoạch 2024"):
    p = services.create_plan(services.PlanData(name=name, year=2024, due_date=due), actor=actor)
    for c in courses:
        services.add_course(p, c, actor=actor)
    for kind, low, high in targets:
        services.set_target(p, kind, low, high, actor=actor)
    for a in agencies:
        services.add_member(p, kind="agency", agency=a, actor=actor)
    for d in duties:
        services.add_member(p, kind="duty", duty=d, actor=actor)
    for u in users:
        services.add_member(p, kind="user", user=u, actor=actor)
    if activate:
        services.activate_plan(p, actor=actor)
    db.session.flush()
    return p


@dataclass
class Province:
    root: Agency
    agencies: list[Agency]
    officers: list[User] = field(default_factory=list)
    hr: User | None = None
    admin: User | None = None
    courses: list = field(default_factory=list)
    plan: object | None = None


def province(*, departments: int = 3, communes: int = 2, officers_per_agency: int = 4, seed: int = 7,
             courses: int = 2, due: date | None = None) -> Province:
    """A province with departments (each with a unit) and communes, officers in each, an active plan
    over every agency, and a seeded mix of completed, started and untouched courses."""
    rng = random.Random(seed)
    root = f.agency(kind="province", name_vi="Ủy ban nhân dân tỉnh Sơn Hà")
    agencies: list[Agency] = []
    for n in range(departments):
        dept = f.agency(parent=root, kind="department", name_vi=f"Sở {n + 1}")
        agencies += [dept, f.agency(parent=dept, kind="department", name_vi=f"Phòng {n + 1}")]
    for n in range(communes):
        agencies.append(f.agency(parent=root, kind="commune", name_vi=f"Xã {n + 1}"))
    admin = f.user(agency=root, roles={"admin"})
    hr = f.user(agency=root, roles={"hr"}, hr_all=True)
    officers = [f.user(agency=a) for a in agencies for _ in range(officers_per_agency)]
    the_courses = [course(languages=("vi", "kuf") if i == 0 else ("vi",)) for i in range(courses)]
    the_plan = plan(admin, courses=the_courses, agencies=[root],
                    due=due or date.today() + timedelta(days=60),
                    targets=(("officers_completed", 1.0, None), ("courses_other_language", 0.15, 0.20)))
    for officer in officers:
        for c in the_courses:
            roll = rng.random()
            if roll < 0.45:
                complete(officer, c, score=rng.randint(50, 100),
                         at=datetime.now(UTC) - timedelta(days=rng.randint(0, 200)))
            elif roll < 0.7:
                start(officer, c)
    db.session.flush()
    return Province(root, agencies, officers, hr, admin, the_courses, the_plan)
