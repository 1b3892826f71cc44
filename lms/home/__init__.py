"""The front door: the home page for each role, the language switch and the error pages."""

from __future__ import annotations

from flask import Flask


def connect(app: Flask) -> None:
    """The home page's own menu entry."""
    from lms import ui
    from lms.i18n import N_

    ui.add_nav(app, "home.index", N_("Home"), lambda _user: True, 0)
