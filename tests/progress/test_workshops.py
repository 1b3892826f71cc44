"""In-person workshops and certificates from elsewhere: attendance ticked on screen or read from a sheet
completes the workshop's course (counted apart in reports, exports and the API), unticking withdraws
only what the workshop gave, everything within HR's scope; external PDFs are checked by content."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.progress import services, workshops
from lms.progress.models import CourseCompletion, Workshop
from lms.reports import queries
from tests import factories
from tests.catalog.factories_catalog import course as make_course
from tests.reports import factories_reports as fr

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def workshop(p, **kw) -> Workshop:
    data = workshops.WorkshopData(title="Tập huấn kỹ năng phát ngôn", held_on=services.local_today() - timedelta(days=2),
                                  place="Hội trường UBND xã", agency=p["commune"], trainer="Trần Thị Lan",
                                  hours=4, course=p["course"])
    for name, value in kw.items():
        setattr(data, name, value)
    return workshops.create_workshop(data, actor=p["hr"])


def completions(p) -> dict[int, str]:
    return dict(db.session.execute(select(CourseCompletion.user_id, CourseCompletion.source).where(
        CourseCompletion.course_id == p["course"].id)).all())


def test_attending_a_course_workshop_completes_it_in_person_and_unticking_withdraws_only_that(province):
    p = province
    online = p["officers"][2]
    fr.complete(online, p["course"])
    item = workshop(p)
    counts = workshops.set_attendance(item, [o.id for o in p["officers"]], actor=p["hr"])
    assert counts["completions"] == 2
    assert completions(p) == {p["officers"][0].id: "workshop", p["officers"][1].id: "workshop", online.id: "online"}
    workshops.set_attendance(item, [p["officers"][1].id], actor=p["hr"])
    assert completions(p) == {p["officers"][1].id: "workshop", online.id: "online"}


def test_reports_count_in_person_completions_apart(province):
    p = province
    workshops.set_attendance(workshop(p), [p["officers"][0].id], actor=p["hr"])
    report = queries.agency_report(p["hr"], queries.Filters(plan_id=p["plan"].id))
    assert report.total.completed == 1 and report.total.completed_elsewhere == 1


def test_officers_outside_the_scope_cannot_be_ticked_and_agencies_outside_cannot_organise(province):
    p = province
    with pytest.raises(services.ProgressError):
        workshops.set_attendance(workshop(p), [p["outsider"].id], actor=p["hr"])
    with pytest.raises(services.ProgressError) as err:
        workshop(p, agency=p["outsider"].agency)
    assert err.value.field == "agency_id"


def test_a_workshop_in_the_future_or_without_course_or_topic_is_refused(province):
    with pytest.raises(services.ProgressError) as err:
        workshop(province, held_on=services.local_today() + timedelta(days=1))
    assert err.value.field == "held_on"
    with pytest.raises(services.ProgressError) as err:
        workshop(province, course=None, topic="")
    assert err.value.field == "topic"


def sheet(*rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["DANH SÁCH HỌC VIÊN THAM DỰ"])
    ws.append(["STT", "Họ và tên", "Mã cán bộ"])
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_attendance_sheet_is_read_all_or_nothing_with_the_bad_lines_named(province):
    p = province
    good = workshops.read_attendance_sheet("ds.xlsx", sheet((1, "A", "NV000"), (2, "B", "NV001")), actor=p["hr"])
    assert good.errors == [] and sorted(good.user_ids) == sorted(o.id for o in p["officers"][:2])
    bad = workshops.read_attendance_sheet("ds.xlsx", sheet((1, "A", "NV000"), (2, "C", "NV999")), actor=p["hr"])
    assert bad.user_ids == [] and len(bad.errors) == 1 and "4" in bad.errors[0] and "NV999" in bad.errors[0]


def test_hr_records_a_workshop_on_the_web_and_sees_it_in_the_plan_dashboard_and_xlsx(client, auth, province):
    p = province
    auth.login("hr.ws")
    response = client.post("/progress/workshops/new", data={
        "title": "Tập huấn truyền thông quyền con người", "held_on": (services.local_today() - timedelta(days=1)).isoformat(),
        "place": "Nhà văn hóa xã", "agency_id": p["commune"].id, "trainer": "Nguyễn Văn Hải", "hours": "3.5",
        "course_id": p["course"].id, "counts_as_completion": "y",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    item = db.session.scalars(select(Workshop)).one()
    upload = {"file": (io.BytesIO(sheet((1, "A", "NV000"), (2, "B", "NV001"))), "diem-danh.xlsx")}
    assert client.post(f"/progress/workshops/{item.id}/attendance/file", data=upload,
                       content_type="multipart/form-data").status_code == 302
    page = client.get(f"/reports/plans/{p['plan'].id}").get_data(as_text=True)
    assert "Trong đó học trực tiếp hoặc bên ngoài" in page
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/reports/plans/{p['plan'].id}/export.xlsx").data))
    data = book.worksheets[1]
    header = [c.value for c in next(data.iter_rows(min_row=1, max_row=1))]
    column = header.index("Trong đó học trực tiếp hoặc bên ngoài")
    rows = list(data.iter_rows(values_only=True))
    total = next(r for r in rows if r[1] == "Tổng cộng")
    assert total[column] == 2 and total[header.index("Đã hoàn thành")] == 2


def test_an_external_certificate_must_be_a_real_pdf_and_completes_its_course(province):
    p = province
    officer = p["officers"][0]
    data = workshops.ExternalData(title="Bồi dưỡng người phát ngôn", issuer="Học viện Báo chí và Tuyên truyền",
                                  hours=16, completed_on=services.local_today() - timedelta(days=30),
                                  course=p["course"], counts_as_completion=True)
    for bad in (b"", b"GIF89a....", PDF[:-7], b"%PDF-" + b"x" * (workshops.MAX_PDF_BYTES + 1)):
        with pytest.raises(services.ProgressError) as err:
            workshops.add_external(officer, data, "cert.pdf", bad, actor=p["hr"])
        assert err.value.field == "file"
    workshops.add_external(officer, data, "cert.pdf", PDF, actor=p["hr"])
    assert completions(p) == {officer.id: "external"}
    with pytest.raises(services.ProgressError):
        workshops.add_external(p["outsider"], data, "cert.pdf", PDF, actor=p["hr"])


# Correcting and deleting a workshop ---------------------------------------------------------------


def _data_of(item: Workshop, **changes) -> workshops.WorkshopData:
    data = workshops.WorkshopData(title=item.title, held_on=item.held_on, place=item.place, agency=item.agency,
                                  trainer=item.trainer, hours=item.hours, course=item.course, topic=item.topic,
                                  counts_as_completion=item.counts_as_completion)
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def _audit(action: str) -> list:
    from lms.audit import AuditEntry

    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_correcting_a_workshop_keeps_its_attendance_and_is_audited_with_the_changes(province):
    p = province
    item = workshop(p)
    workshops.set_attendance(item, [p["officers"][0].id], actor=p["hr"])
    counts = workshops.update_workshop(item, _data_of(item, title="Tập huấn phát ngôn (sửa)", hours=5),
                                       actor=p["hr"])
    assert counts == {"withdrawn": 0, "completions": 0, "changed": 2}
    assert item.title == "Tập huấn phát ngôn (sửa)" and item.hours == 5 and len(item.attendance) == 1
    assert completions(p) == {p["officers"][0].id: "workshop"}
    entry = _audit("progress.workshop_updated")[-1]
    assert entry.details["changes"]["hours"] == [4.0, 5.0]


def test_a_correction_with_nothing_changed_records_nothing(province):
    p = province
    item = workshop(p)
    assert workshops.update_workshop(item, _data_of(item), actor=p["hr"])["changed"] == 0
    assert _audit("progress.workshop_updated") == []


def test_unticking_completes_the_course_withdraws_what_the_workshop_gave_and_not_online_completions(province):
    p = province
    online = p["officers"][2]
    fr.complete(online, p["course"])
    item = workshop(p)
    workshops.set_attendance(item, [o.id for o in p["officers"]], actor=p["hr"])
    counts = workshops.update_workshop(item, _data_of(item, counts_as_completion=False), actor=p["hr"])
    assert counts["withdrawn"] == 2
    assert completions(p) == {online.id: "online"}
    report = queries.agency_report(p["hr"], queries.Filters(plan_id=p["plan"].id))
    assert report.total.completed == 1 and report.total.completed_elsewhere == 0


def test_moving_a_workshop_to_another_course_moves_the_completions_it_gave(province):
    p = province
    item = workshop(p)
    workshops.set_attendance(item, [p["officers"][0].id], actor=p["hr"])
    other = make_course("workshop-course-2")
    counts = workshops.update_workshop(item, _data_of(item, course=other), actor=p["hr"])
    assert counts["withdrawn"] == 1 and counts["completions"] == 1
    assert completions(p) == {}
    moved = db.session.scalars(select(CourseCompletion).where(CourseCompletion.evidence == f"workshop:{item.id}")).one()
    assert moved.course_id == other.id and moved.source == "workshop"


def test_another_date_moves_the_completions_to_that_day(province):
    p = province
    item = workshop(p)
    workshops.set_attendance(item, [p["officers"][0].id], actor=p["hr"])
    earlier = services.local_today() - timedelta(days=9)
    workshops.update_workshop(item, _data_of(item, held_on=earlier), actor=p["hr"])
    moved = db.session.scalars(select(CourseCompletion).where(CourseCompletion.evidence == f"workshop:{item.id}")).one()
    from zoneinfo import ZoneInfo

    assert moved.completed_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date() == earlier


def test_a_correction_follows_the_recording_rules_and_the_scope(province):
    p = province
    item = workshop(p)
    with pytest.raises(services.ProgressError) as err:
        workshops.update_workshop(item, _data_of(item, held_on=services.local_today() + timedelta(days=1)),
                                  actor=p["hr"])
    assert err.value.field == "held_on"
    with pytest.raises(services.ProgressError) as err:
        workshops.update_workshop(item, _data_of(item, agency=p["outsider"].agency), actor=p["hr"])
    assert err.value.field == "agency_id"


def test_deleting_a_workshop_withdraws_only_its_completions_and_updates_the_report_counts(province):
    p = province
    online = p["officers"][2]
    fr.complete(online, p["course"])
    item = workshop(p)
    workshops.set_attendance(item, [o.id for o in p["officers"]], actor=p["hr"])
    before = queries.agency_report(p["hr"], queries.Filters(plan_id=p["plan"].id))
    assert before.total.completed == 3 and before.total.completed_elsewhere == 2
    assert workshops.withdrawn_by_deleting(item) == 2
    item_id = item.id
    counts = workshops.delete_workshop(item, actor=p["hr"])
    assert counts == {"attended": 3, "withdrawn": 2}
    assert db.session.get(Workshop, item_id) is None
    assert completions(p) == {online.id: "online"}
    after = queries.agency_report(p["hr"], queries.Filters(plan_id=p["plan"].id))
    assert after.total.completed == 1 and after.total.completed_elsewhere == 0
    entry = _audit("progress.workshop_deleted")[-1]
    assert entry.details["withdrawn"] == 2 and len(entry.details["attended"]) == 3


def _form(item: Workshop, **changes) -> dict:
    data = {"title": item.title, "held_on": item.held_on.isoformat(), "place": item.place,
            "agency_id": item.agency_id, "trainer": item.trainer, "hours": str(item.hours),
            "course_id": item.course_id or 0, "topic": item.topic}
    if item.counts_as_completion:
        data["counts_as_completion"] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_hr_corrects_a_workshop_on_the_web_and_bad_input_is_a_translated_message_not_a_500(client, auth, province):
    p = province
    item = workshop(p)
    db.session.commit()
    auth.login("hr.ws")
    page = client.get(f"/progress/workshops/{item.id}/edit")
    assert page.status_code == 200 and "Sửa thông tin buổi tập huấn" in page.get_data(as_text=True)
    future = (services.local_today() + timedelta(days=3)).isoformat()
    bad = client.post(f"/progress/workshops/{item.id}/edit", data=_form(item, held_on=future))
    assert bad.status_code == 400
    assert "Chỉ ghi nhận buổi tập huấn sau khi đã tổ chức" in bad.get_data(as_text=True)
    bad = client.post(f"/progress/workshops/{item.id}/edit", data=_form(item, hours="abc"))
    assert bad.status_code == 400
    ok = client.post(f"/progress/workshops/{item.id}/edit", data=_form(item, place="Hội trường mới"))
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Workshop, item.id).place == "Hội trường mới"


def test_deleting_a_workshop_with_attendance_on_the_web_asks_for_confirmation_first(client, auth, province):
    p = province
    item = workshop(p)
    workshops.set_attendance(item, [p["officers"][0].id], actor=p["hr"])
    db.session.commit()
    auth.login("hr.ws")
    page = client.get(f"/progress/workshops/{item.id}/delete").get_data(as_text=True)
    assert "1 cán bộ có tên trong danh sách điểm danh" in page
    refused = client.post(f"/progress/workshops/{item.id}/delete", data={})
    assert refused.status_code == 400 and "Đánh dấu ô xác nhận" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Workshop, item.id) is not None
    item_id = item.id
    done = client.post(f"/progress/workshops/{item_id}/delete", data={"confirm": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Workshop, item_id) is None and completions(p) == {}


def test_hr_cannot_correct_or_delete_a_workshop_outside_the_scope(client, auth, province):
    p = province
    root_hr = factories.user("hr.root", roles={"officer", "hr"}, hr_all=True)
    item = workshops.create_workshop(workshops.WorkshopData(
        title="Tập huấn ở xã khác", held_on=services.local_today() - timedelta(days=1), place="Xã khác",
        agency=p["outsider"].agency, trainer="Lê Văn B", hours=2, topic="Phát ngôn"), actor=root_hr)
    db.session.commit()
    auth.login("hr.ws")
    assert client.get(f"/progress/workshops/{item.id}/edit").status_code == 404
    assert client.post(f"/progress/workshops/{item.id}/delete", data={"confirm": "y"}).status_code == 404
