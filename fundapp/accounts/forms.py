"""Forms of the accounts module. Field-level checks live here; rules that need the database live in
operations and come back as DomainError with the field they belong to."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from fundapp.accounts.identifiers import bin_problem, iban_problem
from fundapp.accounts.models import OrganisationType
from fundapp.accounts.operations import MIN_PASSWORD_LENGTH
from fundapp.core.permissions import Role
from fundapp.reference.models import Vocabulary, reference_items


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Length(max=255)], filters=[_strip])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])


def _check_bin(form, field):
    problem = bin_problem(field.data)
    if problem:
        raise ValidationError(problem)


def _check_iban(form, field):
    if field.data:
        problem = iban_problem(field.data)
        if problem:
            raise ValidationError(problem)


class OrganisationFieldsMixin:
    name_en = StringField(
        _l("Name in English"), validators=[InputRequired(), Length(max=300)], filters=[_strip]
    )
    name_ru = StringField(
        _l("Name in Russian"), validators=[InputRequired(), Length(max=300)], filters=[_strip]
    )
    name_kk = StringField(
        _l("Name in Kazakh"), validators=[InputRequired(), Length(max=300)], filters=[_strip]
    )
    bin = StringField(
        _l("BIN (business identification number)"),
        validators=[InputRequired(), _check_bin],
        filters=[_strip],
        description=_l("12 digits, as on your registration certificate."),
    )
    org_type = SelectField(
        _l("Type of organisation"),
        choices=[SelectChoice(t.value, t.label) for t in OrganisationType],
        validators=[InputRequired()],
    )
    region_id = SelectField(_l("Region"), coerce=int, validators=[InputRequired()])
    legal_address = StringField(
        _l("Legal address"), validators=[InputRequired(), Length(max=500)], filters=[_strip]
    )
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)], filters=[_strip])
    contact_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], filters=[_strip])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=200)], filters=[_strip])
    bank_bic = StringField(
        _l("Bank BIC (SWIFT)"),
        validators=[
            Optional(),
            Regexp(
                r"^[A-Za-z]{6}[A-Za-z0-9]{2}([A-Za-z0-9]{3})?$",
                message=_l("A BIC has 8 or 11 letters and digits, e.g. HSBKKZKX."),
            ),
        ],
        filters=[_strip],
    )
    bank_iban = StringField(_l("Account (IBAN)"), validators=[Optional(), _check_iban], filters=[_strip])
    bank_kbe = StringField(
        _l("Beneficiary code (Kbe)"),
        validators=[Optional(), Regexp(r"^\d{2}$", message=_l("The beneficiary code has two digits."))],
        filters=[_strip],
    )

    def load_regions(self):
        self.region_id.choices = [
            SelectChoice(item.id, item.label) for item in reference_items(Vocabulary.REGION)
        ]

    def organisation_data(self):
        fields = (
            "name_en",
            "name_ru",
            "name_kk",
            "bin",
            "org_type",
            "region_id",
            "legal_address",
            "website",
            "contact_phone",
            "bank_name",
            "bank_bic",
            "bank_iban",
            "bank_kbe",
        )
        return {name: getattr(self, name).data for name in fields}


class PasswordFieldsMixin:
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class RegistrationForm(OrganisationFieldsMixin, PasswordFieldsMixin, FlaskForm):
    full_name = StringField(
        _l("Your full name"), validators=[InputRequired(), Length(max=200)], filters=[_strip]
    )
    email = EmailField(
        _l("Your email"),
        validators=[InputRequired(), Email(message=_l("Enter a valid email address.")), Length(max=255)],
        filters=[_strip],
    )


class OrganisationForm(OrganisationFieldsMixin, FlaskForm):
    pass


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Colleague's email"),
        validators=[InputRequired(), Email(message=_l("Enter a valid email address.")), Length(max=255)],
        filters=[_strip],
    )


class AcceptInvitationForm(PasswordFieldsMixin, FlaskForm):
    full_name = StringField(
        _l("Your full name"), validators=[InputRequired(), Length(max=200)], filters=[_strip]
    )


class ConfirmForm(FlaskForm):
    """A form with no fields: a button whose POST carries only the CSRF token."""


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Length(max=255)], filters=[_strip])


class ResetPasswordForm(PasswordFieldsMixin, FlaskForm):
    pass


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserRolesForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"), choices=[SelectChoice(r.value, r.label) for r in Role])
    is_active = BooleanField(_l("Account active (may log in)"))


class StaffAccountForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)], filters=[_strip])
    email = EmailField(
        _l("Email"),
        validators=[InputRequired(), Email(message=_l("Enter a valid email address.")), Length(max=255)],
        filters=[_strip],
    )
    roles = MultiCheckboxField(_l("Roles"), choices=[SelectChoice(r.value, r.label) for r in Role])

    def validate_roles(self, field):
        if not field.data:
            raise ValidationError(_l("Give the account at least one role."))
