"""assigned_course keeps what the pair's completion says (agency, time, on time, score, source) for the reports

Revision ID: 0022_pair_completion
Revises: 0021_pair_started
Create Date: 2026-12-05 00:40:00

The reports joined every assigned pair to its completion and worked out per pair which agency it
counts for (the completion's, else the officer's); that pass stayed at 3-5x the bare aggregate and
over 1 s at 200,000 officers (bench/README.md). The pair now keeps those facts, backfilled here and
refreshed by lms.progress.services in the same transaction as every write to completions; one index
led by the agency holds every column the reports read of a pair, another the completed pairs by local day
(the reports' charts of completions per month and per week).
"""
from alembic import op
import sqlalchemy as sa


revision = '0022_pair_completion'
down_revision = '0021_pair_started'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ADD COLUMN, as in 0021 (batch mode would copy the table on SQLite).
    op.add_column('assigned_course', sa.Column('agency_id', sa.Integer(), nullable=True))
    op.add_column('assigned_course', sa.Column('completed_at', sa.DateTime(), nullable=True))
    op.add_column('assigned_course', sa.Column('completed_on', sa.Date(), nullable=True))
    op.add_column('assigned_course', sa.Column('on_time', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('assigned_course', sa.Column('score', sa.Integer(), nullable=True))
    op.add_column('assigned_course', sa.Column('elsewhere', sa.Boolean(), server_default=sa.false(), nullable=False))
    sqlite = op.get_bind().dialect.name == "sqlite"
    local_day = "date(cc.completed_at, '+7 hours')" if sqlite else "CAST(cc.completed_at + INTERVAL '7 hours' AS DATE)"
    op.execute(
        'UPDATE assigned_course SET agency_id = (SELECT u.agency_id FROM "user" u WHERE u.id = assigned_course.user_id)'
    )
    op.execute(
        "UPDATE assigned_course SET agency_id = cc.agency_id, completed_at = cc.completed_at, score = cc.score,"
        f" completed_on = {local_day},"
        " elsewhere = (cc.source != 'online'),"
        f" on_time = (assigned_course.due_date IS NULL OR {local_day} <= assigned_course.due_date)"
        " FROM course_completion cc WHERE cc.user_id = assigned_course.user_id"
        " AND cc.course_id = assigned_course.course_id AND cc.renewal_required_since IS NULL"
    )
    op.create_index('ix_assigned_course_agency', 'assigned_course',
                    ['agency_id', 'course_id', 'user_id', 'due_date', 'started', 'completed_at', 'on_time',
                     'elsewhere', 'score'])
    op.create_index('ix_assigned_course_completed', 'assigned_course',
                    ['completed_on', 'agency_id', 'course_id', 'user_id'])


def downgrade():
    op.drop_index('ix_assigned_course_completed', table_name='assigned_course')
    op.drop_index('ix_assigned_course_agency', table_name='assigned_course')
    with op.batch_alter_table('assigned_course') as batch_op:
        for column in ('elsewhere', 'score', 'on_time', 'completed_on', 'completed_at', 'agency_id'):
            batch_op.drop_column(column)
