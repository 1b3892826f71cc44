"""Sign in, sign out, activation links, password change, profile."""

from __future__ import annotations

from flask import (
    Blueprint,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from lms import audit, ui
from lms.auth import services
from lms.auth.forms import ChangePasswordForm, LoginForm, ResetRequestForm, SetPasswordForm
from lms.errors import show_error
from lms.home.views import safe_next
from lms.i18n import _

bp = Blueprint("auth", __name__, url_prefix="/auth")



def _limits() -> services.LoginLimits:
    cfg = current_app.config
    return services.LoginLimits(
        window_seconds=cfg["LOGIN_WINDOW_SECONDS"],
        per_account=cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        per_address=cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"],
    )


def _profile() -> str:
    return current_app.config["PASSWORD_HASH_PROFILE"]


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.username.data or "", form.password.data or "", request.remote_addr or "", _limits(),
                _profile(),
            )
        except services.AuthError as err:
            form.password.errors.append(err.message)
            return render_template("auth/login.html", form=form), 200
        # A fresh session: nothing set before sign-in (a planted CSRF token, say) carries over.
        session.clear()
        login_user(user)
        session.permanent = True
        session["lang"] = user.locale
        return redirect(safe_next(form.next.data, url_for("home.index")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    services.end_all_sessions(current_user._get_current_object())
    audit.record("auth.signed_out", actor=current_user, target=current_user._get_current_object())
    session.clear()  # a shared PC keeps nothing of this session
    logout_user()
    flash(_("You have signed out on every device."), "success")
    return redirect(url_for("auth.login"))


def _no_referrer(response: Response) -> Response:
    # The token is in this page's URL: it must not travel in a Referer, not even to our own static files
    # (whose requests end up in access logs and proxies).
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/activate/<token>", methods=["GET", "POST"])
def activate(token: str) -> ResponseReturnValue:
    after_this_request(_no_referrer)
    try:
        row = services.user_for_token(token)
    except services.InvalidToken as err:
        return render_template("auth/activate_invalid.html", message=err.message), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.activate(token, form.password.data or "", _profile())
        except services.PasswordRejected as err:
            show_error(err, form, field="password")
        else:
            session.clear()
            logout_user()
            login_user(user)
            flash(_("Your password is set. Welcome!"), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/activate.html", form=form, user=row.user)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user._get_current_object(), form.current.data or "", form.password.data or "",
                                     _profile())
        except services.InvalidCredentials as err:
            show_error(err, form, field="current")
        except services.PasswordRejected as err:
            show_error(err, form, field="password")
        else:
            login_user(current_user._get_current_object())  # this device stays signed in with the new epoch
            flash(_("Your password has been changed; other devices were signed out."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/password.html", form=form)


@bp.get("/profile")
@login_required
def profile() -> str:
    return render_template("auth/profile.html", sections=ui.profile_sections(current_user))


@bp.route("/reset", methods=["GET", "POST"])
def reset_request() -> str | Response:
    """Forgotten password: the same answer whether or not the account exists (no enumeration)."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        from lms import ratelimit

        found = services.request_password_reset(form.identifier.data or "",
                                                ratelimit.address_key(request.remote_addr or ""))
        if found is not None:
            user, token = found
            base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
            link = base + url_for("auth.activate", token=token)
            services.send_reset_mail(user, link, current_app.config)  # via the outbox, after the commit
        flash(_("If an active account has that username or e-mail address and an e-mail address on file, a "
                "link to choose a new password is on its way. It works once, for %(hours)s hours.",
                hours=services.RESET_HOURS), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)
