"""Certificate templates: which one a certificate is issued with, the snapshot that keeps it, the checked
uploads, the admin pages, the preview PDF and who may use them."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from lms.audit import AuditEntry
from lms.certificates import designs, services
from lms.certificates.models import CertificateImage, CertificatePdf, CertificateTemplate
from lms.extensions import db
from tests import factories as f
from tests.certificates import factories_certificates as cf

URL = "/certificates/manage/templates"


def bare_course(**kw):
    """A course whose own certificate settings name no issuer, signer or seal (templates decide)."""
    course = cf.course(**kw)
    course.certificate = {"enabled": True, "validity_months": 24}
    db.session.flush()
    return course


@pytest.fixture
def tree(app):
    """Province > department > unit, an officer in the unit, and an administrator."""
    province = f.agency("P", kind="province", name_vi="Ủy ban nhân dân tỉnh Sơn Hà")
    department = f.agency("D", parent=province, name_vi="Sở Thông tin và Truyền thông")
    unit = f.agency("U", parent=department, name_vi="Trung tâm Công nghệ thông tin")
    officer = f.user("nhung", agency=unit, full_name="Nguyễn Thị Hồng Nhung")
    admin = f.user("root", roles={"officer", "admin"}, agency=province)
    return {"province": province, "department": department, "unit": unit, "officer": officer,
            "admin": admin}


def upload(body: bytes, name: str = "seal.png", content_type: str = "image/png"):
    return (io.BytesIO(body), name, content_type)


def form(**overrides):
    data = {"name": "Mẫu Sở Nội vụ", "layout": "modern", "issuer_vi": "Sở Nội vụ tỉnh Sơn Hà",
            "issuer_en": "Son Ha Department of Home Affairs", "signer_name": "Phạm Thị Thu Hương",
            "signer_title_vi": "KT. GIÁM ĐỐC\r\nPHÓ GIÁM ĐỐC", "signer_title_en": "DEPUTY DIRECTOR",
            "scope": "none", "agency_id": "0", "course_id": "0"}
    data.update(overrides)
    return data


# Issuing: the precedence, end to end ------------------------------------------------------------


def test_issuing_uses_the_nearest_agency_template_then_the_installation_then_the_builtin(tree):
    cf.template("Tỉnh", scope="installation", issuer_vi="Ủy ban nhân dân tỉnh Sơn Hà", layout="plain")
    cf.template("Sở", scope="agency", agency=tree["department"], issuer_vi="Sở Thông tin và Truyền thông",
                layout="modern")
    officer, elsewhere = tree["officer"], f.user(agency=tree["province"])
    in_unit = cf.certified(officer, bare_course())
    assert (in_unit.issuer_name, in_unit.layout) == ("Sở Thông tin và Truyền thông", "modern")
    assert in_unit.template_snapshot["source"] == "agency"
    assert in_unit.signer_title == "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"
    in_province = cf.certified(elsewhere, bare_course())
    assert (in_province.issuer_name, in_province.layout) == ("Ủy ban nhân dân tỉnh Sơn Hà", "plain")
    assert in_province.template_snapshot["source"] == "installation"


def test_a_course_template_wins_and_course_settings_win_over_agency_templates(tree):
    cf.template("Sở", scope="agency", agency=tree["department"], issuer_vi="Sở Thông tin và Truyền thông")
    with_settings = cf.course()  # its settings name Sở Tư pháp as issuer
    assert cf.certified(tree["officer"], with_settings).issuer_name == "Sở Tư pháp tỉnh Sơn Hà"
    own = bare_course()
    cf.template("Khóa", scope="course", course=own, issuer_vi="Học viện Chính trị khu vực", layout="plain")
    certificate = cf.certified(tree["officer"], own)
    assert (certificate.issuer_name, certificate.layout) == ("Học viện Chính trị khu vực", "plain")
    assert certificate.template_snapshot["source"] == "course_template"


def test_without_any_template_or_settings_the_builtin_design_names_the_province(tree):
    certificate = cf.certified(tree["officer"], bare_course())
    assert certificate.layout == "classic"
    assert certificate.issuer_name == "Ủy ban nhân dân tỉnh Sơn Hà"
    assert certificate.template_snapshot["source"] == "builtin"


def test_an_english_certificate_prints_the_english_issuer_and_title(tree):
    cf.template("Tỉnh", scope="installation")
    course = bare_course()
    cf.complete(tree["officer"], course, lang="en")
    certificate = cf.certificate_of(tree["officer"], course)
    assert certificate.lang == "en"
    assert certificate.issuer_name == "Son Ha Department of Home Affairs"
    assert certificate.signer_title == "FOR THE DIRECTOR\nDEPUTY DIRECTOR"


# The snapshot ------------------------------------------------------------------------------------


def test_editing_or_deleting_the_template_never_changes_an_issued_certificates_pdf(tree, pdf_text):
    seal, signature = cf.png(200, 200), cf.png(400, 120, kind="signature")
    template = cf.template("Sở", scope="agency", agency=tree["department"], layout="modern",
                           issuer_vi="Sở Thông tin và Truyền thông", signer_name="Phạm Thị Thu Hương",
                           seal=seal, signature=signature)
    certificate = cf.certified(tree["officer"], bare_course())
    before = pdf_text(services.render_certificate(certificate))
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in before.upper() and "Phạm Thị Thu Hương" in before

    changed = services.TemplateData(name="Sở", layout="plain", issuer_vi="Sở Nội vụ", signer_name="Lê Văn Tám",
                                    scope="agency", agency_id=tree["department"].id)
    services.save_template(template, changed, actor=tree["admin"], seal=cf.png(210, 210), remove_signature=True)
    services.delete_template(template, actor=tree["admin"])
    db.session.commit()
    assert db.session.get(CertificatePdf, certificate.id) is None  # nothing cached: render afresh
    db.session.expire_all()
    assert certificate.layout == "modern"
    after = pdf_text(services.render_certificate(certificate))
    assert after.split("Số hiệu")[0] == before.split("Số hiệu")[0]  # same texts, same order
    assert "Phạm Thị Thu Hương" in after
    assert "Lê Văn Tám" not in after and "Sở Nội vụ" not in after
    # The images it was issued with are still there, byte for byte; the replaced ones are gone.
    assert db.session.get(CertificateImage, certificate.seal_image_id).data == seal
    assert db.session.get(CertificateImage, certificate.signature_image_id).data == signature
    assert db.session.scalar(select(func.count()).select_from(CertificateImage)) == 2
    assert db.session.scalar(select(func.count()).select_from(CertificateTemplate)) == 0


def test_a_reissued_certificate_keeps_the_original_design(tree):
    cf.template("Sở", scope="agency", agency=tree["department"], layout="plain", seal=cf.png())
    certificate = cf.certified(tree["officer"], bare_course())
    replacement = services.reissue_certificate(certificate, actor=tree["admin"], reason="Sai tên",
                                               holder_name="Nguyễn Thị Hồng Nhung")
    assert (replacement.layout, replacement.seal_image_id) == ("plain", certificate.seal_image_id)
    assert replacement.template_snapshot == certificate.template_snapshot


# Uploads -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "message"), [
    (b"", "empty"),
    (b"hello, I am a text file", "not a PNG or JPEG"),
    (b"GIF89a" + b"\x00" * 64, "not a PNG or JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "could not be read"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (designs.MAX_IMAGE_BYTES + 1), "at most 1024 KB"),
])
def test_check_image_refuses_by_content_whatever_the_name(body, message):
    with pytest.raises(designs.ImageRejected, match=message):
        designs.check_image(body)


def test_check_image_refuses_too_many_and_too_few_pixels_and_accepts_png_and_jpeg():
    with pytest.raises(designs.ImageRejected, match="2001 × 40 pixels; at most 2000"):
        designs.check_image(cf.png(2001, 40))
    with pytest.raises(designs.ImageRejected, match="only 20 × 20 pixels"):
        designs.check_image(cf.png(20, 20))
    assert designs.check_image(cf.png(100, 80)) == designs.CheckedImage("image/png", 100, 80)
    assert designs.check_image(cf.png(90, 90, fmt="JPEG")).mime_type == "image/jpeg"


@pytest.mark.parametrize(("body", "filename", "content_type", "expected"), [
    (b"<?php echo 1; ?>", "seal.png", "image/png", "không phải ảnh PNG hoặc JPEG"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "seal.jpg", "image/jpeg", "không phải ảnh PNG hoặc JPEG"),
    (None, "seal.png", "image/png", "tối đa 1024 KB"),
])
def test_a_bad_upload_gets_a_vietnamese_message_on_its_field_and_no_template(
    client, auth, tree, body, filename, content_type, expected
):
    if body is None:
        body = b"\x89PNG\r\n\x1a\n" + b"\x00" * (designs.MAX_IMAGE_BYTES + 10)
    auth.login("root")
    response = client.post(f"{URL}/new", data=form(seal=upload(body, filename, content_type)),
                           content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="seal-error"><li>[^<]*' + re.escape(expected), page), page[:3000]
    assert db.session.scalar(select(func.count()).select_from(CertificateTemplate)) == 0


def test_the_english_interface_says_the_same_in_english(client, auth, tree):
    tree["admin"].locale = "en"
    auth.login("root")
    response = client.post(f"{URL}/new", data=form(signature=upload(b"not an image", "sig.png")),
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "This file is not a PNG or JPEG image" in response.get_data(as_text=True)


# The admin pages ---------------------------------------------------------------------------------


def test_an_admin_creates_edits_and_deletes_a_template_and_each_step_is_audited(client, auth, tree):
    auth.login("root")
    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}/new").status_code == 200
    response = client.post(f"{URL}/new", content_type="multipart/form-data", data=form(
        scope="agency", agency_id=str(tree["department"].id), seal=upload(cf.png()),
        signature=upload(cf.png(300, 100, kind="signature", fmt="JPEG"), "sig.jpg", "image/jpeg")))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    template = db.session.scalars(select(CertificateTemplate)).one()
    assert (template.agency_id, template.layout, template.signer_title_vi) == (
        tree["department"].id, "modern", "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC")
    assert template.seal_image.mime_type == "image/png"
    assert template.signature_image.mime_type == "image/jpeg"
    page = client.get(URL).get_data(as_text=True)
    assert "Mẫu Sở Nội vụ" in page and "Sở Thông tin và Truyền thông" in page
    assert client.get(f"{URL}/{template.id}/seal").data == template.seal_image.data

    response = client.post(f"{URL}/{template.id}", content_type="multipart/form-data",
                           data=form(name="Mẫu mới", scope="installation", remove_signature="y"))
    assert response.status_code == 302
    db.session.expire_all()
    assert (template.name, template.scope, template.signature_image_id) == ("Mẫu mới", "installation", None)
    assert client.get(f"{URL}/{template.id}/signature").status_code == 404

    template_id = template.id
    assert client.post(f"{URL}/{template_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(CertificateTemplate, template_id) is None
    assert db.session.scalar(select(func.count()).select_from(CertificateImage)) == 0
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_type == "certificate_template").order_by(AuditEntry.id)).all()
    assert actions == ["certificate_template.create", "certificate_template.update",
                       "certificate_template.delete"]
    update = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "certificate_template.update")).one()
    assert update.details["changes"]["name"] == ["Mẫu Sở Nội vụ", "Mẫu mới"]
    assert update.actor_id == tree["admin"].id


def test_a_scope_already_taken_is_refused_with_a_message_naming_the_holder(client, auth, tree):
    cf.template("Mẫu của tỉnh", scope="installation")
    other = cf.template("Mẫu khác", scope="agency", agency=tree["department"])
    auth.login("root")
    response = client.post(f"{URL}/new", data=form(scope="installation"), content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Mẫu của tỉnh" in response.get_data(as_text=True)
    response = client.post(f"{URL}/new", content_type="multipart/form-data",
                           data=form(scope="agency", agency_id=str(tree["department"].id)))
    assert response.status_code == 400 and other.name in response.get_data(as_text=True)
    response = client.post(f"{URL}/new", data=form(scope="agency"), content_type="multipart/form-data")
    assert response.status_code == 400 and "Chọn cơ quan, đơn vị" in response.get_data(as_text=True)
    response = client.post(f"{URL}/new", data=form(name="Mẫu khác"), content_type="multipart/form-data")
    assert response.status_code == 400 and "Đã có mẫu khác có tên Mẫu khác" in response.get_data(as_text=True)
    response = client.post(f"{URL}/new", data=form(layout="baroque"), content_type="multipart/form-data")
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(CertificateTemplate)) == 2


def test_the_preview_is_a_pdf_with_the_templates_issuer_and_signer(client, auth, tree, pdf_text):
    template = cf.template("Xem thử", layout="plain", issuer_vi="Sở Văn hóa, Thể thao và Du lịch",
                           issuer_en="Department of Culture, Sports and Tourism", signer_name="Hồ Thị Ánh Tuyết",
                           signer_title_vi="GIÁM ĐỐC", signer_title_en="DIRECTOR", seal=cf.png())
    auth.login("root")
    response = client.get(f"{URL}/{template.id}/preview.pdf?lang=vi")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    text = pdf_text(response.data)
    assert "SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH" in text and "Hồ Thị Ánh Tuyết" in text and "GIÁM ĐỐC" in text
    english = pdf_text(client.get(f"{URL}/{template.id}/preview.pdf?lang=en").data)
    assert "DEPARTMENT OF CULTURE, SPORTS AND TOURISM" in english and "DIRECTOR" in english
    assert db.session.scalar(select(func.count()).select_from(CertificatePdf)) == 0  # nothing issued


# Access ------------------------------------------------------------------------------------------


def test_only_administrators_reach_the_template_pages(client, auth, tree):
    template = cf.template("Mẫu", seal=cf.png())
    f.user("hr", roles={"officer", "hr"}, hr_all=True)
    f.user("trainer", roles={"officer", "trainer"})
    urls = [URL, f"{URL}/new", f"{URL}/{template.id}", f"{URL}/{template.id}/preview.pdf",
            f"{URL}/{template.id}/seal"]
    for username in ("nhung", "hr", "trainer"):
        auth.login(username)
        for url in urls:
            assert client.get(url).status_code == 403, (username, url)
        assert client.post(f"{URL}/{template.id}/delete").status_code == 403
        assert client.post(f"{URL}/new", data=form()).status_code == 403
        auth.logout()
    response = client.get(URL)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert db.session.get(CertificateTemplate, template.id) is not None


def test_a_missing_template_is_404(client, auth, tree):
    auth.login("root")
    assert client.get(f"{URL}/999").status_code == 404
    assert client.get(f"{URL}/999/preview.pdf").status_code == 404


def test_the_certificate_page_says_which_design_it_was_printed_with(client, auth, tree):
    cf.template("Mẫu Sở Thông tin", scope="agency", agency=tree["department"], layout="modern")
    certificate = cf.certified(tree["officer"], bare_course())
    auth.login("root")
    page = client.get(f"/certificates/{certificate.code}").get_data(as_text=True)
    assert "Hiện đại (bố cục) · mẫu của cơ quan, đơn vị “Mẫu Sở Thông tin”" in " ".join(page.split())


def test_merging_an_agency_moves_its_template_unless_the_target_has_its_own(tree):
    from lms.org import reorg

    province = tree["province"]
    old_a, old_b = f.agency("A", parent=province), f.agency("B", parent=province)
    merged_into = f.agency("T", parent=province)
    moving = cf.template("Mẫu A", scope="agency", agency=old_a)
    draft = cf.template("Mẫu B", scope="agency", agency=old_b)
    assert [m.key for m in reorg.merge_preview(old_a, merged_into).moves].count("certificate_templates") == 1
    reorg.merge_agencies(old_a, merged_into, actor=tree["admin"])
    db.session.flush()
    assert db.session.get(CertificateTemplate, moving.id).agency_id == merged_into.id
    reorg.merge_agencies(old_b, merged_into, actor=tree["admin"])  # the target has Mẫu A now
    assert db.session.get(CertificateTemplate, draft.id).scope == "none"
    assert db.session.get(CertificateTemplate, moving.id).agency_id == merged_into.id
