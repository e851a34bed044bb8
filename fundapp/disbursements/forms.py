"""Forms of the grant pages.

Amounts are typed in major units as text and read in the view (``read_amount``), so that a refused amount
names its field and the currency; dates are HTML date inputs read by WTForms (an unreadable date is a
field error, never a 500).
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, Form, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import DateField, FieldList, FormField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from fundapp.disbursements.models import TrancheGate
from fundapp.disbursements.operations import (
    MAX_BANK_REFERENCE,
    MAX_REASON_LENGTH,
    MAX_SIGNATORY_LENGTH,
    MAX_TRANCHES,
)

BAD_DATE = _l("Enter a date, e.g. 2026-03-31.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _date_field(label, required=True, description=None):
    validators = [InputRequired(message=BAD_DATE)] if required else [Optional()]
    return DateField(label, validators=validators, description=description)


class TrancheRowForm(Form):
    amount = StringField(_l("Amount"), filters=[_strip])
    planned_date = DateField(_l("Planned date"), validators=[Optional()])
    gate = SelectField(
        _l("Waits for"),
        choices=[SelectChoice(gate.value, gate.label) for gate in TrancheGate],
        validators=[Optional()],
    )

    def is_blank(self):
        """A row left empty (the spare row, or a tranche removed in AGREEMENT)."""
        raw = (self.planned_date.raw_data or [""])[0] or ""
        return not self.amount.data and not raw.strip()


class ScheduleForm(FlaskForm):
    rows = FieldList(FormField(TrancheRowForm), min_entries=1, max_entries=MAX_TRANCHES + 1)


class SignForm(FlaskForm):
    grantee_signatory = StringField(
        _l("Signed for the grantee by"),
        validators=[InputRequired(), Length(max=MAX_SIGNATORY_LENGTH)],
        filters=[_strip],
        description=_l("Name and position, as on the signed copy."),
    )
    grantee_signed_on = _date_field(_l("Date the grantee signed"))
    fund_signatory = StringField(
        _l("Signed for the fund by"),
        validators=[InputRequired(), Length(max=MAX_SIGNATORY_LENGTH)],
        filters=[_strip],
    )
    fund_signed_on = _date_field(_l("Date the fund signed"))
    signed_copy = FileField(
        _l("Signed copy (PDF)"), description=_l("The scan of the agreement both parties signed.")
    )


class ApproveForm(FlaskForm):
    bank_details_checked = BooleanField(_l("I checked the bank details against the signed agreement"))


class ReleaseForm(FlaskForm):
    paid_on = _date_field(_l("Date the bank paid"))
    bank_reference = StringField(
        _l("Bank reference"),
        validators=[
            InputRequired(message=_l("Enter the bank's reference of the payment.")),
            Length(max=MAX_BANK_REFERENCE),
        ],
        filters=[_strip],
    )
    idempotency_key = HiddenField(validators=[InputRequired(), Length(max=80)])


class RefundForm(FlaskForm):
    amount = StringField(_l("Amount refunded"), validators=[InputRequired()], filters=[_strip])
    value_date = _date_field(_l("Date the money arrived"))
    bank_reference = StringField(
        _l("Bank reference"), validators=[Optional(), Length(max=MAX_BANK_REFERENCE)], filters=[_strip]
    )
    idempotency_key = HiddenField(validators=[Optional(), Length(max=80)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"), validators=[Optional(), Length(max=MAX_REASON_LENGTH)], filters=[_strip]
    )


class ActionForm(FlaskForm):
    """A button that posts nothing but the CSRF token."""

    confirm = HiddenField()
