"""Plain-data fixtures for the certificate pure core: no app, no database."""

from __future__ import annotations

import dataclasses
import subprocess
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from lms.certificates.codes import new_code
from lms.certificates.pdf import CertificateData, TranscriptData, TranscriptRow
from lms.printing import STATIC_ROOT

SPECIMEN_SEAL = (STATIC_ROOT / "img" / "specimen-seal.svg").read_bytes()


def _make_certificate(**overrides) -> CertificateData:
    """A typical Vietnamese certificate; pass fields to change."""
    code = overrides.pop("code", None) or new_code()
    base = CertificateData(
        holder_name="Nguyễn Thị Hồng Nhung",
        agency_name="Sở Thông tin và Truyền thông tỉnh Sơn Hà",
        course_title="Kỹ năng phát ngôn và cung cấp thông tin cho báo chí về công tác nhân quyền",
        hours=24,
        completed_on=date(2024, 5, 31),
        language="vi",
        issuer_name="Sở Nội vụ",
        issuer_parent_name="Ủy ban nhân dân tỉnh Sơn Hà",
        signer_name="Trần Văn Đức",
        signer_title="KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC",
        code=code,
        verification_url=f"https://lms.sonha.gov.vn/c/{code}",
        issue_place="Sơn Hà",
        valid_until=date(2026, 5, 31),
        seal_image=SPECIMEN_SEAL,
    )
    return dataclasses.replace(base, **overrides)


def _make_transcript(rows: int = 5, **overrides) -> TranscriptData:
    """A transcript with ``rows`` completions (Vietnamese course titles, real codes)."""
    titles = [
        "Những vấn đề cơ bản về quyền con người",
        "Quy chế phát ngôn và cung cấp thông tin cho báo chí",
        "Xác minh thông tin trên mạng: kiểm tra nguồn, đọc ngang, xác minh hình ảnh",
    ]
    base = TranscriptData(
        holder_name="Lê Văn Ánh",
        agency_name="Báo Sơn Hà",
        language="vi",
        issuer_name="Sở Nội vụ",
        issuer_parent_name="Ủy ban nhân dân tỉnh Sơn Hà",
        issue_place="Sơn Hà",
        issued_on=date(2024, 12, 2),
        position="Phóng viên",
        officer_number="SH-0007",
        signer_name="Trần Văn Đức",
        signer_title="GIÁM ĐỐC",
        rows=[
            TranscriptRow(
                course_title=f"{titles[i % len(titles)]} ({i + 1})",
                hours=[4, 7.5, 8][i % 3],
                completed_on=date(2024, 1 + i % 12, 1 + i % 28),
                score=[92.5, None, 80][i % 3],
                certificate_code=new_code(),
            )
            for i in range(rows)
        ],
    )
    return dataclasses.replace(base, **overrides)


def _pdf_text(pdf: bytes, tmp_path: Path, *args: str) -> str:
    """Text of a PDF as pdftotext sees it, NFC-normalised with whitespace collapsed."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return " ".join(unicodedata.normalize("NFC", out).split())


# Factories are handed out as fixtures so that tests never import this conftest by name.
@pytest.fixture
def make_certificate():
    return _make_certificate


@pytest.fixture
def make_transcript():
    return _make_transcript


@pytest.fixture
def pdf_text(tmp_path):
    return lambda pdf, *args: _pdf_text(pdf, tmp_path, *args)


@pytest.fixture(scope="module")
def vi_certificate() -> tuple[CertificateData, bytes]:
    """One rendered Vietnamese certificate shared by a module's read-only checks."""
    from lms.certificates.pdf import render_certificate_pdf

    data = _make_certificate()
    return data, render_certificate_pdf(data, base_url_fetcher_root=STATIC_ROOT)
