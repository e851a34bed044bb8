"""Scoring operations without HTTP: drafts, submission with the weighted score, reopening, others' reviews,
and the blind snapshot."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from fundapp.applications import sections
from fundapp.applications.models import ProposalState
from fundapp.core.audit import AuditEvent
from fundapp.core.errors import DomainError
from fundapp.core.mail import OutboxMessage
from fundapp.core.permissions import Role
from fundapp.reviews.models import AssignmentState, Recommendation
from fundapp.reviews.scoring import (
    ReviewConflict,
    ReviewInvalid,
    blind_snapshot,
    reopen_review,
    save_review_draft,
    submit_review,
    visible_reviews,
)
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.factories import make_organisation, make_user
from tests.reviews.factories import make_assignment, make_review, make_reviewer, make_rubric

#: The fund's five criteria on 1-5; "Capacity" (the fourth) may be marked N/A.
FIVE_CRITERIA = [
    {"title": "Conservation relevance", "weight": 30},
    {"title": "Feasibility", "weight": 25},
    {"title": "Value for money", "weight": 20},
    {"title": "Capacity", "weight": 15, "allow_na": True},
    {"title": "Sustainability and safeguards", "weight": 10},
]


@pytest.fixture
def five(db):
    """An accepted assignment in a call with the five criteria: ``(assignment, criteria)``."""
    rubric = make_rubric(make_call(), criteria=FIVE_CRITERIA)
    assignment = make_assignment(call=rubric.call, state=AssignmentState.ACCEPTED)
    return assignment, list(rubric.criteria)


def save(assignment, values, *, criteria, recommendation="fund", comments="", base_version=None):
    """Save a draft with ``values`` (one per criterion, in order; "na" or None allowed)."""
    review = assignment.review
    if base_version is None:
        base_version = review.version if review is not None else 0
    return save_review_draft(
        _session(),
        assignment.reviewer,
        assignment,
        scores={c.id: v for c, v in zip(criteria, values, strict=True)},
        recommendation=recommendation,
        comments=comments,
        base_version=base_version,
    )


def _session():
    from fundapp.extensions import db

    return db.session


def events(db, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


# -- the weighted score, by hand --------------------------------------------------------------------------


def test_weighted_score_is_computed_exactly_at_submission(db, five):
    assignment, criteria = five
    save(assignment, [5, 4, 3, "na", 2], criteria=criteria)

    review = submit_review(db.session, assignment.reviewer, assignment)

    # Positions on 0-1: 1, 0.75, 0.5, (N/A), 0.25. Weighted: 30 + 18.75 + 10 + 2.5 = 61.25 over the
    # weights scored, 30 + 25 + 20 + 10 = 85: 61.25 / 85 * 100 = 72.058823... -> 72.0588.
    db.session.expire_all()
    assert review.weighted_score == Decimal("72.0588")


def test_not_applicable_is_left_out_never_counted_as_zero(db, five):
    assignment, criteria = five
    save(assignment, [5, 4, 3, 1, 2], criteria=criteria)

    review = submit_review(db.session, assignment.reviewer, assignment)

    # The lowest score counts: 61.25 + 15 * 0 = 61.25 over all 100 weight points: 61.25.
    # With N/A instead (the test above) the same review scores 72.0588: N/A is not a zero.
    db.session.expire_all()
    assert review.weighted_score == Decimal("61.2500")


def test_criteria_on_different_scales_are_each_placed_on_zero_to_one(db):
    rubric = make_rubric(
        make_call(),
        criteria=[
            {"title": "Relevance", "weight": 2, "scale_min": 1, "scale_max": 5},
            {"title": "Budget", "weight": 1, "scale_min": 0, "scale_max": 10},
        ],
    )
    assignment = make_assignment(call=rubric.call, state=AssignmentState.ACCEPTED)
    save(assignment, [4, 7], criteria=list(rubric.criteria))

    review = submit_review(db.session, assignment.reviewer, assignment)

    # (2 * 0.75 + 1 * 0.7) / 3 * 100 = 73.333... -> 73.3333
    db.session.expire_all()
    assert review.weighted_score == Decimal("73.3333")


def test_top_and_bottom_scores_give_100_and_0(db, five):
    assignment, criteria = five
    save(assignment, [5, 5, 5, 5, 5], criteria=criteria)
    assert submit_review(db.session, assignment.reviewer, assignment).weighted_score == Decimal("100")

    other = make_assignment(proposal=assignment.proposal, state=AssignmentState.ACCEPTED)
    save(other, [1, 1, 1, "na", 1], criteria=criteria, recommendation="do_not_fund")
    assert submit_review(db.session, other.reviewer, other).weighted_score == Decimal("0")


def test_a_review_entirely_not_applicable_is_refused(db):
    rubric = make_rubric(make_call(), criteria=[{"title": "Fit", "weight": 1, "allow_na": True}])
    assignment = make_assignment(call=rubric.call, state=AssignmentState.ACCEPTED)
    save(assignment, ["na"], criteria=list(rubric.criteria))

    with pytest.raises(DomainError, match="Score at least one criterion"):
        submit_review(db.session, assignment.reviewer, assignment)
    assert assignment.state == AssignmentState.ACCEPTED


# -- submission ---------------------------------------------------------------------------------------------


def test_submission_locks_the_review_and_is_audited(db, five):
    assignment, criteria = five
    save(assignment, [5, 4, 3, "na", 2], criteria=criteria, comments="Convincing monitoring plan.")

    review = submit_review(db.session, assignment.reviewer, assignment)

    assert assignment.state == AssignmentState.SUBMITTED
    assert review.submitted_at is not None
    [event] = events(db, "review.submitted")
    assert event.actor_id == assignment.reviewer_id
    assert event.entity_id == str(review.id)
    assert event.after["weighted_score"] == "72.0588"
    assert event.after["recommendation"] == "fund"
    assert event.after["scores"][str(criteria[3].id)] == "na"


def test_missing_score_is_refused_naming_the_criterion_and_nothing_changes(db, five):
    assignment, criteria = five
    save(assignment, [5, 4, None, "na", 2], criteria=criteria)

    with pytest.raises(ReviewInvalid) as refused:
        submit_review(db.session, assignment.reviewer, assignment)

    assert "Score “Value for money” from 1 to 5." in refused.value.message
    assert set(refused.value.errors) == {f"score_{criteria[2].id}"}
    assert assignment.state == AssignmentState.ACCEPTED
    assert assignment.review.submitted_at is None
    assert assignment.review.weighted_score is None
    assert events(db, "review.submitted") == []


def test_missing_score_of_a_criterion_allowing_na_says_so(db, five):
    assignment, criteria = five
    save(assignment, [5, 4, 3, None, 2], criteria=criteria)

    with pytest.raises(ReviewInvalid) as refused:
        submit_review(db.session, assignment.reviewer, assignment)

    assert refused.value.errors == {
        f"score_{criteria[3].id}": "Score “Capacity” from 1 to 5, or mark it not applicable."
    }


def test_na_where_not_allowed_is_refused_and_nothing_is_stored(db, five):
    assignment, criteria = five

    with pytest.raises(ReviewInvalid) as refused:
        save(assignment, ["na", 4, 3, 2, 2], criteria=criteria)

    assert refused.value.errors == {
        f"score_{criteria[0].id}": "“Conservation relevance” cannot be marked not applicable: "
        "give a score from 1 to 5."
    }
    assert assignment.review is None


def test_submission_without_a_recommendation_is_refused(db, five):
    assignment, criteria = five
    save(assignment, [5, 4, 3, 2, 2], criteria=criteria, recommendation="")

    with pytest.raises(ReviewInvalid) as refused:
        submit_review(db.session, assignment.reviewer, assignment)

    assert refused.value.errors == {
        "recommendation": "Choose a recommendation: fund, fund with changes or do not fund."
    }


def test_a_second_submission_is_refused_as_already_submitted(db, five):
    assignment, criteria = five
    save(assignment, [5, 4, 3, 2, 2], criteria=criteria)
    submit_review(db.session, assignment.reviewer, assignment)

    with pytest.raises(DomainError, match="is submitted and locked"):
        submit_review(db.session, assignment.reviewer, assignment)
    with pytest.raises(DomainError, match="is submitted and locked"):
        save(assignment, [1, 1, 1, 1, 1], criteria=criteria)
    assert len(events(db, "review.submitted")) == 1


def test_the_last_review_in_makes_the_proposal_reviewed(db, five):
    assignment, criteria = five
    other = make_assignment(proposal=assignment.proposal, state=AssignmentState.ACCEPTED)
    save(assignment, [5, 4, 3, 2, 2], criteria=criteria)
    save(other, [3, 3, 3, 3, 3], criteria=criteria)

    submit_review(db.session, assignment.reviewer, assignment)
    assert assignment.proposal.state == ProposalState.IN_REVIEW

    submit_review(db.session, other.reviewer, other)
    assert assignment.proposal.state == ProposalState.REVIEWED


# -- drafts -------------------------------------------------------------------------------------------------


def test_each_save_raises_the_version_and_keeps_a_partial_draft(db, five):
    assignment, criteria = five

    first = save(assignment, [5, None, None, None, None], criteria=criteria, recommendation="")
    assert (first.version, first.recommendation) == (1, None)
    second = save(assignment, [5, 4, None, "na", None], criteria=criteria, comments="  Good.  ")

    assert second.version == 2
    assert second.recommendation == Recommendation.FUND
    assert second.comments == "Good."
    stored = {s.criterion_id: (s.score, s.is_na) for s in second.scores}
    assert stored == {criteria[0].id: (5, False), criteria[1].id: (4, False), criteria[3].id: (None, True)}


def test_a_save_based_on_an_older_version_is_a_conflict_and_changes_nothing(db, five):
    assignment, criteria = five
    save(assignment, [5, None, None, None, None], criteria=criteria)
    save(assignment, [4, None, None, None, None], criteria=criteria)

    with pytest.raises(ReviewConflict):
        save(assignment, [1, None, None, None, None], criteria=criteria, base_version=1)

    assert assignment.review.version == 2
    assert {s.score for s in assignment.review.scores} == {4}


def test_a_score_outside_the_scale_is_refused(db, five):
    assignment, criteria = five

    with pytest.raises(ReviewInvalid) as refused:
        save(assignment, [6, "4.5", "x", None, 0], criteria=criteria)

    assert set(refused.value.errors) == {f"score_{criteria[i].id}" for i in (0, 1, 2, 4)}
    assert "whole number from 1 to 5" in refused.value.errors[f"score_{criteria[0].id}"]
    assert assignment.review is None


def test_scoring_before_declaring_is_refused(db):
    assignment = make_assignment(state=AssignmentState.ASSIGNED)
    criteria = list(make_rubric(assignment.proposal.call).criteria)

    with pytest.raises(DomainError, match="Declare whether you have a conflict of interest"):
        save(assignment, [5, 5], criteria=criteria)


def test_nobody_but_the_assigned_reviewer_can_save_or_submit(db, five):
    assignment, criteria = five
    save(assignment, [5, 4, 3, 2, 2], criteria=criteria)
    stranger = make_reviewer()

    with pytest.raises(DomainError, match="Only the reviewer assigned"):
        save_review_draft(
            db.session, stranger, assignment, scores={}, recommendation="", comments="", base_version=1
        )
    with pytest.raises(DomainError, match="Only the reviewer assigned"):
        submit_review(db.session, stranger, assignment)
    assert assignment.state == AssignmentState.ACCEPTED


# -- reopening ----------------------------------------------------------------------------------------------


def test_reopening_unlocks_clears_the_score_audits_the_reason_and_mails_the_reviewer(db, five):
    assignment, criteria = five
    save(assignment, [5, 4, 3, 2, 2], criteria=criteria)
    review = submit_review(db.session, assignment.reviewer, assignment)
    officer = make_officer()

    reopen_review(db.session, officer, review, "  Scores contradict the comments on the budget.  ")

    assert assignment.state == AssignmentState.ACCEPTED
    assert (review.submitted_at, review.weighted_score) == (None, None)
    [event] = events(db, "review.reopened")
    assert event.actor_id == officer.id
    assert event.after["reason"] == "Scores contradict the comments on the budget."
    assert event.before["weighted_score"] == "65.0000"
    [mail] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == assignment.reviewer.email)
    ).all()
    assert assignment.proposal.reference in mail.subject
    assert "Scores contradict the comments on the budget." in mail.body_text


def test_a_reopened_review_can_be_changed_and_submitted_again(db, five):
    assignment, criteria = five
    save(assignment, [5, 4, 3, 2, 2], criteria=criteria)
    review = submit_review(db.session, assignment.reviewer, assignment)
    reopen_review(db.session, make_officer(), review, "Please score capacity again.")

    save(assignment, [5, 4, 3, "na", 2], criteria=criteria)
    submit_review(db.session, assignment.reviewer, assignment)

    assert assignment.state == AssignmentState.SUBMITTED
    assert review.weighted_score == Decimal("72.0588")


def test_reopening_without_a_reason_is_refused(db, five):
    assignment, criteria = five
    save(assignment, [5, 4, 3, 2, 2], criteria=criteria)
    review = submit_review(db.session, assignment.reviewer, assignment)

    with pytest.raises(DomainError, match="Give a reason for reopening the review") as refused:
        reopen_review(db.session, make_officer(), review, "   ")

    assert refused.value.field == "reason"
    assert assignment.state == AssignmentState.SUBMITTED
    assert review.weighted_score == Decimal("65.0000")


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ADMIN, Role.BOARD_MEMBER])
def test_only_a_programme_officer_can_reopen(db, five, role):
    assignment, criteria = five
    save(assignment, [5, 4, 3, 2, 2], criteria=criteria)
    review = submit_review(db.session, assignment.reviewer, assignment)

    with pytest.raises(DomainError, match="Only a programme officer can reopen a review"):
        reopen_review(db.session, make_user(roles=[role]), review, "A reason")
    assert assignment.state == AssignmentState.SUBMITTED


def test_a_review_not_submitted_cannot_be_reopened(db, five):
    assignment, criteria = five
    review = save(assignment, [5, 4, 3, 2, 2], criteria=criteria)

    with pytest.raises(DomainError, match="not submitted, so there is nothing to reopen"):
        reopen_review(db.session, make_officer(), review, "A reason")


def test_reviews_cannot_be_reopened_once_the_board_has_the_proposal(db):
    review = make_review()
    review.assignment.proposal.state = ProposalState.ON_AGENDA

    with pytest.raises(DomainError, match="can no longer be reopened"):
        reopen_review(db.session, make_officer(), review, "A reason")


# -- others' reviews ----------------------------------------------------------------------------------------


def _three_reviews(see_others):
    rubric = make_rubric(make_call(), reviewers_see_others=see_others)
    proposal = make_proposal(call=rubric.call, complete=True, state=ProposalState.IN_REVIEW)
    mine = make_assignment(proposal=proposal, state=AssignmentState.ACCEPTED)
    first = make_review(proposal=proposal, comments="First other review.", recommendation="do_not_fund")
    second = make_review(proposal=proposal, comments="Second other review.")
    return mine, first, second


def test_others_reviews_are_shown_after_submitting_when_the_call_allows_it(db):
    mine, first, _second = _three_reviews(see_others=True)
    assert visible_reviews(db.session, mine.reviewer, mine) == []  # not before submitting

    make_review(mine)
    shown = visible_reviews(db.session, mine.reviewer, mine)

    assert [(r.label, r.comments) for r in shown] == [
        ("Reviewer A", "First other review."),
        ("Reviewer B", "Second other review."),
    ]
    assert shown[0].recommendation == Recommendation.DO_NOT_FUND
    assert shown[0].weighted_score == first.weighted_score
    assert shown[1].scores == (("Conservation relevance", 5), ("Feasibility", 5))


def test_others_reviews_are_never_shown_when_the_call_does_not_allow_it(db):
    mine, _first, _second = _three_reviews(see_others=False)
    make_review(mine)

    assert visible_reviews(db.session, mine.reviewer, mine) == []


def test_drafts_and_reopened_reviews_of_others_are_not_shown(db):
    mine, first, _second = _three_reviews(see_others=True)
    reopen_review(db.session, make_officer(), first, "Check the budget.")
    make_review(mine)

    assert [r.comments for r in visible_reviews(db.session, mine.reviewer, mine)] == ["Second other review."]


# -- blind review -------------------------------------------------------------------------------------------


def test_blind_snapshot_withholds_every_name_of_the_applicant(db):
    organisation = make_organisation(name_en="Saiga Friends Union", name_ru="Союз друзей сайги", name_kk="")
    proposal = make_proposal(organisation=organisation, complete=True, title="Saiga Friends Union patrols")
    team = proposal.section("team")
    team.content = {
        "members": [
            {
                "name": "Aigerim Sadykova",
                "role": "Lead",
                "organisation": "Steppe Rangers Trust",
                "time_share": 50,
            }
        ]
    }
    proposal.section("summary").content = {"summary": "Saiga Friends Union and Steppe Rangers Trust patrol."}
    snapshot = sections.snapshot(proposal)
    snapshot["attachments"] = [{"id": 1, "name": "saiga-friends-union-certificate.pdf"}]

    blind = blind_snapshot(snapshot)

    text = repr(blind)
    for name in ("Saiga Friends Union", "Союз друзей сайги", "Aigerim Sadykova", "Steppe Rangers Trust"):
        assert name.lower() not in text.lower()
    assert "attachments" not in blind
    assert blind["organisation"]["name_en"] == "Withheld (blind review)"
    assert blind["title"] == "[withheld] patrols"
    team_rows = next(s for s in blind["sections"] if s["key"] == "team")["blocks"][0]["rows"]
    assert team_rows == [["Team member 1", "Lead", "Withheld (blind review)", "50"]]
    assert snapshot["organisation"]["name_en"] == "Saiga Friends Union"  # the original is untouched
