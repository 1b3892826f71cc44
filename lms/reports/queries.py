"""Report reads: a few aggregate SQL statements per report, always within the viewer's agency scope.

Everything starts from :func:`pair_facts`, one row per assigned (officer, course) pair with its state
as 0/1 columns; reports GROUP BY over it in the database. A completed pair is attributed to the agency
recorded on the completion (``CourseCompletion.agency_id``: where the officer worked when they
completed), every other pair to the officer's current agency, so a merger or a transfer never moves
finished training to another agency's numbers. Subtree totals are added up over agencies (a few
hundred rows), never over officers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CompoundSelect,
    Select,
    and_,
    case,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.sql import ColumnElement

from lms import policy
from lms.catalog.models import Course
from lms.db import local_day, utcnow
from lms.extensions import db
from lms.org.models import Agency, User, user_duty
from lms.progress.models import (
    AssignedCourse,
    Assignment,
    AssignmentReach,
    CourseCompletion,
    LessonProgress,
    QuizResult,
)
from lms.reports.models import Plan, PlanCourse, PlanMember, PlanTarget, TargetKind
from lms.reports.targets import Status, TargetResult, product_parts, share, target_status

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_today() -> date:
    """Today in Vietnam (due dates are local calendar days)."""
    return utcnow().astimezone(LOCAL_TZ).date()


@dataclass(frozen=True)
class Filters:
    """What a report is limited to. Dates limit which completions count (by completion day)."""

    plan_id: int | None = None
    course_id: int | None = None
    agency_kind: str | None = None
    duty_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    today: date = field(default_factory=local_today)

    def with_(self, **changes: Any) -> Filters:
        return replace(self, **changes)


def _dialect() -> str:
    return db.engine.dialect.name


def _local_day(column: Any) -> ColumnElement[Any]:
    """The local (UTC+7) calendar day of a stored UTC datetime, as a date-comparable SQL value."""
    return local_day(column, _dialect())


def _utc_bound(day: date) -> datetime:
    """The UTC instant at which local ``day`` starts."""
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).astimezone(ZoneInfo("UTC"))


def plan_user_ids(plan_id: int) -> CompoundSelect[Any]:
    """SELECT user_id of the active officers a plan's target group reaches (one UNION).

    An open plan's group is what its members reach now; a closed plan's group is who its assignments
    had reached when it closed (``AssignmentReach``), so officers imported, moved or given a duty after
    the close never enter its figures."""
    member_agency = Agency.__table__.alias("member_agency")
    home = Agency.__table__.alias("home_agency")
    in_agency = or_(
        and_(PlanMember.include_subtree.is_(True), home.c.path.startswith(member_agency.c.path)),
        and_(PlanMember.include_subtree.is_(False), home.c.id == member_agency.c.id),
    )
    active = User.active.is_(True)
    by_user = select(User.id.label("user_id")).join(PlanMember, PlanMember.user_id == User.id).where(
        PlanMember.plan_id == plan_id, PlanMember.kind == "user", active
    )
    # plan_member is joined before the agency whose ON clause reads it (PostgreSQL insists).
    by_agency = (
        select(User.id.label("user_id"))
        .join(home, home.c.id == User.agency_id)
        .join(PlanMember, and_(PlanMember.plan_id == plan_id, PlanMember.kind == "agency"))
        .join(member_agency, and_(member_agency.c.id == PlanMember.agency_id, in_agency))
        .where(active)
    )
    by_duty = (
        select(User.id.label("user_id"))
        .join(user_duty, user_duty.c.user_id == User.id)
        .join(PlanMember, PlanMember.duty_id == user_duty.c.duty_id)
        .join(home, home.c.id == User.agency_id)
        .outerjoin(member_agency, member_agency.c.id == PlanMember.agency_id)
        .where(PlanMember.plan_id == plan_id, PlanMember.kind == "duty", active,
               or_(PlanMember.agency_id.is_(None), in_agency))
    )
    is_open = select(Plan.id).where(Plan.id == plan_id, Plan.status != "closed").exists()
    by_user, by_agency, by_duty = (part.where(is_open) for part in (by_user, by_agency, by_duty))
    frozen = (
        select(AssignmentReach.user_id.label("user_id"))
        .join(Assignment, Assignment.id == AssignmentReach.assignment_id)
        .join(User, User.id == AssignmentReach.user_id)
        .join(Plan, Plan.id == Assignment.plan_id)
        .where(Assignment.plan_id == plan_id, Plan.status == "closed", active)
    )
    return union(by_user, by_agency, by_duty, frozen)


def pair_facts(viewer: Any, filters: Filters, *, of_agency: int | None = None,
               within: Agency | None = None) -> Any:
    """Subquery: one row per assigned (officer, course) pair in ``viewer``'s scope, with the pair's
    attributed agency and 0/1 columns completed, on_time, in_progress, not_started, overdue, plus the
    completion score. ``of_agency``: only the officers who may have pairs attributed to that agency
    (working there now, or with a completion earned there), found by index instead of a pass over
    every pair; the caller still selects ``agency_id == of_agency``. ``within``: only the pairs
    attributed to that agency's subtree (a drill-down), the same way."""
    if not (filters.date_from or filters.date_to):
        return _stored_pair_facts(viewer, filters, of_agency=of_agency, within=within)
    return _live_pair_facts(viewer, filters, of_agency=of_agency, within=within)


def _stored_pair_facts(viewer: Any, filters: Filters, *, of_agency: int | None = None,
                       within: Agency | None = None) -> Any:
    """:func:`pair_facts` from what the pair keeps of its completion (``AssignedCourse.agency_id``,
    ``completed_at`` ...: refreshed by every write to completions), read from one index led by the
    agency, with no join to the completions. Without a date range that is the same as the live pass."""
    ac = AssignedCourse
    done = ac.completed_at.is_not(None)
    started = ac.started.is_(True)
    stmt = (
        select(
            ac.user_id,
            ac.course_id,
            ac.due_date,
            ac.agency_id.label("agency_id"),
            case((done, 1), else_=0).label("completed"),
            case((ac.elsewhere.is_(True), 1), else_=0).label("elsewhere"),
            case((ac.on_time.is_(True), 1), else_=0).label("on_time"),
            case((and_(~done, started), 1), else_=0).label("in_progress"),
            case((and_(~done, ~started), 1), else_=0).label("not_started"),
            case((and_(~done, ac.due_date < filters.today), 1), else_=0).label("overdue"),
            ac.score.label("score"),
            ac.completed_at.label("completed_at"),
            ac.completed_on.label("completed_on"),
        )
        .select_from(ac)
        .join(Agency, Agency.id == ac.agency_id)
        .where(policy.agency_scope_clause(viewer, Agency.path))
    )
    # No join to the officer for ``active``: the rebuild gives pairs only to active officers, and
    # disabling one rebuilds their pairs (tests/pairs.py checks both after every test); the join
    # was half of this pass.
    if of_agency is not None:
        stmt = stmt.where(ac.agency_id == of_agency)
    if within is not None:
        stmt = stmt.where(Agency.path.startswith(within.path, autoescape=True))
    stmt = _filter_pairs(stmt, filters, ac.user_id, ac.course_id)
    return stmt.subquery("facts")


def _live_pair_facts(viewer: Any, filters: Filters, *, of_agency: int | None = None,
                     within: Agency | None = None) -> Any:
    """:func:`pair_facts` joined to the completions as they are: a date range changes which
    completions count, and so which agency a pair counts for."""
    cc = CourseCompletion.__table__.alias("cc")
    join_cc = [cc.c.user_id == AssignedCourse.user_id, cc.c.course_id == AssignedCourse.course_id]
    if filters.date_from:
        join_cc.append(cc.c.completed_at >= _utc_bound(filters.date_from))
    if filters.date_to:
        join_cc.append(cc.c.completed_at < _utc_bound(filters.date_to + timedelta(days=1)))
    # Whether the officer began the course is kept on the pair (AssignedCourse.started, refreshed by
    # every write to lesson progress and quiz results): two index probes per pair made this pass
    # 2-3x the bare aggregate at 200,000 officers (bench/README.md).
    started = AssignedCourse.started.is_(True)
    # A completion whose certificate expired waits for renewal: until the officer completes the course
    # again it counts as not completed (and belongs to the officer's current agency), like any open pair.
    done = and_(cc.c.id.is_not(None), cc.c.renewal_required_since.is_(None))
    attributed = func.coalesce(case((done, cc.c.agency_id)), User.agency_id)
    on_time = and_(done, or_(AssignedCourse.due_date.is_(None),
                             _local_day(cc.c.completed_at) <= AssignedCourse.due_date))
    stmt = (
        select(
            AssignedCourse.user_id,
            AssignedCourse.course_id,
            AssignedCourse.due_date,
            attributed.label("agency_id"),
            case((done, 1), else_=0).label("completed"),
            # Completed by attending a workshop or with a certificate from elsewhere (shown apart).
            case((and_(done, cc.c.source != "online"), 1), else_=0).label("elsewhere"),
            case((on_time, 1), else_=0).label("on_time"),
            case((and_(~done, started), 1), else_=0).label("in_progress"),
            case((and_(~done, ~started), 1), else_=0).label("not_started"),
            case((and_(~done, AssignedCourse.due_date < filters.today), 1), else_=0).label("overdue"),
            case((done, cc.c.score)).label("score"),
            case((done, cc.c.completed_at)).label("completed_at"),
            case((done, _local_day(cc.c.completed_at))).label("completed_on"),
        )
        .select_from(AssignedCourse)
        .join(User, User.id == AssignedCourse.user_id)
        .outerjoin(cc, and_(*join_cc))
        .join(Agency, Agency.id == attributed)
        .where(User.active.is_(True), policy.agency_scope_clause(viewer, Agency.path))
    )
    if of_agency is not None:
        stmt = stmt.where(or_(
            User.agency_id == of_agency,
            AssignedCourse.user_id.in_(select(CourseCompletion.user_id).where(CourseCompletion.agency_id == of_agency)),
        ))
    if within is not None:
        subtree = select(Agency.id).where(Agency.path.startswith(within.path, autoescape=True))
        stmt = stmt.where(
            Agency.path.startswith(within.path, autoescape=True),
            AssignedCourse.user_id.in_(union(
                select(User.id).where(User.agency_id.in_(subtree)),
                select(CourseCompletion.user_id).where(CourseCompletion.agency_id.in_(subtree)),
            )),
        )
    stmt = _filter_pairs(stmt, filters, AssignedCourse.user_id, AssignedCourse.course_id)
    return stmt.subquery("facts")


def _probed(column: Any) -> Any:
    """``column`` as an expression SQLite will not use an index for (``+ 0``): an ``IN (group of
    officers)`` test then probes the group row by row while the statement reads its rows in the
    order of the index it groups by, instead of looking the officers up one by one and sorting
    (the plan dashboard's pass at 20,000 officers: 51 -> 34 ms). PostgreSQL plans a hash join
    either way and gets the column as it is."""
    return column + 0 if _dialect() == "sqlite" else column


def _filter_pairs(stmt: Any, filters: Filters, user_col: Any, course_col: Any) -> Any:
    if filters.plan_id:
        stmt = stmt.where(
            course_col.in_(select(PlanCourse.course_id).where(PlanCourse.plan_id == filters.plan_id)),
            _probed(user_col).in_(plan_user_ids(filters.plan_id)),
        )
    if filters.course_id:
        stmt = stmt.where(course_col == filters.course_id)
    if filters.duty_id:
        stmt = stmt.where(_probed(user_col).in_(
            select(user_duty.c.user_id).where(user_duty.c.duty_id == filters.duty_id)))
    if filters.agency_kind:
        stmt = stmt.where(Agency.kind == filters.agency_kind)
    return stmt


# Sums shared by every grouping --------------------------------------------------------------


@dataclass
class Counts:
    officers: int = 0
    assigned: int = 0
    completed: int = 0
    on_time: int = 0
    in_progress: int = 0
    not_started: int = 0
    overdue: int = 0
    score_sum: float = 0.0
    score_count: int = 0
    # Of ``completed``: by an in-person workshop or an external certificate, not on the platform.
    completed_elsewhere: int = 0

    def add(self, other: Counts) -> None:
        # Spelled out: a report adds up a few thousand of these (a loop over the fields with
        # getattr/setattr was a tenth of the agency page's time).
        self.officers += other.officers
        self.assigned += other.assigned
        self.completed += other.completed
        self.on_time += other.on_time
        self.in_progress += other.in_progress
        self.not_started += other.not_started
        self.overdue += other.overdue
        self.score_sum += other.score_sum
        self.score_count += other.score_count
        self.completed_elsewhere += other.completed_elsewhere

    @property
    def completion_rate(self) -> float | None:
        return share(self.completed, self.assigned)

    @property
    def on_time_rate(self) -> float | None:
        return share(self.on_time, self.assigned)

    @property
    def average_score(self) -> float | None:
        return self.score_sum / self.score_count if self.score_count else None


def _sums(facts: Any) -> list[Any]:
    return [
        func.count().label("assigned"),
        func.coalesce(func.sum(facts.c.completed), 0).label("completed"),
        func.coalesce(func.sum(facts.c.on_time), 0).label("on_time"),
        # Not started is counted by difference in _counts (every pair is exactly one of completed, in
        # progress, not started): SQLite evaluates the "started" probes once per CASE that reads them.
        func.coalesce(func.sum(facts.c.in_progress), 0).label("in_progress"),
        func.coalesce(func.sum(facts.c.overdue), 0).label("overdue"),
        func.coalesce(func.sum(facts.c.score), 0).label("score_sum"),
        func.count(facts.c.score).label("score_count"),
        func.coalesce(func.sum(facts.c.elsewhere), 0).label("elsewhere"),
    ]


def _counts(row: Any, officers: int = 0) -> Counts:
    completed, in_progress = int(row.completed), int(row.in_progress)
    return Counts(
        officers=officers, assigned=row.assigned, completed=completed, on_time=int(row.on_time),
        in_progress=in_progress, not_started=row.assigned - completed - in_progress, overdue=int(row.overdue),
        score_sum=float(row.score_sum or 0), score_count=row.score_count,
        completed_elsewhere=int(getattr(row, "elsewhere", 0) or 0),
    )


# Agency report ----------------------------------------------------------------------------


@dataclass
class AgencyRow:
    agency: Agency
    counts: Counts
    has_children: bool = False
    direct: bool = False  # the parent's own officers, without its sub-agencies
    status: Status | None = None


@dataclass
class AgencyReport:
    parent: Agency | None
    rows: list[AgencyRow]
    total: Counts
    breadcrumb: list[Agency]
    # Every pair and officer added up (the viewer's whole scope without a parent, the parent's subtree
    # with one) and completions per month when asked for: what the plan targets and the chart read
    # without another pass.
    scope: Counts = field(default_factory=Counts)
    per_month: list[tuple[date, int]] | None = None
    # Of ``scope.officers``: those who completed all of the plan's courses (when asked with plan_courses).
    officers_done: int | None = None


def _plan_done(plan_id: int) -> Any:
    """Subquery: per officer, how many of the plan's courses they have completed (not awaiting renewal)."""
    return (
        select(CourseCompletion.user_id, func.count().label("n"))
        .where(CourseCompletion.course_id.in_(select(PlanCourse.course_id).where(PlanCourse.plan_id == plan_id)),
               CourseCompletion.renewal_required_since.is_(None))
        .group_by(CourseCompletion.user_id)
        .subquery("done")
    )


def _officer_counts(viewer: Any, filters: Filters, within: Agency | None = None, *,
                    plan_courses: int | None = None) -> tuple[dict[int, int], int]:
    """Active officers per agency in scope, and with ``plan_courses`` (the plan's number of courses)
    how many of them completed all of them: the plan's officers-completed target, from the same
    statement (the plan's target group is a UNION that costs a third of the dashboard at 200,000)."""
    columns: list[Any] = [User.agency_id, func.count()]
    done = None
    if plan_courses is not None and filters.plan_id:
        done = _plan_done(filters.plan_id)
        columns.append(func.coalesce(func.sum(case((done.c.n >= plan_courses, 1), else_=0)), 0))
    stmt = (
        select(*columns)
        .join(Agency, Agency.id == User.agency_id)
        .where(User.active.is_(True), policy.agency_scope_clause(viewer, Agency.path))
        .group_by(User.agency_id)
    )
    if done is not None:
        stmt = stmt.outerjoin(done, done.c.user_id == User.id)
    if within is not None:
        stmt = stmt.where(Agency.path.startswith(within.path, autoescape=True))
    if filters.plan_id:
        stmt = stmt.where(User.id.in_(plan_user_ids(filters.plan_id)))
    if filters.duty_id:
        stmt = stmt.where(User.id.in_(select(user_duty.c.user_id).where(user_duty.c.duty_id == filters.duty_id)))
    if filters.agency_kind:
        stmt = stmt.where(Agency.kind == filters.agency_kind)
    rows = db.session.execute(stmt).all()
    completed = sum(int(row[2]) for row in rows) if done is not None and plan_courses else 0
    return {row[0]: row[1] for row in rows}, completed


def agency_counts(viewer: Any, filters: Filters, *, months: int | None = None
                  ) -> tuple[dict[int, Agency], dict[int, Counts]]:
    """Counts per agency (own officers and pairs only) and the agencies in scope: three statements.
    With ``months``, the same pass also counts completions per local month (see :func:`agency_pass`)."""
    agencies, own, _per_month, _done = agency_pass(viewer, filters, months=months)
    return agencies, own


def _month_window(filters: Filters, months: int) -> tuple[date, date]:
    """The first day of the first of the last ``months`` months up to the end of the range (or today)."""
    end = filters.date_to or filters.today
    first = date(end.year, end.month, 1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return first, end


def _month_series(counts: dict[str, int], first: date, end: date) -> list[tuple[date, int]]:
    out = []
    cursor = first
    while cursor <= end:
        out.append((cursor, counts.get(cursor.strftime("%Y-%m"), 0)))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return out


def _completions_by_day(facts: Any, first: date | None, end: date) -> dict[date, int]:
    """Completed pairs per local day from ``first`` (or ever) to ``end``: grouped by the stored day,
    which the pairs' index holds in order (no per-pair date arithmetic, no sort)."""
    day = facts.c.completed_on
    stmt = select(day, func.count()).where(day.is_not(None), day <= end)
    if first is not None:
        stmt = stmt.where(day >= first)
    rows = db.session.execute(stmt.group_by(day)).all()
    # The live pass computes the day in SQL: SQLite gives it as text.
    return {(d if isinstance(d, date) else date.fromisoformat(str(d)[:10])): int(n) for d, n in rows}


def _per_month(per_day: dict[date, int]) -> dict[str, int]:
    months: dict[str, int] = defaultdict(int)
    for day, number in per_day.items():
        months[day.strftime("%Y-%m")] += number
    return months


def agency_pass(viewer: Any, filters: Filters, *, months: int | None = None, within: Agency | None = None,
                plan_courses: int | None = None
                ) -> tuple[dict[int, Agency], dict[int, Counts], list[tuple[date, int]] | None, int]:
    """Counts per agency, the agencies in scope and, with ``months``, completions per local month:
    one pass over the pairs (grouped by agency and the completion's month when it falls in the
    window), so a page that shows both never aggregates the pairs twice (bench/README.md).
    ``within``: only the pairs and officers of that agency's subtree (a drill-down). ``plan_courses``:
    also count the officers who completed all of the plan's courses (the last value returned)."""
    facts = pair_facts(viewer, filters, within=within)
    grouped = db.session.execute(select(facts.c.agency_id, *_sums(facts)).group_by(facts.c.agency_id)).all()
    window: tuple[date, date] | None = None
    per_month: dict[str, int] = {}
    if months:
        # Apart from the pass: grouping it by month as well made SQLite sort every pair (a temporary
        # B-tree for the GROUP BY); this reads the pairs completed in the window by their local day.
        window = _month_window(filters, months)
        per_month = _per_month(_completions_by_day(facts, *window))
    officers, officers_done = _officer_counts(viewer, filters, within, plan_courses=plan_courses)
    agencies = {
        a.id: a
        for a in db.session.scalars(
            select(Agency).where(policy.agency_scope_clause(viewer)).order_by(Agency.depth, Agency.name_vi)
        )
    }
    own: dict[int, Counts] = {row.agency_id: _counts(row) for row in grouped}
    for agency_id, number in officers.items():
        own.setdefault(agency_id, Counts()).officers = number
    return agencies, own, (_month_series(per_month, *window) if window else None), officers_done


def _ancestors(agency: Agency) -> list[int]:
    return [int(part) for part in agency.path.strip("/").split("/") if part]


def breadcrumb(viewer: Any, agency: Agency) -> list[Agency]:
    """The agencies from the top of ``viewer``'s scope down to ``agency`` (one small statement), as
    :attr:`AgencyReport.breadcrumb` has them, without adding up any pairs."""
    ids = _ancestors(agency)
    found = {a.id: a for a in db.session.scalars(
        select(Agency).where(Agency.id.in_(ids), policy.agency_scope_clause(viewer)))}
    return [found[i] for i in ids if i in found]


def agency_report(viewer: Any, filters: Filters, parent: Agency | None = None,
                  *, target: float | None = None, start: date | None = None,
                  due: date | None = None, months: int | None = None,
                  plan_courses: int | None = None) -> AgencyReport:
    """Rows for the children of ``parent`` (or the top agencies of the scope), each with its whole
    subtree's numbers, plus a row for the parent's own officers; with the total. With ``months``,
    also the completions per month (:func:`completions_per_month`) from the same pass (those of the
    parent's subtree: a page that charts the whole scope under a drill-down asks for them apart)."""
    # A drill-down adds up only the pairs of the parent's subtree.
    agencies, own, per_month, officers_done = agency_pass(viewer, filters, months=months, within=parent,
                                                          plan_courses=plan_courses)
    scope = Counts()
    for counts in own.values():
        scope.add(counts)
    subtree: dict[int, Counts] = defaultdict(Counts)
    for agency_id, counts in own.items():
        agency = agencies.get(agency_id)
        if agency is None:
            continue
        for ancestor in _ancestors(agency):
            subtree[ancestor].add(counts)
    children_of: dict[int | None, list[Agency]] = defaultdict(list)
    for agency in agencies.values():
        parent_id = agency.parent_id if agency.parent_id in agencies else None
        children_of[parent_id].append(agency)

    def visible(agency: Agency) -> bool:
        counts = subtree.get(agency.id)
        return agency.active or bool(counts and (counts.assigned or counts.officers))

    rows: list[AgencyRow] = []
    if parent is not None:
        mine = own.get(parent.id)
        if mine and (mine.assigned or mine.officers):
            rows.append(AgencyRow(parent, mine, direct=True))
        total = subtree.get(parent.id, Counts())
    else:
        total = Counts()
    kids = [a for a in children_of[parent.id if parent else None] if visible(a)]
    kids.sort(key=lambda a: a.name_vi)
    for agency in kids:
        counts = subtree.get(agency.id, Counts())
        rows.append(AgencyRow(agency, counts, has_children=bool(children_of.get(agency.id))))
        if parent is None:
            total.add(counts)
    for row in rows:
        if target is not None:
            row.status = target_status(row.counts.completion_rate, target, None, start=start, due=due,
                                       today=filters.today)
    breadcrumb: list[Agency] = []
    if parent is not None:
        breadcrumb = [agencies[i] for i in _ancestors(parent) if i in agencies]
    return AgencyReport(parent, rows, total, breadcrumb, scope, per_month,
                        officers_done if plan_courses is not None else None)


# Officers of one agency -----------------------------------------------------------------------


@dataclass
class OfficerRow:
    user: User
    counts: Counts


def officer_rows_query(viewer: Any, filters: Filters, agency: Agency,
                       overdue_only: bool = False) -> tuple[Select[Any], Any]:
    """SELECT (User, stats...) for the officers of ``agency`` itself: those working there now and
    those whose completions are attributed there; sorted by name. ``overdue_only``: only those with
    an overdue course (the plan dashboard's "overdue officers" link)."""
    facts = pair_facts(viewer, filters, of_agency=agency.id)
    stats = (
        select(facts.c.user_id, *_sums(facts))
        .where(facts.c.agency_id == agency.id)
        .group_by(facts.c.user_id)
        .subquery("stats")
    )
    stmt = (
        select(User, stats)
        .outerjoin(stats, stats.c.user_id == User.id)
        .where(User.active.is_(True), or_(User.agency_id == agency.id, stats.c.user_id.is_not(None)))
        .order_by(User.full_name, User.id)
    )
    if filters.duty_id:
        stmt = stmt.where(User.id.in_(select(user_duty.c.user_id).where(user_duty.c.duty_id == filters.duty_id)))
    if filters.plan_id:
        stmt = stmt.where(User.id.in_(plan_user_ids(filters.plan_id)))
    if overdue_only:
        stmt = stmt.where(stats.c.overdue > 0)
    return stmt, stats


def officer_row(row: Any) -> OfficerRow:
    user = row[0]
    if row.assigned is None:
        return OfficerRow(user, Counts(officers=1))
    return OfficerRow(user, _counts(row, officers=1))


# Officer search and transcript -----------------------------------------------------------------


@dataclass
class TranscriptRow:
    course: Course
    due_date: date | None
    assigned: bool
    completed_at: datetime | None
    score: int | None
    status: str
    certificate_code: str | None = None
    agency: Agency | None = None
    renewal_required: bool = False  # completed once; the certificate expired and awaits renewal
    source: str = "online"  # "workshop" or "external": completed away from the platform


def transcript(user: User, today: date | None = None) -> list[TranscriptRow]:
    """The officer's assigned and completed courses with status (three statements)."""
    today = today or local_today()
    assigned = {r.course_id: r for r in db.session.scalars(
        select(AssignedCourse).where(AssignedCourse.user_id == user.id))}
    completions = {c.course_id: c for c in db.session.scalars(
        select(CourseCompletion).where(CourseCompletion.user_id == user.id))}
    started = set(db.session.scalars(union(
        select(LessonProgress.course_id).where(LessonProgress.user_id == user.id),
        select(QuizResult.course_id).where(QuizResult.user_id == user.id, QuizResult.attempts_count > 0),
    )))
    course_ids = set(assigned) | set(completions)
    courses = {c.id: c for c in db.session.scalars(select(Course).where(Course.id.in_(course_ids)))} \
        if course_ids else {}
    agencies = {a.id: a for a in db.session.scalars(
        select(Agency).where(Agency.id.in_({c.agency_id for c in completions.values()})))} \
        if completions else {}
    codes = _certificate_codes(user.id)
    rows = []
    for course_id in course_ids:
        a, c = assigned.get(course_id), completions.get(course_id)
        due = a.due_date if a else None
        renewal = c is not None and c.renewal_required_since is not None
        if c is not None and not renewal:
            status = "completed"
        elif due is not None and due < today:
            status = "overdue"
        elif course_id in started:
            status = "in_progress"
        else:
            status = "not_started"
        rows.append(TranscriptRow(courses[course_id], due, a is not None, c.completed_at if c else None,
                                  c.score if c else None, status, codes.get(course_id),
                                  agencies.get(c.agency_id) if c else None, renewal,
                                  c.source if c else "online"))
    order = {"overdue": 0, "in_progress": 1, "not_started": 2, "completed": 3}
    rows.sort(key=lambda r: (order[r.status], r.due_date or date.max, r.course.key))
    return rows


def _certificate_codes(user_id: int) -> dict[int, str]:
    try:
        from lms.certificates.models import Certificate
    except ImportError:  # the certificates domain is optional
        return {}
    stmt = select(Certificate.course_id, Certificate.code).where(
        Certificate.user_id == user_id, Certificate.status == "valid",
        Certificate.superseded_by_id.is_(None),
    ).order_by(Certificate.issued_at, Certificate.id)  # after a renewal, the newest code wins
    return dict(db.session.execute(stmt).all())


# Course report ------------------------------------------------------------------------------


@dataclass
class CourseRow:
    course: Course
    counts: Counts


def course_report(viewer: Any, filters: Filters) -> tuple[list[CourseRow], Counts]:
    """One row per course with assigned pairs in scope (two statements)."""
    facts = pair_facts(viewer, filters)
    grouped = db.session.execute(select(facts.c.course_id, *_sums(facts)).group_by(facts.c.course_id)).all()
    courses = {c.id: c for c in db.session.scalars(select(Course).where(Course.id.in_([r.course_id for r in grouped])))} \
        if grouped else {}
    rows = [CourseRow(courses[r.course_id], _counts(r)) for r in grouped]
    rows.sort(key=lambda r: r.course.key)
    total = Counts()
    for row in rows:
        total.add(row.counts)
    return rows, total


# Completions over time ------------------------------------------------------------------------


def completions_per_month(viewer: Any, filters: Filters, months: int = 12) -> list[tuple[date, int]]:
    """Completions of assigned courses per local month, the last ``months`` months up to the end of
    the date range (or today), gaps filled with zero (one statement). A page that also shows the
    agency table gets these from :func:`agency_report` with ``months`` instead."""
    first, end = _month_window(filters, months)
    return _month_series(_per_month(_completions_by_day(pair_facts(viewer, filters), first, end)), first, end)


# Plans ------------------------------------------------------------------------------------


def plans_query(status: str | None = None) -> Select[Plan]:
    stmt = select(Plan).order_by(Plan.year.desc(), Plan.name, Plan.id)
    if status:
        stmt = stmt.where(Plan.status == status)
    return stmt


def plan_targets(viewer: Any, plan: Plan, filters: Filters, *, pairs: Counts | None = None,
                 officers: tuple[int, int] | None = None) -> list[TargetResult]:
    """Each target of ``plan`` with its actual value within ``viewer``'s scope (at most three
    statements whatever the number of officers). ``pairs``: the plan's pairs in scope already added
    up by the page (:attr:`AgencyReport.scope`, a course report's total), so they are not again;
    ``officers``: (completed all courses, officers) likewise (:attr:`AgencyReport.officers_done`)."""
    filters = filters.with_(plan_id=plan.id)
    cache: dict[str, tuple[int, int]] = {}

    def officers_completed() -> tuple[int, int]:
        if officers is not None:
            return officers
        n_courses = len(plan.courses)
        users = plan_user_ids(plan.id).subquery("plan_users")
        done = _plan_done(plan.id)
        row = db.session.execute(
            select(func.count(), func.coalesce(func.sum(case((done.c.n >= n_courses, 1), else_=0)), 0))
            .select_from(users)
            .join(User, User.id == users.c.user_id)
            .join(Agency, Agency.id == User.agency_id)
            .outerjoin(done, done.c.user_id == users.c.user_id)
            .where(policy.agency_scope_clause(viewer, Agency.path))
        ).one()
        return (int(row[1]) if n_courses else 0), int(row[0])

    def completed_on_time() -> tuple[int, int]:
        if pairs is not None:
            return pairs.on_time, pairs.assigned
        facts = pair_facts(viewer, filters)
        row = db.session.execute(select(func.count(), func.coalesce(func.sum(facts.c.on_time), 0))).one()
        return int(row[1]), int(row[0])

    parts: dict[str, tuple[tuple[str, int], ...]] = {}

    def courses_other_language() -> tuple[int, int]:
        from flask import current_app

        from lms.catalog.models import Asset

        media = (
            select(Asset.id)
            .where(Asset.course_id == Course.id,
                   or_(Asset.content_type.startswith("audio/"), Asset.content_type.startswith("video/")))
            .exists()
        )
        rows = db.session.execute(
            select(Course.languages, media).select_from(PlanCourse)
            .join(Course, Course.id == PlanCourse.course_id).where(PlanCourse.plan_id == plan.id)
        ).all()  # fmt: skip
        minority = frozenset(c.lower() for c in current_app.config.get("MINORITY_LANGUAGES", ()))
        found = [product_parts(list(languages or []), bool(has_media), minority) for languages, has_media in rows]
        parts[TargetKind.courses_other_language] = tuple(
            (key, sum(1 for f in found if key in f)) for key in ("minority", "foreign", "digital"))
        return sum(1 for f in found if f), len(rows)

    compute = {
        TargetKind.officers_completed: officers_completed,
        TargetKind.completed_on_time: completed_on_time,
        TargetKind.courses_other_language: courses_other_language,
    }
    results = []
    start = plan.activated_at.astimezone(LOCAL_TZ).date() if plan.activated_at else None
    for target in plan.targets:
        if target.kind not in cache:
            cache[target.kind] = compute[TargetKind(target.kind)]()
        numerator, denominator = cache[target.kind]
        actual = share(numerator, denominator)
        status = target_status(actual, target.min_value, target.max_value, start=start, due=plan.due_date,
                               today=filters.today)
        results.append(TargetResult(target.kind, target.min_value, target.max_value, actual, numerator,
                                    denominator, status, target.note, parts.get(target.kind, ())))
    return results


def plan_main_target(plan: Plan) -> float:
    """The completion share agencies are judged against: the plan's officers-completed minimum, or 100%."""
    for target in plan.targets:
        if target.kind == TargetKind.officers_completed and target.min_value is not None:
            return target.min_value
    return 1.0


def plan_target_rows(plan_ids: list[int]) -> dict[int, list[PlanTarget]]:
    rows: dict[int, list[PlanTarget]] = defaultdict(list)
    if plan_ids:
        for target in db.session.scalars(select(PlanTarget).where(PlanTarget.plan_id.in_(plan_ids))):
            rows[target.plan_id].append(target)
    return rows



# The plan at a glance (HR home and reports home) ------------------------------------------------


@dataclass
class BehindRow:
    agency: Agency
    counts: Counts
    overdue_officers: int


def behind_agencies(viewer: Any, filters: Filters, *, target: float, start: date | None,
                    due: date | None, limit: int = 8) -> tuple[list[BehindRow], int]:
    """The agencies whose own officers are behind the plan (most overdue first, at most ``limit``)
    and how many are behind in all; four statements whatever the size of the tree."""
    agencies, own = agency_counts(viewer, filters)
    behind = []
    for agency_id, counts in own.items():
        agency = agencies.get(agency_id)
        if agency is None or not counts.assigned:
            continue
        status = target_status(counts.completion_rate, target, None, start=start, due=due, today=filters.today)
        if status == Status.behind:
            behind.append((agency, counts))
    behind.sort(key=lambda pair: (-pair[1].overdue, pair[1].completion_rate or 0, pair[0].name_vi))
    shown = behind[:limit]
    overdue_officers: dict[int, int] = {}
    if shown:
        facts = pair_facts(viewer, filters)
        overdue_officers = dict(db.session.execute(
            select(facts.c.agency_id, func.count(func.distinct(facts.c.user_id)))
            .where(facts.c.overdue == 1, facts.c.agency_id.in_([a.id for a, _c in shown]))
            .group_by(facts.c.agency_id)
        ).all())
    rows = [BehindRow(a, c, int(overdue_officers.get(a.id, 0))) for a, c in shown]
    return rows, len(behind)


def weekly_completion(viewer: Any, filters: Filters, weeks: int = 10, *,
                      assigned: int | None = None) -> tuple[list[tuple[date, int]], int]:
    """Completed assigned courses by the end of each of the last ``weeks`` weeks (Monday starts,
    cumulative) and the number of assigned courses: one statement grouped by local day, and one to
    count the pairs unless the page passes ``assigned``."""
    facts = pair_facts(viewer, filters)
    per_day = list(_completions_by_day(facts, None, filters.today).items())
    if assigned is None:
        assigned = db.session.execute(select(func.count()).select_from(facts)).scalar_one()
    this_monday = filters.today - timedelta(days=filters.today.weekday())
    starts = [this_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    points = []
    for start in starts:
        end = min(start + timedelta(days=6), filters.today)
        points.append((start, sum(n for d, n in per_day if d <= end)))
    return points, int(assigned)
