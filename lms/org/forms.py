"""Admin forms for agencies, users and duties."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from lms.i18n import lazy
from lms.org.fields import SIMPLE_FIELDS, FieldProblem, OfficerField
from lms.org.models import AgencyKind

KIND_LABELS = {
    AgencyKind.province: lazy("Province"),
    AgencyKind.department: lazy("Department, board or sector"),
    AgencyKind.district: lazy("District"),
    AgencyKind.commune: lazy("Commune or ward"),
    AgencyKind.sociopolitical: lazy("Socio-political organisation"),
    AgencyKind.press: lazy("Press agency"),
    AgencyKind.other: lazy("Other"),
}

ROLE_LABELS = {
    "officer": lazy("Officer"),
    "trainer": lazy("Trainer"),
    "hr": lazy("HR / plan manager"),
    "admin": lazy("Administrator"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class AgencyForm(FlaskForm):
    code = StringField(lazy("Code"), validators=[DataRequired(), Length(max=40)],
                       description=lazy("Stable code used in spreadsheets, e.g. STP or XA-TRAHY."))
    name_vi = StringField(lazy("Name in Vietnamese"), validators=[DataRequired(), Length(max=255)])
    name_en = StringField(lazy("Name in English"), validators=[Optional(), Length(max=255)])
    kind = SelectField(lazy("Kind"), choices=[(k.value, label) for k, label in KIND_LABELS.items()])
    parent_id = SelectField(lazy("Parent agency"), coerce=int, choices=[])


class UserForm(FlaskForm):
    username = StringField(lazy("Username"), validators=[DataRequired(), Length(max=80)],
                           description=lazy("Lower-case letters without diacritics, digits, '.', '_' or '-'."))
    full_name = StringField(lazy("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(lazy("Email"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)])
    employee_id = StringField(lazy("Employee id"), validators=[Optional(), Length(max=40)])
    agency_id = SelectField(lazy("Agency"), coerce=int, choices=[])
    job_title = StringField(lazy("Job title"), validators=[Optional(), Length(max=200)])
    locale = SelectField(lazy("Language"), choices=[("vi", "Tiếng Việt"), ("en", "English")])
    roles = MultiCheckboxField(lazy("Roles"), choices=[(k, v) for k, v in ROLE_LABELS.items()])
    duties = MultiCheckboxField(lazy("Designated duties"), choices=[])
    hr_all_agencies = BooleanField(lazy("HR sees every agency"))
    hr_agencies = SelectMultipleField(lazy("HR scope: agencies (with their units)"), coerce=int, choices=[])


def _read_with(spec: OfficerField):
    """A validator that checks a cell the way the roster import does, with the same message."""

    def check(form: FlaskForm, field: StringField) -> None:
        assert spec.read is not None
        try:
            spec.read(field.data or "")
        except FieldProblem as problem:
            raise ValidationError(str(problem)) from problem

    return check


# The simple officer fields (phone ...) come from the field spec, so the form never names them.
for _spec in SIMPLE_FIELDS:
    setattr(UserForm, _spec.name, StringField(_spec.heading, description=_spec.description,
                                              validators=[Optional(), Length(max=100), _read_with(_spec)]))


class DutyForm(FlaskForm):
    code = StringField(lazy("Code"), validators=[DataRequired(), Length(max=40)])
    name_vi = StringField(lazy("Name in Vietnamese"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(lazy("Name in English"), validators=[DataRequired(), Length(max=120)])


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""


# Roster imports and merges ----------------------------------------------------------------


class ImportUploadForm(FlaskForm):
    file = FileField(
        lazy("File (.xlsx or .csv)"),
        validators=[FileRequired(message=lazy("Choose the file to import."))],
    )
    deactivate_missing = BooleanField(
        lazy("This is the full list: disable officers of these agencies who are not in it"),
        description=lazy("Only the agencies named in the file are affected. The preview lists "
                         "everyone who would be disabled before anything is written."),
    )


class ImportConfirmForm(FlaskForm):
    # The preview's digest: confirming applies exactly what was previewed, or shows a new preview.
    fingerprint = HiddenField()


class MergeForm(FlaskForm):
    target_id = SelectField(lazy("Merge into"), coerce=int, choices=[],
                            validators=[DataRequired(message=lazy("Choose the agency to merge into."))])
    confirm = HiddenField(default="")
