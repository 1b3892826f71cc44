"""``flask certificates ...``: issue and render in bulk, run the expiry job.

Bulk rendering uses every core: each worker process builds its own app (and so its own database
connection), loads the certificates it is given by id, renders them and sends back the bytes; only
the parent writes, committing a batch at a time, so SQLite never sees competing writers and an
interrupted run keeps what it finished.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from lms import transaction
from lms.certificates import queries, services
from lms.certificates.models import Certificate, CertificatePdf
from lms.certificates.pdf import CertificateRenderError
from lms.db import utcnow
from lms.extensions import db

certificates_cli = transaction.Group("certificates", help="Issue, render and expire certificates.")

CHUNK = 4  # certificates per task sent to a worker: small, so the progress bar moves evenly
WRITE_BATCH = 50  # rendered PDFs written per commit


@dataclass
class BulkResult:
    """What a bulk run did; ``failed`` holds (code, error) pairs."""

    issued: int = 0
    rendered: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1

    @property
    def per_second(self) -> float:
        return self.rendered / self.seconds if self.seconds else 0.0


# Worker side ---------------------------------------------------------------------------------

_worker_app: Flask | None = None


def _portable_config(app: Flask) -> dict[str, Any]:
    """The parent's settings that can cross a process boundary (so workers see the same database)."""
    simple = (str, int, float, bool, type(None))
    return {
        key: value
        for key, value in app.config.items()
        if key.isupper() and (isinstance(value, simple) or (
            isinstance(value, tuple | list) and all(isinstance(v, simple) for v in value)))
    }


def _init_worker(config: dict[str, Any]) -> None:
    global _worker_app
    from lms import create_app
    from lms.sqlite import set_begin_mode

    _worker_app = create_app(config)
    _worker_app.app_context().push()
    set_begin_mode("DEFERRED")  # workers only read: never queue for SQLite's write lock


def _render_chunk(ids: Sequence[int]) -> list[tuple[int, bytes | None, int, str]]:
    """Render some certificates in a worker: (id, pdf or None, milliseconds, error)."""
    out = []
    for certificate in db.session.scalars(select(Certificate).where(Certificate.id.in_(ids))):
        out.append(_render_one(certificate))
    transaction.discard()  # a worker only reads
    return out


def _render_one(certificate: Certificate) -> tuple[int, bytes | None, int, str]:
    started = time.perf_counter()
    try:
        pdf = services.render_certificate(certificate)
    except CertificateRenderError as error:
        return certificate.id, None, 0, str(error)
    return certificate.id, pdf, int((time.perf_counter() - started) * 1000), ""


# Parent side ---------------------------------------------------------------------------------


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _results(ids: Sequence[int], workers: int) -> Iterator[list[tuple[int, bytes | None, int, str]]]:
    """Rendered chunks in completion order, from a process pool (or in this process for one worker)."""
    if workers <= 1:
        for chunk in _chunks(ids, CHUNK):
            yield [_render_one(c) for c in db.session.scalars(
                select(Certificate).where(Certificate.id.in_(chunk)).order_by(Certificate.id))]
        return
    context = multiprocessing.get_context("spawn")  # no inherited connections or locks
    config = _portable_config(current_app._get_current_object())  # type: ignore[attr-defined]
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(config,)) as pool:
        pending: set[Future[Any]] = set()
        chunks = _chunks(ids, CHUNK)
        # Keep a few tasks per worker in flight: enough to stay busy, few enough to stop quickly.
        for chunk in chunks:
            pending.add(pool.submit(_render_chunk, chunk))
            if len(pending) >= workers * 3:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                next_chunk = next(chunks, None)
                if next_chunk is not None:
                    pending.add(pool.submit(_render_chunk, next_chunk))
                yield future.result()


def render_many(
    ids: Sequence[int], *, workers: int, progress: Callable[[int], None] | None = None
) -> BulkResult:
    """Render the given certificates and store their PDFs, committing every ``WRITE_BATCH``."""
    result = BulkResult(workers=workers)
    started = time.perf_counter()
    unwritten = 0
    codes = dict(db.session.execute(select(Certificate.id, Certificate.code).where(
        Certificate.id.in_(ids))).all()) if len(ids) <= 5000 else {}
    for rendered in _results(ids, workers):
        for certificate_id, pdf, render_ms, error in rendered:
            certificate = db.session.get(Certificate, certificate_id)
            if certificate is None:
                continue
            if pdf is None:
                certificate.render_error = error[:2000]
                result.failed.append((codes.get(certificate_id, certificate.code), error))
            else:
                services.store_pdf(certificate, pdf, render_ms)
                result.rendered += 1
            unwritten += 1
        if unwritten >= WRITE_BATCH:
            transaction.checkpoint()
            db.session.expunge_all()  # keep memory flat: written PDFs are not needed again
            unwritten = 0
        if progress:
            progress(len(rendered))
    transaction.checkpoint()
    result.seconds = time.perf_counter() - started
    return result


def targets(course_key: str | None, missing_only: bool) -> list[int]:
    """Ids of the certificates to render: in force or not (a revoked one still prints as issued)."""
    stmt = select(Certificate.id).order_by(Certificate.id)
    if course_key:
        stmt = stmt.where(Certificate.course_key == course_key)
    if missing_only:
        stmt = stmt.where(~select(CertificatePdf.certificate_id).where(
            CertificatePdf.certificate_id == Certificate.id).exists())
    return list(db.session.scalars(stmt))


@certificates_cli.command("issue")
@click.option("--course", "course_key", metavar="KEY", help="Only this course (its key).")
@click.option("--missing-only", is_flag=True, help="Only certificates that have no PDF yet.")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Processes to render with (default: one per core).")
@click.option("--dry-run", is_flag=True, help="Say what would be done; change nothing.")
@with_appcontext
def issue_command(course_key: str | None, missing_only: bool, workers: int | None,
                  dry_run: bool) -> None:
    """Issue missing certificates for past completions, then render PDFs on all cores."""
    if course_key:
        from lms.catalog.models import Course

        if db.session.scalar(select(Course.id).where(Course.key == course_key)) is None:
            raise click.BadParameter(f"no course has the key {course_key!r}", param_hint="--course")
    if not current_app.config.get("PUBLIC_BASE_URL"):
        raise click.UsageError(
            "PUBLIC_BASE_URL is not set (e.g. LMS_PUBLIC_BASE_URL=https://lms.example.gov.vn): "
            "the QR code on each certificate must point at the public verification page."
        )
    missing = db.session.scalars(queries.completions_without_certificate_query(course_key)).all()
    todo = targets(course_key, missing_only)
    if dry_run:
        click.echo(f"would issue {len(missing)} certificates and render "
                   f"{len(todo) + len(missing)} PDFs (dry run: nothing changed)")
        return
    issued = 0
    for completion in missing:
        if services.issue_certificate(completion) is not None:
            issued += 1
    transaction.checkpoint()
    todo = targets(course_key, missing_only)
    transaction.checkpoint()  # hold no transaction while the workers start
    workers = workers or os.cpu_count() or 1
    workers = min(workers, max(1, -(-len(todo) // CHUNK)))
    with click.progressbar(length=len(todo), label="Rendering certificates",
                           show_pos=True, show_eta=True) as bar:
        result = render_many(todo, workers=workers, progress=bar.update)
    result.issued = issued
    for code, error in result.failed:
        click.echo(f"failed: {code}: {error}", err=True)
    click.echo(
        f"issued {result.issued}, rendered {result.rendered}, failed {len(result.failed)} "
        f"in {result.seconds:.1f} s with {result.workers} worker(s) "
        f"({result.per_second:.1f} certificates/s)"
    )
    if result.failed:
        raise SystemExit(1)


@certificates_cli.command("expire")
@click.option("--now", "now_text", metavar="ISO-DATETIME",
              help="Pretend it is this moment (UTC), e.g. 2026-06-01T00:00.")
@click.option("--dry-run", is_flag=True, help="List what would expire; change nothing.")
@with_appcontext
def expire_command(now_text: str | None, dry_run: bool) -> None:
    """Handle expired certificates once each: assign their course again to the holder."""
    now = utcnow()
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError as error:
            raise click.BadParameter(f"not an ISO date and time: {now_text}", param_hint="--now") \
                from error
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    summary = services.expire_certificates(now, dry_run=dry_run)
    if dry_run:
        transaction.discard()
        for code in summary.codes:
            click.echo(code)
        click.echo(f"would expire {summary.expired} certificates (dry run: nothing changed)")
        return
    click.echo(str(summary))
