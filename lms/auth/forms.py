"""Sign-in and password forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from lms.auth.passwords import MAX_LENGTH
from lms.i18n import lazy


class LoginForm(FlaskForm):
    username = StringField(lazy("Username"), validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(lazy("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH * 4)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


def _new_password() -> PasswordField:
    return PasswordField(lazy("New password"), validators=[DataRequired()],
                         render_kw={"autocomplete": "new-password"},
                         description=lazy("At least 8 characters; avoid common passwords."))


def _repeat_password() -> PasswordField:
    return PasswordField(
        lazy("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=lazy("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class SetPasswordForm(FlaskForm):
    password = _new_password()
    confirm = _repeat_password()


# Not a subclass of SetPasswordForm: WTForms orders a form's fields by when they were created, and the
# error summary lists them in that order, so the current password (first on the page) is created first.
class ChangePasswordForm(FlaskForm):
    current = PasswordField(lazy("Current password"), validators=[DataRequired()],
                            render_kw={"autocomplete": "current-password"})
    password = _new_password()
    confirm = _repeat_password()


class ResetRequestForm(FlaskForm):
    identifier = StringField(lazy("Username or e-mail address"), validators=[DataRequired(), Length(max=254)],
                             render_kw={"autocomplete": "username", "autocapitalize": "none"})


class SecondFactorForm(FlaskForm):
    code = StringField(lazy("Code"), validators=[DataRequired(), Length(max=40)],
                       description=lazy("The 6 digits your authenticator app shows now, or one of your recovery "
                                        "codes."),
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false",
                                  "inputmode": "text"})


class EnrolForm(FlaskForm):
    code = StringField(lazy("Code from the app"), validators=[DataRequired(), Length(max=20)],
                       description=lazy("The 6 digits the app shows for this account."),
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ProofForm(FlaskForm):
    proof = PasswordField(lazy("Current password or a code"), validators=[DataRequired(), Length(max=MAX_LENGTH * 4)],
                          description=lazy("Your password, the 6 digits your app shows now, or a recovery code."),
                          render_kw={"autocomplete": "current-password"})
