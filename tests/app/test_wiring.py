"""Wiring between domains: every signal handler and page extension is connected by ``create_app``,
never by what happened to be imported, and each application has its own page extensions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from lms import create_app, signals, ui

ROOT = Path(__file__).resolve().parents[2]

# signal name -> "module:function" of every receiver create_app must connect.
EXPECTED_RECEIVERS = {
    "course-completed": {"lms.certificates.services:issue_certificate"},
    "users-changed": {"lms.progress.services:on_users_changed"},
    "agency-moved": {"lms.progress.services:on_agency_moved"},
    "agency-merge-preview": {"lms.progress.services:count_agency_assignments",
                             "lms.reports.services:count_agency_plan_members",
                             "lms.certificates.services:count_agency_template"},
    "agency-merged": {"lms.progress.services:move_agency_assignments",
                      "lms.reports.services:move_agency_plan_members",
                      "lms.certificates.services:move_agency_template"},
    "agency-renamed": set(),
    "course-synced": {"lms.quizzes.sync:sync_course_quizzes"},
    "course-rule-changed": {"lms.progress.services:reevaluate_course"},
    "trainer-course-limits": {"lms.catalog.services:trainer_limits_receiver"},
}

# Run in a fresh interpreter: imports the given modules, reports the receivers, then builds the app
# and reports them again together with the app's page extensions.
PROBE = textwrap.dedent("""
    import importlib, json, sys
    for name in sys.argv[1:]:
        importlib.import_module(name)
    from lms import signals

    def receivers():
        return {name: sorted(f"{r.__module__}:{r.__name__}" for r in s.receivers.values())
                for name, s in signals.ALL.items()}

    before = receivers()
    from lms import create_app, ui
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    reg = ui.registry(app)
    print(json.dumps({"before": before, "after": receivers(),
                      "nav": [i.endpoint for i in reg.nav],
                      "panels": [p.template for p in reg.dashboard_panels],
                      "sections": [p.template for p in reg.profile_sections],
                      "row_extras": reg.completed_row_extras,
                      "quiz_url": reg.quiz_url is not None}))
""")


def _probe(*modules: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, *modules], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_signal_has_its_receivers_after_create_app_whatever_was_imported_first():
    """Importing only progress.services (which sends course_completed) used to leave certificates
    unissued; now nothing is connected by an import and everything by create_app."""
    only_progress = _probe("lms.progress.services")
    everything = _probe("lms.reports.views", "lms.quizzes.views", "lms.certificates.views",
                        "lms.api.views", "lms.catalog.sync")
    for result in (only_progress, everything):
        assert all(not found for found in result["before"].values()), result["before"]
        assert {k: set(v) for k, v in result["after"].items()} == EXPECTED_RECEIVERS
        assert result["panels"] == ["tasks/_health_panel.html", "reports/_notices_panel.html", "reports/_plan_panel.html",
                                    "progress/_my_training.html",
                                    "certificates/_panel.html"]
        assert result["sections"] == ["auth/_profile_two_factor.html", "progress/_profile_calendar.html",
                                      "api/_profile_tokens.html"]
        assert result["row_extras"] == ["certificates/_training_row.html"]
        assert result["quiz_url"] is True
        assert result["nav"][0] == "home.index" and "quizzes.grading" in result["nav"]
    assert only_progress["nav"] == everything["nav"]


def test_create_app_twice_connects_each_receiver_once(app):
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    for name, expected in EXPECTED_RECEIVERS.items():
        assert len(signals.ALL[name].receivers) == len(expected), name


def test_each_application_has_its_own_page_extensions(app):
    other = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    ui.add_dashboard_panel(other, "extra/_panel.html", lambda _user: True, 99)
    assert "extra/_panel.html" in [p.template for p in ui.registry(other).dashboard_panels]
    assert "extra/_panel.html" not in [p.template for p in ui.registry(app).dashboard_panels]
    assert [i.endpoint for i in ui.registry(app).nav] == [i.endpoint for i in ui.registry(other).nav]


def test_menu_entries_are_ordered_and_unique(app):
    nav = ui.registry(app).nav
    assert [i.order for i in nav] == sorted(i.order for i in nav)
    assert len({i.endpoint for i in nav}) == len(nav)
    assert all(i.endpoint in app.view_functions for i in nav)
