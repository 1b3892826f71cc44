"""Certificates and their stored PDFs.

A certificate is a snapshot: the holder's name, agency, course title, hours, language, issuer and
signer are copied when it is issued, because that is what the paper says and what the verification
page must keep saying, whatever is later renamed. Corrections never edit a certificate in place: a
reissue makes a new one with a new code, and the old one points at it (``superseded_by_id``), so every
code ever printed still verifies to an honest answer.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    and_,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from lms.db import UTCDateTime, utcnow
from lms.extensions import Model


class CertificateStatus(enum.StrEnum):
    """What is stored; "expired" and "superseded" are computed (see :meth:`Certificate.state`)."""

    valid = "valid"
    revoked = "revoked"


class CertificateState(enum.StrEnum):
    """What the verification page says about a certificate at a given moment."""

    valid = "valid"
    expired = "expired"
    revoked = "revoked"
    superseded = "superseded"


class Certificate(Model):
    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Canonical grouped form (codes.new_code), e.g. 7KQ4-M2XD-9TRA-WP3C-H.
    code: Mapped[str] = mapped_column(String(24), unique=True)
    # Indexed by ix_certificate_user_course (user_id first).
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    completion_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_completion.id", ondelete="SET NULL"), index=True
    )
    course_key: Mapped[str] = mapped_column(String(60))
    course_version: Mapped[int] = mapped_column(Integer, default=1)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(10), default=CertificateStatus.valid.value)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoked_reason: Mapped[str] = mapped_column(Text, default="")

    # Snapshot at issue: what the PDF prints and the verification page shows.
    holder_name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    agency_name: Mapped[str] = mapped_column(String(255))
    course_title: Mapped[str] = mapped_column(String(500))
    hours: Mapped[float] = mapped_column(Float)
    lang: Mapped[str] = mapped_column(String(8))  # the PDF's language: vi or en
    score: Mapped[int | None] = mapped_column(Integer)
    issuer_name: Mapped[str] = mapped_column(String(255), default="")
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    signer_title: Mapped[str] = mapped_column(String(255), default="")
    # The course asset printed as the seal (path under files/); its bytes are read when rendering.
    seal_path: Mapped[str | None] = mapped_column(String(500))
    # The design it was issued with (designs.Design.snapshot(): source, template id and name, layout,
    # issuer, signer): the layout and the images are columns too, so the PDF never reads the template.
    layout: Mapped[str] = mapped_column(String(20), default="classic", server_default="classic")
    seal_image_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_image.id"), index=True)
    signature_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificate_image.id"), index=True
    )
    template_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # Reissue history: the corrected certificate replaces this one; codes are never reused.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reissue_reason: Mapped[str] = mapped_column(Text, default="")

    # Set when the expiry job has handled this certificate (re-certification assigned), so it runs once.
    expiry_handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    # The last rendering failure, for administrators; cleared by a successful render.
    render_error: Mapped[str] = mapped_column(Text, default="")

    user = relationship("User", foreign_keys=[user_id])
    course = relationship("Course")
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])
    replaces: Mapped[Certificate | None] = relationship(
        remote_side=[id], foreign_keys=[replaces_id]
    )
    superseded_by: Mapped[Certificate | None] = relationship(
        remote_side=[id], foreign_keys=[superseded_by_id], post_update=True
    )

    __table_args__ = (
        CheckConstraint("status IN ('valid','revoked')", name="status"),
        Index("ix_certificate_user_course", "user_id", "course_id"),
    )

    # The one expiry rule, for Python and SQL alike: ``expires_at`` is the first instant the
    # certificate is no longer valid (the paper's "valid until" is the day before), so a certificate
    # whose ``expires_at`` equals now has expired. Pages, exports, the API and jobs all read it here.
    @hybrid_method
    def has_expired(self, now: datetime) -> bool:
        """Whether the certificate's time has run out at ``now`` (``expires_at <= now``)."""
        return self.expires_at is not None and self.expires_at <= now

    @has_expired.inplace.expression  # type: ignore[attr-defined]  # hybrid_method is untyped here
    @classmethod
    def _has_expired_expression(cls, now: datetime) -> ColumnElement[bool]:
        return and_(cls.expires_at.is_not(None), cls.expires_at <= now)

    def state(self, now: datetime) -> CertificateState:
        """Revocation wins over everything, then replacement, then expiry."""
        if self.status == CertificateStatus.revoked:
            return CertificateState.revoked
        if self.superseded_by_id is not None:
            return CertificateState.superseded
        if self.has_expired(now):
            return CertificateState.expired
        return CertificateState.valid

    def public_facts(self, now: datetime) -> dict[str, Any]:
        """What anyone may learn from the code: nothing personal beyond the holder's name."""
        state = self.state(now)
        facts: dict[str, Any] = {"code": self.code, "state": state.value}
        if state == CertificateState.superseded:
            # A replaced certificate may carry a misspelt name: say only that it was replaced.
            facts["superseded_at"] = self.superseded_at
            return facts
        facts.update(
            holder_name=self.holder_name,
            course_title=self.course_title,
            hours=self.hours,
            completed_at=self.completed_at,
            issued_at=self.issued_at,
            expires_at=self.expires_at,
            issuer=self.issuer_name,
        )
        if state == CertificateState.revoked:
            facts["revoked_at"] = self.revoked_at
        return facts

    def __repr__(self) -> str:
        return f"<Certificate {self.code}>"


class CertificatePdf(Model):
    """The rendered PDF, stored in the database so that every app server can send it."""

    __tablename__ = "certificate_pdf"

    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificate.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # How long rendering took, for the bench and for spotting slow templates in production.
    render_ms: Mapped[int] = mapped_column(Integer, default=0)


class CertificateImage(Model):
    """A seal or signature image, stored in the database so that every app server prints it.

    Immutable and shared by content (``sha256``): uploading a new seal adds a row, and certificates
    keep pointing at the image they were issued with, however templates change afterwards. An image
    that no template and no certificate uses any more is deleted (services.drop_unused_images).
    """

    __tablename__ = "certificate_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    mime_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("mime_type IN ('image/png','image/jpeg')", name="mime_type"),)


class CertificateTemplate(Model):
    """A certificate design an administrator manages, and where it applies.

    At most one scope: the whole installation (``installation`` is True, else NULL, so that the unique
    constraint allows one), one agency and its descendants, or one course; none is a draft. Which
    template a certificate gets is decided by designs.resolve_design.
    """

    __tablename__ = "certificate_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    layout: Mapped[str] = mapped_column(String(20), default="classic")
    issuer_vi: Mapped[str] = mapped_column(String(255), default="")
    issuer_en: Mapped[str] = mapped_column(String(255), default="")
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    signer_title_vi: Mapped[str] = mapped_column(String(255), default="")
    signer_title_en: Mapped[str] = mapped_column(String(255), default="")
    seal_image_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_image.id"))
    signature_image_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_image.id"))
    installation: Mapped[bool | None] = mapped_column(Boolean, unique=True)
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agency.id", ondelete="SET NULL"), unique=True
    )
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("course.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    agency = relationship("Agency")
    course = relationship("Course")
    seal_image: Mapped[CertificateImage | None] = relationship(foreign_keys=[seal_image_id])
    signature_image: Mapped[CertificateImage | None] = relationship(foreign_keys=[signature_image_id])

    __table_args__ = (
        CheckConstraint("layout IN ('classic','modern','plain')", name="layout"),
        CheckConstraint(
            "(CASE WHEN installation IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN agency_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN course_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="one_scope",
        ),
    )

    @property
    def scope(self) -> str:
        """``installation``, ``agency``, ``course`` or ``none``."""
        if self.installation:
            return "installation"
        if self.agency_id is not None:
            return "agency"
        if self.course_id is not None:
            return "course"
        return "none"

    def __repr__(self) -> str:
        return f"<CertificateTemplate {self.name!r}>"
