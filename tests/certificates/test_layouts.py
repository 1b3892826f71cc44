"""Every built-in layout prints a one-page A4 landscape certificate with the QR code, the code, the
texts in exact Vietnamese, the seal and the signature (pure core: no app, no database)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from pyzbar.pyzbar import decode as decode_barcodes

from lms.certificates.designs import LAYOUTS
from lms.certificates.pdf import CertificateRenderError, render_certificate_pdf
from lms.printing import STATIC_ROOT
from tests.certificates.factories_certificates import png

LONG_TITLE = ("Bồi dưỡng kiến thức, kỹ năng tuyên truyền về quyền con người, đấu tranh phản bác thông tin "
              "sai lệch trên nền tảng số năm")


def render(data) -> bytes:
    return render_certificate_pdf(data, base_url_fetcher_root=STATIC_ROOT)


def qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(path), str(tmp_path / "qr")], check=True)
    return [symbol.data.decode() for symbol in decode_barcodes(Image.open(tmp_path / "qr.png"))]


@pytest.fixture(scope="module")
def images() -> dict[str, bytes]:
    return {"seal_image": png(300, 300), "signature_image": png(500, 160, kind="signature")}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_each_layout_prints_one_landscape_page_with_qr_code_texts_and_diacritics(
    layout, make_certificate, pdf_text, images, tmp_path
):
    data = make_certificate(layout=layout, **images)
    pdf = render(data)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 842 and round(float(box.height)) == 595  # A4 landscape
    text = pdf_text(pdf)
    for expected in (data.holder_name, data.course_title, data.agency_name, data.signer_name,
                     "GIẤY CHỨNG NHẬN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "PHÓ GIÁM ĐỐC", data.code,
                     "ngày 31 tháng 5 năm 2024"):
        assert expected in text, (layout, expected)
    assert data.issuer_name.upper() in text.upper()
    assert qr_codes(pdf, tmp_path) == [data.verification_url]
    # Seal, signature and emblem are drawn (the seal and signature are the PNGs given).
    out = subprocess.run(["pdfimages", "-list", "-"], input=pdf, capture_output=True, check=True).stdout
    assert len([line for line in out.decode().splitlines()[2:] if " image " in line]) >= 2


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_each_layout_prints_in_english(layout, make_certificate, pdf_text):
    data = make_certificate(layout=layout, language="en", signer_title="DIRECTOR")
    text = pdf_text(render(data))
    assert "SOCIALIST REPUBLIC OF VIET NAM" in text
    assert "DIRECTOR" in text
    assert data.holder_name in text


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_long_texts_still_fit_one_page_in_each_layout(layout, make_certificate, pdf_text):
    data = make_certificate(
        layout=layout, course_title=LONG_TITLE,
        holder_name="Công Tằng Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Minh Khuê",
        agency_name="Trung tâm Phát triển quỹ đất thuộc Sở Tài nguyên và Môi trường tỉnh Sơn Hà",
        signer_title="KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH THƯỜNG TRỰC",
    )
    pdf = render(data)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert LONG_TITLE in pdf_text(pdf)


def test_an_unknown_layout_is_a_render_error(make_certificate):
    with pytest.raises(CertificateRenderError, match="layout"):
        render(make_certificate(layout="baroque"))
