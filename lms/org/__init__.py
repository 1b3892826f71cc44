"""The organisation: agencies, officers and what they are responsible for.

A province's agencies form a tree of any depth (province -> departments, boards, communes,
socio-political organisations, press agencies -> their units). Each agency keeps a stable ``code`` that
HR spreadsheets use, and a materialised ``path`` ("/1/7/42/") so that "this agency and everything under
it" is one indexed prefix match, which HR scopes and reports rely on. Users are officers first: every
account belongs to an agency, carries designated duties (spokesperson, human-rights work ...) that
training plans target, and holds one or more roles (officer, trainer, hr, admin).
"""

from __future__ import annotations

from flask import Flask


def connect(app: Flask) -> None:
    """The organisation's menu entries (officers, agencies, duties, imports, audit log)."""
    from lms import policy, ui
    from lms.i18n import N_

    ui.add_nav(app, "org.users", N_("Officers"), lambda u: policy.can(u, "hr.view_agency"), 70)
    ui.add_nav(app, "org.agencies", N_("Agencies"), lambda u: policy.can(u, "hr.view_agency"), 71)
    ui.add_nav(app, "org.duties", N_("Duties"), lambda u: policy.can(u, "org.manage_users"), 72)
    ui.add_nav(app, "org.import_officers", N_("Import"), lambda u: policy.can(u, "org.import_roster"), 73)
    ui.add_nav(app, "org.audit_log", N_("Audit log"), lambda u: policy.can(u, "org.view_audit"), 90)
