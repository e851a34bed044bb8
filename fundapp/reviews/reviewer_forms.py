"""Forms of the reviewer's pages: the conflict declaration, declining, the review and an officer's reopening.

The review form is built per rubric (``review_form``): one radio group per criterion, named
``score_<criterion id>``, with the level descriptors as labels and "Not applicable" where allowed. The
form only gathers what was sent; the rules (scale, N/A, completeness) are the operations' in
``fundapp.reviews.scoring``, which put their messages back next to these fields.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from fundapp.reviews.models import RECOMMENDATION_LABELS, Recommendation
from fundapp.reviews.scoring import MAX_COMMENTS, MAX_REASON, NOT_APPLICABLE, score_field

NO_CONFLICT = "none"
CONFLICT = "conflict"


class DeclarationForm(FlaskForm):
    has_conflict = RadioField(
        _l("Do you have a conflict of interest with this proposal?"),
        choices=[
            SelectChoice(
                NO_CONFLICT, _l("No: I have no conflict of interest and can review this proposal impartially")
            ),
            SelectChoice(CONFLICT, _l("Yes: I have a conflict of interest")),
        ],
        validators=[InputRequired(_l("Say whether you have a conflict of interest."))],
    )
    note = TextAreaField(
        _l("If you have a conflict, what is it?"),
        validators=[Length(max=MAX_REASON)],
        description=_l(
            "For example: you work for the organisation or a partner, advised it, or compete with it. "
            "Only the fund's staff read this."
        ),
    )


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Why are you declining?"),
        validators=[DataRequired(_l("Give a reason for declining.")), Length(max=MAX_REASON)],
        description=_l(
            "For example: away until the deadline, outside your expertise. The fund's staff read this."
        ),
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Why must the review be reopened?"),
        validators=[DataRequired(_l("Give a reason for reopening the review.")), Length(max=MAX_REASON)],
        description=_l("The reviewer receives this by email and must submit the review again."),
    )


class SubmitReviewForm(FlaskForm):
    pass


def level_label(criterion, level):
    """A radio button's label: the level, and its descriptor when the rubric gives one."""
    descriptor = (criterion.level_descriptors or {}).get(str(level), "")
    return f"{level} · {descriptor}" if descriptor else str(level)


def score_choices(criterion):
    choices = [
        SelectChoice(str(level), level_label(criterion, level))
        for level in range(criterion.scale_min, criterion.scale_max + 1)
    ]
    if criterion.allow_na:
        choices.append(SelectChoice(NOT_APPLICABLE, _l("Not applicable")))
    return choices


class _ReviewFormBase(FlaskForm):
    recommendation = RadioField(
        _l("Your recommendation"),
        choices=[SelectChoice(r.value, RECOMMENDATION_LABELS[r]) for r in Recommendation],
        validators=[Optional()],
        validate_choice=False,  # the operation checks it and says so next to the field
    )
    comments = TextAreaField(
        _l("Comments"),
        validators=[Length(max=MAX_COMMENTS)],
        description=_l(
            "Strengths, weaknesses and what would make the proposal fundable. The fund may share your "
            "comments with the applicant without your name."
        ),
    )
    base_version = IntegerField(widget=HiddenInput(), default=0, validators=[Optional()])


def review_form(criteria, *, from_request=True, **kwargs):
    """A review form for ``criteria``, filled from the request (or, ``from_request=False``, from ``kwargs``
    and ``data`` only)."""

    class ReviewForm(_ReviewFormBase):
        pass

    for criterion in criteria:
        setattr(
            ReviewForm,
            score_field(criterion),
            RadioField(
                criterion.title,
                choices=score_choices(criterion),
                validators=[Optional()],
                validate_choice=False,
                description=criterion.description,
            ),
        )
    ReviewForm.criteria = list(criteria)
    if from_request:
        return ReviewForm(**kwargs)
    return ReviewForm(formdata=None, **kwargs)


def scores_from(form):
    """``{field name: value}`` of the form's score fields, as ``scoring.save_review_draft`` takes them."""
    return {score_field(c): form[score_field(c)].data for c in form.criteria}
