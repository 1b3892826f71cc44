"""Certificate tasks: render one PDF (a new certificate, or a first download), render many in bulk.

Both are idempotent: a certificate whose PDF is already stored (for a bulk run: stored since the run
began) is skipped, and ``certificate_pdf`` has one row per certificate, so no certificate ever gets two.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from lms.certificates import services
from lms.certificates.models import Certificate, CertificatePdf
from lms.certificates.pdf import CertificateRenderError
from lms.extensions import db
from lms.tasks import queue
from lms.tasks.models import TaskRun
from lms.transaction import reads_only

log = logging.getLogger(__name__)

BULK_CHUNK = 10  # certificates per message: a few seconds of work, so a crash redoes little
BULK_TASK = "certificates.render_chunk"


@queue.task("certificates.render", retries=3, time_limit_seconds=300)
def render_certificate(certificate_id: int) -> None:
    """Render and store one certificate's PDF unless it is stored already."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or db.session.get(CertificatePdf, certificate_id) is not None:
        db.session.rollback()
        return
    # A failure is noted on the certificate by ensure_pdf; the download page says so.
    with contextlib.suppress(CertificateRenderError):
        services.ensure_pdf(certificate)
    db.session.commit()


@queue.task(BULK_TASK, retries=5, time_limit_seconds=600)
def render_chunk(run_id: int, certificate_ids: Sequence[int]) -> None:
    """Render the chunk's certificates that have no PDF made since the run began; count them once.

    Everything the chunk stores and counts is one commit, so a worker killed half-way leaves nothing
    behind, and the redelivered message does the whole chunk again.
    """
    # The PDFs are rendered first, in a transaction that only reads (on SQLite, BEGIN DEFERRED): ten
    # renders take seconds, and holding SQLite's one write lock that long made every autosave, submit
    # and export of the other users wait past the busy timeout ("database is locked", seen in make scan).
    with reads_only():
        run = db.session.get(TaskRun, run_id)
        if run is None:
            return
        since = run.created_at
        base_url = (run.summary or {}).get("base_url")
        rendered: dict[int, tuple[bytes, int]] = {}
        errors: dict[int, str] = {}
        for certificate in db.session.scalars(select(Certificate).where(
                Certificate.id.in_(certificate_ids),
                Certificate.id.not_in(_fresh(certificate_ids, since))).order_by(Certificate.id)):
            started = time.perf_counter()
            try:
                rendered[certificate.id] = (services.render_certificate(certificate, base_url=base_url),
                                            int((time.perf_counter() - started) * 1000))
            except CertificateRenderError as error:
                errors[certificate.id] = str(error)[:2000]
    # Then stored and counted in one short write transaction; a copy of this message that stored some of
    # them in the meantime wins for those (checked again here, under the write lock).
    done = failed = 0
    fresh = _fresh(certificate_ids, since)
    for certificate in db.session.scalars(select(Certificate).where(
            Certificate.id.in_(rendered.keys() | errors.keys()), Certificate.id.not_in(fresh))
            .order_by(Certificate.id)):
        if certificate.id in errors:
            certificate.render_error = errors[certificate.id]
            failed += 1
        else:
            services.store_pdf(certificate, *rendered[certificate.id])
            done += 1
    queue.add_progress(run_id, done=done, failed=failed)
    db.session.commit()


def _fresh(certificate_ids: Sequence[int], since: Any) -> set[int]:
    """The certificates among these whose PDF was stored since the run began."""
    return set(db.session.scalars(select(CertificatePdf.certificate_id).where(
        CertificatePdf.certificate_id.in_(certificate_ids), CertificatePdf.rendered_at >= since)))


def start_bulk_render(certificate_ids: Sequence[int], *, user: Any = None,
                      summary: dict[str, Any] | None = None, base_url: str | None = None) -> TaskRun:
    """Render these certificates' PDFs in the background; returns the run.

    ``base_url``: the address of the page that asked, for QR codes when PUBLIC_BASE_URL is not set
    (possible only without a queue: with one, PUBLIC_BASE_URL is required).
    """
    ids = list(certificate_ids)
    summary = dict(summary or {}, **({"base_url": base_url} if base_url else {}))
    chunks = [ids[i : i + BULK_CHUNK] for i in range(0, len(ids), BULK_CHUNK)]
    return queue.start_fan_out(BULK_TASK, chunks, total=len(ids), user=user, summary=summary)


def prerender_on_commit(certificate: Certificate) -> None:
    """Queue the new certificate's PDF so that the officer's first download finds it ready."""
    queue.on_commit("certificates.render", certificate.id)
