"""One small province in which every kind of object the routes take as a parameter exists once,
owned by someone, so that the access matrix can ask every role for someone else's object.

Who is who (the matrix's roles):
- ``officer_a`` (Sở Tư pháp): owns the attempts, answers, certificate, notice and transcript.
- ``officer_b`` (Xã A Vương): another officer, in the commune.
- ``trainer_owner``: a trainer limited to course X (the course the quiz, bank and essay are in).
- ``trainer_other``: a trainer limited to course Y only.
- ``hr_all``: HR of the whole province; created the plan, the import batch, the assignment, a token.
- ``hr_commune``: HR of Xã A Vương only (officer A is outside that scope; officer B inside).
- ``admin``.
The names carry markers (``NGOAI`` outside the commune, ``TRONG`` inside) so exports can be searched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from lms.api import services as api_services
from lms.catalog import services as catalog_services
from lms.catalog.models import Asset, Lesson
from lms.certificates.models import Certificate
from lms.extensions import db
from lms.org import accounts, imports
from lms.progress import services as progress
from lms.progress import workshops as workshop_services
from lms.quizzes import services as quiz_services
from lms.quizzes.engine import Pick
from lms.quizzes.models import AttemptAnswer
from lms.reports import services as report_services
from lms.reports.models import Notice
from lms.tasks.models import TaskRun, TaskState
from tests import factories as f
from tests.catalog.factories_catalog import course as make_course
from tests.certificates import factories_certificates as fc
from tests.quizzes import factories_quizzes as fq

ROLES = ("anonymous", "officer_a", "officer_b", "trainer_owner", "trainer_other", "hr_all", "hr_commune",
         "admin")
SIGNED_IN_ROLES = ROLES[1:]
OUTSIDE = "NGOAI"  # in every name that lies outside hr_commune's scope
INSIDE = "TRONG"  # in every name inside it


@dataclass
class World:
    ids: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # role -> API bearer token
    usernames: dict[str, str] = field(default_factory=dict)


def build() -> World:
    """Create the province; flushes and commits."""
    w = World()
    root = f.agency("SONHA", kind="province", name_vi="Ủy ban nhân dân tỉnh Sơn Hà")
    justice = f.agency("STP", parent=root, name_vi=f"Sở Tư pháp {OUTSIDE}")
    commune = f.agency("XAV", parent=root, kind="commune", name_vi=f"Xã A Vương {INSIDE}")
    users = {
        "officer_a": f.user("officer.a", agency=justice, full_name=f"Nguyễn Văn {OUTSIDE}",
                            duties={"spokesperson"}, email="a@example.vn"),
        "officer_b": f.user("officer.b", agency=commune, full_name=f"Lê Thị {INSIDE}",
                            duties={"spokesperson"}),
        "trainer_owner": f.user("trainer.owner", agency=root, roles={"trainer"}),
        "trainer_other": f.user("trainer.other", agency=root, roles={"trainer"}),
        "hr_all": f.user("hr.all", agency=root, roles={"hr"}, hr_all=True),
        "hr_commune": f.user("hr.commune", agency=commune, roles={"hr"}, hr_agencies=[commune]),
        "admin": f.user("admin", agency=root, roles={"admin"}),
    }
    w.usernames = {role: u.username for role, u in users.items()}
    a, b = users["officer_a"], users["officer_b"]

    # Course X (web-authored, certificate, quiz with an essay) and course Y.
    x = make_course("course-x", source="web", lessons=2,
                    quizzes=[{"key": "quiz-1", "title": {"vi": "Bài kiểm tra"}, "module": None,
                              "final": False, "pass_mark": 70}])
    x.certificate = {"enabled": True, "validity_months": 24,
                     "issuer": {"vi": "Sở Nội vụ tỉnh Sơn Hà"}, "signer_name": "Trần Văn Đức",
                     "signer_title": {"vi": "GIÁM ĐỐC"}, "seal": None}
    y = make_course("course-y", source="web", lessons=1)
    catalog_services.set_trainer_courses(users["trainer_owner"], [x])
    catalog_services.set_trainer_courses(users["trainer_other"], [y])
    db.session.add(Asset(course_id=x.id, path="hinh.png", content_type="image/png", size=8,
                         sha256="0" * 64, data=b"\x89PNG\r\n\x1a\n"))
    questions = fq.bank(x, [*fq.every_type(), fq.essay()])
    quiz = fq.quiz(x, picks=[Pick(category="m1", count=6), Pick(category="essay", count=1)])
    db.session.flush()

    # Officer A: a submitted attempt with an essay waiting for a grader, then one in progress.
    progress.enrol(a, x)
    done = quiz_services.start_attempt(a, quiz, "vi")
    values = fq.right_values(done)
    quiz_services.save_answers(done, values)
    quiz_services.submit_attempt(done)
    essay_answer = db.session.scalars(select(AttemptAnswer).where(
        AttemptAnswer.attempt_id == done.id, AttemptAnswer.needs_manual.is_(True))).one()
    open_attempt = quiz_services.start_attempt(a, quiz, "vi")
    # Officer A completes course X (its lessons) and so holds a certificate.
    for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == x.id)):
        progress.complete_lesson(a, lesson, x, "vi")
    certificate = db.session.scalars(select(Certificate).where(Certificate.user_id == a.id)).one()
    progress.enrol(b, y)

    # HR of the province: a plan over Sở Tư pháp, an assignment, an import batch, a token.
    hr = users["hr_all"]
    plan = report_services.create_plan(
        report_services.PlanData(name="Kế hoạch bồi dưỡng 2026", year=2026,
                                 due_date=date.today() + timedelta(days=30)), actor=hr)
    report_services.add_course(plan, x, actor=hr)
    report_services.set_target(plan, "officers_completed", 0.9, None, actor=hr)
    member = report_services.add_member(plan, kind="agency", agency=justice, actor=hr)
    report_services.activate_plan(plan, actor=hr)
    target = plan.targets[0]
    assignment = progress.create_assignments(y, kind="agency", agency=justice, actor=hr,
                                             due_date=date.today())[0]
    assignment.due_date = date.today() - timedelta(days=3)  # overdue, so HR can remind
    db.session.flush()
    roster = "Họ và tên,Mã đơn vị\nTrần Thị Mới,STP\n".encode()
    batch = imports.create_batch("officers", "roster.csv", roster, owner=hr)
    # A reminder notice for officer A (overdue on course Y).
    notice = Notice(user_id=a.id, reason="overdue_manual", course_id=y.id,
                    due_date=date.today() - timedelta(days=3), sent_by_id=hr.id)
    db.session.add(notice)
    # An account that has not been activated yet, and its activation link.
    pending = f.user("pending.c", agency=justice, password=None, full_name=f"Đỗ Văn {OUTSIDE}")
    activation = accounts.issue_activation(pending, 7)

    # An arrangement for officer A, a workshop of Sở Tư pháp, a certificate from elsewhere (records).
    override = progress.set_override(a, y, progress.OverrideData(extra_minutes=10, reason="Ốm"), actor=hr)
    workshop = workshop_services.create_workshop(workshop_services.WorkshopData(
        title="Tập huấn", held_on=date.today() - timedelta(days=1), place="Hội trường", agency=justice,
        trainer="Giảng viên", hours=2, course=y), actor=hr)
    external = workshop_services.add_external(a, workshop_services.ExternalData(
        title="Bồi dưỡng", issuer="Học viện", hours=8, completed_on=date.today() - timedelta(days=9)),
        "cert.pdf", b"%PDF-1.4\n%%EOF\n", actor=hr)
    # A certificate template with a seal (its image has a route of its own).
    cert_template = fc.template("Mẫu của tỉnh", seal=fc.png(120, 120), actor=users["admin"])
    # A finished background task started by hr_all, with its file.
    run = TaskRun(name="certificates.render_chunk", state=TaskState.done.value, total=1, done=1,
                  created_by_id=hr.id, filename="chung-chi.zip", content_type="application/zip",
                  data=b"PK\x05\x06" + b"\x00" * 18)
    db.session.add(run)

    for role, u in users.items():
        _row, token = api_services.create_token(u, f"Hệ thống {role}")
        w.tokens[role] = token
        if role == "hr_all":
            hr_token_id = _row.id
    db.session.commit()

    w.ids = {
        "root": root.id, "justice": justice.id, "commune": commune.id,
        **{f"user:{role}": u.id for role, u in users.items()},
        "course_x": x.id, "course_y": y.id, "course_key": x.key, "lesson_key": "lesson-1",
        "module_key": "m1", "asset": "hinh.png", "quiz": quiz.id, "quiz_key": quiz.key,
        "question": questions[0].id, "attempt_open": open_attempt.id, "attempt_done": done.id,
        "essay_answer": essay_answer.id, "certificate": certificate.code, "plan": plan.id,
        "plan_member": member.id, "plan_target": target.id, "assignment": assignment.id,
        "batch": batch.id, "notice": notice.id, "api_token": hr_token_id,
        "activation": activation, "pending": pending.id, "task_run": run.id,
        "override": override.id, "workshop": workshop.id, "external": external.id,
        "certificate_template": cert_template.id,
    }
    return w
