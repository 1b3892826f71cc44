"""quiz results count attempts awaiting grading, and are rebuilt from the attempts

Revision ID: 0009_quiz_result_awaiting
Revises: 0008_reports
Create Date: 2026-11-26 11:36:49.369290

Until now a quiz result was a running maximum: a regrade added to ``attempts_count`` again and never
lowered ``best_score``. The result is now recomputed from the attempts; this migration does the same
once for the rows already there. Completions are left alone (they are never withdrawn silently).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_quiz_result_awaiting'
down_revision = '0008_reports'
branch_labels = None
depends_on = None

quiz_result = sa.table(
    "quiz_result", sa.column("user_id", sa.Integer), sa.column("course_id", sa.Integer),
    sa.column("quiz_key", sa.String), sa.column("best_score", sa.Integer),
    sa.column("passed", sa.Boolean), sa.column("passed_at", sa.DateTime),
    sa.column("attempts_count", sa.Integer), sa.column("awaiting_grading", sa.Integer),
)
attempt = sa.table(
    "quiz_attempt", sa.column("user_id", sa.Integer), sa.column("quiz_id", sa.Integer),
    sa.column("status", sa.String), sa.column("score", sa.Float), sa.column("passed", sa.Boolean),
)
quiz = sa.table("quiz", sa.column("id", sa.Integer), sa.column("course_id", sa.Integer),
                sa.column("key", sa.String))


def _of_this_result(*columns, status):
    """SELECT columns FROM the attempts behind the quiz_result row being updated."""
    return (
        sa.select(*columns)
        .select_from(attempt.join(quiz, quiz.c.id == attempt.c.quiz_id))
        .where(attempt.c.user_id == quiz_result.c.user_id,
               quiz.c.course_id == quiz_result.c.course_id,
               quiz.c.key == quiz_result.c.quiz_key, status)
    )


def upgrade():
    with op.batch_alter_table('quiz_result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('awaiting_grading', sa.Integer(), server_default='0', nullable=False))

    finished = attempt.c.status != "in_progress"
    graded = attempt.c.status == "graded"
    best = sa.func.max(attempt.c.score)
    # SQLite builds without the math functions lack floor(); there CAST truncates, which is the
    # floor of a non-negative score. PostgreSQL's CAST rounds, so it gets floor().
    if op.get_bind().dialect.name == "postgresql":
        best = sa.func.floor(best)
    op.execute(
        sa.update(quiz_result)
        .values(
            attempts_count=_of_this_result(sa.func.count(), status=finished).scalar_subquery(),
            awaiting_grading=_of_this_result(
                sa.func.count(), status=attempt.c.status == "needs_grading").scalar_subquery(),
            best_score=sa.func.coalesce(
                _of_this_result(sa.cast(best, sa.Integer), status=graded).scalar_subquery(), 0),
            passed=_of_this_result(sa.literal(1), status=sa.and_(
                graded, attempt.c.passed.is_(True))).exists(),
        )
        .where(_of_this_result(sa.literal(1), status=finished).exists())
    )
    op.execute(sa.update(quiz_result).values(passed_at=None).where(quiz_result.c.passed.is_(False)))


def downgrade():
    with op.batch_alter_table('quiz_result', schema=None) as batch_op:
        batch_op.drop_column('awaiting_grading')
