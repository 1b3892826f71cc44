"""Forms of the course editor."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.i18n import lazy


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


TOPIC_LABELS = {
    "foundations": lazy("Human-rights foundations"),
    "spokesperson": lazy("Spokesperson and the press"),
    "misinformation": lazy("Answering false information"),
    "digital-minority": lazy("Digital and ethnic-minority communication"),
    "other": lazy("Other"),
}


class CourseForm(FlaskForm):
    key = StringField(
        lazy("Key"), validators=[DataRequired(), Length(max=60)],
        description=lazy("Stable key, never changed later: a-z, 0-9 and '-' (e.g. press-basics)."),
    )  # fmt: skip
    title = StringField(lazy("Title"), validators=[DataRequired(), Length(max=300)])
    summary = TextAreaField(lazy("Summary for the catalogue"), validators=[DataRequired(), Length(max=2000)])
    languages = StringField(
        lazy("Languages"), validators=[DataRequired(), Length(max=200)],
        description=lazy("Language codes, the original first, e.g. vi, en, kuf."),
    )  # fmt: skip
    topic = SelectField(lazy("Topic"), choices=list(TOPIC_LABELS.items()))
    hours = DecimalField(
        lazy("Estimated hours"), places=1,
        validators=[InputRequired(), NumberRange(min=0.1, max=1000)],
    )  # fmt: skip
    open = BooleanField(lazy("Officers may enrol themselves"), default=True)


class CourseEditForm(CourseForm):
    """Editing: the key is fixed."""

    key = HiddenField()


class ModuleForm(FlaskForm):
    # Shown on the course editor next to the course form, whose title field already has the id "title".
    title = StringField(lazy("Module title"), id="module-title", validators=[DataRequired(), Length(max=300)])


class LessonForm(FlaskForm):
    key = StringField(
        lazy("Key"), validators=[Optional(), Length(max=60)],
        description=lazy("Stable key; leave empty to make one from the title."),
    )  # fmt: skip
    module_key = SelectField(lazy("Module"), choices=[])
    title = StringField(lazy("Title"), validators=[DataRequired(), Length(max=300)])
    minutes = IntegerField(
        lazy("Reading time (minutes)"), validators=[InputRequired(), NumberRange(min=1, max=600)]
    )
    body = TextAreaField(
        lazy("Text (Markdown)"), validators=[Optional(), Length(max=200_000)],
        description=lazy("Headings (##), lists, tables, ::: key-points … ::: boxes, files as files/NAME."),
    )  # fmt: skip


class UploadForm(FlaskForm):
    file = FileField(lazy("File"), validators=[FileRequired()])


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""


class CompletionForm(FlaskForm):
    """The course's completion rule and certificate, as the settings page edits them."""

    lessons_all = BooleanField(lazy("Every lesson, also lessons added later"), default=True)
    lessons = MultiCheckboxField(lazy("Required lessons"), choices=[])
    quizzes_all = BooleanField(lazy("Every quiz, also quizzes added later"), default=True)
    quizzes = MultiCheckboxField(lazy("Required quizzes"), choices=[],
                                 description=lazy("The final test is always required."))
    min_final_score = IntegerField(
        lazy("Minimum score on the final test (%)"), validators=[Optional(), NumberRange(min=0, max=100)],
        description=lazy("Empty: passing the final test at its pass mark is enough."),
    )  # fmt: skip
    certificate = BooleanField(lazy("Completing the course issues a certificate"))
    validity_months = IntegerField(
        lazy("Validity (months)"), validators=[Optional(), NumberRange(min=1, max=1200)],
        description=lazy("Empty: the certificate never expires."),
    )  # fmt: skip
    issuer = StringField(lazy("Issuing body"), validators=[Optional(), Length(max=200)])
    signer_name = StringField(lazy("Signer's name"), validators=[Optional(), Length(max=200)])
    signer_title = StringField(lazy("Signer's title"), validators=[Optional(), Length(max=200)])
