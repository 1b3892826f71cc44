"""Reading certificates: each function returns a ``Select`` (or one object), scoped where it must be."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select
from sqlalchemy.orm import joinedload

from lms import policy
from lms.certificates.models import (
    Certificate,
    CertificateImage,
    CertificatePdf,
    CertificateStatus,
    CertificateTemplate,
)
from lms.extensions import db
from lms.org.models import Agency, User

EXPIRING_SOON_DAYS = 60


def by_code(code: str) -> Certificate | None:
    """The certificate with this canonical code, or None."""
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def _in_force() -> Any:
    return and_(
        Certificate.status == CertificateStatus.valid.value, Certificate.superseded_by_id.is_(None)
    )


def state_clause(state: str, now: datetime) -> Any:
    """SQL for the computed states of :meth:`Certificate.state` (expiry: ``Certificate.has_expired``)."""
    expired = Certificate.has_expired(now)
    return {
        "valid": and_(_in_force(), not_(expired)),
        "expired": and_(_in_force(), expired),
        "revoked": Certificate.status == CertificateStatus.revoked.value,
        "superseded": and_(
            Certificate.status == CertificateStatus.valid.value,
            Certificate.superseded_by_id.is_not(None),
        ),
        "expiring": and_(
            _in_force(), Certificate.expires_at > now,
            Certificate.expires_at <= now + timedelta(days=EXPIRING_SOON_DAYS),
        ),
    }[state]


STATES = ("valid", "expiring", "expired", "revoked", "superseded")


def user_certificates_query(user_id: int) -> Select[Certificate]:
    """An officer's certificates, newest first; replaced ones are left out (their successor shows)."""
    return (
        select(Certificate)
        .where(Certificate.user_id == user_id, Certificate.superseded_by_id.is_(None))
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )


def expiring_soon_query(
    now: datetime, within_days: int = EXPIRING_SOON_DAYS, user_id: int | None = None
) -> Select[Certificate]:
    """Certificates in force that expire within ``within_days`` (for pages and reminders)."""
    stmt = (
        select(Certificate)
        .where(_in_force(), Certificate.expires_at > now,
               Certificate.expires_at <= now + timedelta(days=within_days))
        .order_by(Certificate.expires_at)
    )
    if user_id is not None:
        stmt = stmt.where(Certificate.user_id == user_id)
    return stmt


def newly_expired_query(now: datetime) -> Select[Certificate]:
    """Certificates in force whose time ran out and that the expiry job has not handled yet."""
    return (
        select(Certificate)
        .where(_in_force(), Certificate.has_expired(now), Certificate.expiry_handled_at.is_(None))
        .options(joinedload(Certificate.user), joinedload(Certificate.course))
        .order_by(Certificate.id)
    )


def scoped_certificates_query(
    viewer: Any,
    *,
    now: datetime,
    agency: Agency | None = None,
    course_id: int | None = None,
    plan_id: int | None = None,
    state: str | None = None,
    search: str = "",
) -> Select[Certificate]:
    """Certificates of the officers in ``viewer``'s HR scope (by their current agency), filtered.

    ``agency`` narrows to that agency's subtree; the scope clause still applies, so naming an agency
    outside one's scope yields nothing rather than someone else's officers.
    """
    stmt = (
        select(Certificate)
        .join(User, User.id == Certificate.user_id)
        .join(Agency, Agency.id == User.agency_id)
        .where(policy.agency_scope_clause(viewer, Agency.path))
        .order_by(Agency.path, Certificate.holder_name, Certificate.id)
    )
    if agency is not None:
        stmt = stmt.where(Agency.path.startswith(agency.path, autoescape=True))
    if course_id:
        stmt = stmt.where(Certificate.course_id == course_id)
    if plan_id:
        stmt = stmt.where(in_plan_clause(plan_id))
    if state:
        stmt = stmt.where(state_clause(state, now))
    else:
        stmt = stmt.where(Certificate.superseded_by_id.is_(None))
    if search:
        stmt = stmt.where(or_(func.lower(Certificate.holder_name).contains(search.strip().lower(), autoescape=True),
                              Certificate.code == search.strip().upper()))
    return stmt


def in_plan_clause(plan_id: int) -> Any:
    """Certificates for a course of the plan held by an officer the plan's assignments reach.

    Activating a plan creates assignments carrying its id; ``assignment_targets`` expands them to
    officers in SQL, so this stays one query whatever the size of the plan.
    """
    from lms.progress.models import Assignment
    from lms.progress.services import assignment_targets

    targets = assignment_targets()
    return (
        select(targets.c.user_id)
        .join(Assignment, Assignment.id == targets.c.assignment_id)
        .where(
            Assignment.plan_id == plan_id,
            targets.c.user_id == Certificate.user_id,
            targets.c.course_id == Certificate.course_id,
        )
        .exists()
    )


def plan_choices() -> list[tuple[int, str]]:
    """(id, name) of the training plans, newest first; empty until the reports domain has plans."""
    if "plan" not in db.metadata.tables:
        return []
    plan = db.metadata.tables["plan"]
    rows = db.session.execute(select(plan.c.id, plan.c.name, plan.c.year)
                              .order_by(plan.c.year.desc(), plan.c.id.desc()))
    return [(plan_id, f"{name} ({year})") for plan_id, name, year in rows]


def ids_of(stmt: Select[Certificate]) -> Select[int]:
    """The same rows as ``stmt``, ids only, for archives that load them batch by batch."""
    return stmt.with_only_columns(Certificate.id)


def certificates_with_pdf_query(ids: Sequence[int]) -> Select[Certificate]:
    return (
        select(Certificate)
        .where(Certificate.id.in_(ids))
        .options(joinedload(Certificate.user))
        .order_by(Certificate.id)
    )


def stored_pdfs(ids: Sequence[int]) -> dict[int, bytes]:
    """The stored PDFs of these certificates, by certificate id (one query)."""
    rows = db.session.execute(
        select(CertificatePdf.certificate_id, CertificatePdf.data).where(
            CertificatePdf.certificate_id.in_(ids)
        )
    )
    return {certificate_id: data for certificate_id, data in rows}


def history(certificate: Certificate) -> list[Certificate]:
    """Every certificate in the reissue chain of ``certificate``, oldest first (bounded walk)."""
    chain = {certificate.id: certificate}
    rows = db.session.scalars(
        select(Certificate).where(
            Certificate.user_id == certificate.user_id,
            Certificate.course_id == certificate.course_id,
            or_(Certificate.replaces_id.is_not(None), Certificate.superseded_by_id.is_not(None)),
        )
    ).all()
    by_id = {row.id: row for row in rows}
    by_id[certificate.id] = certificate
    current = certificate
    while current.replaces_id and current.replaces_id in by_id and current.replaces_id not in chain:
        current = by_id[current.replaces_id]
        chain[current.id] = current
    current = certificate
    while (current.superseded_by_id and current.superseded_by_id in by_id
           and current.superseded_by_id not in chain):
        current = by_id[current.superseded_by_id]
        chain[current.id] = current
    return sorted(chain.values(), key=lambda row: (row.issued_at, row.id))


def transcript_rows_query(user_id: int) -> Select[Any]:
    """(completion, course, certificate code or None) for each course the officer completed."""
    from lms.catalog.models import Course
    from lms.progress.models import CourseCompletion

    current_code = (
        select(Certificate.code)
        .where(
            Certificate.user_id == CourseCompletion.user_id,
            Certificate.course_id == CourseCompletion.course_id,
            Certificate.superseded_by_id.is_(None),
            Certificate.status == CertificateStatus.valid.value,
        )
        .order_by(Certificate.issued_at.desc())
        .limit(1)
        .correlate(CourseCompletion)
        .scalar_subquery()
    )
    return (
        select(CourseCompletion, Course, current_code)
        .join(Course, Course.id == CourseCompletion.course_id)
        .where(CourseCompletion.user_id == user_id)
        .order_by(CourseCompletion.completed_at)
    )


def count_of(stmt: Select[Any]) -> Select[int]:
    """``SELECT count(*)`` over the rows of ``stmt``."""
    return select(func.count()).select_from(stmt.order_by(None).subquery())


def course_choices(lang: str) -> list[tuple[int, str]]:
    """Courses that have certificates, for filters: (id, title in ``lang`` or the original)."""
    from lms.catalog.models import Course

    rows = db.session.execute(
        select(Course.id, Course.key, Course.title)
        .where(Course.id.in_(select(Certificate.course_id).distinct()))
        .order_by(Course.key)
    )
    return [(course_id, (title or {}).get(lang) or next(iter((title or {}).values()), key))
            for course_id, key, title in rows]


def completions_without_certificate_query(course_key: str | None = None) -> Select[Any]:
    """Completions of certificate-enabled courses whose officer has no certificate for that course.

    For courses whose certificate was switched on after officers completed them, and for data loaded
    before this domain existed. Which courses print certificates is read from their settings (a few
    rows), not from JSON in SQL, which SQLite and PostgreSQL spell differently.
    """
    from lms.catalog.models import Course
    from lms.progress.models import CourseCompletion

    courses = select(Course.id, Course.certificate)
    if course_key:
        courses = courses.where(Course.key == course_key)
    enabled = [course_id for course_id, settings in db.session.execute(courses)
               if (settings or {}).get("enabled")]
    has_certificate = (
        select(Certificate.id)
        .where(Certificate.user_id == CourseCompletion.user_id,
               Certificate.course_id == CourseCompletion.course_id)
        .exists()
    )
    return (
        select(CourseCompletion)
        .where(CourseCompletion.course_id.in_(enabled), ~has_certificate)
        .options(joinedload(CourseCompletion.course), joinedload(CourseCompletion.user))
        .order_by(CourseCompletion.id)
    )


def without_pdf(stmt: Select[Certificate]) -> Select[int]:
    """Ids of the certificates of ``stmt`` that have no stored PDF yet."""
    return ids_of(stmt).where(~select(CertificatePdf.certificate_id).where(
        CertificatePdf.certificate_id == Certificate.id).exists()).order_by(Certificate.id)


# Templates -----------------------------------------------------------------------------------


def templates_for_query(course_id: int, agency_ids: Sequence[int]) -> Select[CertificateTemplate]:
    """The templates that may apply to a certificate: the course's, the agencies', the installation's."""
    return select(CertificateTemplate).where(or_(
        CertificateTemplate.course_id == course_id,
        CertificateTemplate.agency_id.in_(list(agency_ids)),
        CertificateTemplate.installation.is_(True),
    ))


def templates_query() -> Select[CertificateTemplate]:
    """Every template for the admin list: the installation's first, then by name, scope loaded."""
    return (
        select(CertificateTemplate)
        .options(joinedload(CertificateTemplate.agency), joinedload(CertificateTemplate.course))
        .order_by(CertificateTemplate.installation.is_(None), CertificateTemplate.name)
    )


def template_in_scope(*, installation: bool = False, agency_id: int | None = None,
                      course_id: int | None = None) -> CertificateTemplate | None:
    """The template that holds one scope already, or None."""
    clause: ColumnElement[bool]
    if installation:
        clause = CertificateTemplate.installation.is_(True)
    elif agency_id is not None:
        clause = CertificateTemplate.agency_id == agency_id
    else:
        clause = CertificateTemplate.course_id == course_id
    return db.session.scalar(select(CertificateTemplate).where(clause))


def image_by_sha256(sha256: str) -> CertificateImage | None:
    return db.session.scalar(select(CertificateImage).where(CertificateImage.sha256 == sha256))


def images_in_use(image_ids: Sequence[int]) -> set[int]:
    """Those of ``image_ids`` that a template or a certificate still points at."""
    ids = list(image_ids)
    used: set[int] = set()
    for column in (CertificateTemplate.seal_image_id, CertificateTemplate.signature_image_id,
                   Certificate.seal_image_id, Certificate.signature_image_id):
        used.update(db.session.scalars(select(column).where(column.in_(ids)).distinct()))
    return used


def all_course_choices(lang: str) -> list[tuple[int, str]]:
    """Every course that is not archived, for the template's course picker: (id, key · title)."""
    from lms.catalog.models import Course

    rows = db.session.execute(
        select(Course.id, Course.key, Course.title).where(Course.archived_at.is_(None)).order_by(Course.key)
    )
    return [(course_id, f"{key} · {(title or {}).get(lang) or next(iter((title or {}).values()), key)}")
            for course_id, key, title in rows]
