"""Certificate and transcript PDFs, rendered from plain data with Jinja2 and WeasyPrint.

No Flask and no database: callers build a ``CertificateData`` or ``TranscriptData`` and get PDF bytes
back. Templates live in ``templates/certificates/print/``; fonts and images come from the app's static
folder through ``StaticOnlyURLFetcher``, which refuses every other URL, so a holder name, an uploaded
seal or a course title can never make the renderer read a local file or call out to the network.

The printed words come from ``LABELS`` keyed by the document's own language, not from the request's
locale: an English certificate must read in English even when the officer downloading it uses the
Vietnamese interface.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

import segno
from fontTools.ttLib import TTFont
from markupsafe import Markup

from lms.certificates.designs import DEFAULT_LAYOUT, LAYOUTS
from lms.printing import (
    LANGUAGES,
    STATIC_ROOT,
    PrintError,
    environment,
    layout,
    static_fetcher,
)

if TYPE_CHECKING:
    from weasyprint import Document

    from lms.printing_engine import StaticOnlyURLFetcher

CERTIFICATE_TEMPLATE = LAYOUTS[DEFAULT_LAYOUT].template
TRANSCRIPT_TEMPLATE = "certificates/print/transcript.html"
DEFAULT_EMBLEM = "img/default-emblem.svg"
SERIF_REGULAR = "NotoSerif-Regular.ttf"
SERIF_BOLD = "NotoSerif-Bold.ttf"
_MM_PER_PT = 25.4 / 72
_MM_PER_PX = 25.4 / 96
# Top padding plus the content's min-height in certificate.html: where the content must end.
CONTENT_BOTTOM_MM = 19 + 174


@dataclass(frozen=True)
class Geometry:
    """The boxes of one layout that texts are fitted to (mm), and where its content must end."""

    name_mm: float = 235
    agency_mm: float = 235
    course_mm: float = 225
    # The issuer's cell of the classic header is 40% of the 249 mm content width.
    issuer_mm: float = 99
    issuer_sizes: tuple[float, ...] = (11.5,)
    issuer_lines: int = 3
    content_bottom_mm: float = CONTENT_BOTTOM_MM


# Widths and bottoms match the boxes in each layout's template (certificates/print/certificate*.html).
GEOMETRY: dict[str, Geometry] = {
    "classic": Geometry(),
    "modern": Geometry(name_mm=196, agency_mm=196, course_mm=192, issuer_mm=50,
                       issuer_sizes=(11, 10, 9.5), issuer_lines=5, content_bottom_mm=16 + 178),
    "plain": Geometry(name_mm=230, agency_mm=230, course_mm=220, content_bottom_mm=20 + 172),
}

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "nation": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "certificate_title": "GIẤY CHỨNG NHẬN",
        "certifies": "Chứng nhận ông/bà",
        "agency": "Đơn vị công tác",
        "completed_course": "Đã hoàn thành khóa bồi dưỡng",
        "duration": "Thời lượng",
        "hours_unit": "giờ",
        "completed_on": "Ngày hoàn thành",
        "valid_until": "Có giá trị đến",
        "code": "Số hiệu",
        "verify_at": "Tra cứu tại",
        "certificate_doc": "Giấy chứng nhận",
        "transcript_title": "BẢNG KẾT QUẢ BỒI DƯỠNG",
        "transcript_doc": "Bảng kết quả bồi dưỡng",
        "full_name": "Họ và tên",
        "position": "Chức vụ",
        "officer_number": "Mã cán bộ",
        "row_number": "STT",
        "course": "Khóa bồi dưỡng",
        "hours": "Số giờ",
        "date": "Ngày hoàn thành",
        "score": "Điểm",
        "certificate_code": "Số hiệu giấy chứng nhận",
        "total": "Tổng cộng",
        "courses_count": "khóa",
        "no_completions": "Chưa hoàn thành khóa bồi dưỡng nào.",
        "page": "Trang",
        "of": "/",
        "printed_on": "In ngày",
        "source_workshop": "Hoàn thành qua lớp tập huấn trực tiếp",
        "source_external": "Công nhận theo chứng chỉ của cơ sở khác",
        "away_title": "Bồi dưỡng ngoài nền tảng",
        "training": "Nội dung bồi dưỡng",
        "kind": "Hình thức",
        "kind_workshop": "Tập huấn trực tiếp",
        "kind_external": "Chứng chỉ nơi khác",
        "organiser": "Đơn vị tổ chức / cấp",
        "away_note": "Số giờ bồi dưỡng ngoài nền tảng được tính riêng, không cộng vào tổng trên.",
    },
    "en": {
        "nation": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto": "Independence - Freedom - Happiness",
        "certificate_title": "CERTIFICATE OF COMPLETION",
        "certifies": "This is to certify that",
        "agency": "Agency",
        "completed_course": "has successfully completed the training course",
        "duration": "Duration",
        "hours_unit": "hours",
        "completed_on": "Completed on",
        "valid_until": "Valid until",
        "code": "Certificate no.",
        "verify_at": "Verify at",
        "certificate_doc": "Certificate of completion",
        "transcript_title": "TRAINING TRANSCRIPT",
        "transcript_doc": "Training transcript",
        "full_name": "Full name",
        "position": "Position",
        "officer_number": "Officer no.",
        "row_number": "No.",
        "course": "Course",
        "hours": "Hours",
        "date": "Completed on",
        "score": "Score",
        "certificate_code": "Certificate no.",
        "total": "Total",
        "courses_count": "courses",
        "no_completions": "No completed courses yet.",
        "page": "Page",
        "of": "of",
        "printed_on": "Printed on",
        "source_workshop": "Completed by attending an in-person workshop",
        "source_external": "Recognised from a certificate issued elsewhere",
        "away_title": "Training away from the platform",
        "training": "Training",
        "kind": "Kind",
        "kind_workshop": "In-person workshop",
        "kind_external": "External certificate",
        "organiser": "Organiser or issuer",
        "away_note": "Hours of training away from the platform are counted apart, not in the total above.",
    },
}


class CertificateRenderError(PrintError):
    """Rendering stopped because a template or an image asked for a refused resource."""


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on one certificate; dates are plain dates, images raw PNG/JPEG/SVG bytes."""

    holder_name: str
    agency_name: str
    course_title: str
    hours: int | float | Decimal
    completed_on: date
    language: str
    issuer_name: str
    signer_name: str
    signer_title: str
    code: str
    verification_url: str
    issue_place: str
    issued_on: date | None = None
    valid_until: date | None = None
    issuer_parent_name: str = ""
    seal_image: bytes | None = None
    logo_image: bytes | None = None
    signature_image: bytes | None = None
    layout: str = DEFAULT_LAYOUT  # a key of designs.LAYOUTS


@dataclass(frozen=True)
class TranscriptRow:
    """One completed course; ``score`` is a percentage (0-100) or None for courses without a quiz."""

    course_title: str
    hours: int | float | Decimal
    completed_on: date
    score: int | float | Decimal | None = None
    certificate_code: str = ""
    # How it was earned: "online", "workshop" (attended in person) or "external" (a certificate from
    # elsewhere); the last two are marked on the paper as they are in every report.
    source: str = "online"


@dataclass(frozen=True)
class AwayRow:
    """A workshop attended or a certificate from elsewhere, listed apart with its own hours."""

    title: str
    kind: str  # "workshop" or "external"
    on: date
    hours: int | float | Decimal
    organiser: str


@dataclass(frozen=True)
class TranscriptData:
    """An officer and every course they completed, printed by HR on A4 portrait."""

    holder_name: str
    agency_name: str
    language: str
    issuer_name: str
    issue_place: str
    issued_on: date
    rows: list[TranscriptRow] = field(default_factory=list)
    position: str = ""
    officer_number: str = ""
    issuer_parent_name: str = ""
    signer_name: str = ""
    signer_title: str = ""
    away: list[AwayRow] = field(default_factory=list)


def image_mime_type(body: bytes) -> str:
    """Recognise PNG, JPEG and self-contained SVG image bytes; anything else is refused."""
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if body.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    head = body[:1024].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in body[:4096].lower():
        _check_svg_is_self_contained(body)
        return "image/svg+xml"
    raise ValueError("seal and logo images must be PNG, JPEG or SVG")


_EXTERNAL_CSS_URL = re.compile(r"url\(\s*['\"]?(?!#)", re.IGNORECASE)


def _check_svg_is_self_contained(body: bytes) -> None:
    """Refuse SVGs that point outside themselves or declare entities.

    The URL fetcher would refuse such references anyway, but WeasyPrint swallows errors inside SVG
    images and prints the certificate without the seal; refusing here makes the problem visible
    when the seal is uploaded.
    """
    if b"<!doctype" in body.lower() or b"<!entity" in body.lower():
        raise ValueError("SVG images may not declare a DOCTYPE or entities")
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - no DTD or entities reach the parser
    except ElementTree.ParseError as error:
        raise ValueError(f"not a well-formed SVG image: {error}") from error
    for element in root.iter():
        for name, value in element.attrib.items():
            if name.rsplit("}", 1)[-1] == "href" and not value.strip().startswith("#"):
                raise ValueError("SVG images must be self-contained (no external href)")
            if _EXTERNAL_CSS_URL.search(value):
                raise ValueError("SVG images must be self-contained (no external url())")
        if _EXTERNAL_CSS_URL.search(element.text or "") or "@import" in (element.text or ""):
            raise ValueError("SVG images must be self-contained (no external stylesheet)")


def qr_svg(url: str) -> Markup:
    """Return an inline SVG QR code for ``url``, sized by CSS, with a white quiet zone."""
    qr = segno.make(url, error="m", micro=False)
    # Safe to mark up: segno writes the modules as one path; the URL's text never enters the SVG.
    return Markup(  # noqa: S704
        qr.svg_inline(scale=1, border=4, dark="#000", light="#fff", omitsize=True)
    )


@dataclass(frozen=True)
class Fit:
    """Type size and line width chosen so that a text fits its box in few, even lines."""

    size_pt: float
    width_mm: float
    lines: int


@cache
def _advances(font_file: str) -> tuple[dict[int, int], float]:
    """Return (code point -> advance in font units, units per em) for one shipped font."""
    font = TTFont(STATIC_ROOT / "fonts" / font_file, lazy=True)
    widths = font["hmtx"].metrics
    advances = {cp: widths[glyph][0] for cp, glyph in font.getBestCmap().items()}
    return advances, float(font["head"].unitsPerEm)


def text_width_mm(text: str, font_file: str, size_pt: float) -> float:
    """Sum of glyph advances of ``text`` in millimetres (no kerning; the renderer's is tighter)."""
    advances, units_per_em = _advances(font_file)
    fallback = advances.get(ord("M"), units_per_em)
    units = sum(advances.get(ord(char), fallback) for char in text)
    return units / units_per_em * size_pt * _MM_PER_PT


def _line_count(words: list[str], font_file: str, size_pt: float, width_mm: float) -> int:
    """Lines a greedy line breaker needs for ``words`` in ``width_mm``.

    A word wider than the box is counted as broken anywhere, as ``overflow-wrap: break-word`` in
    certificate.html breaks it.
    """
    lines, current = 0, ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if text_width_mm(candidate, font_file, size_pt) <= width_mm:
            current = candidate
            continue
        lines += 1 if current else 0
        word_width = text_width_mm(word, font_file, size_pt)
        if word_width > width_mm:
            lines += math.ceil(word_width / width_mm) - 1
        current = word
    return lines + 1


def fit_text(
    text: str, font_file: str, sizes: tuple[float, ...], width_mm: float, max_lines: int
) -> Fit:
    """Pick the largest size in ``sizes`` that fits ``max_lines``, then the narrowest width that keeps
    the same number of lines, so a two-line title breaks near its middle instead of leaving an orphan.
    """
    words = text.split()
    for size_pt in sizes:
        lines = _line_count(words, font_file, size_pt, width_mm)
        if lines <= max_lines:
            break
    widest_word = max((text_width_mm(word, font_file, size_pt) for word in words), default=0.0)
    if widest_word >= width_mm:
        return Fit(size_pt, width_mm, lines)
    low, high = widest_word, width_mm
    while high - low > 0.5:
        middle = (low + high) / 2
        if _line_count(words, font_file, size_pt, middle) <= lines:
            high = middle
        else:
            low = middle
    # Slack for shaping differences between our sum of advances and the renderer's layout.
    return Fit(size_pt, min(width_mm, high * 1.03 + 1.5), lines)


def _check_language(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")
    return LABELS[lang]


def _layout(html: str, fetcher: StaticOnlyURLFetcher) -> Document:
    return layout(html, fetcher, CertificateRenderError)


def _fits_inside_frame(document: Document, layout: str = "classic") -> bool:
    """Whether the certificate ended on its first page, above the bottom of the inner frame."""
    if len(document.pages) != 1:
        return False
    anchor = document.pages[0].anchors.get("end-of-content")
    return anchor is not None and anchor[1] <= GEOMETRY[layout].content_bottom_mm / _MM_PER_PX + 0.5


def render_certificate_html(
    data: CertificateData, fetcher: StaticOnlyURLFetcher, *, compact: bool = False
) -> str:
    """Render the certificate template to HTML, registering its images with ``fetcher``."""
    labels = _check_language(data.language)
    if data.layout not in LAYOUTS:
        raise CertificateRenderError(f"unknown certificate layout {data.layout!r}")
    seal = data.seal_image and fetcher.data_uri(data.seal_image, image_mime_type(data.seal_image))
    signature = data.signature_image and fetcher.data_uri(
        data.signature_image, image_mime_type(data.signature_image)
    )
    logo = (
        fetcher.data_uri(data.logo_image, image_mime_type(data.logo_image))
        if data.logo_image
        else DEFAULT_EMBLEM
    )
    # Widths and sizes match the layout's boxes (GEOMETRY); the last size is the floor for any text.
    box = GEOMETRY[data.layout]
    fit = {
        "name": fit_text(data.holder_name, SERIF_BOLD, (27, 24, 21, 18, 16), box.name_mm, 1),
        "agency": fit_text(
            f"{labels['agency']}: {data.agency_name}", SERIF_REGULAR, (13, 12, 11, 10), box.agency_mm, 1
        ),
        "course": fit_text(data.course_title, SERIF_BOLD, (19, 17.5, 16, 14.5, 13), box.course_mm, 2),
        # Balanced so that no word of the issuer's name is left alone on its line.
        "issuer": fit_text(data.issuer_name.upper(), SERIF_BOLD, box.issuer_sizes, box.issuer_mm,
                           box.issuer_lines),
    }
    return (
        environment()
        .get_template(LAYOUTS[data.layout].template)
        .render(
            c=data,
            t=labels,
            lang=data.language,
            issued_on=data.issued_on or data.completed_on,
            seal_src=seal or None,
            signature_src=signature or None,
            logo_src=logo,
            qr=qr_svg(data.verification_url),
            signer_title_lines=data.signer_title.splitlines(),
            fit=fit,
            compact=compact,
            title=f"{labels['certificate_doc']}: {data.holder_name}",
        )
    )


def render_certificate_pdf(data: CertificateData, *, base_url_fetcher_root: Path) -> bytes:
    """Render one certificate as a one-page A4 landscape PDF with embedded fonts and a QR code."""
    fetcher = static_fetcher(base_url_fetcher_root)
    document = _layout(render_certificate_html(data, fetcher), fetcher)
    if not _fits_inside_frame(document, data.layout):
        document = _layout(render_certificate_html(data, fetcher, compact=True), fetcher)
    if not _fits_inside_frame(document, data.layout):
        raise CertificateRenderError("the certificate's texts are too long for one page")
    return document.write_pdf()


def render_transcript_pdf(
    data: TranscriptData, *, base_url_fetcher_root: Path = STATIC_ROOT
) -> bytes:
    """Render an officer's transcript (details and a table of completions) as A4 portrait PDF."""
    labels = _check_language(data.language)
    fetcher = static_fetcher(base_url_fetcher_root)
    total_hours = sum((Decimal(str(row.hours)) for row in data.rows), Decimal(0))
    html = (
        environment()
        .get_template(TRANSCRIPT_TEMPLATE)
        .render(
            d=data,
            t=labels,
            lang=data.language,
            rows=sorted(data.rows, key=lambda row: (row.completed_on, row.course_title)),
            total_hours=total_hours,
            away=sorted(data.away, key=lambda row: (row.on, row.title)),
            away_hours=sum((Decimal(str(row.hours)) for row in data.away), Decimal(0)),
            signer_title_lines=data.signer_title.splitlines(),
            title=f"{labels['transcript_doc']}: {data.holder_name}",
        )
    )
    return _layout(html, fetcher).write_pdf()
