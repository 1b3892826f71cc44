"""Reorganisations: a merge moves people, units and scopes and keeps history; moves and renames preview."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from lms.audit import AuditEntry
from lms.extensions import db
from lms.org import reorg
from lms.org.models import Agency, HrScope, User
from lms.org.services import OrgError
from tests import factories


@pytest.fixture
def tree(app):
    root = factories.agency("SH", kind="province")
    old = factories.agency("SVHTT", parent=root, name_vi="Sở Văn hóa và Thể thao")
    unit = factories.agency("SVHTT-BC", parent=old)
    below = factories.agency("SVHTT-BC-1", parent=unit)
    new = factories.agency("STTTT", parent=root, name_vi="Sở Thông tin và Truyền thông")
    admin = factories.user("admin", agency=root, roles={"officer", "admin"})
    a = factories.user("ana", agency=old)
    b = factories.user("binh", agency=old)
    b.active = False
    c = factories.user("cuong", agency=unit)
    hr_old = factories.user("hr.old", agency=root, roles={"officer", "hr"}, hr_agencies=[old])
    hr_both = factories.user("hr.both", agency=root, roles={"officer", "hr"}, hr_agencies=[old, new])
    db.session.commit()
    return locals()


def test_merge_preview_counts_what_moves(tree):
    preview = reorg.merge_preview(tree["old"], tree["new"])
    assert preview.ok
    assert (preview.officers, preview.active_officers) == (2, 1)
    assert [u.code for u in preview.units] == ["SVHTT-BC"]
    assert preview.units_below == 2
    assert [p.username for p in preview.hr_users] == ["hr.old"]
    assert preview.hr_already_covering == 1


def test_merge_moves_officers_units_and_scopes_and_keeps_the_old_agency_as_history(tree):
    old, new, unit, below = tree["old"], tree["new"], tree["unit"], tree["below"]
    ids = {name: tree[name].id for name in ("a", "b", "c")}
    reorg.merge_agencies(old, new, actor=tree["admin"])
    db.session.commit()
    db.session.expire_all()
    old, new = db.session.get(Agency, old.id), db.session.get(Agency, new.id)
    assert not old.active and old.merged_into_id == new.id
    assert old.code == "SVHTT" and old.name_vi == "Sở Văn hóa và Thể thao"  # still there for reports
    assert db.session.get(User, ids["a"]).agency_id == new.id
    assert db.session.get(User, ids["b"]).agency_id == new.id  # disabled officers move too
    assert db.session.get(User, ids["c"]).agency_id == unit.id  # unit officers stay in their unit
    unit, below = db.session.get(Agency, unit.id), db.session.get(Agency, below.id)
    assert unit.parent_id == new.id and unit.path == f"{new.path}{unit.id}/"
    assert below.path == f"{new.path}{unit.id}/{below.id}/"
    scopes = {tuple(row) for row in db.session.execute(select(HrScope.user_id, HrScope.agency_id))}
    assert scopes == {(tree["hr_old"].id, new.id), (tree["hr_both"].id, new.id)}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "org.agency_merged"))
    assert entry.target_id == str(old.id) and entry.details["officers"] == 2


def test_merge_writes_only_to_people_scopes_units_assignments_and_plans_so_history_keeps_its_agency(
    tree, count_queries
):
    """Completions, certificates and audit entries keep the agency id they were recorded with."""
    with count_queries() as counter:
        reorg.merge_agencies(tree["old"], tree["new"], actor=tree["admin"])
    writes = [s.split()[:3] for s in counter.statements if s.lstrip().upper().startswith(("UPDATE", "DELETE"))]
    touched = {w[1] if w[0].upper() == "UPDATE" else w[2] for w in writes}
    touched = {name.strip('"') for name in touched}
    allowed = {"user", "hr_scope", "agency", "assignment", "assignment_reach", "assigned_course", "plan_member"}
    assert touched and touched <= allowed, touched


@pytest.mark.parametrize(
    ("source", "target", "words"),
    [("old", "old", "itself"), ("old", "unit", "own unit"), ("unit", "root", None)],
)
def test_merge_refusals(tree, source, target, words):
    with force_locale("en"):
        preview = reorg.merge_preview(tree[source], tree[target])
    if words is None:
        assert preview.ok
        return
    assert not preview.ok and words in " ".join(preview.errors)
    with pytest.raises(OrgError):
        reorg.merge_agencies(tree[source], tree[target])


def test_an_agency_merged_once_cannot_be_merged_again(tree):
    reorg.merge_agencies(tree["old"], tree["new"])
    db.session.commit()
    again = reorg.merge_preview(db.session.get(Agency, tree["old"].id), tree["root"])
    assert not again.ok


def test_move_preview_names_hr_users_who_gain_or_lose_sight(tree):
    preview = reorg.move_preview(tree["unit"], tree["new"])
    assert preview.ok
    assert preview.units == 1 and preview.officers == 1
    assert [p.username for p in preview.hr_gaining] == []  # hr.both already covers both
    assert [p.username for p in preview.hr_losing] == ["hr.old"]
    reorg.move(tree["unit"], tree["new"])
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "org.agency_moved"))
    assert entry.details["to_parent"] == "STTTT"


def test_move_under_its_own_unit_is_refused(tree):
    preview = reorg.move_preview(tree["old"], tree["below"])
    assert not preview.ok
    with pytest.raises(OrgError):
        reorg.move(tree["old"], tree["below"])


def test_rename_preview_and_audit(tree):
    old = tree["old"]
    preview = reorg.rename_preview(old, code="SVHTTDL", name_vi="Sở Văn hóa, Thể thao và Du lịch", name_en="")
    assert set(preview.changes) == {"code", "name_vi", "name_en"}
    assert preview.officers == 1
    reorg.rename(old, code="SVHTTDL", name_vi="Sở Văn hóa, Thể thao và Du lịch", name_en="")
    db.session.commit()
    assert db.session.get(Agency, old.id).code == "SVHTTDL"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "org.agency_updated"))
    clash = reorg.rename_preview(old, code="STTTT", name_vi="x", name_en="")
    assert not clash.ok


def test_merge_page_previews_then_merges(tree, client, auth):
    auth.login("admin")
    old, new = tree["old"], tree["new"]
    page = client.get(f"/org/agencies/{old.id}/merge")
    assert page.status_code == 200
    preview = client.post(f"/org/agencies/{old.id}/merge", data={"target_id": new.id})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "STTTT" in text
    assert tree["hr_old"].full_name in text  # whose HR scope changes is named
    assert db.session.get(Agency, old.id).active  # nothing yet
    done = client.post(f"/org/agencies/{old.id}/merge", data={"target_id": new.id, "confirm": "1"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Agency, old.id).merged_into_id == new.id


def test_merge_page_is_for_admins_only(tree, client, auth):
    auth.login("hr.old")
    assert client.get(f"/org/agencies/{tree['old'].id}/merge").status_code == 403


def test_merge_cli_dry_run_writes_nothing(tree, runner):
    result = runner.invoke(args=["agencies", "merge", "SVHTT", "STTTT", "--dry-run"])
    assert result.exit_code == 0 and "2 officers" in result.output
    assert db.session.get(Agency, tree["old"].id).active
    result = runner.invoke(args=["agencies", "merge", "SVHTT", "STTTT"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not db.session.get(Agency, tree["old"].id).active
