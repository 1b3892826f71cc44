"""One unit of work: a request or a command commits once at its boundary, and a failure anywhere leaves
nothing half-written; views and commands never commit or roll back themselves."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import has_request_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from lms.audit import AuditEntry
from lms.catalog.models import Course
from lms.extensions import db
from lms.org import services as org_services
from lms.org.models import Agency, Duty
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def admin(app):
    root = factories.agency("UBND", kind="province")
    user = factories.user("admin", agency=root, roles={"officer", "admin"})
    db.session.commit()
    return user


@pytest.fixture
def commits():
    """Every commit, noted True when it happened inside a request (the test client also commits the
    test's own session before each request, outside it)."""
    counted: list[bool] = []

    def count(_session):
        counted.append(has_request_context())

    event.listen(Session, "after_commit", count)
    yield counted
    event.remove(Session, "after_commit", count)


def _half_then(failure):
    """A service that writes its row (and audit entry) for real, then fails."""
    real = org_services.add_duty

    def service(*args, **kwargs):
        real(*args, **kwargs)
        raise failure

    return service


def _nothing_written(code: str) -> bool:
    return not db.session.scalar(select(Duty.id).where(Duty.code == code)) and not db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "org.duty_created"))


FORM = {"code": "press_liaison", "name_vi": "Liên lạc báo chí", "name_en": "Press liaison"}


def test_a_domain_error_after_a_flush_leaves_nothing_half_written_and_shows_on_the_form(
        app, client, auth, admin, monkeypatch):
    monkeypatch.setattr(org_services, "add_duty", _half_then(org_services.OrgError("Từ chối.", "name_en")))
    auth.login("admin")
    page = client.post("/org/duties", data=FORM)
    assert page.status_code == 200 and "Từ chối." in page.get_data(as_text=True)
    assert _nothing_written("press_liaison")


def test_an_unexpected_error_in_a_view_rolls_everything_back(app, client, auth, admin, monkeypatch):
    monkeypatch.setattr(org_services, "add_duty", _half_then(RuntimeError("disk full")))
    auth.login("admin")
    with pytest.raises(RuntimeError):  # TESTING propagates it; in production it is the 500 page
        client.post("/org/duties", data=FORM)
    assert _nothing_written("press_liaison")


def test_a_writing_request_commits_exactly_once_at_its_boundary(app, client, auth, admin, commits):
    auth.login("admin")
    commits.clear()
    assert client.post("/org/duties", data=FORM).status_code == 302
    assert commits.count(True) == 1
    assert db.session.scalar(select(Duty.id).where(Duty.code == "press_liaison"))


def test_a_read_only_request_never_commits(app, client, auth, admin, commits):
    auth.login("admin")
    commits.clear()
    assert client.get("/org/duties").status_code == 200
    assert True not in commits


def test_a_failing_command_leaves_nothing_half_written(app, runner, monkeypatch):
    real = org_services.create_agency

    def half(**kwargs):
        real(**kwargs)
        raise org_services.OrgError("Mã đã dùng.", "code")

    monkeypatch.setattr(org_services, "create_agency", half)
    result = runner.invoke(args=["org", "create-agency", "STP", "Sở Tư pháp"])
    assert result.exit_code != 0 and "Mã đã dùng." in result.output
    assert not db.session.scalar(select(Agency.id).where(Agency.code == "STP"))


def test_a_command_that_succeeds_is_committed_once(app, runner, commits):
    result = runner.invoke(args=["org", "create-agency", "STP", "Sở Tư pháp"])
    assert result.exit_code == 0, result.output
    assert len(commits) == 1
    db.session.expire_all()
    assert db.session.scalar(select(Agency.id).where(Agency.code == "STP"))


def test_a_dry_run_writes_nothing_although_the_sync_flushed_every_row(app, runner, tmp_path):
    shutil.copytree(ROOT / "content" / "spokesperson-press", tmp_path / "content" / "spokesperson-press")
    result = runner.invoke(args=["content", "sync", str(tmp_path / "content"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "course: 1 added" in result.output and "quiz:" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0


WRITES = re.compile(r"db\.session\.(commit|rollback)\(\)")


@pytest.mark.parametrize("path", sorted(
    str(p.relative_to(ROOT)) for p in [*ROOT.glob("lms/*/views.py"), *ROOT.glob("lms/*/cli.py"),
                                       ROOT / "lms" / "demo.py"]))
def test_views_and_commands_never_commit_or_roll_back_themselves(path):
    """The boundary in lms/transaction.py does it; a view hands domain errors to lms.errors.show_error."""
    assert WRITES.findall((ROOT / path).read_text(encoding="utf-8")) == []
