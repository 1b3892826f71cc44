"""Downloading: rendered on first download and kept; what the stored PDF says; failures stay harmless."""

from __future__ import annotations

import logging
import subprocess
import unicodedata
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode as decode_barcodes
from sqlalchemy import func, select

from lms.certificates import services
from lms.certificates.models import Certificate, CertificatePdf
from lms.certificates.pdf import CertificateRenderError
from lms.extensions import db
from tests import factories as f
from tests.certificates import factories_certificates as cf

HOLDER = "Đặng Thị Thủy Tiên"


def _pdffonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    return [line.split() for line in out.stdout.splitlines()[2:]]


def _qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(path), str(tmp_path / "qr")],
                   check=True)
    return [s.data.decode() for s in decode_barcodes(Image.open(tmp_path / "qr.png"))]


@pytest.fixture
def officer(app):
    return f.user("tien", full_name=HOLDER)


@pytest.fixture
def downloaded(client, auth, officer, tmp_path):
    """(certificate, PDF bytes) after the holder's first download."""
    certificate = cf.certified(officer, cf.course(seal=cf.SEAL_SVG))
    auth.login("tien")
    response = client.get(f"/certificates/{certificate.code}.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert f"certificate-{certificate.code}.pdf" in response.headers["Content-Disposition"]
    return certificate, response.data


def test_the_pdf_shows_the_holder_name_with_correct_diacritics(downloaded, pdf_text):
    certificate, pdf = downloaded
    text = pdf_text(pdf)
    assert unicodedata.normalize("NFC", HOLDER) in text
    assert certificate.course_title in text
    assert certificate.code in text
    assert "ngày" in text and "GIÁM ĐỐC" in text


def test_all_fonts_in_the_stored_pdf_are_embedded(downloaded, tmp_path):
    _certificate, pdf = downloaded
    fonts = _pdffonts(pdf, tmp_path)
    assert fonts
    for row in fonts:
        assert row[-5] == "yes", row  # the "emb" column


def test_the_qr_code_decodes_to_the_public_verification_url(downloaded, tmp_path):
    certificate, pdf = downloaded
    assert _qr_codes(pdf, tmp_path) == [f"http://lms.test/verify/{certificate.code}"]


def test_the_pdf_is_rendered_once_then_served_from_the_database(client, downloaded, monkeypatch):
    certificate, pdf = downloaded
    stored = db.session.get(CertificatePdf, certificate.id)
    assert stored is not None and stored.data == pdf and stored.size == len(pdf)
    db.session.refresh(certificate)
    import hashlib

    assert certificate.pdf_sha256 == hashlib.sha256(pdf).hexdigest()

    def refuse(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(services, "render_certificate_pdf", refuse)
    again = client.get(f"/certificates/{certificate.code}.pdf")
    assert again.status_code == 200 and again.data == pdf


def test_a_rendering_failure_leaves_a_valid_certificate_without_a_pdf(
    client, auth, officer, monkeypatch, caplog
):
    certificate = cf.certified(officer)

    def broken(*args, **kwargs):
        raise CertificateRenderError("font missing")

    monkeypatch.setattr(services, "render_certificate_pdf", broken)
    # Alembic's logging setup (run by the migration tests) disables existing loggers.
    monkeypatch.setattr(logging.getLogger("lms.certificates.services"), "disabled", False)
    auth.login("tien")
    with caplog.at_level(logging.ERROR, logger="lms.certificates.services"):
        response = client.get(f"/certificates/{certificate.code}.pdf")
    assert response.status_code == 503
    assert certificate.code in response.get_data(as_text=True)
    assert any("could not be rendered" in r.getMessage() for r in caplog.records)
    db.session.expire_all()
    kept = db.session.get(Certificate, certificate.id)
    assert kept.status == "valid" and kept.pdf_sha256 is None
    assert "font missing" in kept.render_error
    assert db.session.scalar(select(func.count()).select_from(CertificatePdf)) == 0
    assert client.get(f"/verify/{certificate.code}.json").get_json()["state"] == "valid"


def test_an_unexpected_renderer_error_is_also_a_render_failure(client, auth, officer, monkeypatch):
    certificate = cf.certified(officer)
    monkeypatch.setattr(services, "render_certificate_pdf",
                        lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    auth.login("tien")
    assert client.get(f"/certificates/{certificate.code}.pdf").status_code == 503


def test_a_failure_while_completing_rolls_back_completion_and_certificate_together(app, officer,
                                                                                    monkeypatch):
    """The certificate is issued in the completing transaction: no certificate without completion."""
    from lms.progress.models import CourseCompletion

    course = cf.course()
    db.session.commit()

    def failing(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_new_unique_code", failing)
    with pytest.raises(RuntimeError):
        cf.complete(officer, course)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0
    assert db.session.scalar(select(func.count()).select_from(CourseCompletion)) == 0


def test_without_public_base_url_the_qr_code_uses_the_request_host(app, client, auth, officer,
                                                                  tmp_path):
    app.config["PUBLIC_BASE_URL"] = None
    certificate = cf.certified(officer)
    auth.login("tien")
    pdf = client.get(f"/certificates/{certificate.code}.pdf").data
    assert _qr_codes(pdf, tmp_path) == [f"http://lms.test/verify/{certificate.code}"]


def test_a_webp_seal_is_converted_for_the_renderer(app, officer):
    import io

    out = io.BytesIO()
    Image.new("RGBA", (40, 40), (180, 20, 20, 255)).save(out, format="WEBP")
    certificate = cf.certified(officer, cf.course(seal=out.getvalue(), seal_type="image/webp"))
    seal = services.seal_image(certificate.course_id, certificate.seal_path)
    assert seal.startswith(b"\x89PNG")


def test_the_transcript_lists_every_completion_with_certificate_codes(client, auth, officer,
                                                                      pdf_text):
    first = cf.certified(officer, cf.course(title={"vi": "Những vấn đề cơ bản về quyền con người",
                                                   "en": "Human rights basics"}))
    cf.complete(officer, cf.course(enabled=False, title={"vi": "Xác minh thông tin trên mạng",
                                                         "en": "Verifying online"}))
    auth.login("tien")
    response = client.get("/certificates/transcript.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert HOLDER in text
    assert "Những vấn đề cơ bản về quyền con người" in text
    assert "Xác minh thông tin trên mạng" in text
    assert first.code in text
    assert "Tổng cộng: 2 khóa" in text


def test_scanning_the_qr_code_says_valid_and_after_revocation_revoked(client, downloaded, tmp_path):
    """The inspector's path: scan the printed QR code, open the address, read the verdict."""
    from urllib.parse import urlsplit

    certificate, pdf = downloaded
    (url,) = _qr_codes(pdf, tmp_path)
    path = urlsplit(url).path
    assert "Giấy chứng nhận hợp lệ" in client.get(path).get_data(as_text=True)
    admin = f.user(roles={"admin"})
    services.revoke_certificate(db.session.get(Certificate, certificate.id), actor=admin,
                                reason="Kết quả bị hủy")
    page = client.get(path).get_data(as_text=True)
    assert "Giấy chứng nhận đã bị thu hồi" in page and HOLDER in page


def test_the_transcript_pdf_marks_a_course_completed_at_a_workshop_and_lists_the_workshop(
        client, auth, officer, pdf_text):
    from datetime import timedelta

    from lms.progress import workshops
    from lms.progress.services import local_today

    hr = f.user("hr.tr", agency=officer.agency, roles={"officer", "hr"}, hr_agencies=[officer.agency])
    the_course = cf.course(enabled=False, title={"vi": "Kỹ năng phát ngôn trước báo chí", "en": "Press"})
    item = workshops.create_workshop(workshops.WorkshopData(
        title="Tập huấn phát ngôn năm 2026", held_on=local_today() - timedelta(days=3), place="Hội trường tỉnh",
        agency=officer.agency, trainer="Trần Thị Lan", hours=6, course=the_course), actor=hr)
    workshops.set_attendance(item, [officer.id], actor=hr)
    db.session.commit()
    auth.login("tien")
    text = pdf_text(client.get("/certificates/transcript.pdf").data)
    assert "Kỹ năng phát ngôn trước báo chí" in text
    assert "Hoàn thành qua lớp tập huấn trực tiếp" in text
    assert "Bồi dưỡng ngoài nền tảng" in text and "Tập huấn phát ngôn năm 2026" in text
    english = pdf_text(client.get("/certificates/transcript.pdf?lang=en").data)
    assert "Completed by attending an in-person workshop" in english
