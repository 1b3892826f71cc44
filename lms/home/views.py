"""Home page and language switch."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from lms import ui

bp = Blueprint("home", __name__)

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
    panels = ui.dashboard_panels(current_user)
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
    response = redirect(back)
    response.set_cookie(
        "lms_lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True, secure=request.is_secure
    )
    return response


# Addresses people type from habit (Moodle's /login, /admin ...) lead to the page they mean instead
# of a 404. They only redirect or show a page: signing out stays a POST with its CSRF token.
@bp.get("/login")
@bp.get("/signin")
def login_alias() -> Response:
    target = safe_next(request.args.get("next"), "")
    return redirect(url_for("auth.login", next=target) if target else url_for("auth.login"))


@bp.get("/logout")
@bp.get("/signout")
def logout_alias() -> str | Response:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("home/logout.html")


@bp.get("/admin")
@bp.get("/dashboard")
def admin_alias() -> Response:
    # The home page is each role's dashboard (an administrator's shows the installation's health).
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("home.index")))
    return redirect(url_for("home.index"))


@bp.get("/profile")
@bp.get("/account")
def profile_alias() -> Response:
    return redirect(url_for("auth.profile"))


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, served from the root so that it may answer for the whole site."""
    response = current_app.send_static_file("js/sw.js")
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
def offline() -> str:
    """What a page not saved for offline reading shows without a connection (saved with each course)."""
    return render_template("home/offline.html")
