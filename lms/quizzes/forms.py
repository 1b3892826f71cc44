"""Forms of the quiz pages (the answer form itself is built from the attempt, see views.take)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, ValidationError

from lms.i18n import _, lazy
from lms.quizzes.engine import Pick

MAX_IMPORT_BYTES = 2 * 1024 * 1024
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")

FORMAT_CHOICES = [("auto", lazy("Recognise from the file")), ("gift", "GIFT (Moodle)"),
                  ("aiken", "Aiken"), ("xml", "Moodle XML")]


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""


class QuestionForm(FlaskForm):
    source = TextAreaField(
        lazy("Question in GIFT"),
        validators=[DataRequired(), Length(max=50_000)],
        description=lazy(
            "One question in Moodle's GIFT format, starting with its name between :: and ::. "
            "The examples below show every type."
        ),
    )
    # "gift", or "yaml" for the types GIFT cannot say (written as in content files).
    syntax = HiddenField(default="gift", validators=[AnyOf(["gift", "yaml"])])
    category = StringField(lazy("Category"), validators=[Optional(), Length(max=255)],
                           description=lazy("Quizzes draw random questions by category, e.g. m1."))
    tags = StringField(lazy("Tags"), validators=[Optional(), Length(max=500)],
                       description=lazy("Separated by commas."))
    points = DecimalField(lazy("Points"), places=2, default=1,
                          validators=[DataRequired(), NumberRange(min=0.01, max=100)])


class ImportForm(FlaskForm):
    file = FileField(lazy("File"), description=lazy(
        "A GIFT, Aiken or Moodle XML file as Moodle exports it, at most 2 MB."))
    fmt = SelectField(lazy("Format"), choices=FORMAT_CHOICES, default="auto")
    lang = SelectField(lazy("Language of the questions"), choices=[])
    category = StringField(lazy("Category for questions without one"),
                           validators=[Optional(), Length(max=255)])
    # The file (base64) and its name, carried from the preview to the confirmation so nothing is
    # stored meanwhile.
    data = HiddenField()
    filename = HiddenField()
    on_conflict = RadioField(lazy("Questions that would change an existing question's type or text"),
                             choices=[("replace", lazy("Replace them (a new version; attempts "
                                                       "already made keep their grading)")),
                                      ("keep-both", lazy("Keep both (import them as new questions)"))],
                             validators=[Optional()])


class GradeForm(FlaskForm):
    points = DecimalField(lazy("Points awarded"), places=2, validators=[DataRequired(message=lazy("Enter the points awarded."))])
    comment = TextAreaField(lazy("Comment for the officer"), validators=[Optional(), Length(max=5000)],
                            description=lazy("Say what was good and what was missing, against the rubric."))


def parse_picks(text: str) -> list[Pick]:
    """One pick per line: a question's name, or ``CATEGORY * N`` for N random questions."""
    picks: list[Pick] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if "*" in line:
            category, _sep, count = line.rpartition("*")
            category, count = category.strip(), count.strip()
            if not category or not count.isdigit() or not 1 <= int(count) <= 500:
                raise ValidationError(
                    _("Line %(line)s: write a category, a star and a number from 1 to 500, "
                      "e.g. m1 * 5.", line=number))
            picks.append(Pick(category=category, count=int(count)))
        else:
            picks.append(Pick(name=line))
    return picks


def format_picks(picks: list[dict]) -> str:
    return "\n".join(
        p["name"] if p.get("name") else f"{p.get('category')} * {p.get('count')}" for p in picks
    )


class QuizDatesForm(FlaskForm):
    """The settings a quiz kept in content files takes from the web: when it opens and closes."""

    open_at = DateTimeLocalField(lazy("Opens"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                 description=lazy("Empty: open now. Times are local (Viet Nam)."))
    close_at = DateTimeLocalField(lazy("Closes"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                  description=lazy("Empty: never closes. Attempts in progress end then."))


class QuizForm(QuizDatesForm):
    key = StringField(lazy("Key"), validators=[Optional(), Length(max=60)],
                      description=lazy("Stable key, e.g. final-test: lower-case letters, digits and '-'."))
    title_vi = StringField(lazy("Title in Vietnamese"), validators=[Optional(), Length(max=300)])
    title_en = StringField(lazy("Title in English"), validators=[Optional(), Length(max=300)])
    picks = TextAreaField(
        lazy("Questions"),
        validators=[Optional(), Length(max=20_000)],
        description=lazy("One line each: a question's name for a fixed question, or a category, a "
                         "star and a number for random questions (m1 * 5)."),
    )
    pass_mark = IntegerField(lazy("Pass mark (%)"), default=70,
                             validators=[DataRequired(), NumberRange(min=0, max=100)])
    time_limit_minutes = IntegerField(lazy("Time limit (minutes)"),
                                      validators=[Optional(), NumberRange(min=1, max=1440)],
                                      description=lazy("Empty: no time limit."))
    max_attempts = IntegerField(lazy("Maximum attempts"),
                                validators=[Optional(), NumberRange(min=1, max=1000)],
                                description=lazy("Empty: unlimited."))
    attempt_delay_minutes = IntegerField(lazy("Wait between attempts (minutes)"), default=0,
                                         validators=[Optional(), NumberRange(min=0, max=525600)])
    shuffle_choices = BooleanField(lazy("Shuffle the choices"), default=True)
    review_score = BooleanField(lazy("After submitting, show the score"), default=True)
    review_correct = BooleanField(lazy("After submitting, show the correct answers"), default=True)
    review_feedback = BooleanField(lazy("After submitting, show the feedback"), default=True)
    final = BooleanField(lazy("This is the course's final test"))
    questions_per_page = IntegerField(
        lazy("Questions per page"), default=5, validators=[Optional(), NumberRange(min=0, max=50)],
        description=lazy("On a computer; phones show one question at a time. 0: all on one page."))
    module_key = SelectField(lazy("Shown in module"), choices=[])

    def validate_key(self, field: StringField) -> None:
        if field.data and not KEY_RE.match(field.data):
            raise ValidationError(_("Use lower-case letters, digits and '-' (at most 60)."))

    def validate_picks(self, field: TextAreaField) -> None:
        parse_picks(field.data or "")


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")


def to_utc(value: datetime | None) -> datetime | None:
    """A naive local date and time from a form -> aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=local_zone()).astimezone(ZoneInfo("UTC"))


def to_local(value: datetime | None) -> datetime | None:
    """An aware UTC datetime -> naive local, to fill a datetime-local input."""
    if value is None:
        return None
    return value.astimezone(local_zone()).replace(tzinfo=None)
