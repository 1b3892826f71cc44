"""Home page and language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.extensions import db

bp = Blueprint("home", __name__)

# Other domains add cards to the signed-in home page: (template, predicate(user)).
DASHBOARD_PANELS: list[tuple[str, object]] = []


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
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
