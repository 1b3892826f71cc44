"""Navigation entries contributed by each domain; the base template shows those the user may use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_login import current_user

from lms import policy
from lms.i18n import N_, _


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str  # English source string, translated at render time
    visible: Callable[[Any], bool]
    order: int = 50


NAV: list[NavItem] = [
    NavItem("home.index", N_("Home"), lambda u: True, 0),
    NavItem("org.users", N_("Officers"), lambda u: policy.can(u, "hr.view_agency"), 70),
    NavItem("org.agencies", N_("Agencies"), lambda u: policy.can(u, "hr.view_agency"), 71),
    NavItem("org.duties", N_("Duties"), lambda u: policy.can(u, "org.manage_users"), 72),
    NavItem("org.audit_log", N_("Audit log"), lambda u: policy.can(u, "org.view_audit"), 90),
]


def add(endpoint: str, label: str, visible: Callable[[Any], bool], order: int = 50) -> None:
    """Register a navigation entry (called by a domain when its blueprint is registered)."""
    if all(item.endpoint != endpoint for item in NAV):
        NAV.append(NavItem(endpoint, label, visible, order))


def items() -> list[dict[str, Any]]:
    """The entries for the current user, in order, with their URL and whether they are current."""
    if not current_user.is_authenticated:
        return []
    out = []
    for item in sorted(NAV, key=lambda i: i.order):
        if item.endpoint not in current_app.view_functions or not item.visible(current_user):
            continue
        blueprint = item.endpoint.split(".")[0]
        current = request.endpoint == item.endpoint or (
            blueprint not in {"home"} and (request.endpoint or "").startswith(blueprint + ".")
            and item.endpoint.split(".")[1] == (request.endpoint or ".").split(".")[1]
        )
        out.append({"url": url_for(item.endpoint), "label": _(item.label), "current": current})
    return out
