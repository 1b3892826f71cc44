"""Certificate and transcript PDFs: readable Vietnamese, embedded fonts, a scannable QR, one page."""

from __future__ import annotations

import io
import subprocess
import unicodedata
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from pyzbar.pyzbar import decode as decode_barcodes

from lms.certificates.pdf import (
    AwayRow,
    CertificateRenderError,
    TranscriptRow,
    fit_text,
    image_mime_type,
    render_certificate_pdf,
    render_transcript_pdf,
    text_width_mm,
)
from lms.printing import STATIC_ROOT, ResourceRefused, format_number
from lms.printing_engine import StaticOnlyURLFetcher

A4_SHORT, A4_LONG = 595.28, 841.89  # points
LONG_COURSE_TITLE = (
    "Bồi dưỡng kiến thức, kỹ năng tuyên truyền về quyền con người, đấu tranh phản bác thông tin "
    "sai lệch trên nền tảng số năm"
)
# Every Vietnamese letter, plain and with each tone mark, in both cases (NFC).
VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)


def render(data) -> bytes:
    return render_certificate_pdf(data, base_url_fetcher_root=STATIC_ROOT)


def pdffonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    return [line.split() for line in out.stdout.splitlines()[2:]]


def decode_qr(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", str(path), str(tmp_path / "qr")],
        check=True,
    )
    image = Image.open(tmp_path / "qr.png")
    return [symbol.data.decode() for symbol in decode_barcodes(image)]


def test_long_course_title_fixture_is_120_characters():
    assert len(LONG_COURSE_TITLE) == 120


# --- What the certificate says -------------------------------------------------------------------


def test_holder_name_and_course_are_extracted_with_exact_diacritics(vi_certificate, pdf_text):
    data, pdf = vi_certificate
    text = pdf_text(pdf)
    assert unicodedata.normalize("NFC", data.holder_name) in text
    assert data.course_title in text
    assert data.agency_name in text


def test_every_vietnamese_letter_and_tone_survives_in_both_cases(make_certificate, pdf_text):
    title = f"{VIETNAMESE_LETTERS} {VIETNAMESE_LETTERS.upper()}"
    text = pdf_text(render(make_certificate(course_title=title)))
    assert VIETNAMESE_LETTERS in text.replace(" ", "")
    assert VIETNAMESE_LETTERS.upper() in text.replace(" ", "")


def test_decomposed_input_still_prints_the_name(make_certificate, pdf_text):
    name = "Nguyễn Thị Hồng Nhung"
    text = pdf_text(render(make_certificate(holder_name=unicodedata.normalize("NFD", name))))
    assert name in text


def test_vietnamese_certificate_has_motto_title_and_formal_place_date(vi_certificate, pdf_text):
    data, pdf = vi_certificate
    text = pdf_text(pdf)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "GIẤY CHỨNG NHẬN" in text
    assert "Sơn Hà, ngày 31 tháng 5 năm 2024" in text
    assert "PHÓ GIÁM ĐỐC" in text and data.signer_name in text
    assert data.code in text
    assert f"Tra cứu tại: {data.verification_url}" in text


def test_issue_date_uses_decree_30_padding(make_certificate, pdf_text):
    text = pdf_text(render(make_certificate(issued_on=date(2025, 2, 3))))
    assert "Sơn Hà, ngày 03 tháng 02 năm 2025" in text


def test_english_certificate_is_in_english(make_certificate, pdf_text):
    data = make_certificate(language="en", course_title="Working with the press")
    text = pdf_text(render(data))
    assert "CERTIFICATE OF COMPLETION" in text
    assert "Sơn Hà, 31 May 2024" in text
    assert "Duration: 24 hours" in text
    assert "GIẤY CHỨNG NHẬN" not in text


def test_hours_use_a_decimal_comma_in_vietnamese(make_certificate, pdf_text):
    assert "Thời lượng: 7,5 giờ" in pdf_text(render(make_certificate(hours=Decimal("7.50"))))


def test_markup_in_names_is_printed_as_text_not_interpreted(make_certificate, pdf_text):
    text = pdf_text(render(make_certificate(holder_name='<b>Lê</b> "Văn" & <img src=x>')))
    assert '<b>Lê</b> "Văn" & <img src=x>' in text


def test_unknown_language_is_refused(make_certificate):
    with pytest.raises(ValueError):
        render(make_certificate(language="fr"))


# --- The PDF as a file -----------------------------------------------------------------------------


def test_page_is_one_a4_landscape_page(vi_certificate):
    reader = PdfReader(io.BytesIO(vi_certificate[1]))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(A4_LONG, abs=1)
    assert float(box.height) == pytest.approx(A4_SHORT, abs=1)


def test_metadata_title_and_author_are_set(vi_certificate):
    data, pdf = vi_certificate
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta.title == f"Giấy chứng nhận: {data.holder_name}"
    assert meta.author == data.issuer_name


def test_only_the_shipped_fonts_are_used_and_all_are_embedded(vi_certificate, tmp_path):
    fonts = pdffonts(vi_certificate[1], tmp_path)
    assert fonts
    for row in fonts:
        name, emb = row[0], row[-5]
        assert emb == "yes", row
        # Our @font-face families are called "LMS ..."; any other name is a system fallback.
        assert name.split("+", 1)[-1].startswith("LMS-"), row


def test_qr_code_decodes_to_the_verification_url(vi_certificate, tmp_path):
    data, pdf = vi_certificate
    assert decode_qr(pdf, tmp_path) == [data.verification_url]


def test_long_verification_url_still_decodes(make_certificate, tmp_path):
    url = "https://lms.sonha.gov.vn/certificates/verify?code=7KQ4-M2XD-9TRA-WP3C-J&lang=vi&ref=qr"
    assert decode_qr(render(make_certificate(verification_url=url)), tmp_path) == [url]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_120_character_title_and_long_name_fit_on_exactly_one_page(
    make_certificate, pdf_text, language
):
    data = make_certificate(
        language=language,
        course_title=LONG_COURSE_TITLE,
        holder_name="Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Bảo Ngọc Lê Huyền",
        agency_name="Trung tâm Phát thanh - Truyền hình và Báo điện tử tỉnh Sơn Hà (cơ sở 2)",
    )
    pdf = render(data)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = pdf_text(pdf)
    assert data.course_title in text and data.holder_name in text


def test_crowded_certificate_is_laid_out_compact_rather_than_overlapping(
    make_certificate, pdf_text
):
    data = make_certificate(
        holder_name="Công Tằng Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Bảo Ngọc Lê Huyền Trang Đỗ",
        agency_name="Trung tâm Phát thanh - Truyền hình và Báo điện tử tỉnh Sơn Hà thuộc Ủy ban "
        "nhân dân tỉnh Sơn Hà, cơ sở 2 tại các xã vùng đặc biệt khó khăn",
        course_title=LONG_COURSE_TITLE + " dành cho phát ngôn viên của các sở, ban, ngành",
        signer_title="TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH THƯỜNG TRỰC",
    )
    pdf = render(data)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert data.signer_name in pdf_text(pdf)


def test_texts_too_long_for_any_layout_are_refused_not_printed_over_the_border(make_certificate):
    with pytest.raises(CertificateRenderError):
        render(make_certificate(course_title=LONG_COURSE_TITLE * 20))


def test_rendering_the_same_data_twice_gives_the_same_bytes(make_certificate):
    data = make_certificate(code="7KQ4-M2XD-9TRA-WP3C-J")
    assert render(data) == render(data)


# --- Images and the URL fetcher --------------------------------------------------------------------


def test_png_logo_and_svg_seal_are_accepted(make_certificate):
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    assert render(make_certificate(logo_image=png.getvalue())).startswith(b"%PDF")


def test_images_other_than_png_jpeg_svg_are_refused():
    with pytest.raises(ValueError):
        image_mime_type(b"GIF89a....")


@pytest.mark.parametrize(
    "svg",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        b'<image xlink:href="http://example.com/x.png" width="10" height="10"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url(http://x.example/p)"/>'
        b"</svg>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "http://x.example/a.css";'
        b"</style></svg>",
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
    ],
)
def test_svg_seal_that_points_outside_itself_is_refused(make_certificate, svg):
    with pytest.raises(ValueError, match="SVG"):
        render(make_certificate(seal_image=svg))


def test_svg_with_internal_references_is_accepted():
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg"><defs><linearGradient id="g"/></defs>'
        b'<rect fill="url(#g)" width="5" height="5"/><use href="#g"/></svg>'
    )
    assert image_mime_type(svg) == "image/svg+xml"


def test_url_fetcher_is_the_last_line_even_inside_svg_images(make_certificate, monkeypatch):
    """If an external reference slipped past the upload check, the fetcher still refuses it."""
    seen = []
    original = StaticOnlyURLFetcher.fetch

    def spy(self, url, headers=None):
        try:
            return original(self, url, headers)
        except ResourceRefused:
            seen.append(url)
            raise

    monkeypatch.setattr(StaticOnlyURLFetcher, "fetch", spy)
    monkeypatch.setattr("lms.certificates.pdf._check_svg_is_self_contained", lambda body: None)
    evil = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<image href="http://example.com/x.png" width="10" height="10"/></svg>'
    )
    render(make_certificate(seal_image=evil))
    assert seen == ["http://example.com/x.png"]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.png",
        "https://example.com/x.png",
        "file:///etc/passwd",
        f"{STATIC_ROOT.as_uri()}/../../../../etc/passwd",
        f"{STATIC_ROOT.as_uri()}/fonts/",
        "file://evil.example.com/share/x.png",
        "ftp://example.com/x.png",
        "data:image/png;base64,iVBORw0KGgo=",
    ],
)
def test_url_fetcher_refuses_anything_outside_the_static_folder(url):
    with pytest.raises(ResourceRefused):
        StaticOnlyURLFetcher(STATIC_ROOT).fetch(url)


def test_url_fetcher_refuses_symlinks_that_lead_out_of_the_static_folder(tmp_path):
    root = tmp_path / "static"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ResourceRefused):
        StaticOnlyURLFetcher(root).fetch((root / "link.txt").as_uri())


def test_url_fetcher_serves_static_files_and_its_own_data_uris():
    fetcher = StaticOnlyURLFetcher(STATIC_ROOT)
    font = fetcher.fetch((STATIC_ROOT / "fonts" / "NotoSerif-Regular.ttf").as_uri())
    assert font.read(4) == b"\x00\x01\x00\x00"
    uri = fetcher.data_uri(b"<svg/>", "image/svg+xml")
    assert fetcher.fetch(uri).read() == b"<svg/>"


# --- Fitting text ----------------------------------------------------------------------------------


def test_short_texts_keep_the_largest_size_and_long_ones_shrink():
    short = fit_text("Lê Văn Ánh", "NotoSerif-Bold.ttf", (27, 21, 16), 235, 1)
    long = fit_text("Tôn Nữ Thị Phương Thảo " * 4, "NotoSerif-Bold.ttf", (27, 21, 16), 235, 1)
    assert short.size_pt == 27 and short.lines == 1
    assert long.size_pt == 16


def test_two_line_titles_are_balanced_instead_of_leaving_an_orphan_word():
    title = "Kỹ năng phát ngôn và cung cấp thông tin cho báo chí về công tác nhân quyền"
    fit = fit_text(title, "NotoSerif-Bold.ttf", (19,), 225, 2)
    assert fit.lines == 2
    # Balanced: the box is barely wider than half the text, not the full 225 mm.
    assert fit.width_mm < text_width_mm(title, "NotoSerif-Bold.ttf", 19) * 0.62


def test_a_word_wider_than_the_box_gets_the_full_width_and_smallest_size():
    word = "Nguyễn" * 30
    fit = fit_text(word, "NotoSerif-Bold.ttf", (19, 13), 225, 2)
    assert fit.size_pt == 13 and fit.width_mm == 225 and fit.lines > 2


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [(7.5, "vi", "7,5"), (Decimal("24.00"), "vi", "24"), (7.5, "en", "7.5"), (None, "vi", "")],
)
def test_numbers_are_written_without_trailing_zeros_in_the_documents_language(
    value, lang, expected
):
    assert format_number(value, lang) == expected


# --- Transcript ------------------------------------------------------------------------------------


def test_transcript_is_a4_portrait_and_lists_every_completion(make_transcript, pdf_text):
    data = make_transcript(rows=5)
    pdf = render_transcript_pdf(data)
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert float(box.width) == pytest.approx(A4_SHORT, abs=1)
    assert float(box.height) == pytest.approx(A4_LONG, abs=1)
    text = pdf_text(pdf)
    assert "BẢNG KẾT QUẢ BỒI DƯỠNG" in text and data.holder_name in text
    for row in data.rows:
        assert row.certificate_code in text
    assert "Tổng cộng: 5 khóa 31" in text  # 4 + 7.5 + 8 + 4 + 7.5
    assert "92,5%" in text


def test_long_transcript_breaks_across_pages_with_one_total(make_transcript, pdf_text):
    data = make_transcript(rows=40)
    pdf = render_transcript_pdf(data)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert pages > 1
    text = pdf_text(pdf)
    assert text.count("Tổng cộng") == 1
    assert f"Trang {pages} / {pages}" in text
    assert all(row.certificate_code in text for row in data.rows)


def test_transcript_metadata_and_fonts(make_transcript, tmp_path):
    data = make_transcript(rows=2, language="en")
    pdf = render_transcript_pdf(data)
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta.title == f"Training transcript: {data.holder_name}"
    assert meta.author == data.issuer_name
    assert all(row[-5] == "yes" for row in pdffonts(pdf, tmp_path))


def test_empty_transcript_says_so(make_transcript, pdf_text):
    text = pdf_text(render_transcript_pdf(make_transcript(rows=0)))
    assert "Chưa hoàn thành khóa bồi dưỡng nào." in text


def test_transcript_marks_completions_earned_in_person_or_elsewhere_and_lists_away_training_apart(
    make_transcript, pdf_text
):
    rows = [
        TranscriptRow("Những vấn đề cơ bản về quyền con người", 8, date(2024, 3, 1), 90, "X"),
        TranscriptRow("Kỹ năng phát ngôn", 4, date(2024, 4, 2), source="workshop"),
        TranscriptRow("Xác minh thông tin trên mạng", 6, date(2024, 5, 3), source="external"),
    ]
    away = [
        AwayRow("Tập huấn kỹ năng phát ngôn", "workshop", date(2024, 4, 2), 4, "Sở Nội vụ · Hội trường A"),
        AwayRow("Khóa học của Học viện Báo chí", "external", date(2024, 5, 3), 12.5, "Học viện Báo chí"),
    ]
    text = pdf_text(render_transcript_pdf(replace(make_transcript(rows=0), rows=rows, away=away)))
    assert text.count("Hoàn thành qua lớp tập huấn trực tiếp") == 1
    assert text.count("Công nhận theo chứng chỉ của cơ sở khác") == 1
    assert "Bồi dưỡng ngoài nền tảng" in text
    assert "Tập huấn trực tiếp" in text and "Chứng chỉ nơi khác" in text and "Học viện Báo chí" in text
    assert "Tổng cộng: 3 khóa" in text and " 18 " in text  # the courses' hours, without the away ones
    assert "16,5" in text  # 4 + 12.5, their own total
    assert "không cộng vào tổng trên" in text


def test_english_transcript_marks_the_source_in_english(make_transcript, pdf_text):
    rows = [TranscriptRow("Spokesperson skills", 4, date(2024, 4, 2), source="workshop")]
    text = pdf_text(render_transcript_pdf(replace(make_transcript(rows=0, language="en"), rows=rows)))
    assert "Completed by attending an in-person workshop" in text
    assert "Training away from the platform" not in text  # nothing away: no empty section
