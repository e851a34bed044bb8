"""Forms of the officer's call pages and of screening.

Field-level checks live here; the rules on a call's content live in ``calls.call_data_problems`` and are
run by ``CallForm.validate`` too, so every problem shows next to its field at once. Date-times are typed
in the fund's time zone and come out of the form as UTC instants.
"""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField, FieldList
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from fundapp.accounts.models import OrganisationType
from fundapp.applications.calls import (
    MAX_QUESTION_LENGTH,
    MAX_TITLE_LENGTH,
    CallData,
    call_currencies,
    call_data_problems,
    fund_instant,
)
from fundapp.applications.models import AttachmentKind, ScreeningOutcome
from fundapp.applications.screening import CHECKLIST, outcome_choices
from fundapp.core.formatting import fund_timezone
from fundapp.reference.models import Vocabulary, reference_items

#: Blank question rows offered on the form; blanks are ignored.
QUESTION_ROWS = 5
_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _fund_datetime_field(label, validators):
    """A datetime-local input read in the fund's time zone (the zone is named in the description)."""
    return DateTimeLocalField(
        label,
        validators=validators,
        format=_DATETIME_FORMATS,
        tz=fund_timezone,
        invalid_value_message=_l("Enter a date and time, e.g. 2026-12-01 18:00."),
    )


class QuestionForm(Form):
    """One eligibility question (a sub-form: the outer form carries the CSRF token)."""

    text = StringField(
        _l("Question"), validators=[Optional(), Length(max=MAX_QUESTION_LENGTH)], filters=[_strip]
    )
    disqualifying_answer = SelectField(
        _l("Disqualifying answer"),
        choices=[
            SelectChoice("", _l("Neither (for information)")),
            SelectChoice("yes", _l("Yes")),
            SelectChoice("no", _l("No")),
        ],
        default="",
    )
    explanation = StringField(
        _l("Explanation shown to a disqualified applicant"),
        validators=[Optional(), Length(max=MAX_QUESTION_LENGTH)],
        filters=[_strip],
    )

    def question_data(self):
        answer = {"yes": True, "no": False}.get(self.disqualifying_answer.data)
        return {
            "text": self.text.data or "",
            "disqualifying_answer": answer,
            "explanation": self.explanation.data or "",
        }


class CallForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[InputRequired(), Length(max=MAX_TITLE_LENGTH)], filters=[_strip]
    )
    description_html = TextAreaField(
        _l("Description"),
        description=_l(
            "Basic HTML is kept: paragraphs, headings (h2–h4), bold, italics, lists, quotes and links. "
            "Anything else is removed."
        ),
        render_kw={"rows": 10},
    )
    themes = MultiCheckboxField(_l("Themes"))
    eligible_org_types = MultiCheckboxField(
        _l("Who may apply"), choices=[SelectChoice(t.value, t.label) for t in OrganisationType]
    )
    currency = SelectField(_l("Currency"))
    grant_min = StringField(_l("Smallest grant"), filters=[_strip], render_kw={"inputmode": "decimal"})
    grant_max = StringField(_l("Largest grant"), filters=[_strip], render_kw={"inputmode": "decimal"})
    envelope = StringField(
        _l("Total envelope"),
        filters=[_strip],
        render_kw={"inputmode": "decimal"},
        description=_l("The most the call may commit to grants in all."),
    )
    opens_at = _fund_datetime_field(_l("Opens"), [InputRequired(message=_l("Enter a date and time."))])
    closes_at = _fund_datetime_field(_l("Closes"), [InputRequired(message=_l("Enter a date and time."))])
    stages = RadioField(
        _l("Stages"),
        choices=[
            SelectChoice("1", _l("One stage: full proposals")),
            SelectChoice(
                "2", _l("Two stages: concept notes first, then full proposals from invited organisations")
            ),
        ],
        default="1",
    )
    full_proposal_closes_at = _fund_datetime_field(_l("Full proposals due (two-stage calls)"), [Optional()])
    cofinancing_min_percent = IntegerField(
        _l("Co-financing required, as a percentage of the total project cost"),
        validators=[Optional(), NumberRange(min=0, max=100, message=_l("Enter a percentage from 0 to 100."))],
        default=0,
    )
    required_attachments = MultiCheckboxField(
        _l("Required attachments"), choices=[SelectChoice(k.value, k.label) for k in AttachmentKind]
    )
    questions = FieldList(FormField(QuestionForm), min_entries=QUESTION_ROWS, max_entries=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.themes.choices = [
            SelectChoice(item.code, item.label) for item in reference_items(Vocabulary.THEME)
        ]
        self.currency.choices = [SelectChoice(code) for code in call_currencies()]
        if not self.currency.data:
            self.currency.data = current_app.config["BASE_CURRENCY"]
        # Offer a few blank rows after the questions already there.
        filled = sum(1 for entry in self.questions.entries if entry.form.text.data)
        wanted = min(max(QUESTION_ROWS, filled + 2), self.questions.max_entries)
        while len(self.questions.entries) < wanted:
            self.questions.append_entry()

    def call_data(self):
        """The form's content as ``CallData``: instants in UTC, amounts as typed."""
        return CallData(
            title=self.title.data or "",
            description_html=self.description_html.data or "",
            themes=list(self.themes.data or []),
            eligible_org_types=list(self.eligible_org_types.data or []),
            currency=self.currency.data or "",
            grant_min=self.grant_min.data or "",
            grant_max=self.grant_max.data or "",
            envelope=self.envelope.data or "",
            opens_at=fund_instant(self.opens_at.data),
            closes_at=fund_instant(self.closes_at.data),
            stages=self.stages.data or 1,
            full_proposal_closes_at=fund_instant(self.full_proposal_closes_at.data),
            cofinancing_min_percent=self.cofinancing_min_percent.data or 0,
            required_attachments=list(self.required_attachments.data or []),
            questions=[entry.form.question_data() for entry in self.questions.entries],
        )

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        from fundapp.extensions import db

        problems = call_data_problems(self.call_data(), db.session)
        for name, message in problems.items():
            field = self[name]
            if field.errors:  # the field's own check already said what is wrong
                continue
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
            valid = False
        return valid


class ExtendDeadlineForm(FlaskForm):
    closes_at = _fund_datetime_field(
        _l("New closing date"), [InputRequired(message=_l("Enter a date and time."))]
    )
    full_proposal_closes_at = _fund_datetime_field(_l("New deadline for full proposals"), [Optional()])


class CancelCallForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (shown in the audit log)"),
        validators=[Optional(), Length(max=2000)],
        filters=[_strip],
        render_kw={"rows": 2},
    )


class ScreeningForm(FlaskForm):
    checklist = MultiCheckboxField(
        _l("Checklist"), choices=[SelectChoice(key, label) for key, label in CHECKLIST]
    )
    outcome = RadioField(_l("Outcome"), validators=[InputRequired(message=_l("Choose an outcome."))])
    reason = TextAreaField(
        _l("Reason"),
        validators=[Optional(), Length(max=5000)],
        filters=[_strip],
        description=_l("Sent to the applicant. Required for ineligible, more information and declined."),
        render_kw={"rows": 4},
    )

    def __init__(self, proposal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.choices = [
            SelectChoice(outcome.value, label) for outcome, label in outcome_choices(proposal)
        ]

    @property
    def outcome_value(self):
        return ScreeningOutcome(self.outcome.data)
