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


class SetPasswordForm(FlaskForm):
    password = PasswordField(lazy("New password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "new-password"},
                             description=lazy("At least 8 characters; avoid common passwords."))
    confirm = PasswordField(
        lazy("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=lazy("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(lazy("Current password"), validators=[DataRequired()],
                            render_kw={"autocomplete": "current-password"})


class ResetRequestForm(FlaskForm):
    identifier = StringField(lazy("Username or e-mail address"), validators=[DataRequired(), Length(max=254)],
                             render_kw={"autocomplete": "username", "autocapitalize": "none"})
