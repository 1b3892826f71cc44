"""Forms of the certificate pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from lms.certificates.codes import ALPHABET, DATA_LENGTH, is_well_formed, normalise_code
from lms.i18n import _, lazy


class VerifyForm(FlaskForm):
    """The public look-up form; sent by GET so that the result has a shareable address."""

    class Meta:
        csrf = False  # a GET look-up changes nothing; rate limiting guards the look-ups themselves

    code = StringField(
        lazy("Certificate code"),
        validators=[DataRequired(message=lazy("Type the code printed on the certificate.")),
                    Length(max=64, message=lazy("A certificate code has 17 characters."))],
        description=lazy("17 characters, as printed under the QR code, e.g. 7KQ4-M2XD-9TRA-WP3C-H. "
                         "Dashes and capitals are optional."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                   "inputmode": "text"},
    )

    def validate_code(self, field: StringField) -> None:
        """Say what is wrong with a code as typed, before any look-up: alphabet, length, check."""
        symbols = normalise_code(field.data or "").replace("-", "")
        strange = sorted({symbol for symbol in symbols if symbol not in ALPHABET})
        if strange:
            raise ValidationError(_(
                "A certificate code has only digits and the letters A to Z without I, L, O and U. "
                "These characters cannot be part of one: %(chars)s", chars=" ".join(strange),
            ))
        if len(symbols) != DATA_LENGTH + 1:
            raise ValidationError(_(
                "A certificate code has 17 characters; you typed %(num)s.", num=len(symbols)
            ))
        if not is_well_formed(symbols):
            raise ValidationError(_(
                "This code has a typing mistake: one character is wrong or two neighbouring "
                "characters are swapped. Compare it with the certificate once more."
            ))


class RevokeForm(FlaskForm):
    # Both forms sit on the certificate page: distinct ids so each label points at its own box.
    reason = TextAreaField(
        lazy("Reason for revoking"), id="revoke-reason",
        validators=[DataRequired(message=lazy("Give a reason: it is kept in the audit log.")),
                    Length(max=1000)],
        description=lazy("Kept in the audit log; not shown on the public verification page."),
    )


class ReissueForm(FlaskForm):
    holder_name = StringField(
        lazy("Holder's name as it should be printed"),
        validators=[DataRequired(message=lazy("Enter the holder's name.")), Length(max=200)],
    )
    agency_name = StringField(lazy("Agency as it should be printed"),
                              validators=[DataRequired(), Length(max=255)])
    reason = TextAreaField(
        lazy("What is corrected, and why"), id="reissue-reason",
        validators=[DataRequired(message=lazy("Give a reason: it is kept in the audit log.")),
                    Length(max=1000)],
        description=lazy("The certificate gets a new code; the old code will say it was replaced."),
    )


class CertificateFilterForm(FlaskForm):
    """Filters of the HR list (GET)."""

    class Meta:
        csrf = False

    agency = SelectField(lazy("Agency"), coerce=int, validators=[Optional()])
    course = SelectField(lazy("Course"), coerce=int, validators=[Optional()])
    plan = SelectField(lazy("Training plan"), coerce=int, validators=[Optional()])
    state = SelectField(lazy("Status"), validators=[Optional()])
    q = StringField(lazy("Name or code"), validators=[Optional(), Length(max=100)])


class RenderPdfsForm(FlaskForm):
    """Render the missing PDFs of the listed certificates (a button: only the CSRF token)."""


SCOPE_LABELS = {
    "none": lazy("Nowhere yet (a draft)"),
    "installation": lazy("The whole installation (the default)"),
    "agency": lazy("An agency and all the agencies under it"),
    "course": lazy("One course"),
}
IMAGE_HINT = lazy("PNG or JPEG, at most 1 MB and 2000 pixels on each side; a transparent PNG looks best.")


class TemplateForm(FlaskForm):
    """Create or edit a certificate template: layout, texts, images and where it applies."""

    name = StringField(lazy("Name"), validators=[DataRequired(message=lazy("Give the template a name.")),
                                                 Length(max=120)],
                       description=lazy("For administrators only; it is not printed."))
    layout = RadioField(lazy("Layout"), default="classic")
    issuer_vi = StringField(
        lazy("Issuing agency (Vietnamese)"),
        validators=[DataRequired(message=lazy("Enter the issuing agency's name in Vietnamese.")),
                    Length(max=255)],
        description=lazy("Printed at the top left, in capitals, e.g. Sở Nội vụ tỉnh Sơn Hà."),
    )
    issuer_en = StringField(lazy("Issuing agency (English)"), validators=[Optional(), Length(max=255)],
                            description=lazy("For certificates printed in English; empty: the Vietnamese name."))
    signer_name = StringField(lazy("Signer's name"), validators=[Optional(), Length(max=200)])
    signer_title_vi = TextAreaField(
        lazy("Signer's title (Vietnamese)"), validators=[Optional(), Length(max=255)],
        description=lazy("One or two lines, e.g. KT. GIÁM ĐỐC, then PHÓ GIÁM ĐỐC on the next line."),
        render_kw={"rows": 2},
    )
    signer_title_en = TextAreaField(lazy("Signer's title (English)"), validators=[Optional(), Length(max=255)],
                                    render_kw={"rows": 2})
    seal = FileField(lazy("Seal image"), description=IMAGE_HINT,
                     render_kw={"accept": "image/png,image/jpeg"})
    remove_seal = BooleanField(lazy("Remove the seal"))
    signature = FileField(lazy("Signature image"), description=IMAGE_HINT,
                          render_kw={"accept": "image/png,image/jpeg"})
    remove_signature = BooleanField(lazy("Remove the signature"))
    scope = RadioField(lazy("Applies to"), choices=list(SCOPE_LABELS.items()), default="none")
    agency_id = SelectField(lazy("Agency"), coerce=int, validators=[Optional()])
    course_id = SelectField(lazy("Course"), coerce=int, validators=[Optional()])


class DeleteTemplateForm(FlaskForm):
    """Delete a template (a button: only the CSRF token)."""
