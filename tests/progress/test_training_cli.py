"""``flask training``: HR records workshops, attendance sheets, certificates from elsewhere and per-officer
arrangements from the command line through the same services as the web: the acting person's scope
applies, everything is audited under their name, and a refused sheet or value writes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from lms.audit import AuditEntry
from lms.extensions import db
from lms.progress import services
from lms.progress.models import CourseCompletion, ExternalTraining, Override, Workshop
from lms.reports import queries
from tests.progress.test_workshops import PDF, completions, sheet

YESTERDAY = (services.local_today() - timedelta(days=1)).isoformat()


def _record(runner, tmp_path, p, *extra: str, rows=((1, "A", "NV000"), (2, "B", "NV001")), acting="hr.ws"):
    path = tmp_path / "diem-danh.xlsx"
    path.write_bytes(sheet(*rows))
    return runner.invoke(args=[
        "training", "workshop-record", "--title", "Tập huấn kỹ năng phát ngôn", "--date", YESTERDAY,
        "--place", "Hội trường UBND xã", "--agency", "XA-WS", "--trainer", "Trần Thị Lan", "--hours", "4",
        "--course", p["course"].key, "--attendance", str(path), "--as", acting, *extra,
    ])  # fmt: skip


def _actions(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_hr_records_a_workshop_with_its_sheet_from_the_command_line_and_the_plan_report_counts_it(
    runner, tmp_path, province
):
    p = province
    result = _record(runner, tmp_path, p)
    assert result.exit_code == 0, result.output
    assert "2 attended, 2 completed the course by it" in result.output
    officers = p["officers"]
    assert completions(p) == {officers[0].id: "workshop", officers[1].id: "workshop"}
    report = queries.agency_report(p["hr"], queries.Filters(plan_id=p["plan"].id))
    assert report.total.completed == 2 and report.total.completed_elsewhere == 2
    recorded, attendance = _actions("progress.workshop_recorded"), _actions("progress.workshop_attendance")
    assert [e.actor_id for e in recorded + attendance] == [p["hr"].id, p["hr"].id]
    assert attendance[0].address == "cli" and attendance[0].details["source"] == "file"
    listed = runner.invoke(args=["training", "workshops", "--as", "hr.ws"])
    assert listed.exit_code == 0 and "2 attended\tXA-WS\tTập huấn kỹ năng phát ngôn" in listed.output


def test_a_sheet_naming_an_unknown_officer_records_no_workshop_and_names_the_line(runner, tmp_path, province):
    result = _record(runner, tmp_path, province, rows=((1, "A", "NV000"), (2, "C", "NV999")))
    assert result.exit_code == 1
    assert "nothing was recorded" in result.output and "4" in result.output and "NV999" in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Workshop)) == 0
    assert completions(province) == {}


def test_the_command_line_keeps_hr_to_its_scope_and_refuses_plain_officers(runner, tmp_path, province):
    p = province
    outside = _record(runner, tmp_path, p, "--agency", "XA-KHAC")  # the later --agency wins
    assert outside.exit_code == 1 and "(agency_id)" in outside.output
    officer = _record(runner, tmp_path, p, acting="cb.ws0")
    assert officer.exit_code == 1 and "may not do this" in officer.output
    override = runner.invoke(args=["training", "override", "cb.khac", p["course"].key, "--extra-attempts", "1",
                                   "--reason", "Ốm", "--as", "hr.ws"])
    assert override.exit_code == 1 and "may not do this" in override.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Workshop)) == 0
    assert db.session.scalar(select(func.count()).select_from(Override)) == 0


def test_a_second_sheet_adds_to_the_attendance_and_replace_makes_it_the_whole_list(runner, tmp_path, province):
    p = province
    assert _record(runner, tmp_path, p).exit_code == 0
    item = db.session.scalars(select(Workshop)).one()
    path = tmp_path / "bo-sung.csv"
    path.write_text("Mã cán bộ\nNV002\n", encoding="utf-8")
    added = runner.invoke(args=["training", "workshop-attendance", str(item.id), str(path), "--as", "hr.ws"])
    assert added.exit_code == 0 and "3 attended (1 added, 0 removed)" in added.output
    replaced = runner.invoke(args=["training", "workshop-attendance", str(item.id), str(path), "--replace",
                                   "--as", "hr.ws"])
    assert replaced.exit_code == 0 and "2 completions withdrawn" in replaced.output
    assert completions(p) == {p["officers"][2].id: "workshop"}


def test_an_override_from_the_command_line_needs_a_reason_is_audited_and_can_be_removed(runner, province):
    p = province
    base = ["training", "override", "cb.ws0", p["course"].key, "--extra-attempts", "2", "--as", "hr.ws"]
    refused = runner.invoke(args=base)
    assert refused.exit_code == 1 and "(reason)" in refused.output
    due = (services.local_today() + timedelta(days=60)).isoformat()
    given = runner.invoke(args=[*base, "--due", due, "--reason", "Nằm viện hai tuần"])
    assert given.exit_code == 0, given.output
    row = db.session.scalars(select(Override)).one()
    assert (row.extra_attempts, row.due_date.isoformat(), row.reason) == (2, due, "Nằm viện hai tuần")
    assert [e.actor_id for e in _actions("progress.override_set")] == [p["hr"].id]
    removed = runner.invoke(args=["training", "override", "cb.ws0", p["course"].key, "--remove", "--as", "hr.ws"])
    assert removed.exit_code == 0 and db.session.scalar(select(func.count()).select_from(Override)) == 0


def test_a_certificate_from_elsewhere_must_be_a_pdf_and_completes_the_course_it_stands_for(
    runner, tmp_path, province
):
    p = province
    base = ["training", "external", "cb.ws1", "--title", "Bồi dưỡng kỹ năng truyền thông", "--issuer",
            "Học viện Báo chí và Tuyên truyền", "--hours", "16", "--date", YESTERDAY, "--course", p["course"].key,
            "--completes", "--as", "hr.ws"]  # fmt: skip
    fake = tmp_path / "chung-nhan.pdf"
    fake.write_bytes(b"PK\x03\x04 not a pdf")
    refused = runner.invoke(args=[*base[:3], str(fake), *base[3:]])
    assert refused.exit_code == 1 and "(file)" in refused.output
    real = tmp_path / "chung-nhan-that.pdf"
    real.write_bytes(PDF)
    result = runner.invoke(args=[*base[:3], str(real), *base[3:]])
    assert result.exit_code == 0 and "completes the course" in result.output
    assert db.session.scalars(select(ExternalTraining)).one().file_data == PDF
    assert db.session.execute(select(CourseCompletion.user_id, CourseCompletion.source)).all() == [
        (p["officers"][1].id, "external")
    ]
