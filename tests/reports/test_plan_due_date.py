"""A plan's due date cannot be set in the past: activation would refuse it later."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from lms.extensions import db
from lms.reports.models import Plan
from tests import factories as f2


def test_a_new_plan_with_a_due_date_in_the_past_is_refused_on_the_form(client, auth):
    f2.user("hr.plan", roles={"officer", "hr"}, hr_all=True)
    db.session.commit()
    auth.login("hr.plan")
    response = client.post("/reports/plans/new", data={
        "name": "Kế hoạch cũ", "year": 2024, "due_date": (date.today() - timedelta(days=3)).isoformat(),
    })
    assert response.status_code == 200
    assert "Hạn hoàn thành đã qua" in response.get_data(as_text=True)

    assert db.session.scalar(select(func.count()).select_from(Plan)) == 0


def test_hr_limited_to_one_agency_cannot_remove_target_groups_outside_it(app):
    import pytest

    from lms.reports import services
    from tests.reports import factories_reports as fr

    root = f2.agency("ROOTP", kind="province")
    mine = f2.agency("MINE", parent=root)
    other = f2.agency("OTHER", parent=root)
    province_hr = f2.user("hr.all2", agency=root, roles={"officer", "hr"}, hr_all=True)
    local_hr = f2.user("hr.mine", agency=mine, roles={"officer", "hr"}, hr_agencies=[mine])
    plan = fr.plan(province_hr, agencies=[mine, other], activate=False)
    outside = next(m for m in plan.members if m.agency_id == other.id)
    inside = next(m for m in plan.members if m.agency_id == mine.id)
    with pytest.raises(services.ReportError):
        services.remove_member(plan, outside.id, actor=local_hr)
    services.remove_member(plan, inside.id, actor=local_hr)
    assert [m.agency_id for m in plan.members] == [other.id]
