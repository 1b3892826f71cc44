"""Forms for enrolment buttons and HR assignment pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

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


class OverrideForm(FlaskForm):
    """An arrangement for one officer in one course."""

    course_id = SelectField(lazy("Course"), coerce=int, choices=[], validators=[DataRequired()])
    extra_minutes = IntegerField(lazy("Extra minutes per quiz attempt"), default=0,
                                 validators=[Optional(), NumberRange(min=0, max=600)])
    extra_attempts = IntegerField(lazy("Extra attempts per quiz"), default=0,
                                  validators=[Optional(), NumberRange(min=0, max=20)])
    due_date = DateField(lazy("Later due date"), validators=[Optional()],
                         description=lazy("Only a date later than the assigned one changes it."))
    reason = TextAreaField(lazy("Reason"), validators=[DataRequired(), Length(max=500)],
                           description=lazy("E.g. illness, disability, a failed connection. The officer sees it."))


class WorkshopForm(FlaskForm):
    title = StringField(lazy("Title"), validators=[DataRequired(), Length(max=300)])
    held_on = DateField(lazy("Date"), validators=[DataRequired()])
    place = StringField(lazy("Place"), validators=[DataRequired(), Length(max=300)])
    agency_id = SelectField(lazy("Organising agency"), coerce=int, choices=[], validators=[DataRequired()])
    trainer = StringField(lazy("Trainer"), validators=[DataRequired(), Length(max=200)])
    hours = DecimalField(lazy("Hours"), places=1, validators=[DataRequired(), NumberRange(min=0.5, max=200)])
    course_id = SelectField(lazy("Course"), coerce=int, choices=[],
                            description=lazy("The course the workshop covers, if any."))
    topic = StringField(lazy("Topic"), validators=[Optional(), Length(max=200)],
                        description=lazy("For a workshop that is not one of the platform's courses."))
    counts_as_completion = BooleanField(lazy("Attending completes the course"), default=True,
                                        description=lazy("Reports count it apart, as completed in person."))


class WorkshopDeleteForm(FlaskForm):
    confirm = BooleanField(lazy("Yes, delete this workshop, its attendance list and the completions it gave"))


class AttendanceFileForm(FlaskForm):
    file = FileField(lazy("Attendance sheet (.xlsx or .csv)"), validators=[FileRequired()],
                     description=lazy("One officer per row, with a column “Tên đăng nhập” or “Mã cán bộ”."))


class ExternalForm(FlaskForm):
    title = StringField(lazy("Training"), validators=[DataRequired(), Length(max=300)])
    issuer = StringField(lazy("Issued by"), validators=[DataRequired(), Length(max=300)])
    hours = DecimalField(lazy("Hours"), places=1, validators=[DataRequired(), NumberRange(min=0.5, max=2000)])
    completed_on = DateField(lazy("Date on the certificate"), validators=[DataRequired()])
    course_id = SelectField(lazy("Course it stands for"), coerce=int, choices=[])
    counts_as_completion = BooleanField(lazy("It completes that course"))
    file = FileField(lazy("Certificate (PDF, at most 10 MB)"), validators=[FileRequired()])
