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
