"""Forms of the officer's review pages and of the reviewer's own profile.

Field-level checks live here; the rules (weights, scales, descriptors, settings ranges) live in
``operations`` and are run by the forms' ``validate`` too, so every problem shows next to its field at once.
The review due date is typed in the fund's time zone and comes out of the form as a UTC instant.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from fundapp.applications.calls import fund_instant
from fundapp.core.formatting import fund_timezone
from fundapp.reference.models import Vocabulary, reference_items
from fundapp.reviews import operations

_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
LANGUAGE_LABELS = {"en": _l("English"), "ru": _l("Russian"), "kk": _l("Kazakh")}


def _whole_number_or_none(value):
    """A select's value as an int; None for the empty choice or anything that is not a whole number."""
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _whole_number(label, low, high, message, **kwargs):
    return IntegerField(
        label,
        validators=[InputRequired(message=message), NumberRange(min=low, max=high, message=message)],
        **kwargs,
    )


def _add_problems(form, problems, names=None):
    """Put ``{field: message}`` from an operation's check next to the fields that have no error yet."""
    valid = True
    for name, message in problems.items():
        field = getattr(form, (names or {}).get(name, name), None)
        if field is None or field.errors:
            continue
        field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        valid = False
    return valid


class RubricSettingsForm(FlaskForm):
    reviewers_per_proposal = _whole_number(
        _l("Reviewers per proposal"), 1, 10, _l("Ask for 1 to 10 reviewers per proposal.")
    )
    blind = BooleanField(_l("Blind review: reviewers do not see the applicant organisation's identity"))
    reviewers_see_others = BooleanField(
        _l("Reviewers see the other reviews of a proposal after submitting their own")
    )
    disagreement_spread = _whole_number(
        _l("Flag disagreement when scores differ by more than (points of 100)"),
        0,
        100,
        _l("The spread is a number of points from 0 to 100."),
    )
    recommendation_split_percent = _whole_number(
        _l("Flag a split recommendation when the smaller side holds at least (%)"),
        1,
        50,
        _l("The split is a percentage from 1 to 50."),
    )
    due_at = DateTimeLocalField(
        _l("Reviews due"),
        validators=[Optional()],
        format=_DATETIME_FORMATS,
        tz=fund_timezone,
        invalid_value_message=_l("Enter a date and time, e.g. 2026-12-01 18:00."),
    )

    def settings(self):
        return operations.RubricSettings(
            reviewers_per_proposal=self.reviewers_per_proposal.data,
            blind=bool(self.blind.data),
            reviewers_see_others=bool(self.reviewers_see_others.data),
            disagreement_spread=self.disagreement_spread.data,
            recommendation_split_percent=self.recommendation_split_percent.data,
            due_at=fund_instant(self.due_at.data),
        )


class StartRubricForm(FlaskForm):
    start = SelectField(
        _l("Start from"),
        choices=[
            SelectChoice("default", _l("The fund's default rubric (five criteria)")),
            SelectChoice("empty", _l("An empty rubric")),
        ],
        default="default",
    )


class CriterionForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(message=_l("Give the criterion a title.")),
            Length(max=operations.MAX_TITLE),
        ],
        filters=[_strip],
    )
    description = TextAreaField(
        _l("What reviewers judge"),
        validators=[Optional(), Length(max=2000)],
        filters=[_strip],
        render_kw={"rows": 2},
    )
    weight = _whole_number(
        _l("Weight"),
        1,
        operations.MAX_WEIGHT,
        _l("The weight must be a whole number above 0."),
        description=_l("Relative to the other criteria; a criterion marked not applicable is left out."),
    )
    scale_min = _whole_number(_l("Scale from"), 0, 100, _l("Enter a whole number from 0."), default=1)
    scale_max = _whole_number(_l("Scale to"), 1, 100, _l("Enter a whole number."), default=5)
    level_descriptors = TextAreaField(
        _l("What each level means"),
        description=_l("One line per level, from the lowest to the highest."),
        filters=[_strip],
        render_kw={"rows": 5},
    )
    allow_na = BooleanField(_l("Reviewers may mark it not applicable"))

    def criterion_data(self):
        return operations.CriterionData(
            title=self.title.data or "",
            description=self.description.data or "",
            weight=self.weight.data,
            scale_min=self.scale_min.data,
            scale_max=self.scale_max.data,
            level_descriptors=[
                line for line in (self.level_descriptors.data or "").splitlines() if line.strip()
            ],
            allow_na=bool(self.allow_na.data),
        )

    @classmethod
    def data_of(cls, criterion):
        levels = range(criterion.scale_min, criterion.scale_max + 1)
        return {
            "title": criterion.title,
            "description": criterion.description,
            "weight": criterion.weight,
            "scale_min": criterion.scale_min,
            "scale_max": criterion.scale_max,
            "level_descriptors": "\n".join(
                (criterion.level_descriptors or {}).get(str(level), "") for level in levels
            ),
            "allow_na": criterion.allow_na,
        }

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.weight.errors or self.scale_min.errors or self.scale_max.errors:
            return False
        return _add_problems(self, operations.criterion_problems(self.criterion_data())) and valid


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(message=_l("Give a reason: it is kept in the audit log.")),
            Length(max=operations.MAX_REASON),
        ],
        filters=[_strip],
        render_kw={"rows": 2},
    )


class ManualAssignForm(ReasonForm):
    reviewer_id = SelectField(
        _l("Reviewer"),
        coerce=_whole_number_or_none,
        validators=[DataRequired(message=_l("Choose a reviewer."))],
        validate_choice=False,
    )

    def __init__(self, candidates, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [SelectChoice("", _l("Choose a reviewer…"))]
        for candidate in candidates:
            label = candidate.reviewer.full_name
            capacity = "—" if candidate.capacity is None else candidate.capacity
            label += f" · {candidate.load}/{capacity}"
            if candidate.match:
                label += " · " + str(_l("expertise match %(n)d", n=candidate.match))
            if candidate.conflict:
                label += f" · {candidate.conflict}"
            elif candidate.previous is not None:
                label += f" · {candidate.previous.state.label}"
            choices.append(
                SelectChoice(
                    candidate.reviewer.id,
                    label,
                    render_kw={"disabled": True} if candidate.conflict else {},
                )
            )
        self.reviewer_id.choices = choices


def _theme_choices():
    return [SelectChoice(item.code, item.label) for item in reference_items(Vocabulary.THEME)]


def _region_choices():
    return [
        SelectChoice(item.code, f"{item.label} ({item.code})") for item in reference_items(Vocabulary.REGION)
    ]


class ExpertiseForm(FlaskForm):
    themes = MultiCheckboxField(_l("Themes"), validate_choice=False)
    regions = MultiCheckboxField(_l("Regions"), validate_choice=False)
    species_groups = StringField(
        _l("Species groups"),
        description=_l("Separated by commas, e.g. pinnipeds, ungulates, felids, waterbirds."),
        validators=[Optional(), Length(max=1000)],
        filters=[_strip],
    )
    languages = MultiCheckboxField(
        _l("Languages you review in"),
        choices=[SelectChoice(code, label) for code, label in LANGUAGE_LABELS.items()],
        validate_choice=False,
    )
    bio = TextAreaField(
        _l("Short biography"),
        validators=[Optional(), Length(max=5000)],
        filters=[_strip],
        render_kw={"rows": 3},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.themes.choices = _theme_choices()
        self.regions.choices = _region_choices()

    def profile_data(self):
        return operations.ProfileData(
            themes=list(self.themes.data or []),
            regions=list(self.regions.data or []),
            species_groups=operations.parse_species_groups(self.species_groups.data),
            languages=list(self.languages.data or []),
            bio=self.bio.data or "",
        )

    @classmethod
    def data_of(cls, profile):
        if profile is None:
            return {}
        return {
            "themes": list(profile.themes or []),
            "regions": list(profile.regions or []),
            "species_groups": ", ".join(profile.species_groups or []),
            "languages": list(profile.languages or []),
            "bio": profile.bio,
            "max_load_per_call": profile.max_load_per_call,
            "affiliations": [a.organisation_id for a in profile.affiliations],
        }


class ReviewerProfileForm(ExpertiseForm):
    """The officer's form: expertise plus the load and the affiliations."""

    max_load_per_call = _whole_number(
        _l("Most proposals per call"),
        0,
        operations.MAX_LOAD,
        _l("The load is a number of proposals per call from 0 to %(n)d.", n=operations.MAX_LOAD),
        default=8,
    )
    affiliations = SelectMultipleField(
        _l("Affiliations"),
        coerce=int,
        description=_l(
            "Organisations the reviewer works or worked with: never assigned their proposals. "
            "Hold Ctrl (⌘ on a Mac) to choose several."
        ),
        validate_choice=False,
        render_kw={"size": 8},
    )

    def __init__(self, organisations, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.affiliations.choices = [SelectChoice(o.id, f"{o.name_en} ({o.bin})") for o in organisations]

    def profile_data(self):
        data = super().profile_data()
        data.max_load_per_call = self.max_load_per_call.data
        return data


class AddAffiliationForm(FlaskForm):
    organisation_id = SelectField(
        _l("Organisation"),
        coerce=_whole_number_or_none,
        validators=[DataRequired(message=_l("Choose an organisation from the list."))],
        validate_choice=False,
    )
    description = StringField(
        _l("Your relation to it"),
        description=_l("For example: board member until 2024; co-author of its seal surveys."),
        validators=[Optional(), Length(max=300)],
        filters=[_strip],
    )

    def __init__(self, organisations, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = [SelectChoice("", _l("Choose an organisation…"))] + [
            SelectChoice(o.id, f"{o.name_en} ({o.bin})") for o in organisations
        ]
