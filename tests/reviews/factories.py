"""Factories for rubrics, reviewers, assignments and reviews, shared by every test of the reviews module.

``make_rubric(call)`` gives the call a rubric of two criteria (weights 2 and 1, scale 1-5, the second
allowing N/A); ``make_reviewer()`` a user with the reviewer role and a profile; ``make_assignment()`` an
assignment of a reviewer to an eligible proposal (everything created on demand); ``make_review()`` a
review with a score per criterion, submitted by default.
"""

from datetime import timedelta

from sqlalchemy import select

from fundapp.applications.models import ProposalState
from fundapp.core.db import utcnow
from fundapp.core.permissions import Role
from fundapp.extensions import db
from fundapp.reviews import ranking
from fundapp.reviews.models import (
    Assignment,
    AssignmentState,
    Criterion,
    CriterionScore,
    Recommendation,
    Review,
    ReviewerAffiliation,
    ReviewerProfile,
    Rubric,
)
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.factories import make_user

#: The criteria ``make_rubric`` creates when none are given.
DEFAULT_CRITERIA = (
    {"title": "Conservation relevance", "weight": 2},
    {"title": "Feasibility", "weight": 1, "allow_na": True},
)


def _descriptors(scale_min, scale_max):
    return {str(level): f"Level {level}" for level in range(scale_min, scale_max + 1)}


def make_rubric(call=None, criteria=None, **settings):
    """A rubric for ``call`` (default: a new open call).

    ``criteria``: a list of dicts of Criterion fields (title, weight, scale_min, scale_max, allow_na,
    description, level_descriptors); defaults fill the rest. ``settings``: Rubric fields
    (reviewers_per_proposal, blind, reviewers_see_others, disagreement_spread, recommendation_split_percent,
    due_at). An existing rubric of the call is returned with its settings updated, criteria untouched.
    """
    call = call or make_call()
    rubric = db.session.scalar(select(Rubric).where(Rubric.call_id == call.id))
    if rubric is None:
        rubric = Rubric(call_id=call.id)
        rubric.call = call
        db.session.add(rubric)
        for position, fields in enumerate(DEFAULT_CRITERIA if criteria is None else criteria):
            fields = dict(fields)
            scale_min = fields.setdefault("scale_min", 1)
            scale_max = fields.setdefault("scale_max", 5)
            fields.setdefault("level_descriptors", _descriptors(scale_min, scale_max))
            fields.setdefault("description", "")
            fields.setdefault("weight", 1)
            fields.setdefault("allow_na", False)
            rubric.criteria.append(Criterion(position=position, **fields))
    settings.setdefault("reviewers_per_proposal", rubric.reviewers_per_proposal or 3)
    settings.setdefault("blind", bool(rubric.blind))
    settings.setdefault("reviewers_see_others", bool(rubric.reviewers_see_others))
    settings.setdefault("disagreement_spread", rubric.disagreement_spread or 25)
    settings.setdefault("recommendation_split_percent", rubric.recommendation_split_percent or 30)
    for name, value in settings.items():
        setattr(rubric, name, value)
    db.session.flush()
    return rubric


def make_reviewer(
    *,
    themes=(),
    regions=(),
    species_groups=(),
    languages=("en", "ru"),
    affiliations=(),
    max_load=8,
    profile=True,
    **user_fields,
):
    """A user with the reviewer role and (unless ``profile=False``) a reviewer profile.

    ``affiliations``: organisations the reviewer is affiliated with (conflicts of interest).
    ``user_fields`` go to ``make_user`` (email, full_name, roles, ...); the reviewer role is always added.
    """
    roles = set(user_fields.pop("roles", ()))
    roles.add(Role.REVIEWER)
    user = make_user(roles=tuple(sorted(roles)), **user_fields)
    if profile:
        reviewer_profile = ReviewerProfile(
            user_id=user.id,
            themes=list(themes),
            regions=list(regions),
            species_groups=list(species_groups),
            languages=list(languages),
            max_load_per_call=max_load,
        )
        for organisation in affiliations:
            reviewer_profile.affiliations.append(ReviewerAffiliation(organisation_id=organisation.id))
        db.session.add(reviewer_profile)
        db.session.flush()
    return user


def profile_of(user):
    return db.session.scalar(select(ReviewerProfile).where(ReviewerProfile.user_id == user.id))


def make_assignment(
    proposal=None,
    reviewer=None,
    *,
    state=AssignmentState.ASSIGNED,
    call=None,
    rubric=True,
    assigned_by=None,
    due_at=None,
    **fields,
):
    """An assignment of ``reviewer`` (default: a new reviewer) to ``proposal`` (default: a new proposal,
    complete and in review, of ``call`` or a new call).

    The call gets a rubric unless ``rubric=False``. ``state=ACCEPTED`` or ``SUBMITTED`` also sets
    ``declared_at``. ``due_at`` defaults to the rubric's, or 14 days from now.
    """
    if proposal is None:
        proposal = make_proposal(call=call, complete=True, state=ProposalState.IN_REVIEW)
    the_rubric = make_rubric(proposal.call) if rubric else None
    reviewer = reviewer or make_reviewer()
    if due_at is None:
        due_at = (the_rubric.due_at if the_rubric is not None else None) or utcnow() + timedelta(days=14)
    state = AssignmentState(state)
    if state in (AssignmentState.ACCEPTED, AssignmentState.SUBMITTED):
        fields.setdefault("declared_at", utcnow())
    assignment = Assignment(
        proposal_id=proposal.id,
        reviewer_id=reviewer.id,
        state=state,
        assigned_by_id=assigned_by.id if assigned_by is not None else None,
        due_at=due_at,
        **fields,
    )
    db.session.add(assignment)
    db.session.flush()
    return assignment


def weighted_score(criteria_scores):
    """The weighted 0-100 score of ``[(criterion, score or None for N/A)]`` as ``ranking.weighted_score``
    computes it at submission; None when every criterion is N/A."""
    if all(score is None for _criterion, score in criteria_scores):
        return None
    return ranking.weighted_score(
        [(c.weight, c.scale_min, c.scale_max, score) for c, score in criteria_scores]
    )


def make_review(
    assignment=None,
    *,
    scores=None,
    recommendation=Recommendation.FUND,
    comments="Solid plan with a credible team.",
    submitted=True,
    **assignment_fields,
):
    """A review of ``assignment`` (default: a new accepted assignment; ``assignment_fields`` go to
    ``make_assignment``).

    ``scores``: ``{criterion position or title: score}`` where ``None`` means N/A; by default every
    criterion gets its scale maximum. ``submitted=True`` sets ``submitted_at``, the weighted score, and the
    assignment's state SUBMITTED; ``submitted=False`` leaves a draft (assignment ACCEPTED).
    """
    if assignment is None:
        assignment_fields.setdefault("state", AssignmentState.ACCEPTED)
        assignment = make_assignment(**assignment_fields)
    rubric = db.session.scalar(select(Rubric).where(Rubric.call_id == assignment.proposal.call_id))
    criteria = list(rubric.criteria) if rubric is not None else []
    chosen = []
    for criterion in criteria:
        if scores is None:
            value = criterion.scale_max
        elif criterion.position in scores:
            value = scores[criterion.position]
        elif criterion.title in scores:
            value = scores[criterion.title]
        else:
            continue
        chosen.append((criterion, value))
    review = Review(
        assignment_id=assignment.id,
        recommendation=Recommendation(recommendation) if recommendation is not None else None,
        comments=comments,
        version=1,
    )
    for criterion, value in chosen:
        review.scores.append(CriterionScore(criterion_id=criterion.id, score=value, is_na=value is None))
    if submitted:
        review.submitted_at = utcnow()
        review.weighted_score = weighted_score(chosen)
        assignment.state = AssignmentState.SUBMITTED
        assignment.declared_at = assignment.declared_at or utcnow()
    elif assignment.state == AssignmentState.ASSIGNED:
        assignment.state = AssignmentState.ACCEPTED
        assignment.declared_at = utcnow()
    db.session.add(review)
    db.session.flush()
    return review


__all__ = [
    "make_assignment",
    "make_officer",
    "make_review",
    "make_reviewer",
    "make_rubric",
    "profile_of",
    "weighted_score",
]
