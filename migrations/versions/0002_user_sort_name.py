"""user sort name in Vietnamese order

Revision ID: 0002_user_sort_name
Revises: 0001_organisation
Create Date: 2026-11-26 10:55:48

"""
from alembic import op
import sqlalchemy as sa

from lms.text import person_sort_text


# revision identifiers, used by Alembic.
revision = '0002_user_sort_name'
down_revision = '0001_organisation'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_name', sa.String(length=255), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_user_sort_name'), ['sort_name'], unique=False)
    users = sa.table('user', sa.column('id', sa.Integer), sa.column('full_name', sa.String),
                     sa.column('sort_name', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.full_name)).all()
    for user_id, full_name in rows:
        connection.execute(sa.update(users).where(users.c.id == user_id)
                           .values(sort_name=person_sort_text(full_name or '')))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sort_name'))
        batch_op.drop_column('sort_name')
