"""Reports: training plans and their targets, completion per officer and agency, charts, exports,
reminders.

HR and plan managers see who is trained and who is behind, always within their own agency scope
(``policy.agency_scope_clause``). Every report is a few aggregate SQL queries (``queries.py``); the page,
the CSV/XLSX/PDF exports and the JSON API all read the same query results, so the numbers agree.
Completions count under the agency the officer belonged to when they completed
(``CourseCompletion.agency_id``), so merging or moving agencies does not rewrite history.
"""

from __future__ import annotations

from flask import Flask


def connect(app: Flask) -> None:
    """Keep plans' target groups whole across agency merges; the notices panel and the menu entry."""
    from lms import policy, signals, ui
    from lms.i18n import N_
    from lms.reports import services

    signals.agency_merge_preview.connect(services.count_agency_plan_members, weak=False)
    signals.agency_merged.connect(services.move_agency_plan_members, weak=False)
    ui.add_nav(app, "reports.index", N_("Reports"), lambda u: policy.can(u, "reports.view"), 66)
    ui.add_dashboard_panel(app, "reports/_notices_panel.html", lambda user: user.is_authenticated, 10)
    # HR opens on the active plan (after its own reminders); officers never see it, so their home
    # keeps "what is due next" first.
    ui.add_dashboard_panel(app, "reports/_plan_panel.html", lambda user: policy.can(user, "reports.view"), 15)
