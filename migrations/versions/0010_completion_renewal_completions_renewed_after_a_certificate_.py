"""completions renewed after a certificate expires

Revision ID: 0010_completion_renewal
Revises: 0009_quiz_result_awaiting
Create Date: 2026-11-26 12:24:11.404850

A completion whose certificate expired now waits for renewal (``renewal_required_since``) and keeps the
start of its renewal cycle (``cycle_started_at``); a quiz result keeps when its latest pass was submitted
(``last_passed_at``), which a renewal compares with the moment the certificate expired. Rows already
there are filled from the certificates the expiry job has handled and from the attempts.
"""
import sqlalchemy as sa
from alembic import op

import lms.db

# revision identifiers, used by Alembic.
revision = '0010_completion_renewal'
down_revision = '0009_quiz_result_awaiting'
branch_labels = None
depends_on = None

completion = sa.table(
    "course_completion", sa.column("user_id", sa.Integer), sa.column("course_id", sa.Integer),
    sa.column("renewal_required_since", sa.DateTime), sa.column("cycle_started_at", sa.DateTime),
)
certificate = sa.table(
    "certificate", sa.column("user_id", sa.Integer), sa.column("course_id", sa.Integer),
    sa.column("status", sa.String), sa.column("superseded_by_id", sa.Integer),
    sa.column("expires_at", sa.DateTime), sa.column("expiry_handled_at", sa.DateTime),
)
quiz_result = sa.table(
    "quiz_result", sa.column("user_id", sa.Integer), sa.column("course_id", sa.Integer),
    sa.column("quiz_key", sa.String), sa.column("passed", sa.Boolean),
    sa.column("last_passed_at", sa.DateTime),
)
attempt = sa.table(
    "quiz_attempt", sa.column("user_id", sa.Integer), sa.column("quiz_id", sa.Integer),
    sa.column("status", sa.String), sa.column("passed", sa.Boolean),
    sa.column("submitted_at", sa.DateTime),
)
quiz = sa.table("quiz", sa.column("id", sa.Integer), sa.column("course_id", sa.Integer),
                sa.column("key", sa.String))


def _certificates_of_this_completion(*columns, handled):
    """SELECT columns FROM the current certificates (in force, not replaced) of the completion row."""
    return sa.select(*columns).where(
        certificate.c.user_id == completion.c.user_id,
        certificate.c.course_id == completion.c.course_id,
        certificate.c.status == "valid",
        certificate.c.superseded_by_id.is_(None),
        certificate.c.expiry_handled_at.is_not(None) if handled else certificate.c.expiry_handled_at.is_(None),
    )


def upgrade():
    with op.batch_alter_table('course_completion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewal_required_since', lms.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('cycle_started_at', lms.db.UTCDateTime(), nullable=True))

    with op.batch_alter_table('quiz_result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_passed_at', lms.db.UTCDateTime(), nullable=True))

    # Completions whose certificate the expiry job already handled (and that hold no certificate still
    # in force) need renewal since that certificate expired.
    expired_at = _certificates_of_this_completion(sa.func.max(certificate.c.expires_at), handled=True)
    op.execute(
        sa.update(completion)
        .values(renewal_required_since=expired_at.scalar_subquery(),
                cycle_started_at=expired_at.scalar_subquery())
        .where(_certificates_of_this_completion(sa.literal(1), handled=True).exists(),
               ~_certificates_of_this_completion(sa.literal(1), handled=False).exists())
    )
    latest_pass = (
        sa.select(sa.func.max(attempt.c.submitted_at))
        .select_from(attempt.join(quiz, quiz.c.id == attempt.c.quiz_id))
        .where(attempt.c.user_id == quiz_result.c.user_id, quiz.c.course_id == quiz_result.c.course_id,
               quiz.c.key == quiz_result.c.quiz_key, attempt.c.status == "graded",
               attempt.c.passed.is_(True))
    )
    op.execute(
        sa.update(quiz_result)
        .values(last_passed_at=latest_pass.scalar_subquery())
        .where(quiz_result.c.passed.is_(True))
    )


def downgrade():
    with op.batch_alter_table('quiz_result', schema=None) as batch_op:
        batch_op.drop_column('last_passed_at')

    with op.batch_alter_table('course_completion', schema=None) as batch_op:
        batch_op.drop_column('cycle_started_at')
        batch_op.drop_column('renewal_required_since')
