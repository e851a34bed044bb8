"""Forms of the board pages.

The settings and scheduling forms are rendered with the field macro. The meeting page carries many small
forms (one per item and member); their fields are written out in the templates with ids unique on the
page, and these classes read and check what they post. Amounts are typed in major units and read with
``parse_amount`` in the view, so the error names the field and the currency.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from fundapp.board.models import DecisionOutcome, MeetingKind, VoteChoice
from fundapp.board.operations import MAX_LOCATION_LENGTH, MAX_TEXT_LENGTH, MAX_TITLE_LENGTH
from fundapp.core.formatting import fund_timezone

_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _fund_datetime_field(label, validators, description=None):
    """A datetime-local input read in the fund's time zone."""
    return DateTimeLocalField(
        label,
        validators=validators,
        format=_DATETIME_FORMATS,
        tz=fund_timezone,
        description=description,
        invalid_value_message=_l("Enter a date and time, e.g. 2026-12-01 18:00."),
    )


def _percent_field(label, description):
    return IntegerField(
        label,
        validators=[
            InputRequired(message=_l("Enter a whole number from 0 to 99.")),
            NumberRange(min=0, max=99, message=_l("Enter a whole number from 0 to 99.")),
        ],
        description=description,
    )


class BoardSettingsForm(FlaskForm):
    chair = SelectField(_l("Chair"), description=_l("A board member. On a tie, the chair's vote can decide."))
    secretary = SelectField(
        _l("Secretary"),
        description=_l(
            "A programme officer who schedules meetings, builds agendas, records votes and closes meetings. "
            "While no secretary is set, every programme officer can."
        ),
    )
    quorum_percent = _percent_field(
        _l("Quorum (%)"),
        _l("More than this share of the members eligible for an item must take part. 50: more than half."),
    )
    majority_percent = _percent_field(
        _l("Majority (%)"),
        _l("More than this share of the votes cast must approve; abstentions and recusals do not count."),
    )
    chair_casting_vote = BooleanField(_l("On a tie, the chair's vote decides"))
    minutes_name_votes = BooleanField(_l("The minutes name how each member voted"))

    def __init__(self, members, officers, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.chair.choices = [SelectChoice("", _l("No chair"))] + [
            SelectChoice(str(user.id), user.full_name) for user in members
        ]
        self.secretary.choices = [SelectChoice("", _l("No secretary"))] + [
            SelectChoice(str(user.id), f"{user.full_name} ({user.email})") for user in officers
        ]


class MeetingForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[InputRequired(), Length(max=MAX_TITLE_LENGTH)], filters=[_strip]
    )
    kind = RadioField(
        _l("Kind"),
        choices=[SelectChoice(kind.value, kind.label) for kind in MeetingKind],
        default=MeetingKind.MEETING.value,
        validators=[InputRequired()],
    )
    scheduled_at = _fund_datetime_field(
        _l("Date and time"),
        [InputRequired(message=_l("Enter a date and time."))],
        _l("For a vote by correspondence: when voting opens."),
    )
    location = StringField(
        _l("Location"), validators=[Optional(), Length(max=MAX_LOCATION_LENGTH)], filters=[_strip]
    )
    vote_deadline = _fund_datetime_field(_l("Vote deadline (votes by correspondence only)"), [Optional()])


class AddToAgendaForm(FlaskForm):
    proposal_id = IntegerField(validators=[InputRequired()])
    recommended = StringField(_l("Recommended amount"), filters=[_strip])


class MotionForm(FlaskForm):
    amount = StringField(_l("Amount to approve"), filters=[_strip])
    conditions = TextAreaField(
        _l("Conditions"), validators=[Optional(), Length(max=MAX_TEXT_LENGTH)], filters=[_strip]
    )


class AttendanceForm(FlaskForm):
    member_id = IntegerField(validators=[InputRequired()])
    present = SelectField(
        choices=[SelectChoice("1", _l("Present")), SelectChoice("0", _l("Absent"))],
        validators=[InputRequired()],
    )


class ConflictForm(FlaskForm):
    #: Empty: the signed-in member declares for themself.
    member_id = IntegerField(validators=[Optional()])
    note = TextAreaField(
        _l("Nature of the conflict"), validators=[Optional(), Length(max=MAX_TEXT_LENGTH)], filters=[_strip]
    )


class VoteForm(FlaskForm):
    #: Empty: the signed-in member votes for themself.
    member_id = IntegerField(validators=[Optional()])
    choice = RadioField(
        _l("Vote"),
        choices=[SelectChoice(choice.value, choice.label) for choice in VoteChoice],
        validators=[InputRequired(message=_l("Choose approve, reject or abstain."))],
    )


class DecideForm(FlaskForm):
    outcome = SelectField(
        choices=[SelectChoice(outcome.value, outcome.label) for outcome in DecisionOutcome],
        validators=[InputRequired(message=_l("Choose approve, reject or defer."))],
    )
    reason = TextAreaField(
        _l("Reason"), validators=[Optional(), Length(max=MAX_TEXT_LENGTH)], filters=[_strip]
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"), validators=[Optional(), Length(max=MAX_TEXT_LENGTH)], filters=[_strip]
    )


class ActionForm(FlaskForm):
    """A button that posts nothing but the CSRF token (open, close, take off the agenda)."""

    confirm = HiddenField()
