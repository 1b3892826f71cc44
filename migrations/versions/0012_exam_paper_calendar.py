"""exam paper and calendar: questions per page, review flags, the renewal score, calendar feeds

Revision ID: 0012_exam_paper_calendar
Revises: 0011_task_run
Create Date: 2026-12-03 12:10:00

Quizzes show a set number of questions per page; an attempt keeps the questions its officer flagged
for review; a quiz result keeps the best score of the attempts made for a renewal; each officer may
have one secret calendar feed. The catalogue's summary of each quiz learns whether its scores are
shown (``review_score``), filled in here from the quiz table.
"""
from alembic import op
import sqlalchemy as sa

import lms.db


revision = '0012_exam_paper_calendar'
down_revision = '0011_task_run'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz', schema=None) as batch_op:
        batch_op.add_column(sa.Column('questions_per_page', sa.Integer(), server_default='5', nullable=False))
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flags', sa.JSON(), nullable=True))
    with op.batch_alter_table('quiz_result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewal_best_score', sa.Integer(), nullable=True))
    op.create_table(
        'calendar_feed',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', lms.db.UTCDateTime(), nullable=False),
        sa.Column('last_used_at', lms.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_calendar_feed_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feed')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feed_token_hash')),
        sa.UniqueConstraint('user_id', name=op.f('uq_calendar_feed_user_id')),
    )
    _fill_review_score()


def _fill_review_score():
    bind = op.get_bind()
    course = sa.table('course', sa.column('id', sa.Integer), sa.column('quizzes', sa.JSON))
    quiz = sa.table('quiz', sa.column('course_id', sa.Integer), sa.column('key', sa.String),
                    sa.column('review_score', sa.Boolean))
    shown = {(c, k): bool(r) for c, k, r in bind.execute(sa.select(quiz.c.course_id, quiz.c.key, quiz.c.review_score))}
    for course_id, entries in bind.execute(sa.select(course.c.id, course.c.quizzes)).all():
        if not entries:
            continue
        updated = [dict(e, review_score=shown.get((course_id, e.get('key')), True)) for e in entries]
        bind.execute(course.update().where(course.c.id == course_id).values(quizzes=updated))


def downgrade():
    op.drop_table('calendar_feed')
    with op.batch_alter_table('quiz_result', schema=None) as batch_op:
        batch_op.drop_column('renewal_best_score')
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_column('flags')
    with op.batch_alter_table('quiz', schema=None) as batch_op:
        batch_op.drop_column('questions_per_page')
