"""certificate_template and certificate_image: designs administrators manage, and the design a certificate was issued with

Revision ID: 0020_certificate_templates
Revises: 0019_totp
Create Date: 2026-12-04 21:00:00

Templates (layout, issuer, signer, seal and signature images) apply to the installation, an agency
and its descendants, or a course. Images live in the database, immutable and shared by checksum;
certificates record the layout and the images they were issued with, plus a JSON snapshot of the rest.
"""
from alembic import op
import sqlalchemy as sa

from lms.db import UTCDateTime


revision = '0020_certificate_templates'
down_revision = '0019_totp'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'certificate_image',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('mime_type', sa.String(length=40), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("mime_type IN ('image/png','image/jpeg')",
                           name=op.f('ck_certificate_image_mime_type')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_image')),
        sa.UniqueConstraint('sha256', name=op.f('uq_certificate_image_sha256')),
    )
    op.create_table(
        'certificate_template',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('layout', sa.String(length=20), nullable=False),
        sa.Column('issuer_vi', sa.String(length=255), nullable=False),
        sa.Column('issuer_en', sa.String(length=255), nullable=False),
        sa.Column('signer_name', sa.String(length=200), nullable=False),
        sa.Column('signer_title_vi', sa.String(length=255), nullable=False),
        sa.Column('signer_title_en', sa.String(length=255), nullable=False),
        sa.Column('seal_image_id', sa.Integer(), nullable=True),
        sa.Column('signature_image_id', sa.Integer(), nullable=True),
        sa.Column('installation', sa.Boolean(), nullable=True),
        sa.Column('agency_id', sa.Integer(), nullable=True),
        sa.Column('course_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("layout IN ('classic','modern','plain')",
                           name=op.f('ck_certificate_template_layout')),
        sa.CheckConstraint(
            "(CASE WHEN installation IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN agency_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN course_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name=op.f('ck_certificate_template_one_scope')),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'],
                                name=op.f('fk_certificate_template_agency_id_agency'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['course_id'], ['course.id'],
                                name=op.f('fk_certificate_template_course_id_course'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['seal_image_id'], ['certificate_image.id'],
                                name=op.f('fk_certificate_template_seal_image_id_certificate_image')),
        sa.ForeignKeyConstraint(['signature_image_id'], ['certificate_image.id'],
                                name=op.f('fk_certificate_template_signature_image_id_certificate_image')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_template')),
        sa.UniqueConstraint('name', name=op.f('uq_certificate_template_name')),
        sa.UniqueConstraint('installation', name=op.f('uq_certificate_template_installation')),
        sa.UniqueConstraint('agency_id', name=op.f('uq_certificate_template_agency_id')),
        sa.UniqueConstraint('course_id', name=op.f('uq_certificate_template_course_id')),
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('layout', sa.String(length=20), nullable=False,
                                      server_default='classic'))
        batch_op.add_column(sa.Column('seal_image_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('signature_image_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('template_snapshot', sa.JSON(), nullable=False,
                                      server_default='{}'))
        batch_op.create_foreign_key(batch_op.f('fk_certificate_seal_image_id_certificate_image'),
                                    'certificate_image', ['seal_image_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_certificate_signature_image_id_certificate_image'),
                                    'certificate_image', ['signature_image_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_certificate_seal_image_id'), ['seal_image_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_signature_image_id'), ['signature_image_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_signature_image_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_seal_image_id'))
        batch_op.drop_constraint(batch_op.f('fk_certificate_signature_image_id_certificate_image'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_certificate_seal_image_id_certificate_image'),
                                 type_='foreignkey')
        batch_op.drop_column('template_snapshot')
        batch_op.drop_column('signature_image_id')
        batch_op.drop_column('seal_image_id')
        batch_op.drop_column('layout')
    op.drop_table('certificate_template')
    op.drop_table('certificate_image')
