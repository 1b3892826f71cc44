"""certificates and their stored PDFs

Revision ID: 0005_certificates
Revises: 0004_catalog_progress
Create Date: 2026-11-26 11:02:29.991740

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '0005_certificates'
down_revision = '0004_catalog_progress'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('completion_id', sa.Integer(), nullable=True),
    sa.Column('course_key', sa.String(length=60), nullable=False),
    sa.Column('course_version', sa.Integer(), nullable=False),
    sa.Column('completed_at', lms.db.UTCDateTime(), nullable=False),
    sa.Column('issued_at', lms.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', lms.db.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('revoked_at', lms.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_reason', sa.Text(), nullable=False),
    sa.Column('holder_name', sa.String(length=200), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('agency_name', sa.String(length=255), nullable=False),
    sa.Column('course_title', sa.String(length=500), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('issuer_name', sa.String(length=255), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signer_title', sa.String(length=255), nullable=False),
    sa.Column('seal_path', sa.String(length=500), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('superseded_at', lms.db.UTCDateTime(), nullable=True),
    sa.Column('reissue_reason', sa.Text(), nullable=False),
    sa.Column('expiry_handled_at', lms.db.UTCDateTime(), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('render_error', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('valid','revoked')", name=op.f('ck_certificate_status')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_certificate_agency_id_agency')),
    sa.ForeignKeyConstraint(['completion_id'], ['course_completion.id'], name=op.f('fk_certificate_completion_id_course_completion'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_certificate_course_id_course')),
    sa.ForeignKeyConstraint(['replaces_id'], ['certificate.id'], name=op.f('fk_certificate_replaces_id_certificate')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], name=op.f('fk_certificate_revoked_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['certificate.id'], name=op.f('fk_certificate_superseded_by_id_certificate')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_certificate_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('code', name=op.f('uq_certificate_code'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_completion_id'), ['completion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_replaces_id'), ['replaces_id'], unique=False)
        batch_op.create_index('ix_certificate_user_course', ['user_id', 'course_id'], unique=False)

    op.create_table('certificate_pdf',
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('rendered_at', lms.db.UTCDateTime(), nullable=False),
    sa.Column('render_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_certificate_pdf_certificate_id_certificate'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('certificate_id', name=op.f('pk_certificate_pdf'))
    )


def downgrade():
    op.drop_table('certificate_pdf')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index('ix_certificate_user_course')
        batch_op.drop_index(batch_op.f('ix_certificate_replaces_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_expires_at'))
        batch_op.drop_index(batch_op.f('ix_certificate_course_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_completion_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_agency_id'))

    op.drop_table('certificate')