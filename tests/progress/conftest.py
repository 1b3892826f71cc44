"""Shared fixtures of the progress tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.extensions import db
from lms.progress import services
from tests import factories
from tests.catalog.factories_catalog import course as make_course
from tests.reports import factories_reports as fr


@pytest.fixture
def province(app):
    root = factories.agency("TINH-WS", kind="province")
    commune = factories.agency("XA-WS", parent=root, kind="commune")
    other = factories.agency("XA-KHAC", parent=root, kind="commune")
    hr = factories.user("hr.ws", agency=commune, roles={"officer", "hr"}, hr_agencies=[commune])
    officers = [factories.user(f"cb.ws{i}", agency=commune, employee_id=f"NV{i:03}") for i in range(3)]
    outsider = factories.user("cb.khac", agency=other)
    the_course = make_course("workshop-course")
    plan = fr.plan(hr, courses=[the_course], agencies=[commune], due=services.local_today() + timedelta(days=30))
    db.session.commit()
    return {"commune": commune, "hr": hr, "officers": officers, "outsider": outsider, "course": the_course,
            "plan": plan}
