"""Reorganisations: merge one agency into another, move an agency, rename it; each with a preview.

Structures change (in 2025 Vietnam merged provinces and departments and removed the district level), and
people must not lose their records when they do. A merge of A into B moves A's officers, its units
and the HR scopes on A to B, then announces ``signals.agency_merged`` so that every other domain moves
its own rows that aim at A as a current target (progress its assignments, reports its plans' target
groups), and finally marks A inactive with ``merged_into_id = B``. The preview asks the same domains
what they would move (``signals.agency_merge_preview``). A itself is never deleted: completions, certificates and audit entries keep
the agency id they were recorded with, so historical reports still attribute them to A, and old
spreadsheets naming A get a message that points to B. Moves and renames reuse
:mod:`lms.org.services`. Every operation first computes a preview (what will change, with counts);
applying it flushes in the caller's transaction together with its audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update

from lms import audit, signals
from lms.extensions import db
from lms.i18n import _
from lms.org import services
from lms.org.models import Agency, HrScope, User
from lms.org.services import OrgError


@dataclass(frozen=True)
class PersonRef:
    id: int
    username: str
    full_name: str


@dataclass
class MergePreview:
    """What merging ``source`` into ``target`` would change."""

    source: Agency
    target: Agency
    officers: int = 0
    active_officers: int = 0
    units: list[Agency] = field(default_factory=list)  # direct units moving under the target
    units_below: int = 0  # all agencies below the source (they move with their parents)
    hr_users: list[PersonRef] = field(default_factory=list)  # scopes on the source move to the target
    hr_already_covering: int = 0  # scopes dropped because the user already has the target
    moves: list[signals.MergeCount] = field(default_factory=list)  # other domains' rows that move
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> dict[str, int]:
        return {
            "officers": self.officers,
            "units": len(self.units),
            "units_below": self.units_below,
            "hr_scopes": len(self.hr_users),
            **{move.key: move.count for move in self.moves},
        }


def merge_preview(source: Agency, target: Agency) -> MergePreview:
    """Count what a merge would move, and say why it cannot be done if it cannot (a few queries)."""
    preview = MergePreview(source, target)
    if source.id == target.id:
        preview.errors.append(_("An agency cannot be merged into itself."))
    if not source.active:
        preview.errors.append(_("%(code)s is no longer active; it cannot be merged again.", code=source.code))
    if not target.active:
        preview.errors.append(
            _("%(code)s is no longer active; choose an active agency to merge into.", code=target.code)
        )
    if source.id != target.id and target.path.startswith(source.path):
        preview.errors.append(
            _("%(target)s is one of the units of %(source)s; an agency cannot be merged into its "
              "own unit.", target=target.code, source=source.code)
        )
    counts = db.session.execute(
        select(func.count(), func.count().filter(User.active.is_(True))).where(User.agency_id == source.id)
    ).one()
    preview.officers, preview.active_officers = counts[0], counts[1]
    preview.units = list(
        db.session.scalars(select(Agency).where(Agency.parent_id == source.id).order_by(Agency.name_vi))
    )
    preview.units_below = db.session.scalar(
        select(func.count()).select_from(Agency).where(
            Agency.path.startswith(source.path, autoescape=True), Agency.id != source.id
        )
    ) or 0
    target_holders = select(HrScope.user_id).where(HrScope.agency_id == target.id)
    preview.hr_users = [
        PersonRef(*row)
        for row in db.session.execute(
            select(User.id, User.username, User.full_name)
            .join(HrScope, HrScope.user_id == User.id)
            .where(HrScope.agency_id == source.id, User.id.not_in(target_holders))
            .order_by(User.full_name)
        )
    ]
    preview.hr_already_covering = db.session.scalar(
        select(func.count()).select_from(HrScope).where(
            HrScope.agency_id == source.id, HrScope.user_id.in_(target_holders)
        )
    ) or 0
    for counts in signals.values(signals.agency_merge_preview.send(source, target=target)):
        preview.moves.extend(counts)
    return preview


def merge_agencies(source: Agency, target: Agency, *, actor: Any = None) -> MergePreview:
    """Merge ``source`` into ``target`` (flush only; the caller commits). Returns what was moved."""
    preview = merge_preview(source, target)
    if not preview.ok:
        raise OrgError(" ".join(preview.errors))
    source_id, target_id = source.id, target.id
    # Units first: move_agency rewrites their subtree paths under the target.
    for unit in preview.units:
        services.move_agency(unit, target, actor=actor)
    db.session.execute(
        update(User)
        .where(User.agency_id == source_id)
        .values(agency_id=target_id)
        .execution_options(synchronize_session=False)
    )
    target_holders = select(HrScope.user_id).where(HrScope.agency_id == target_id)
    db.session.execute(
        delete(HrScope)
        .where(HrScope.agency_id == source_id, HrScope.user_id.in_(target_holders))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(HrScope)
        .where(HrScope.agency_id == source_id)
        .values(agency_id=target_id)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    signals.agency_merged.send(source, target=target, actor=actor)
    db.session.execute(
        update(Agency)
        .where(Agency.id == source_id)
        .values(active=False, merged_into_id=target_id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    services.users_changed(None)  # officers, units and assignments moved: recompute who has what
    source = db.session.get(Agency, source_id)  # type: ignore[assignment]
    target = db.session.get(Agency, target_id)  # type: ignore[assignment]
    details: dict[str, Any] = {**preview.counts, "hr_users": [p.id for p in preview.hr_users]}
    audit.record("org.agency_merged", actor=actor, target=source, into=target.code, into_id=target_id,
                 **details)
    db.session.flush()
    preview.source, preview.target = source, target
    return preview


# Moves and renames -----------------------------------------------------------------------------


@dataclass
class MovePreview:
    agency: Agency
    new_parent: Agency | None
    units: int = 0  # agencies below the moved one, moving with it
    officers: int = 0  # active officers in the moved subtree
    hr_gaining: list[PersonRef] = field(default_factory=list)  # will newly see the subtree
    hr_losing: list[PersonRef] = field(default_factory=list)  # will no longer see it
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _hr_covering(path: str) -> dict[int, PersonRef]:
    """HR users whose scope covers an agency with ``path`` through an ancestor scope."""
    rows = db.session.execute(
        select(User.id, User.username, User.full_name, Agency.path)
        .join(HrScope, HrScope.user_id == User.id)
        .join(Agency, Agency.id == HrScope.agency_id)
    ).all()
    return {r.id: PersonRef(r.id, r.username, r.full_name) for r in rows if path.startswith(r.path)}


def move_preview(agency: Agency, new_parent: Agency | None) -> MovePreview:
    """What moving ``agency`` (with its units) under ``new_parent`` would change."""
    preview = MovePreview(agency, new_parent)
    if new_parent is not None and new_parent.path.startswith(agency.path):
        preview.errors.append(_("An agency cannot be moved under itself or one of its own units."))
    if new_parent is not None and not new_parent.active:
        preview.errors.append(_("The agency %(code)s is no longer active.", code=new_parent.code))
    if (new_parent.id if new_parent else None) == agency.parent_id:
        preview.errors.append(_("%(code)s is already there.", code=agency.code))
    subtree = Agency.path.startswith(agency.path, autoescape=True)
    preview.units = (db.session.scalar(select(func.count()).select_from(Agency).where(subtree)) or 1) - 1
    preview.officers = db.session.scalar(
        select(func.count()).select_from(User).join(Agency, Agency.id == User.agency_id)
        .where(subtree, User.active.is_(True))
    ) or 0
    # Scopes on the agency itself or its units move with it; only scopes above it change.
    old = _hr_covering(agency.parent.path) if agency.parent else {}
    new = _hr_covering(new_parent.path) if new_parent else {}
    preview.hr_gaining = sorted((p for k, p in new.items() if k not in old), key=lambda p: p.full_name)
    preview.hr_losing = sorted((p for k, p in old.items() if k not in new), key=lambda p: p.full_name)
    return preview


def move(agency: Agency, new_parent: Agency | None, *, actor: Any = None) -> MovePreview:
    """Move ``agency`` under ``new_parent`` after checking its preview (flush only)."""
    preview = move_preview(agency, new_parent)
    if not preview.ok:
        raise OrgError(" ".join(preview.errors), "parent")
    old_parent = agency.parent.code if agency.parent else None
    services.move_agency(agency, new_parent, actor=actor)
    if actor is None:  # the command line: services only audit what a signed-in person does
        audit.record("org.agency_moved", target=agency, from_parent=old_parent,
                     to_parent=new_parent.code if new_parent else None)
    db.session.flush()
    return preview


@dataclass
class RenamePreview:
    agency: Agency
    changes: dict[str, tuple[str, str]]  # field -> (before, after)
    officers: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def rename_preview(agency: Agency, *, code: str, name_vi: str, name_en: str) -> RenamePreview:
    """What renaming (or recoding) ``agency`` would change; officers and history stay with it."""
    after = {"code": code.strip(), "name_vi": services.nfc(name_vi), "name_en": services.nfc(name_en)}
    before = {"code": agency.code, "name_vi": agency.name_vi, "name_en": agency.name_en}
    changes = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    preview = RenamePreview(agency, changes)
    if not changes:
        preview.errors.append(_("Nothing changes."))
    if not after["name_vi"]:
        preview.errors.append(_("The Vietnamese name is required."))
    if "code" in changes:
        clash = db.session.scalar(
            select(Agency.code).where(func.lower(Agency.code) == after["code"].lower(), Agency.id != agency.id)
        )
        if clash:
            preview.errors.append(_("The code %(code)s is already used by another agency.", code=clash))
    preview.officers = db.session.scalar(
        select(func.count()).select_from(User).where(User.agency_id == agency.id, User.active.is_(True))
    ) or 0
    return preview


def rename(agency: Agency, *, code: str, name_vi: str, name_en: str, actor: Any = None) -> RenamePreview:
    """Rename an agency after checking its preview (flush only); officers and history stay with it."""
    preview = rename_preview(agency, code=code, name_vi=name_vi, name_en=name_en)
    if not preview.ok:
        raise OrgError(" ".join(preview.errors))
    services.update_agency(
        agency, code=code, name_vi=name_vi, name_en=name_en, kind=agency.kind, actor=actor
    )
    if actor is None:
        audit.record("org.agency_updated", target=agency,
                     changed={k: list(v) for k, v in preview.changes.items()})
    db.session.flush()
    return preview
