"""Error pages in the visitor's language; JSON for API paths."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from lms.extensions import db
from lms.i18n import N_, _

_TITLES = {
    400: N_("The request could not be understood"),
    401: N_("Please sign in"),
    403: N_("You do not have access to this page"),
    404: N_("Page not found"),
    405: N_("This action is not allowed here"),
    413: N_("The file is too large"),
    429: N_("Too many requests"),
    500: N_("Something went wrong on our side"),
}


def _render(code: int, message: str | None = None):
    db.session.rollback()
    title = _(_TITLES.get(code, "Error"))
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return {"error": {"status": code, "title": title, "message": message or title}}, code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def _has_nul() -> bool:
    """A NUL byte in the path, the query or a form field: no text column accepts it (PostgreSQL refuses
    it with an error), and no person types it, so the request is refused before any view runs."""
    if "\x00" in request.path:
        return True
    values = [*request.args.keys(), *request.args.values()]
    if request.method != "GET" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *request.form.values()]
    return any("\x00" in value for value in values)


def register(app: Flask) -> None:
    @app.before_request
    def _refuse_nul():
        if _has_nul():
            return _render(400, _("The address or the form contains a NUL character (\\0), which is not allowed. "
                                  "Remove it and try again."))
        return None

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        return _render(
            400,
            _("The form had expired or was sent from another site. Go back, reload the page and try again; "
              "what you typed is still on the previous page."),
        )

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if err.code == 401:
            from flask import redirect, url_for

            if not request.path.startswith("/api/"):
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return _render(err.code or 500, None)

    @app.errorhandler(InternalServerError)
    def _server(err: InternalServerError):
        app.logger.exception("unhandled error", exc_info=err.original_exception)
        return _render(500, _("The error has been logged. Please try again in a moment."))
