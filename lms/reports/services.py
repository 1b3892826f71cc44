"""Writes of the reports domain: plans, their activation, reminders. Flush only; the caller commits.

Activating a plan turns it into assignments (``progress.services.create_assignments`` with the plan's
id): one per course and target-group member. Later changes to an active plan's courses or group add or
deactivate exactly the matching assignments, and the progress domain recomputes who has what
(``refresh_assigned_courses``); officers who later join a targeted agency or gain a targeted duty get
the plan's courses through the same assignments. When an agency is merged into another, the plans'
target-group entries aimed at it move with it (``move_agency_plan_members``), as its assignments do.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from lms import audit, signals
from lms.catalog.models import Course
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import _
from lms.org.models import Agency, Duty, User
from lms.progress import services as progress
from lms.progress.models import Assignment
from lms.reports.models import (
    MemberKind,
    Plan,
    PlanCourse,
    PlanMember,
    PlanStatus,
    PlanTarget,
    TargetKind,
)


class ReportError(DomainError):
    """A domain error with a message for the user, optionally tied to a form field."""


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


@dataclass
class PlanData:
    name: str
    year: int
    description: str = ""
    due_date: date | None = None


def _check(data: PlanData) -> None:
    if not _clean(data.name):
        raise ReportError(_("The plan needs a name."), "name")
    if len(_clean(data.name)) > 200:
        raise ReportError(_("The name is too long (at most 200 characters)."), "name")
    if not 2000 <= data.year <= 2100:
        raise ReportError(_("The year must be between 2000 and 2100."), "year")


def create_plan(data: PlanData, *, actor: User) -> Plan:
    """A new draft plan (its due date, when given, is today or later: activation would refuse it)."""
    _check(data)
    if data.due_date is not None and data.due_date < _local_today():
        raise ReportError(_("The due date is in the past."), "due_date")
    plan = Plan(name=_clean(data.name), year=data.year, description=(data.description or "").strip(),
                due_date=data.due_date, created_by_id=actor.id, status=PlanStatus.draft.value)
    db.session.add(plan)
    db.session.flush()
    audit.record("reports.plan_created", actor=actor, target=plan, name=plan.name)
    return plan


def update_plan(plan: Plan, data: PlanData, *, actor: User) -> None:
    _check(data)
    if plan.status == PlanStatus.closed:
        raise ReportError(_("A closed plan can no longer be changed."))
    due_changed = data.due_date != plan.due_date
    if due_changed and data.due_date is not None and data.due_date < _local_today():
        raise ReportError(_("The due date is in the past."), "due_date")
    plan.name, plan.year = _clean(data.name), data.year
    plan.description, plan.due_date = (data.description or "").strip(), data.due_date
    if due_changed and plan.status == PlanStatus.active:
        for assignment in _plan_assignments(plan):
            assignment.due_date = data.due_date
        progress.refresh_assigned_courses(course_ids=[pc.course_id for pc in plan.courses])
    audit.record("reports.plan_updated", actor=actor, target=plan, name=plan.name)


# Courses, targets, members ---------------------------------------------------------------------


def _editable(plan: Plan) -> None:
    if plan.status == PlanStatus.closed:
        raise ReportError(_("A closed plan can no longer be changed."))


def add_course(plan: Plan, course: Course, *, actor: User) -> None:
    _editable(plan)
    if any(pc.course_id == course.id for pc in plan.courses):
        raise ReportError(_("This course is already in the plan."), "course_id")
    if plan.status == PlanStatus.active:
        for member in plan.members:
            _assign(plan, course, member, actor)
    plan.courses.append(PlanCourse(course_id=course.id, position=len(plan.courses)))
    db.session.flush()
    audit.record("reports.plan_course_added", actor=actor, target=plan, course=course.key)


def remove_course(plan: Plan, course_id: int, *, actor: User) -> None:
    _editable(plan)
    row = next((pc for pc in plan.courses if pc.course_id == course_id), None)
    if row is None:
        return
    for assignment in _plan_assignments(plan, course_id=course_id):
        progress.deactivate_assignment(assignment, actor=actor)
    plan.courses.remove(row)
    db.session.flush()
    audit.record("reports.plan_course_removed", actor=actor, target=plan, course_id=course_id)


def set_target(plan: Plan, kind: str, minimum: float | None, maximum: float | None, note: str = "",
               *, actor: User) -> PlanTarget:
    """Add a target (shares 0..1); at least one bound, minimum not above maximum."""
    _editable(plan)
    if kind not in TargetKind.__members__:
        raise ReportError(_("Unknown kind of target."), "kind")
    for name, value in (("min_value", minimum), ("max_value", maximum)):
        if value is not None and not 0 <= value <= 1:
            raise ReportError(_("A target is a percentage between 0 and 100."), name)
    if minimum is None and maximum is None:
        raise ReportError(_("Give a minimum, a maximum, or both."), "min_value")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ReportError(_("The minimum is above the maximum."), "max_value")
    target = PlanTarget(kind=kind, min_value=minimum, max_value=maximum, note=_clean(note)[:200],
                        position=len(plan.targets))
    plan.targets.append(target)
    db.session.flush()
    audit.record("reports.plan_target_set", actor=actor, target=plan, kind=kind, min=minimum, max=maximum)
    return target


def remove_target(plan: Plan, target_id: int, *, actor: User) -> None:
    _editable(plan)
    target = next((t for t in plan.targets if t.id == target_id), None)
    if target is not None:
        plan.targets.remove(target)
        db.session.flush()
        audit.record("reports.plan_target_removed", actor=actor, target=plan, kind=target.kind)


def add_member(plan: Plan, *, kind: str, actor: User, agency: Agency | None = None,
               include_subtree: bool = True, duty: Duty | None = None, user: User | None = None) -> PlanMember:
    """Add part of the target group; on an active plan the matching assignments are created."""
    _editable(plan)
    if kind == MemberKind.agency and agency is None:
        raise ReportError(_("Choose an agency."), "agency_id")
    if kind == MemberKind.duty and duty is None:
        raise ReportError(_("Choose a duty."), "duty_id")
    if kind == MemberKind.user and user is None:
        raise ReportError(_("Choose an officer."), "username")
    if kind not in MemberKind.__members__:
        raise ReportError(_("Unknown kind of target group."), "kind")
    for existing in plan.members:
        if (existing.kind, existing.agency_id, existing.duty_id, existing.user_id) == (
            kind, agency.id if agency and kind != MemberKind.user else None,
            duty.id if duty else None, user.id if user else None,
        ):
            raise ReportError(_("This is already part of the target group."), "kind")
    member = PlanMember(
        kind=kind,
        agency_id=agency.id if agency is not None and kind != MemberKind.user else None,
        include_subtree=include_subtree,
        duty_id=duty.id if duty is not None and kind == MemberKind.duty else None,
        user_id=user.id if user is not None and kind == MemberKind.user else None,
    )
    plan.members.append(member)
    db.session.flush()
    if plan.status == PlanStatus.active:
        for pc in plan.courses:
            _assign(plan, pc.course, member, actor)
    audit.record("reports.plan_member_added", actor=actor, target=plan, kind=kind,
                 agency=agency.code if agency else None, duty=duty.code if duty else None,
                 user=user.username if user else None)
    return member


def remove_member(plan: Plan, member_id: int, *, actor: User) -> None:
    """Remove part of the target group; on an active plan its assignments are deactivated (progress
    stays with the officers)."""
    _editable(plan)
    member = next((m for m in plan.members if m.id == member_id), None)
    if member is None:
        return
    if not _member_in_scope(actor, member):
        raise ReportError(_("This part of the target group is outside your agencies."))
    for assignment in _plan_assignments(plan, member=member):
        progress.deactivate_assignment(assignment, actor=actor)
    plan.members.remove(member)
    db.session.flush()
    audit.record("reports.plan_member_removed", actor=actor, target=plan, kind=member.kind)


# Activation -------------------------------------------------------------------------------


def _assign(plan: Plan, course: Course, member: PlanMember, actor: User) -> None:
    try:
        progress.create_assignments(
            course,
            kind=member.kind,
            due_date=plan.due_date,
            actor=actor,
            users=[member.user] if member.kind == MemberKind.user else (),
            agency=member.agency,
            include_subtree=member.include_subtree,
            duty=member.duty,
            plan_id=plan.id,
        )
    except progress.ProgressError as err:
        raise ReportError(err.message if hasattr(err, "message") else str(err)) from err


def _plan_assignments(plan: Plan, *, course_id: int | None = None,
                      member: PlanMember | None = None) -> list[Assignment]:
    stmt = select(Assignment).where(Assignment.plan_id == plan.id, Assignment.active.is_(True))
    if course_id is not None:
        stmt = stmt.where(Assignment.course_id == course_id)
    if member is not None:
        stmt = stmt.where(Assignment.kind == member.kind)
        if member.kind == MemberKind.user:
            stmt = stmt.where(Assignment.user_id == member.user_id)
        elif member.kind == MemberKind.agency:
            stmt = stmt.where(Assignment.agency_id == member.agency_id,
                              Assignment.include_subtree.is_(member.include_subtree))
        else:
            stmt = stmt.where(Assignment.duty_id == member.duty_id)
            stmt = stmt.where(Assignment.agency_id.is_(None) if member.agency_id is None
                              else Assignment.agency_id == member.agency_id)
    return list(db.session.scalars(stmt))


def activate_plan(plan: Plan, *, actor: User) -> int:
    """Turn a draft plan into assignments; returns how many assignment rules were created."""
    if plan.status != PlanStatus.draft:
        raise ReportError(_("Only a draft plan can be activated."))
    if not plan.courses:
        raise ReportError(_("Add at least one course before activating the plan."))
    if not plan.members:
        raise ReportError(_("Add at least one agency, duty or officer to the target group first."))
    if plan.due_date is not None and plan.due_date < utcnow().date():
        raise ReportError(_("The due date is in the past."), "due_date")
    created = 0
    for pc in plan.courses:
        for member in plan.members:
            _assign(plan, pc.course, member, actor)
            created += 1
    plan.status = PlanStatus.active.value
    plan.activated_at = utcnow()
    audit.record("reports.plan_activated", actor=actor, target=plan, assignments=created)
    return created


def close_plan(plan: Plan, *, actor: User) -> None:
    """Close a plan: its numbers stay, no more reminders; it assigns nothing new.

    Its assignments stay, so the officers they reached keep the courses, but they are frozen: the
    officers reached at this moment are the plan's target group from now on, and an officer imported,
    moved into a targeted agency or given a targeted duty later gets nothing from it.
    """
    if plan.status != PlanStatus.active:
        raise ReportError(_("Only an active plan can be closed."))
    now = utcnow()
    course_ids = [pc.course_id for pc in plan.courses]
    progress.sync_reach(course_ids=course_ids)
    frozen = 0
    for assignment in _plan_assignments(plan):
        assignment.frozen_at = now
        frozen += 1
    plan.status = PlanStatus.closed.value
    plan.closed_at = now
    db.session.flush()
    audit.record("reports.plan_closed", actor=actor, target=plan, assignments_frozen=frozen)


def course_by_key(key: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.key == key.strip()))


def _local_today():
    """Today in the province's time zone (a plan due "today" is still open until midnight there)."""
    from lms.reports.queries import local_today

    return local_today()


def _member_in_scope(actor: User, member: PlanMember) -> bool:
    """Whether ``actor`` covers everyone a target-group entry reaches (so may remove it)."""
    from lms import policy

    if policy.sees_all_agencies(actor):
        return True
    if member.kind == "user":
        target = db.session.get(User, member.user_id) if member.user_id else None
        return target is not None and policy.agency_in_scope(actor, target.agency)
    if member.agency is not None:
        return policy.agency_in_scope(actor, member.agency)
    return False  # a duty across the whole province


# Agency merges (connected by lms.reports.connect) ------------------------------------------------


def count_agency_plan_members(source: Agency, *, target: Agency) -> list[signals.MergeCount]:
    """Merge preview: the plans' target-group entries aimed at ``source``."""
    count = db.session.scalar(
        select(func.count(func.distinct(PlanMember.plan_id))).where(PlanMember.agency_id == source.id)
    ) or 0
    return [signals.MergeCount("plans", _("training plans move their target group"), count)]


def move_agency_plan_members(source: Agency, *, target: Agency, actor: User | None = None) -> None:
    """Merge: target-group entries aimed at ``source`` now aim at ``target``, like its assignments.

    An entry the plan already has for ``target`` (same kind, subtree and duty) is not doubled: the
    source's copy is dropped, the target's one reaches the merged officers."""
    twin = aliased(PlanMember)
    same_on_target = exists().where(
        twin.plan_id == PlanMember.plan_id,
        twin.agency_id == target.id,
        twin.kind == PlanMember.kind,
        twin.include_subtree == PlanMember.include_subtree,
        or_(twin.duty_id == PlanMember.duty_id, and_(twin.duty_id.is_(None), PlanMember.duty_id.is_(None))),
    )
    db.session.execute(
        delete(PlanMember)
        .where(PlanMember.agency_id == source.id, same_on_target)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(PlanMember)
        .where(PlanMember.agency_id == source.id)
        .values(agency_id=target.id)
        .execution_options(synchronize_session=False)
    )
