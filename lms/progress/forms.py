"""Forms for enrolment buttons and HR assignment pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Optional

from lms.i18n import lazy

KIND_LABELS = {
    "user": lazy("Chosen officers"),
    "agency": lazy("Every officer of an agency"),
    "duty": lazy("Every officer with a duty"),
}


class AssignmentForm(FlaskForm):
    course_id = SelectField(lazy("Course"), coerce=int, choices=[], validators=[DataRequired()])
    kind = RadioField(lazy("Assign to"), choices=list(KIND_LABELS.items()), default="agency")
    usernames = TextAreaField(
        lazy("Officers"), validators=[Optional()],
        description=lazy("Usernames or employee ids, separated by commas, spaces or new lines."),
    )  # fmt: skip
    agency_id = SelectField(
        lazy("Agency"), coerce=int, choices=[],
        description=lazy("For a duty: only officers of this agency; leave empty for the whole province."),
    )  # fmt: skip
    include_subtree = BooleanField(lazy("Include its units"), default=True)
    duty_id = SelectField(lazy("Duty"), coerce=int, choices=[])
    due_date = DateField(lazy("Due date"), validators=[Optional()])


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""
