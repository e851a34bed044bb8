"""Forms of the finance pages: a new funding pool, funds received, the reversal of a journal entry.

Amounts are typed in major units and read with ``parse_amount`` in the view, so the error names the field
and the currency; the rules themselves (a positive amount, no future date, a theme that exists) belong to
``pools`` and ``ledger`` and come back as domain errors next to their field.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from fundapp.disbursements.models import EntryKind, Restriction
from fundapp.disbursements.pools import MAX_BANK_REFERENCE, MAX_NAME_LENGTH


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class PoolForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[InputRequired(message=_l("Give the pool a short code.")), Length(max=40)],
        filters=[_upper],
        description=_l("2 to 40 capital letters, digits or hyphens, e.g. SEAL or STEPPE-2026."),
    )
    name = StringField(
        _l("Name"),
        validators=[InputRequired(message=_l("Give the pool a name.")), Length(max=MAX_NAME_LENGTH)],
        filters=[_strip],
    )
    currency = StringField(
        _l("Currency"),
        validators=[InputRequired(message=_l("Give the pool's currency."))],
        filters=[_upper],
        description=_l("ISO 4217 code, e.g. KZT or USD. A pool holds money in one currency."),
    )
    restriction = RadioField(
        _l("Restriction"),
        choices=[SelectChoice(r.value, r.label) for r in Restriction],
        default=Restriction.UNRESTRICTED.value,
        validators=[InputRequired(message=_l("Choose what the pool's money may fund."))],
    )
    theme = SelectField(_l("Theme (a pool restricted to a theme)"), validators=[Optional()])
    call = SelectField(_l("Call (a pool restricted to a call)"), validators=[Optional()])

    def __init__(self, themes, calls, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.theme.choices = [SelectChoice("", _l("Choose a theme"))] + [
            SelectChoice(item.code, item.label) for item in themes
        ]
        self.call.choices = [SelectChoice("", _l("Choose a call"))] + [
            SelectChoice(str(call.id), f"{call.reference} {call.title} ({call.currency})") for call in calls
        ]


class ReceiptForm(FlaskForm):
    amount = StringField(
        _l("Amount received"),
        validators=[InputRequired(message=_l("Enter an amount."))],
        filters=[_strip],
        description=_l("In major units with a dot for decimals, e.g. 1000000.00."),
    )
    value_date = DateField(
        _l("Value date"),
        validators=[InputRequired(message=_l("Enter the date the money arrived."))],
        invalid_value_message=_l("Enter a date, e.g. 2026-03-15."),
        description=_l("The day the money arrived in the fund's account."),
    )
    bank_reference = StringField(
        _l("Bank reference"), validators=[Optional(), Length(max=MAX_BANK_REFERENCE)], filters=[_strip]
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=500)], filters=[_strip])
    #: Made when the form is shown; a second submission of the same form records nothing more.
    idempotency_key = HiddenField(validators=[InputRequired(), Length(max=80)])


class EntryFilterForm(FlaskForm):
    """The journal's filter (a GET form, no CSRF token)."""

    class Meta:
        csrf = False

    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice("", _l("All kinds"))] + [SelectChoice(k.value, k.label) for k in EntryKind],
        validators=[Optional()],
    )


class ReverseForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the reversal"), validators=[Optional(), Length(max=400)], filters=[_strip]
    )


class PaymentFileForm(FlaskForm):
    """The ISO 20022 file's requested execution date (a GET form, no CSRF token)."""

    class Meta:
        csrf = False

    execution_date = DateField(
        _l("Requested execution date"),
        validators=[InputRequired(message=_l("Enter the day the bank should pay."))],
        invalid_value_message=_l("Enter a date, e.g. 2026-03-15."),
    )
