"""Sign in, sign out, activation links, password change, profile."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
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
from markupsafe import Markup
from werkzeug.wrappers import Response

from lms import audit, policy, ui
from lms.auth import services, totp
from lms.auth.forms import (
    ChangePasswordForm,
    EnrolForm,
    LoginForm,
    ProofForm,
    ResetRequestForm,
    SecondFactorForm,
    SetPasswordForm,
)
from lms.errors import show_error
from lms.extensions import db
from lms.home.views import safe_next
from lms.i18n import _
from lms.org.forms import ConfirmForm
from lms.org.models import User
from lms.sqlite import writes

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
            user = services.check_password(
                form.username.data or "", form.password.data or "", request.remote_addr or "", _limits(),
                _profile(),
            )
        except services.AuthError as err:
            form.password.errors.append(err.message)
            return render_template("auth/login.html", form=form), 200
        target = safe_next(form.next.data, url_for("home.index"))
        if services.two_factor_secret(user) is not None:
            _start_second_step(user, target, enrol=False)
            return redirect(url_for("auth.two_factor"))
        if services.must_enrol(user, _required_roles()):
            _start_second_step(user, target, enrol=True)
            return redirect(url_for("auth.two_factor_enrol"))
        return _finish_sign_in(user, target)
    return render_template("auth/login.html", form=form)


# Second factor -----------------------------------------------------------------------------------
# Between the password and the code the session holds only "this account typed its password", signed
# like every session cookie and good for PENDING_SECONDS; nobody is logged in (Flask-Login knows
# nothing of it), so no page but the second step and the enrol page opens.

PENDING_KEY = "_lms_second_factor"
PENDING_SECONDS = 10 * 60


def _required_roles() -> frozenset[str]:
    return services.required_roles(current_app.config.get("REQUIRE_2FA_ROLES"))


def _start_second_step(user: User, target: str, *, enrol: bool) -> None:
    session.clear()  # a fresh session: nothing from before the password carries over
    session[PENDING_KEY] = {"uid": user.id, "epoch": user.session_epoch, "at": int(time.time()),
                            "next": target, "enrol": enrol}


def _pending(enrol: bool) -> tuple[User, dict[str, Any]] | None:
    """The account half-way through signing in (password typed), when the state is fresh and matches."""
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict) or bool(state.get("enrol")) != enrol:
        return None
    try:  # signed with the session, so only an older release could have written anything else
        at, uid = int(state.get("at", 0)), int(state.get("uid", 0))
    except (TypeError, ValueError):
        return None
    if not 0 <= time.time() - at <= PENDING_SECONDS:
        return None
    user = db.session.get(User, uid)
    # A password change or a disabled account in the meantime ends the half-done sign-in as well.
    if user is None or not user.active or user.session_epoch != state.get("epoch"):
        return None
    return user, state


def _finish_sign_in(user: User, target: str, **details: Any) -> Response:
    session.clear()
    services.record_sign_in(user, **details)
    login_user(user)
    session.permanent = True
    session["lang"] = user.locale
    return redirect(target)


# A signed-in account whose role needs a second factor and that has none (signed in before the rule was
# turned on, or through an activation link) opens nothing but the enrol page until it sets one up.
OPEN_WITHOUT_SECOND_FACTOR = frozenset({
    "auth.two_factor_enrol", "auth.logout", "home.logout_alias", "home.set_language", "home.offline", "home.service_worker",
    "static",
})


@bp.before_app_request
def _enrol_first() -> Response | None:
    if request.endpoint in OPEN_WITHOUT_SECOND_FACTOR or request.blueprint == "api":
        return None  # the API takes bearer tokens only, never this session
    roles = _required_roles()
    if not roles or not current_user.is_authenticated:
        return None
    if services.must_enrol(current_user._get_current_object(), roles):
        return redirect(url_for("auth.two_factor_enrol"))
    return None


def _again() -> Response:
    session.pop(PENDING_KEY, None)
    flash(_("Your sign-in has expired. Type your username and password again."), "error")
    return redirect(url_for("auth.login"))


@bp.route("/two-factor", methods=["GET", "POST"])
def two_factor() -> str | Response:
    """Sign-in, step 2: a code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    pending = _pending(enrol=False)
    if pending is None:
        return _again()
    user, state = pending
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            how = services.verify_second_factor(user, form.code.data or "", request.remote_addr or "",
                                                _limits(), time.time())
        except services.AuthError as err:
            show_error(err, form, field="code")
        else:
            response = _finish_sign_in(user, str(state.get("next") or url_for("home.index")), second_factor=how)
            if how == "recovery":
                left = services.recovery_codes_left(user)
                flash(_("You signed in with a recovery code; it will not work again. Recovery codes left: "
                        "%(num)s. Make new ones on your account page if you are running out.", num=left), "warning")
            return response
    return render_template("auth/two_factor.html", form=form)


@bp.route("/two-factor/enrol", methods=["GET", "POST"])
@writes  # the first visit stores the new secret the page shows (the same one on every reload)
def two_factor_enrol() -> str | Response:
    """Turn on two-factor authentication: scan the QR code (or type the secret), confirm with a code."""
    pending = None
    if current_user.is_authenticated:
        user = current_user._get_current_object()
    else:
        pending = _pending(enrol=True)
        if pending is None:
            return redirect(url_for("auth.login", next=request.path))
        user = pending[0]
    if services.two_factor_secret(user) is not None:
        flash(_("Two-factor authentication is already on for this account."), "success")
        return redirect(url_for("auth.profile"))
    row = services.enrolment_secret(user)
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = services.confirm_enrolment(user, form.code.data or "", request.remote_addr or "",
                                               _limits(), time.time())
        except services.AuthError as err:
            show_error(err, form, field="code")
        else:
            if pending is not None:
                target = str(pending[1].get("next") or url_for("home.index"))
                _finish_sign_in(user, target, second_factor="enrolled")
            else:
                target = url_for("auth.profile")
                login_user(user)  # this device stays signed in with the new epoch; the others end
            return render_template("auth/recovery_codes.html", codes=codes, target=target, first=True)
    uri = totp.provisioning_uri(row.secret, user.username, current_app.config["SITE_NAME"])
    required = pending is not None or services.must_enrol(user, _required_roles())
    qr = Markup(totp.qr_svg(uri))  # noqa: S704 - segno's SVG is one path of modules; no text of the address
    return render_template("auth/two_factor_enrol.html", form=form, qr=qr, secret=totp.grouped(row.secret),
                           required=required, user=user)


@bp.post("/two-factor/recovery-codes")
@login_required
def two_factor_recovery_codes() -> str | Response:
    """Ten new recovery codes in place of the old ones (password or a code first)."""
    form = ProofForm()
    if not form.validate_on_submit():
        flash(_("Type your current password or a code first."), "error")
        return redirect(url_for("auth.profile", _anchor="two-factor"))
    try:
        codes = services.regenerate_recovery_codes(
            current_user._get_current_object(), form.proof.data or "", request.remote_addr or "", _limits(),
            _profile(), time.time())
    except services.AuthError as err:
        show_error(err)
        return redirect(url_for("auth.profile", _anchor="two-factor"))
    return render_template("auth/recovery_codes.html", codes=codes, target=url_for("auth.profile"), first=False)


@bp.post("/two-factor/disable")
@login_required
def two_factor_disable() -> Response:
    """Turn two-factor authentication off (password or a code first)."""
    form = ProofForm()
    if not form.validate_on_submit():
        flash(_("Type your current password or a code first."), "error")
        return redirect(url_for("auth.profile", _anchor="two-factor"))
    user = current_user._get_current_object()
    try:
        services.disable_two_factor(user, form.proof.data or "", request.remote_addr or "", _limits(),
                                    _profile(), time.time())
    except services.AuthError as err:
        show_error(err)
        return redirect(url_for("auth.profile", _anchor="two-factor"))
    if services.must_enrol(user, _required_roles()):
        flash(_("Two-factor authentication is off. Your role requires it: set it up again now."), "warning")
        return redirect(url_for("auth.two_factor_enrol"))
    flash(_("Two-factor authentication is off."), "success")
    return redirect(url_for("auth.profile"))


@bp.post("/users/<int:user_id>/two-factor/reset")
@policy.require("org.manage_users")
def two_factor_reset(user_id: int) -> Response:
    """An administrator resets the second factor of an account whose phone and codes are lost."""
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.reset_two_factor(user, actor=current_user._get_current_object())
    except services.AuthError as err:
        show_error(err)
    else:
        flash(_("Two-factor authentication of %(name)s is reset and their sessions have ended. At the next "
                "sign-in they set it up again.", name=user.full_name), "success")
    return redirect(url_for("org.user_edit", user_id=user.id, _anchor="two-factor"))


@bp.app_context_processor
def _two_factor_helpers() -> dict[str, Any]:
    return {"two_factor_of": services.two_factor_secret, "recovery_codes_left": services.recovery_codes_left,
            "two_factor_proof_form": ProofForm}


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
            logout_user()
            if services.two_factor_secret(user) is not None:
                # A reset link proves the mailbox, not the phone: the second factor is still asked for.
                _start_second_step(user, url_for("home.index"), enrol=False)
                flash(_("Your password is set. Now type the code from your authenticator app."), "success")
                return redirect(url_for("auth.two_factor"))
            session.clear()
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
