"""The pages' extension points, per application: menu entries, home-page panels, profile sections,
sections of an administrator's account page, extras on a completed course's row and page, and the link from a course to its quizzes.

A domain adds its entries in its ``connect(app)`` function (called by ``create_app``), never at import
time, so two applications in one process (tests, a worker) each have exactly what their own factory
registered. Templates read them through the globals installed by :func:`init_app`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from lms.i18n import _

Visible = Callable[[Any], bool]


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str  # English source string (marked with N_), translated at render time
    visible: Visible
    order: int = 50


@dataclass(frozen=True)
class Panel:
    template: str
    visible: Visible
    order: int = 50


@dataclass
class Registry:
    nav: list[NavItem] = field(default_factory=list)
    dashboard_panels: list[Panel] = field(default_factory=list)
    profile_sections: list[Panel] = field(default_factory=list)
    account_admin_sections: list[Panel] = field(default_factory=list)
    completed_row_extras: list[str] = field(default_factory=list)
    course_done_extras: list[str] = field(default_factory=list)
    # (course, quiz key) -> URL of the quiz page, or None while there is none.
    quiz_url: Callable[[Any, str], str | None] | None = None


def registry(app: Flask | None = None) -> Registry:
    app = app or current_app
    return app.extensions.setdefault("lms.ui", Registry())


def _add_once(entries: list[Any], entry: Any, key: Callable[[Any], Any]) -> None:
    if all(key(existing) != key(entry) for existing in entries):
        entries.append(entry)
        entries.sort(key=lambda e: getattr(e, "order", 0))


def add_nav(app: Flask, endpoint: str, label: str, visible: Visible, order: int = 50) -> None:
    """A menu entry, shown to users for whom ``visible(user)`` holds."""
    _add_once(registry(app).nav, NavItem(endpoint, label, visible, order), lambda e: e.endpoint)


def add_dashboard_panel(app: Flask, template: str, visible: Visible, order: int = 50) -> None:
    """A card on the signed-in home page (lower ``order`` first)."""
    _add_once(registry(app).dashboard_panels, Panel(template, visible, order), lambda e: e.template)


def add_profile_section(app: Flask, template: str, visible: Visible | None = None, order: int = 50) -> None:
    """A section of the profile page (e.g. API tokens)."""
    panel = Panel(template, visible or (lambda _user: True), order)
    _add_once(registry(app).profile_sections, panel, lambda e: e.template)


def add_account_admin_section(app: Flask, template: str, order: int = 50) -> None:
    """A section of an administrator's page of one account (``user`` and ``confirm`` in its context)."""
    panel = Panel(template, lambda _user: True, order)
    _add_once(registry(app).account_admin_sections, panel, lambda e: e.template)


def add_completed_row_extra(app: Flask, template: str) -> None:
    """A template included for each completed course on "My training" (``row`` in its context)."""
    if template not in registry(app).completed_row_extras:
        registry(app).completed_row_extras.append(template)


def add_course_done_extra(app: Flask, template: str) -> None:
    """A template included on a course's page and on a quiz result once the signed-in officer has
    completed the course (``course`` in its context), e.g. the certificate download."""
    if template not in registry(app).course_done_extras:
        registry(app).course_done_extras.append(template)


def set_quiz_url(app: Flask, builder: Callable[[Any, str], str | None]) -> None:
    """How the course page links a quiz key to its quiz (the quizzes domain sets it)."""
    registry(app).quiz_url = builder


# Reading them ---------------------------------------------------------------------------------


def nav_items() -> list[dict[str, Any]]:
    """The menu entries for the current user, in order, with their URL and whether they are current."""
    if not current_user.is_authenticated:
        return []
    # The user object itself, not the proxy: each rule reads it several times, and every read
    # through the proxy looks the user up again (a tenth of an officer page's time in the profile).
    user = current_user._get_current_object()
    out = []
    for item in registry().nav:
        if item.endpoint not in current_app.view_functions or not item.visible(user):
            continue
        blueprint = item.endpoint.split(".")[0]
        current = request.endpoint == item.endpoint or (
            blueprint not in {"home"} and (request.endpoint or "").startswith(blueprint + ".")
            and item.endpoint.split(".")[1] == (request.endpoint or ".").split(".")[1]
        )
        out.append({"url": url_for(item.endpoint), "label": _(item.label), "current": current})
    return out


def dashboard_panels(user: Any) -> list[str]:
    return [p.template for p in registry().dashboard_panels if p.visible(user)]


def profile_sections(user: Any) -> list[str]:
    return [p.template for p in registry().profile_sections if p.visible(user)]


def account_admin_sections() -> list[str]:
    return [p.template for p in registry().account_admin_sections]


def completed_row_extras() -> list[str]:
    return registry().completed_row_extras


def course_done_extras() -> list[str]:
    return registry().course_done_extras


def quiz_url(course: Any, key: str) -> str | None:
    builder = registry().quiz_url
    return builder(course, key) if builder else None


def init_app(app: Flask) -> None:
    """Make the readers available to every template."""
    registry(app)
    app.jinja_env.globals.update(
        nav_items=nav_items,
        completed_row_extras=completed_row_extras,
        account_admin_sections=account_admin_sections,
        course_done_extras=course_done_extras,
        quiz_url=quiz_url,
    )
