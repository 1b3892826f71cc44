"""user.phone: an officer's optional phone number (E.164, e.g. +84912345678)

Revision ID: 0016_user_phone
Revises: 0015_workshops_external
Create Date: 2026-12-03 13:30:00

Read from rosters (CSV/XLSX, checked against the Vietnamese numbering plan), shown on the profile and
HR's officer list, written to the officer exports and the API. Nullable: existing officers have none.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_user_phone'
down_revision = '0015_workshops_external'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('phone')
