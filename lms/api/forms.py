"""Forms of the token management on the profile page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from lms.i18n import lazy


class TokenForm(FlaskForm):
    name = StringField(
        lazy("Token name"),
        validators=[Length(max=80)],
        description=lazy("What will use it, for example “Provincial dashboard”."),
        render_kw={"maxlength": 80, "autocomplete": "off"},
    )


class RevokeForm(FlaskForm):
    pass
