"""Reads of the organisation: agency trees and user lists (return selects or plain structures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from lms import policy
from lms.extensions import db
from lms.org.models import Agency, Duty, User, UserRole
from lms.text import vi_sort_key


@dataclass
class AgencyNode:
    agency: Agency
    children: list[AgencyNode] = field(default_factory=list)
    officers: int = 0


def agency_tree(viewer: Any = None, *, include_inactive: bool = False) -> list[AgencyNode]:
    """The agency forest (limited to ``viewer``'s HR scope when given), children sorted by name.

    Two queries whatever the size: the agencies, and officer counts grouped by agency.
    """
    stmt = select(Agency).order_by(Agency.depth, Agency.name_vi)
    if not include_inactive:
        stmt = stmt.where(Agency.active.is_(True))
    if viewer is not None:
        stmt = stmt.where(policy.agency_scope_clause(viewer))
    agencies = list(db.session.scalars(stmt))
    counts = dict(
        db.session.execute(
            select(User.agency_id, func.count())
            .where(User.active.is_(True))
            .group_by(User.agency_id)
        ).all()
    )
    agencies.sort(key=lambda a: (a.depth, vi_sort_key(a.name_vi)))
    nodes = {a.id: AgencyNode(a, officers=counts.get(a.id, 0)) for a in agencies}
    roots: list[AgencyNode] = []
    for agency in agencies:
        node = nodes[agency.id]
        parent = nodes.get(agency.parent_id) if agency.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots


def agency_choices(viewer: Any = None) -> list[tuple[int, str]]:
    """(id, indented name) pairs in tree order, for select boxes."""
    out: list[tuple[int, str]] = []

    def walk(nodes: list[AgencyNode], level: int) -> None:
        for node in nodes:
            out.append((node.agency.id, "\u2003" * level + node.agency.name_vi))
            walk(node.children, level + 1)

    walk(agency_tree(viewer), 0)
    return out


def agency_by_code(code: str) -> Agency | None:
    return db.session.scalar(select(Agency).where(func.lower(Agency.code) == code.strip().lower()))


def duties() -> list[Duty]:
    return list(db.session.scalars(select(Duty).order_by(Duty.builtin.desc(), Duty.code)))


def users_query(
    viewer: Any,
    *,
    text: str = "",
    agency_id: int | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> Select[User]:
    """Users visible to ``viewer`` matching the filters, by name; eager-loads what lists show."""
    stmt = (
        select(User)
        .join(User.agency)
        .where(policy.agency_scope_clause(viewer))
        .options(selectinload(User.duties))
        .order_by(User.sort_name, User.id)
    )
    if text.strip():
        # What the user typed is matched literally: "%" and "_" are not wildcards.
        needle = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{needle}%"
        stmt = stmt.where(
            or_(
                func.lower(User.username).like(like, escape="\\"),
                func.lower(User.full_name).like(like, escape="\\"),
                func.lower(User.email).like(like, escape="\\"),
                User.employee_id == text.strip(),
            )
        )
    if agency_id:
        agency = db.session.get(Agency, agency_id)
        if agency is not None:
            stmt = stmt.where(Agency.path.startswith(agency.path, autoescape=True))
    if role:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    return stmt
