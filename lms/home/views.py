"""Home page and language switch."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.extensions import db

bp = Blueprint("home", __name__)

# Other domains add cards to the signed-in home page: (template, predicate(user)).
DASHBOARD_PANELS: list[tuple[str, object]] = []


# Browsers read a backslash as "/" and drop tabs and newlines: "/\evil" and "/<tab>/evil" lead off-site.
_UNSAFE_IN_NEXT = re.compile(r"[\x00-\x20\x7f\\]")
_OFFSITE_START = re.compile(r"/[\x00-\x20\x7f]*[/\\]")


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if not target or _UNSAFE_IN_NEXT.search(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return default
    # Checked decoded too: a proxy or another app on the way may decode "%2F%2F" before a browser sees it.
    if _OFFSITE_START.match(target) or _OFFSITE_START.match(unquote(target)):
        return default
    return target


@bp.get("/")
def index() -> str:
    if not current_user.is_authenticated:
        return render_template("home/welcome.html")
    panels = [tpl for tpl, visible in DASHBOARD_PANELS if visible(current_user)]  # type: ignore[operator]
    return render_template("home/index.html", panels=panels)


@bp.post("/lang")
def set_language() -> Response:
    lang = request.form.get("lang", "")
    back = safe_next(request.form.get("next"), url_for("home.index"))
    if lang not in current_app.config["LANGUAGES"]:
        return redirect(back)
    session["lang"] = lang
    if current_user.is_authenticated and current_user.locale != lang:
        current_user.locale = lang
        db.session.commit()
    response = redirect(back)
    response.set_cookie(
        "lms_lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True, secure=request.is_secure
    )
    return response
