"""assigned_course.started (whether the officer has begun the course) and covering indexes for the reports

Revision ID: 0021_pair_started
Revises: 0020_certificate_templates
Create Date: 2026-12-04 21:10:00

The reports pass over every assigned (officer, course) pair; probing lesson_progress and quiz_result
for each pair made that pass 2-3x the bare aggregate at 200,000 officers (bench/README.md). The flag
is backfilled here from the same two tables and kept up to date by lms.progress.services. The three
indexes hold every column the reports' pass reads of a pair, a completion and an officer, so SQLite
reads them from the indexes alone, as the bare aggregate does.
"""
from alembic import op
import sqlalchemy as sa


revision = '0021_pair_started'
down_revision = '0020_certificate_templates'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ALTER TABLE ADD COLUMN (batch mode would copy the table on SQLite and drop its planner
    # statistics, after which the reports' join order went wrong: 32 s at 20,000 officers).
    op.add_column('assigned_course', sa.Column('started', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(
        "UPDATE assigned_course SET started = ("
        "EXISTS (SELECT 1 FROM lesson_progress lp WHERE lp.user_id = assigned_course.user_id"
        " AND lp.course_id = assigned_course.course_id)"
        " OR EXISTS (SELECT 1 FROM quiz_result qr WHERE qr.user_id = assigned_course.user_id"
        " AND qr.course_id = assigned_course.course_id AND qr.attempts_count > 0))"
    )
    op.create_index('ix_assigned_course_report', 'assigned_course', ['user_id', 'course_id', 'due_date', 'started'])
    op.create_index('ix_course_completion_report', 'course_completion',
                    ['user_id', 'course_id', 'renewal_required_since', 'agency_id', 'completed_at', 'score', 'source'])
    op.create_index('ix_user_active_agency', 'user', ['active', 'agency_id'])


def downgrade():
    op.drop_index('ix_user_active_agency', table_name='user')
    op.drop_index('ix_course_completion_report', table_name='course_completion')
    op.drop_index('ix_assigned_course_report', table_name='assigned_course')
    with op.batch_alter_table('assigned_course') as batch_op:
        batch_op.drop_column('started')
