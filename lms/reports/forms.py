"""Report filters (read from the query string) and the plan forms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.i18n import _, lazy
from lms.org.models import AgencyKind
from lms.reports.queries import Filters, local_today

FILTER_NAMES = ("plan", "course", "kind", "duty", "from", "to")


@dataclass
class FilterInput:
    filters: Filters
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


def _int(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def _date(raw: str) -> date | None:
    raw = raw.strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        pass
    parts = raw.split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        try:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            return None
    return None


def parse_filters(args: Mapping[str, str], *, plans: set[int], courses: set[int], duties: set[int]) -> FilterInput:
    """Read the report filters; every unusable value is dropped with a message naming the field."""
    values = {name: (args.get(name) or "").strip() for name in FILTER_NAMES}
    errors: dict[str, str] = {}
    chosen: dict[str, object] = {}
    for name, known, message in (
        ("plan", plans, _("There is no such plan.")),
        ("course", courses, _("There is no such course.")),
        ("duty", duties, _("There is no such duty.")),
    ):
        if values[name]:
            number = _int(values[name])
            if number is None or number not in known:
                errors[name] = message
            else:
                chosen[name] = number
    if values["kind"]:
        if values["kind"] in AgencyKind.__members__:
            chosen["kind"] = values["kind"]
        else:
            errors["kind"] = _("Unknown agency kind.")
    for name in ("from", "to"):
        if values[name]:
            day = _date(values[name])
            if day is None:
                errors[name] = _("Write the date as dd/mm/yyyy, for example 31/05/2024.")
            else:
                chosen[name] = day
    if "from" in chosen and "to" in chosen and chosen["from"] > chosen["to"]:  # type: ignore[operator]
        errors["to"] = _("The end of the period is before its start.")
        chosen.pop("to")
    filters = Filters(
        plan_id=chosen.get("plan"),  # type: ignore[arg-type]
        course_id=chosen.get("course"),  # type: ignore[arg-type]
        agency_kind=chosen.get("kind"),  # type: ignore[arg-type]
        duty_id=chosen.get("duty"),  # type: ignore[arg-type]
        date_from=chosen.get("from"),  # type: ignore[arg-type]
        date_to=chosen.get("to"),  # type: ignore[arg-type]
        today=local_today(),
    )
    return FilterInput(filters, errors, values)


class PlanForm(FlaskForm):
    name = StringField(lazy("Name"), validators=[DataRequired(), Length(max=200)],
                       description=lazy("For example: Plan to train officers in human-rights communication, 2024."))
    year = IntegerField(lazy("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    due_date = DateField(lazy("Due date"), validators=[Optional()],
                         description=lazy("The date by which the plan's courses are due."))
    description = TextAreaField(lazy("Description"), validators=[Optional(), Length(max=5000)])


class AddCourseForm(FlaskForm):
    course_id = SelectField(lazy("Course"), coerce=int, validators=[InputRequired()])


class AddMemberForm(FlaskForm):
    kind = SelectField(lazy("Whom"), choices=[("agency", lazy("An agency")), ("duty", lazy("Officers with a duty")),
                                              ("user", lazy("A named officer"))])
    agency_id = SelectField(lazy("Agency"), coerce=int, validators=[Optional()])
    include_subtree = BooleanField(lazy("Include its sub-agencies"), default=True)
    duty_id = SelectField(lazy("Duty"), coerce=int, validators=[Optional()])
    username = StringField(lazy("Username of the officer"), validators=[Optional(), Length(max=80)])


class TargetForm(FlaskForm):
    kind = SelectField(lazy("Target"))
    min_value = DecimalField(lazy("At least (%)"), places=1, validators=[Optional(), NumberRange(min=0, max=100)])
    max_value = DecimalField(lazy("At most (%)"), places=1, validators=[Optional(), NumberRange(min=0, max=100)])
    note = StringField(lazy("Note"), validators=[Optional(), Length(max=200)])


class ConfirmForm(FlaskForm):
    pass


