"""Forms of the donor pages: a donor, a contact, a pledge with its instalments, a contribution received.

Amounts are typed in major units and read in the view with ``Money.from_decimal`` (through
``parse_amount``), so the error names the field and the currency; the rules (a positive amount, no future
date, instalments that add up) belong to ``operations`` and come back as domain errors next to their field.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional

from fundapp.donors.models import DonorKind
from fundapp.donors.operations import MAX_BANK_REFERENCE

#: Rows of instalments the pledge form offers (blank rows are left out).
INSTALMENT_ROWS = 6


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class DonorForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[InputRequired(message=_l("Give the donor's name.")), Length(max=300)],
        filters=[_strip],
    )
    kind = SelectField(
        _l("Kind of donor"),
        choices=[SelectChoice(kind.value, kind.label) for kind in DonorKind],
        validators=[InputRequired(message=_l("Choose what kind of donor this is."))],
    )
    country = StringField(
        _l("Country"),
        validators=[InputRequired(message=_l("Give the donor's country.")), Length(max=2)],
        filters=[_upper],
        description=_l("Two-letter ISO code, e.g. KZ, DE or US."),
    )
    preferred_language = SelectField(
        _l("Language of reports"),
        choices=[SelectChoice("en", "English"), SelectChoice("ru", "Русский"), SelectChoice("kk", "Қазақша")],
    )
    preferred_currency = StringField(
        _l("Currency"),
        validators=[InputRequired(message=_l("Give the donor's currency.")), Length(max=3)],
        filters=[_upper],
        description=_l("ISO 4217 code the donor gives and reads figures in, e.g. EUR or USD."),
    )
    org_identifier = StringField(
        _l("Organisation identifier"),
        validators=[Optional(), Length(max=100)],
        filters=[_strip],
        description=_l("An org-id.guide identifier such as GB-GOV-1, for open data; blank for individuals."),
    )
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)], filters=[_strip])
    salutation = StringField(
        _l("How to thank them"),
        validators=[Optional(), Length(max=300)],
        filters=[_strip],
        description=_l("Used in the letter of their reports."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)], filters=[_strip])


class ContactForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[InputRequired(message=_l("Give the contact's name.")), Length(max=200)],
        filters=[_strip],
    )
    email = StringField(
        _l("Email"),
        validators=[
            InputRequired(message=_l("Give the contact's email.")),
            Email(message=_l("Enter a valid email address.")),
            Length(max=255),
        ],
        filters=[_strip],
    )
    position = StringField(_l("Position"), validators=[Optional(), Length(max=200)], filters=[_strip])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], filters=[_strip])
    portal_access = BooleanField(
        _l("Give access to the donor portal (an account and a mail with a link to set the password)")
    )


class InstalmentForm(Form):
    due_on = DateField(
        _l("Due on"), validators=[Optional()], invalid_value_message=_l("Enter a date, e.g. 2026-03-15.")
    )
    amount = StringField(_l("Amount"), validators=[Optional(), Length(max=30)], filters=[_strip])


class PledgeForm(FlaskForm):
    pool = SelectField(_l("Pool"), validators=[InputRequired(message=_l("Choose the pool."))])
    amount = StringField(
        _l("Amount pledged"),
        validators=[InputRequired(message=_l("Enter an amount.")), Length(max=30)],
        filters=[_strip],
    )
    pledged_on = DateField(
        _l("Date of the pledge"),
        validators=[InputRequired(message=_l("Enter the date of the pledge."))],
        invalid_value_message=_l("Enter a date, e.g. 2026-03-15."),
    )
    instalments = FieldList(
        FormField(InstalmentForm), min_entries=INSTALMENT_ROWS, max_entries=INSTALMENT_ROWS
    )

    def __init__(self, pools, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool.choices = [SelectChoice("", _l("Choose a pool"))] + [
            SelectChoice(pool.code, f"{pool.code}: {pool.name}") for pool in pools
        ]


class ContributionForm(FlaskForm):
    amount = StringField(
        _l("Amount received"),
        validators=[InputRequired(message=_l("Enter an amount.")), Length(max=30)],
        filters=[_strip],
        description=_l("In the donor's currency, with a dot for decimals, e.g. 100000.00."),
    )
    rate = StringField(
        _l("Exchange rate"),
        validators=[Optional(), Length(max=40)],
        filters=[_strip],
    )
    value_date = DateField(
        _l("Value date"),
        validators=[InputRequired(message=_l("Enter the date the money arrived."))],
        invalid_value_message=_l("Enter a date, e.g. 2026-03-15."),
        description=_l("The day the money arrived in the fund's account."),
    )
    pool = SelectField(_l("Pool"), validators=[InputRequired(message=_l("Choose the pool."))])
    pledge = SelectField(_l("Pledge it pays (optional)"), validators=[Optional()])
    bank_reference = StringField(
        _l("Bank reference"), validators=[Optional(), Length(max=MAX_BANK_REFERENCE)], filters=[_strip]
    )
    #: Made when the form is shown; a second submission of the same form records nothing more.
    idempotency_key = HiddenField(validators=[InputRequired(), Length(max=80)])

    def __init__(self, pools, pledges, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool.choices = [SelectChoice("", _l("Choose a pool"))] + [
            SelectChoice(pool.code, f"{pool.code}: {pool.name}") for pool in pools
        ]
        self.pledge.choices = [SelectChoice("", _l("No pledge"))] + [
            SelectChoice(
                str(pledge.id), f"{pledge.pledged_on.isoformat()} · {pledge.amount} · {pledge.pool.code}"
            )
            for pledge in pledges
        ]


class ActionForm(FlaskForm):
    """A button that changes something: the CSRF token and an optional reason."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)], filters=[_strip])
