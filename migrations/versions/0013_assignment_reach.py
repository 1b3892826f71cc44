"""who each assignment reached and when; assignments of closed plans are frozen

Revision ID: 0013_assignment_reach
Revises: 0012_exam_paper_calendar
Create Date: 2026-12-03 12:10:00

An assignment now records every officer it reached (``assignment_reach``) with the local day it did;
an officer reached after the assignment's due date passed gets a later due date (``late_due``)
instead of one already in the past. When a plan closes its assignments are frozen (``frozen_at``):
they keep the officers they had reached and reach nobody new.

Rows already there are filled from what the assignments reach today, dated the day each assignment
was made (so every due date stays what it was). Assignments of plans already closed are frozen at the
moment the plan closed, without the officers whose account was created after that moment: those are
the officers the old code wrongly gave a closed plan's courses.
"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0013_assignment_reach'
down_revision = '0012_exam_paper_calendar'
branch_labels = None
depends_on = None

assignment = sa.table(
    "assignment", sa.column("id", sa.Integer), sa.column("kind", sa.String),
    sa.column("user_id", sa.Integer), sa.column("agency_id", sa.Integer),
    sa.column("include_subtree", sa.Boolean), sa.column("duty_id", sa.Integer),
    sa.column("plan_id", sa.Integer), sa.column("active", sa.Boolean),
    sa.column("created_at", lms.db.UTCDateTime()), sa.column("frozen_at", lms.db.UTCDateTime()),
)
user = sa.table("user", sa.column("id", sa.Integer), sa.column("agency_id", sa.Integer),
                sa.column("active", sa.Boolean), sa.column("created_at", lms.db.UTCDateTime()))
agency = sa.table("agency", sa.column("id", sa.Integer), sa.column("path", sa.String))
user_duty = sa.table("user_duty", sa.column("user_id", sa.Integer), sa.column("duty_id", sa.Integer))
plan = sa.table("plan", sa.column("id", sa.Integer), sa.column("status", sa.String),
                sa.column("closed_at", lms.db.UTCDateTime()))
assigned = sa.table("assigned_course", sa.column("user_id", sa.Integer), sa.column("course_id", sa.Integer))
reach = sa.table("assignment_reach", sa.column("assignment_id", sa.Integer),
                 sa.column("user_id", sa.Integer), sa.column("reached_on", sa.Date),
                 sa.column("late_due", sa.Date))
VIETNAM = timedelta(hours=7)


def _targets():
    """(assignment id, user id, assignment created_at, plan closed_at, user created_at) now reached."""
    target = agency.alias("target")
    home = agency.alias("home")
    in_agency = sa.or_(
        sa.and_(assignment.c.include_subtree.is_(True), home.c.path.like(target.c.path + "%")),
        sa.and_(assignment.c.include_subtree.is_(False), home.c.id == target.c.id),
    )
    cols = (assignment.c.id, user.c.id, assignment.c.created_at, plan.c.closed_at, user.c.created_at)

    def base(stmt):
        return stmt.outerjoin(plan, plan.c.id == assignment.c.plan_id).where(
            assignment.c.active.is_(True), user.c.active.is_(True))

    by_user = base(sa.select(*cols).select_from(assignment).join(user, user.c.id == assignment.c.user_id)
                   .where(assignment.c.kind == "user"))
    by_agency = base(sa.select(*cols).select_from(assignment)
                     .join(target, target.c.id == assignment.c.agency_id).join(home, in_agency)
                     .join(user, user.c.agency_id == home.c.id).where(assignment.c.kind == "agency"))
    by_duty = base(sa.select(*cols).select_from(assignment)
                   .join(user_duty, user_duty.c.duty_id == assignment.c.duty_id)
                   .join(user, user.c.id == user_duty.c.user_id)
                   .join(home, home.c.id == user.c.agency_id)
                   .outerjoin(target, target.c.id == assignment.c.agency_id)
                   .where(assignment.c.kind == "duty",
                          sa.or_(assignment.c.agency_id.is_(None), in_agency)))
    return sa.union_all(by_user, by_agency, by_duty)


def upgrade():
    op.create_table(
        'assignment_reach',
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('reached_on', sa.Date(), nullable=False),
        sa.Column('late_due', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'],
                                name=op.f('fk_assignment_reach_assignment_id_assignment'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_assignment_reach_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('assignment_id', 'user_id', name=op.f('pk_assignment_reach')),
    )
    with op.batch_alter_table('assignment_reach', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_reach_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frozen_at', lms.db.UTCDateTime(), nullable=True))

    bind = op.get_bind()
    rows, seen = [], set()
    for assignment_id, user_id, made_at, closed_at, joined_at in bind.execute(_targets()):
        if (assignment_id, user_id) in seen:
            continue
        if closed_at is not None and joined_at is not None and joined_at > closed_at:
            continue  # created after the plan closed: the old code assigned a closed plan's course
        seen.add((assignment_id, user_id))
        rows.append({"assignment_id": assignment_id, "user_id": user_id,
                     "reached_on": (made_at + VIETNAM).date(), "late_due": None})
    for start in range(0, len(rows), 1000):
        bind.execute(reach.insert(), rows[start:start + 1000])
    closed_at = sa.select(plan.c.closed_at).where(plan.c.id == assignment.c.plan_id).scalar_subquery()
    bind.execute(
        assignment.update()
        .where(assignment.c.plan_id.in_(sa.select(plan.c.id).where(plan.c.status == "closed")))
        .values(frozen_at=closed_at)
    )
    # The courses a closed plan gave officers created after it closed go (nothing else reaches them).
    course_of = sa.table("assignment", sa.column("id", sa.Integer), sa.column("course_id", sa.Integer),
                         sa.column("active", sa.Boolean))
    backed = (
        sa.select(reach.c.user_id)
        .select_from(reach.join(course_of, course_of.c.id == reach.c.assignment_id))
        .where(course_of.c.active.is_(True), reach.c.user_id == assigned.c.user_id,
               course_of.c.course_id == assigned.c.course_id)
    )
    bind.execute(assigned.delete().where(~backed.exists()))


def downgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('frozen_at')
    with op.batch_alter_table('assignment_reach', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_reach_user_id'))
    op.drop_table('assignment_reach')
