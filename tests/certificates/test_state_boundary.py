"""One expiry rule for every reader: a certificate whose expires_at is now has expired, on the page, in
the SQL filters (page and export) and in the API alike; a microsecond earlier it is valid everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lms import db as lms_db
from lms.api import services as api_services
from lms.certificates import queries
from lms.certificates import views as certificate_views
from lms.certificates.models import Certificate, CertificateState
from lms.extensions import db
from tests import factories as f
from tests.certificates import factories_certificates as fc

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def at_the_edge(app, monkeypatch):
    """One certificate expiring exactly at NOW, one a microsecond later, with the clock at NOW."""
    root = f.agency("SH", kind="province")
    hr = f.user("hr.sh", agency=root, roles={"hr"}, hr_agencies=[root])
    hr.locale = "en"
    edge = fc.certified(f.user("officer.a", agency=root))
    later = fc.certified(f.user("officer.b", agency=root))
    edge.expires_at = NOW
    later.expires_at = NOW + timedelta(microseconds=1)
    db.session.commit()
    monkeypatch.setattr(lms_db, "utcnow", lambda: NOW)
    monkeypatch.setattr(certificate_views, "utcnow", lambda: NOW)
    return hr, edge.code, later.code


def test_the_model_counts_expires_at_equal_to_now_as_expired(at_the_edge):
    _hr, edge, later = at_the_edge
    by_code = {c.code: c for c in db.session.scalars(select(Certificate))}
    assert by_code[edge].state(NOW) == CertificateState.expired
    assert by_code[later].state(NOW) == CertificateState.valid


def test_the_sql_states_draw_the_same_line(at_the_edge):
    _hr, edge, later = at_the_edge
    for state, wanted in (("expired", {edge}), ("valid", {later})):
        codes = set(db.session.scalars(select(Certificate.code).where(queries.state_clause(state, NOW))))
        assert codes == wanted, state


def test_the_page_and_the_api_draw_the_same_line(client, auth, at_the_edge):
    hr, edge, later = at_the_edge
    auth.login("hr.sh")
    expired_page = client.get("/certificates/manage?state=expired").get_data(as_text=True)
    valid_page = client.get("/certificates/manage?state=valid").get_data(as_text=True)
    assert edge in expired_page and later not in expired_page
    assert later in valid_page and edge not in valid_page
    _row, token = api_services.create_token(hr, "test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/certificates", headers=headers).json
    states = {item["code"]: item["status"] for item in listed["items"]}
    assert states == {edge: "expired", later: "valid"}
    for status, wanted in (("expired", [edge]), ("valid", [later])):
        items = client.get(f"/api/v1/certificates?status={status}", headers=headers).json["items"]
        assert [item["code"] for item in items] == wanted, status
