"""The HR archive: streamed, renders what is missing and keeps it, reports failures inside."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import func, select

from lms.certificates import services
from lms.certificates.models import CertificatePdf
from lms.extensions import db
from tests import factories as f
from tests.certificates import factories_certificates as cf


def test_the_archive_renders_missing_pdfs_once_and_keeps_them(client, auth, app):
    f.user("root", roles={"officer", "admin"})
    course = cf.course()
    certificates = [cf.certified(f.user(), course) for _ in range(3)]
    services.store_pdf(certificates[0], b"%PDF-1.7 stored", 1)
    db.session.commit()
    auth.login("root")
    archive = zipfile.ZipFile(io.BytesIO(client.get("/certificates/manage/export.zip").data))
    assert len(archive.namelist()) == 3
    stored = [n for n in archive.namelist() if certificates[0].code in n]
    assert archive.read(stored[0]) == b"%PDF-1.7 stored"
    assert db.session.scalar(select(func.count()).select_from(CertificatePdf)) == 3
    assert archive.testzip() is None


def test_a_certificate_that_cannot_be_rendered_is_listed_in_the_archive(client, auth, app, monkeypatch):
    f.user("root", roles={"officer", "admin"})
    course = cf.course()
    good = cf.certified(f.user(), course)
    services.store_pdf(good, b"%PDF-1.7 good", 1)
    bad = cf.certified(f.user(full_name="Lê Văn Lỗi"), course)
    db.session.commit()

    def broken(*args, **kwargs):
        raise services.CertificateRenderError("seal missing")

    monkeypatch.setattr(services, "render_certificate_pdf", broken)
    auth.login("root")
    archive = zipfile.ZipFile(io.BytesIO(client.get("/certificates/manage/export.zip").data))
    assert [n for n in archive.namelist() if n.endswith(".pdf")] == [
        n for n in archive.namelist() if good.code in n]
    assert archive.read("ERRORS.txt").decode() == f"{bad.code}\tLê Văn Lỗi\n"


def test_zip_stream_hands_control_back_after_each_batch(app, monkeypatch):
    monkeypatch.setattr(services, "ZIP_BATCH", 2)
    course = cf.course()
    ids = []
    for _ in range(5):
        certificate = cf.certified(f.user(), course)
        services.store_pdf(certificate, b"%PDF", 1)
        ids.append(certificate.id)
    batches = []
    chunks = list(services.zip_stream(ids, after_batch=lambda: batches.append(1)))
    assert len(batches) == 3
    assert len(zipfile.ZipFile(io.BytesIO(b"".join(chunks))).namelist()) == 5


def test_zip_stream_commits_after_every_pdf_it_renders(app, monkeypatch):
    """On SQLite a transaction that writes holds the only write lock: an archive that rendered 25 PDFs
    per transaction blocked every autosave for tens of seconds (seen under `make scan`)."""
    monkeypatch.setattr(services, "render_certificate", lambda certificate: b"%PDF-1.7 rendered")
    course = cf.course()
    ids = [cf.certified(f.user(), course).id for _ in range(4)]
    commits = []
    list(services.zip_stream(ids, after_batch=lambda: commits.append(1)))
    assert len(commits) >= 4
