"""Writing certificates: issue, render and store, revoke, reissue, expire.

Services flush and never commit; the view or CLI command that called them commits once. Issuing runs
inside the transaction that completes a course (it receives ``signals.course_completed``) and does no
rendering there: the PDF is made on first download, or in bulk by ``flask certificates issue``, so a
slow or failing renderer can neither slow down nor undo a completion.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms import audit
from lms.certificates import codes, designs, queries
from lms.certificates.designs import Design
from lms.certificates.models import (
    Certificate,
    CertificateImage,
    CertificatePdf,
    CertificateState,
    CertificateStatus,
    CertificateTemplate,
)
from lms.certificates.pdf import (
    STATIC_ROOT,
    AwayRow,
    CertificateData,
    CertificateRenderError,
    TranscriptData,
    TranscriptRow,
    render_certificate_pdf,
    render_transcript_pdf,
)
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import _
from lms.tasks import queue

log = logging.getLogger(__name__)

PDF_LANGUAGES = ("vi", "en")
MAX_REASON = 1000


class CertificateError(DomainError):
    """A domain error with a message for the user and, when it comes from a form, the field."""


# Small helpers ------------------------------------------------------------------------------


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the province (a 23:30 UTC completion is the next day there)."""
    return moment.astimezone(local_zone()).date()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def expiry_instant(completed_at: datetime, validity_months: int | None) -> datetime | None:
    """Certificates stay valid through the whole of their last day, in the province's time zone."""
    if not validity_months:
        return None
    last_day = add_months(local_date(completed_at), validity_months)
    following = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), local_zone())
    return following.astimezone(completed_at.tzinfo)


def valid_until(certificate: Certificate) -> date | None:
    """The last day printed as "valid until" (the day before ``expires_at`` in local time)."""
    if certificate.expires_at is None:
        return None
    return local_date(certificate.expires_at - timedelta(seconds=1))


def verification_url(code: str, base_url: str | None = None) -> str:
    """``PUBLIC_BASE_URL/verify/<code>``; without that setting, the address of the request that asked
    (``base_url``, for work done in the background) or of the current request."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or base_url or "").rstrip("/")
    if base:
        return f"{base}/verify/{code}"
    if has_request_context():
        return url_for("certificates.verify", code=code, _external=True)
    raise CertificateRenderError(
        "PUBLIC_BASE_URL is not set: a certificate rendered outside a web request would carry an "
        "unknown address in its QR code"
    )


def _pick(values: dict[str, str] | None, lang: str, fallback: str) -> str:
    values = values or {}
    return values.get(lang) or values.get(fallback) or next(iter(values.values()), "")


def _pdf_language(*wanted: str | None) -> str:
    """Certificates print in Vietnamese or English; other course languages print in Vietnamese."""
    return next((lang for lang in wanted if lang in PDF_LANGUAGES), "vi")


# Designs -------------------------------------------------------------------------------------


def _texts(vi: str, en: str) -> dict[str, str]:
    return {lang: text for lang, text in (("vi", vi), ("en", en)) if text}


def template_design(template: CertificateTemplate, source: str) -> Design:
    """A template as the plain design the resolution and the renderer work with."""
    return Design(
        source=source, layout=template.layout, issuer=_texts(template.issuer_vi, template.issuer_en),
        signer_name=template.signer_name,
        signer_title=_texts(template.signer_title_vi, template.signer_title_en),
        seal_image_id=template.seal_image_id, signature_image_id=template.signature_image_id,
        template_id=template.id, template_name=template.name,
    )


def builtin_design() -> Design:
    """The design of certificates nobody configured: the classic layout, the province as issuer."""
    config = current_app.config
    province = config["PROVINCE_NAME"]
    return Design(source="builtin", issuer={
        "vi": config.get("CERTIFICATE_ISSUER_VI") or config.get("TRANSCRIPT_ISSUER_VI")
        or f"Ủy ban nhân dân tỉnh {province}",
        "en": config.get("CERTIFICATE_ISSUER_EN") or config.get("TRANSCRIPT_ISSUER_EN")
        or f"{province} Provincial People's Committee",
    })


def design_for(course: Any, agency: Any) -> Design:
    """The design a certificate of ``course`` for an officer of ``agency`` is issued with (one query)."""
    chain = designs.nearest_first(agency.path) if agency is not None else []
    templates = db.session.scalars(queries.templates_for_query(course.id, chain)).all()
    course_template = next((t for t in templates if t.course_id == course.id), None)
    installation = next((t for t in templates if t.installation), None)
    by_agency = {t.agency_id: template_design(t, "agency") for t in templates if t.agency_id is not None}
    return designs.resolve_design(
        course_template=template_design(course_template, "course_template") if course_template else None,
        course_settings=course.certificate,
        agency_templates=designs.order_by_nearest(by_agency, agency.path) if agency is not None else [],
        installation_template=template_design(installation, "installation") if installation else None,
        builtin=builtin_design(),
    )


# Issuing -------------------------------------------------------------------------------------


def _new_unique_code() -> str:
    for _attempt in range(5):
        code = codes.new_code()
        if not db.session.scalar(select(Certificate.id).where(Certificate.code == code)):
            return code
    raise RuntimeError("five certificate codes in a row already existed: the random source is broken")


def issue_certificate(completion: Any, user: Any = None, course: Any = None) -> Certificate | None:
    """Issue the certificate for a course completion (connected to ``signals.course_completed``).

    Idempotent: a completion that already has a certificate still in force keeps it. No PDF is made
    here; the record alone is the certificate, and its PDF can be rendered again at any time.
    """
    course = course or completion.course
    user = user or completion.user
    settings = course.certificate or {}
    if not settings.get("enabled"):
        return None
    now = utcnow()
    existing = db.session.scalars(
        select(Certificate).where(
            Certificate.user_id == completion.user_id,
            Certificate.course_id == completion.course_id,
            Certificate.status == CertificateStatus.valid.value,
            Certificate.superseded_by_id.is_(None),
        )
    ).all()
    for certificate in existing:
        if certificate.completed_at == completion.completed_at or (
            certificate.state(now) == CertificateState.valid
        ):
            return certificate
    original = course.languages[0] if course.languages else "vi"
    lang = _pdf_language(completion.lang, user.locale, original)
    agency = user.agency if completion.agency_id == user.agency_id else None
    if agency is None:
        from lms.org.models import Agency

        agency = db.session.get(Agency, completion.agency_id)
    design = design_for(course, agency)
    certificate = Certificate(
        code=_new_unique_code(),
        user_id=user.id,
        course_id=course.id,
        completion_id=completion.id,
        course_key=course.key,
        course_version=completion.course_version,
        completed_at=completion.completed_at,
        issued_at=now,
        expires_at=expiry_instant(completion.completed_at, settings.get("validity_months")),
        status=CertificateStatus.valid.value,
        holder_name=user.full_name,
        agency_id=agency.id if agency else None,
        agency_name=agency.name(lang) if agency else "",
        course_title=_pick(course.title, lang, original),
        hours=float(course.hours),
        lang=lang,
        score=completion.score,
        issuer_name=_pick(dict(design.issuer), lang, original),
        signer_name=design.signer_name,
        signer_title=_pick(dict(design.signer_title), lang, original),
        seal_path=design.seal_path,
        layout=design.layout,
        seal_image_id=design.seal_image_id,
        signature_image_id=design.signature_image_id,
        template_snapshot=design.snapshot(),
    )
    db.session.add(certificate)
    db.session.flush()
    # With a queue, a worker renders the PDF once this transaction commits: the officer's first
    # download (and the deadline-day crowd's) finds it ready instead of rendering on a web server.
    queue.on_commit("certificates.render", certificate.id)
    audit.record(
        "certificate.issue", target=certificate, code=certificate.code, user_id=user.id,
        course=course.key,
    )
    return certificate


# Rendering -----------------------------------------------------------------------------------


def seal_image(course_id: int, path: str | None) -> bytes | None:
    """The seal's bytes from the course's files, as PNG/JPEG/SVG (WebP is converted to PNG)."""
    if not path:
        return None
    from lms.catalog.models import Asset

    asset = db.session.scalar(select(Asset).where(Asset.course_id == course_id, Asset.path == path))
    if asset is None:
        raise CertificateRenderError(f"the course's seal image files/{path} is missing")
    body = asset.data
    if asset.content_type == "image/webp" or body[:4] == b"RIFF":
        from PIL import Image

        out = io.BytesIO()
        with Image.open(io.BytesIO(body)) as image:
            image.save(out, format="PNG")
        body = out.getvalue()
    return body


def stored_image(image_id: int | None) -> bytes | None:
    """The bytes of a seal or signature kept in certificate_image."""
    if image_id is None:
        return None
    image = db.session.get(CertificateImage, image_id)
    if image is None:
        raise CertificateRenderError(f"the certificate's image {image_id} is missing")
    return image.data


def certificate_data(
    certificate: Certificate, *, url: str, seal: bytes | None, signature: bytes | None = None
) -> CertificateData:
    """The plain data the PDF is rendered from: the snapshot, never today's names."""
    config = current_app.config
    return CertificateData(
        holder_name=certificate.holder_name,
        agency_name=certificate.agency_name,
        course_title=certificate.course_title,
        hours=certificate.hours,
        completed_on=local_date(certificate.completed_at),
        language=certificate.lang,
        issuer_name=certificate.issuer_name,
        signer_name=certificate.signer_name,
        signer_title=certificate.signer_title.replace("\\n", "\n"),
        code=certificate.code,
        verification_url=url,
        issue_place=config.get("CERTIFICATE_ISSUE_PLACE") or config["PROVINCE_NAME"],
        issued_on=local_date(certificate.issued_at),
        valid_until=valid_until(certificate),
        seal_image=seal,
        signature_image=signature,
        layout=certificate.layout or designs.DEFAULT_LAYOUT,
    )


def render_certificate(certificate: Certificate, *, base_url: str | None = None) -> bytes:
    """Render the certificate's PDF (raises ``CertificateRenderError`` when it cannot be made)."""
    try:
        if certificate.seal_image_id is not None:
            seal = stored_image(certificate.seal_image_id)
        else:
            seal = seal_image(certificate.course_id, certificate.seal_path)
        data = certificate_data(certificate, url=verification_url(certificate.code, base_url), seal=seal,
                                signature=stored_image(certificate.signature_image_id))
        return render_certificate_pdf(data, base_url_fetcher_root=static_root())
    except CertificateRenderError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure of the renderer is a render error
        raise CertificateRenderError(f"{type(error).__name__}: {error}") from error


def static_root() -> Path:
    return Path(current_app.static_folder or STATIC_ROOT)


def store_pdf(certificate: Certificate, pdf: bytes, render_ms: int) -> CertificatePdf:
    """Keep a rendered PDF (replacing an older rendering) and its checksum."""
    row = db.session.get(CertificatePdf, certificate.id)
    if row is None:
        row = CertificatePdf(certificate_id=certificate.id)
        db.session.add(row)
    row.data = pdf
    row.size = len(pdf)
    row.rendered_at = utcnow()
    row.render_ms = render_ms
    certificate.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    certificate.render_error = ""
    db.session.flush()
    return row


def ensure_pdf(certificate: Certificate) -> bytes:
    """The stored PDF, rendering and storing it first if needed.

    On failure the error is noted on the certificate (the caller commits it) and re-raised; the
    certificate stays valid, just without a PDF for now.
    """
    stored = db.session.get(CertificatePdf, certificate.id)
    if stored is not None:
        return stored.data
    started = time.perf_counter()
    try:
        pdf = render_certificate(certificate)
    except CertificateRenderError as error:
        log.exception("certificate %s could not be rendered", certificate.code)
        certificate.render_error = str(error)[:2000]
        raise
    elapsed = int((time.perf_counter() - started) * 1000)
    try:
        with db.session.begin_nested():
            store_pdf(certificate, pdf, elapsed)
    except IntegrityError:
        # Another request stored it in the meantime: theirs is as good as ours.
        pass
    return pdf


def pdf_filename(certificate: Certificate) -> str:
    return f"certificate-{certificate.code}.pdf"


# Lifecycle -----------------------------------------------------------------------------------


def _reason(reason: str, field_name: str = "reason") -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise CertificateError(_("Give a reason: it is kept in the audit log."), field_name)
    if len(reason) > MAX_REASON:
        raise CertificateError(
            _("The reason is too long (at most %(num)s characters).", num=MAX_REASON), field_name
        )
    return reason


def revoke_certificate(certificate: Certificate, *, actor: Any, reason: str) -> Certificate:
    """Revoke a certificate; the verification page says so from now on."""
    reason = _reason(reason)
    if certificate.status == CertificateStatus.revoked:
        raise CertificateError(_("This certificate is already revoked."))
    certificate.status = CertificateStatus.revoked.value
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = getattr(actor, "id", None)
    certificate.revoked_reason = reason
    db.session.flush()
    audit.record("certificate.revoke", actor=actor, target=certificate, code=certificate.code,
                 reason=reason)
    return certificate


def reissue_certificate(
    certificate: Certificate,
    *,
    actor: Any,
    reason: str,
    holder_name: str | None = None,
    agency_name: str | None = None,
) -> Certificate:
    """Replace a certificate by a corrected copy with a new code; the old code stays, superseded."""
    reason = _reason(reason)
    if certificate.status == CertificateStatus.revoked:
        raise CertificateError(_("A revoked certificate cannot be reissued."))
    if certificate.superseded_by_id is not None:
        raise CertificateError(_("This certificate was already replaced; correct the newest one."))
    import unicodedata

    name = unicodedata.normalize("NFC", " ".join((holder_name or certificate.user.full_name).split()))
    agency = unicodedata.normalize("NFC", " ".join((agency_name or certificate.agency_name).split()))
    if not name:
        raise CertificateError(_("Enter the holder's name."), "holder_name")
    if len(name) > 200:
        raise CertificateError(_("The name is too long (at most %(num)s characters).", num=200),
                               "holder_name")
    if len(agency) > 255:
        raise CertificateError(_("The agency name is too long (at most %(num)s characters).", num=255),
                               "agency_name")
    now = utcnow()
    copy_fields = (
        "user_id", "course_id", "completion_id", "course_key", "course_version", "completed_at",
        "expires_at", "agency_id", "course_title", "hours", "lang", "score", "issuer_name",
        "signer_name", "signer_title", "seal_path", "expiry_handled_at", "layout", "seal_image_id",
        "signature_image_id", "template_snapshot",
    )  # fmt: skip
    replacement = Certificate(
        code=_new_unique_code(),
        issued_at=now,
        status=CertificateStatus.valid.value,
        holder_name=name,
        agency_name=agency,
        replaces_id=certificate.id,
        reissue_reason=reason,
        **{name_: getattr(certificate, name_) for name_ in copy_fields},
    )
    db.session.add(replacement)
    db.session.flush()
    certificate.superseded_by_id = replacement.id
    certificate.superseded_at = now
    db.session.flush()
    audit.record(
        "certificate.reissue", actor=actor, target=replacement, code=replacement.code,
        replaces=certificate.code, reason=reason,
        changes={k: [old, new] for k, old, new in (
            ("holder_name", certificate.holder_name, name),
            ("agency_name", certificate.agency_name, agency),
        ) if old != new},
    )
    return replacement


@dataclass
class ExpirySummary:
    """What one run of the expiry job did."""

    expired: int = 0
    assignments: int = 0
    codes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.expired} certificates expired, {self.assignments} re-certification assignments"


RECERTIFICATION_DUE_DAYS = 60


def expire_certificates(now: datetime, *, dry_run: bool = False) -> ExpirySummary:
    """Handle every certificate that expired by ``now`` and is not handled yet (runs once per code).

    The holder's completion enters "renewal required" since the moment the certificate expired
    (one UPDATE for the batch), so completing the course again with fresh evidence renews it and
    issues a new certificate; then each one gets a re-certification assignment of its course to the
    holder, due in ``RECERTIFICATION_DUE_DAYS`` days, and an audit entry. Called daily by
    ``flask jobs run``.
    """
    from lms.progress import services as progress

    summary = ExpirySummary()
    days = current_app.config.get("RECERTIFICATION_DUE_DAYS", RECERTIFICATION_DUE_DAYS)
    due = local_date(now) + timedelta(days=days)
    batch = db.session.scalars(queries.newly_expired_query(now)).all()
    if not dry_run and batch:
        # Before the assignments: they refresh the officers' due dates from the new cycle.
        progress.require_renewal(
            (c.user_id, c.course_id, min(c.expires_at, now)) for c in batch if c.expires_at is not None
        )
    for certificate in batch:
        summary.expired += 1
        summary.codes.append(certificate.code)
        if dry_run:
            continue
        if recertify(certificate, due):
            summary.assignments += 1
        certificate.expiry_handled_at = now
        audit.record("certificate.expire", target=certificate, code=certificate.code, due=due.isoformat())
    db.session.flush()
    return summary


def recertify(certificate: Certificate, due: date) -> bool:
    """Assign the certificate's course again to its holder; False when the course is gone."""
    course = certificate.course
    if course is None or getattr(course, "archived_at", None) is not None:
        return False
    from lms.progress import services as progress

    try:
        progress.create_assignments(course, kind="user", due_date=due, actor=None,
                                    users=[certificate.user])
    except progress.ProgressError as error:
        log.warning("no re-certification assignment for %s: %s", certificate.code, error.message)
        return False
    return True


# Transcripts and archives --------------------------------------------------------------------


def transcript_pdf(user: Any, lang: str) -> bytes:
    """The officer's transcript: every completed course, with the certificate code when there is one and
    how it was earned, then the workshops attended and certificates from elsewhere, with their hours."""
    lang = _pdf_language(lang)
    config = current_app.config
    province = config["PROVINCE_NAME"]
    rows = [
        TranscriptRow(
            course_title=_pick(course.title, lang, course.languages[0] if course.languages else "vi"),
            hours=course.hours,
            completed_on=local_date(completion.completed_at),
            score=completion.score,
            certificate_code=code or "",
            source=completion.source,
        )
        for completion, course, code in db.session.execute(queries.transcript_rows_query(user.id))
    ]
    from lms.progress import queries as progress_queries

    away = [
        AwayRow(title=w.title, kind="workshop", on=w.held_on, hours=w.hours,
                organiser=f"{w.agency.name(lang)} · {w.place}")
        for w in progress_queries.workshops_of(user.id)
    ] + [
        AwayRow(title=x.title, kind="external", on=x.completed_on, hours=x.hours, organiser=x.issuer)
        for x in progress_queries.external_of(user.id)
    ]
    issuer = {
        "vi": config.get("TRANSCRIPT_ISSUER_VI") or f"Ủy ban nhân dân tỉnh {province}",
        "en": config.get("TRANSCRIPT_ISSUER_EN") or f"{province} Provincial People's Committee",
    }[lang]
    data = TranscriptData(
        holder_name=user.full_name,
        agency_name=user.agency.name(lang),
        language=lang,
        issuer_name=issuer,
        issue_place=config.get("CERTIFICATE_ISSUE_PLACE") or province,
        issued_on=local_date(utcnow()),
        rows=rows,
        position=user.job_title or "",
        officer_number=user.employee_id or "",
        away=away,
    )
    return render_transcript_pdf(data, base_url_fetcher_root=static_root())


class _Sink(io.RawIOBase):
    """A write-only stream that hands its bytes out in chunks (zipfile writes; we yield)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.written

    def take(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


ZIP_BATCH = 25


def zip_stream(
    certificate_ids: Iterable[int], *, after_batch: Callable[[], None] = lambda: None
) -> Iterator[bytes]:
    """A ZIP of the certificates' PDFs, produced piece by piece; missing PDFs are rendered and kept.

    ``after_batch`` runs after every PDF rendered here and every ``ZIP_BATCH`` certificates: the view
    passes its commit, so a long archive keeps the PDFs it rendered without holding a transaction (and,
    on SQLite, the write lock) across more than one render. A certificate
    that cannot be rendered gets a line in ``ERRORS.txt`` inside the archive instead of stopping it.
    """
    import zipfile

    sink = _Sink()
    failures: list[str] = []
    ids = list(certificate_ids)
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for start in range(0, len(ids), ZIP_BATCH):
            batch_ids = ids[start : start + ZIP_BATCH]
            stored = queries.stored_pdfs(batch_ids)
            for certificate in db.session.scalars(queries.certificates_with_pdf_query(batch_ids)):
                pdf = stored.get(certificate.id)
                if pdf is None:
                    try:
                        pdf = ensure_pdf(certificate)
                    except CertificateRenderError:
                        failures.append(f"{certificate.code}\t{certificate.holder_name}")
                        continue
                    # Keep it at once: on SQLite a write transaction holds the database's only write
                    # lock, and 25 renders in one (tens of seconds on a busy server) made every
                    # autosave and submit meanwhile wait past the busy timeout and fail.
                    after_batch()
                info = zipfile.ZipInfo(zip_member_name(certificate), _zip_time(certificate))
                archive.writestr(info, pdf)  # PDFs are compressed already: stored, not deflated
                yield sink.take()
            after_batch()
        if failures:
            archive.writestr("ERRORS.txt", "\n".join(failures) + "\n")
    yield sink.take()


def _zip_time(certificate: Certificate) -> tuple[int, int, int, int, int, int]:
    moment = certificate.issued_at.astimezone(local_zone())
    return (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)


def zip_member_name(certificate: Certificate) -> str:
    """``<agency code>/<holder name>_<code>.pdf``: sorts by agency, readable in any unzip tool."""
    import re
    import unicodedata

    agency = certificate.user.agency.code if certificate.user else "agency"
    # Agency codes may hold dots: a code such as ".." must not climb out of the archive's folder.
    agency = re.sub(r"[^A-Za-z0-9_-]+", "_", agency).strip("_") or "agency"
    name = unicodedata.normalize("NFC", certificate.holder_name)
    name = re.sub(r"[^\w\- ]+", "", name).strip().replace(" ", "_") or "certificate"
    return f"{agency}/{name}_{certificate.code}.pdf"



# Templates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateData:
    """What an administrator types for a template; ``scope`` is none, installation, agency or course."""

    name: str
    layout: str
    issuer_vi: str
    issuer_en: str = ""
    signer_name: str = ""
    signer_title_vi: str = ""
    signer_title_en: str = ""
    scope: str = "none"
    agency_id: int | None = None
    course_id: int | None = None


SCOPES = ("none", "installation", "agency", "course")
_TEXT_FIELDS = ("name", "layout", "issuer_vi", "issuer_en", "signer_name", "signer_title_vi",
                "signer_title_en")


def _clean(text: str, *, lines: bool = False) -> str:
    import unicodedata

    text = unicodedata.normalize("NFC", text or "")
    if lines:  # a signer title may take two lines (KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC)
        return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    return " ".join(text.split())


def _checked(data: TemplateData, template: CertificateTemplate | None) -> TemplateData:
    values = {name: _clean(getattr(data, name), lines=name.startswith("signer_title"))
              for name in _TEXT_FIELDS}
    if not values["name"]:
        raise CertificateError(_("Give the template a name."), "name")
    if values["layout"] not in designs.LAYOUTS:
        raise CertificateError(_("Choose one of the layouts."), "layout")
    if not values["issuer_vi"]:
        raise CertificateError(_("Enter the issuing agency's name in Vietnamese."), "issuer_vi")
    same_name = db.session.scalar(select(CertificateTemplate).where(CertificateTemplate.name == values["name"]))
    if same_name is not None and same_name is not template:
        raise CertificateError(_("Another template is already called %(name)s.", name=values["name"]),
                               "name")
    if data.scope not in SCOPES:
        raise CertificateError(_("Choose where the template applies."), "scope")
    if data.scope == "agency" and not data.agency_id:
        raise CertificateError(_("Choose the agency the template applies to."), "agency_id")
    if data.scope == "course" and not data.course_id:
        raise CertificateError(_("Choose the course the template applies to."), "course_id")
    return TemplateData(**values, scope=data.scope,
                        agency_id=data.agency_id if data.scope == "agency" else None,
                        course_id=data.course_id if data.scope == "course" else None)


def _assign_scope(template: CertificateTemplate, data: TemplateData) -> None:
    """Give the template its scope, refusing one another template holds (never taken away silently)."""
    holder = None
    if data.scope != "none":
        holder = queries.template_in_scope(installation=data.scope == "installation",
                                           agency_id=data.agency_id, course_id=data.course_id)
    if holder is not None and holder is not template:
        field_name = {"installation": "scope", "agency": "agency_id", "course": "course_id"}[data.scope]
        raise CertificateError(_(
            "The template %(name)s already applies there. Edit that one, or set it to apply nowhere "
            "first.", name=holder.name), field_name)
    template.installation = True if data.scope == "installation" else None
    template.agency_id = data.agency_id
    template.course_id = data.course_id


def store_image(body: bytes, field_name: str) -> CertificateImage:
    """Keep an uploaded seal or signature (checked by content), or the identical one already kept."""
    try:
        checked = designs.check_image(body)
    except designs.ImageRejected as error:
        raise CertificateError(str(error), field_name) from error
    sha256 = hashlib.sha256(body).hexdigest()
    image = queries.image_by_sha256(sha256)
    if image is None:
        image = CertificateImage(sha256=sha256, mime_type=checked.mime_type, data=body, size=len(body),
                                 width=checked.width, height=checked.height)
        db.session.add(image)
        db.session.flush()
    return image


def drop_unused_images(image_ids: Iterable[int | None]) -> int:
    """Delete the images of ``image_ids`` that no template and no certificate points at any more."""
    ids = {image_id for image_id in image_ids if image_id is not None}
    if not ids:
        return 0
    db.session.flush()
    unused = ids - queries.images_in_use(list(ids))
    for image_id in unused:
        image = db.session.get(CertificateImage, image_id)
        if image is not None:
            db.session.delete(image)
    db.session.flush()
    return len(unused)


def _describe(template: CertificateTemplate) -> dict[str, Any]:
    return {name: getattr(template, name) for name in (*_TEXT_FIELDS, "seal_image_id",
                                                       "signature_image_id", "agency_id", "course_id")} | {
        "scope": template.scope}


def save_template(
    template: CertificateTemplate | None,
    data: TemplateData,
    *,
    actor: Any,
    seal: bytes | None = None,
    signature: bytes | None = None,
    remove_seal: bool = False,
    remove_signature: bool = False,
) -> CertificateTemplate:
    """Create (``template`` None) or change a template, its images and its scope; audited.

    Certificates already issued keep the design they were issued with; only new ones see the change.
    """
    data = _checked(data, template)
    # Images first: storing one flushes, and the template must not be flushed half-made.
    new_seal = store_image(seal, "seal") if seal else None
    new_signature = store_image(signature, "signature") if signature else None
    creating = template is None
    with db.session.no_autoflush:
        if template is None:
            template = CertificateTemplate()
            db.session.add(template)
        before = {} if creating else _describe(template)
        old_images = (template.seal_image_id, template.signature_image_id)
        for name in _TEXT_FIELDS:
            setattr(template, name, getattr(data, name))
        if new_seal is not None or remove_seal:
            template.seal_image_id = new_seal.id if new_seal is not None else None
        if new_signature is not None or remove_signature:
            template.signature_image_id = new_signature.id if new_signature is not None else None
        _assign_scope(template, data)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        # Another administrator took the same name or scope a moment ago (the unique constraints).
        raise CertificateError(_("Another administrator changed the templates at the same moment: "
                                 "reload the page and try again.")) from error
    drop_unused_images(old_images)
    after = _describe(template)
    if creating:
        audit.record("certificate_template.create", actor=actor, target=template, **after)
    else:
        changes = {key: [before[key], after[key]] for key in after if before.get(key) != after[key]}
        audit.record("certificate_template.update", actor=actor, target=template, name=template.name,
                     changes=changes)
    return template


def delete_template(template: CertificateTemplate, *, actor: Any) -> None:
    """Delete a template; certificates issued with it keep their snapshot and images."""
    images = (template.seal_image_id, template.signature_image_id)
    audit.record("certificate_template.delete", actor=actor, target=template, **_describe(template))
    db.session.delete(template)
    db.session.flush()
    drop_unused_images(images)


def count_agency_template(source: Any, *, target: Any) -> list[Any]:
    """Merge preview: the certificate template of ``source``, if it has one."""
    from lms import signals

    if queries.template_in_scope(agency_id=source.id) is None:
        return []
    return [signals.MergeCount("certificate_templates", _(
        "certificate template moves to the merged agency (it becomes a draft if that one has its own)"), 1)]


def move_agency_template(source: Any, *, target: Any, actor: Any = None) -> None:
    """Merge: the template of ``source`` applies to ``target`` now, unless ``target`` has its own; then
    it becomes a draft. Certificates already issued keep their design either way."""
    template = queries.template_in_scope(agency_id=source.id)
    if template is None:
        return
    keep_target = queries.template_in_scope(agency_id=target.id) is not None
    template.agency_id = None if keep_target else target.id
    db.session.flush()
    audit.record("certificate_template.update", actor=actor, target=template, name=template.name,
                 changes={"agency_id": [source.id, template.agency_id]}, reason="agency merged")


SAMPLE = {
    "vi": {"holder": "Nguyễn Thị Hồng Nhung", "agency": "Sở Thông tin và Truyền thông",
           "course": "Kỹ năng phát ngôn và cung cấp thông tin cho báo chí về công tác nhân quyền"},
    "en": {"holder": "Nguyễn Thị Hồng Nhung", "agency": "Department of Information and Communications",
           "course": "Spokesperson skills and providing information to the press on human-rights work"},
}


def preview_pdf(template: CertificateTemplate, lang: str) -> bytes:
    """A sample certificate printed with ``template`` (sample holder and course; a real, unused code)."""
    lang = _pdf_language(lang)
    design = template_design(template, "preview")
    code = codes.new_code()
    today = local_date(utcnow())
    sample = SAMPLE[lang]
    data = CertificateData(
        holder_name=sample["holder"], agency_name=sample["agency"], course_title=sample["course"],
        hours=8, completed_on=today, language=lang,
        issuer_name=_pick(dict(design.issuer), lang, "vi"), signer_name=design.signer_name,
        signer_title=_pick(dict(design.signer_title), lang, "vi"), code=code,
        verification_url=verification_url(code),
        issue_place=current_app.config.get("CERTIFICATE_ISSUE_PLACE") or current_app.config["PROVINCE_NAME"],
        issued_on=today, valid_until=add_months(today, 24),
        seal_image=stored_image(design.seal_image_id), signature_image=stored_image(design.signature_image_id),
        layout=design.layout,
    )
    return render_certificate_pdf(data, base_url_fetcher_root=static_root())
