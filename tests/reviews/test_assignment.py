"""Assigning reviewers: conflicts of interest, balance, determinism, declarations, workflow, reminders.

The planner (``plan_assignments``) is tested on its own with Hypothesis; the operations that feed it from
the database and store its result are tested directly, without HTTP.
"""

from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fundapp.accounts.models import Membership, UserRole
from fundapp.applications.models import ProposalState, ProposalTag
from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.mail import OutboxMessage
from fundapp.core.permissions import Role
from fundapp.reviews import operations
from fundapp.reviews.assignment import ProposalNeed, ReviewerOffer, is_conflicted, plan_assignments
from fundapp.reviews.models import Assignment, AssignmentState
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.factories import make_applicant, make_organisation, make_user
from tests.reviews.factories import make_assignment, make_review, make_reviewer, make_rubric, profile_of

# -- helpers -------------------------------------------------------------------------------------------------


def eligible_proposals(call, count, **fields):
    return [make_proposal(call=call, state=ProposalState.ELIGIBLE, **fields) for _ in range(count)]


def assignments_of(db, proposal, states=None):
    query = select(Assignment).where(Assignment.proposal_id == proposal.id).order_by(Assignment.id)
    if states is not None:
        query = query.where(Assignment.state.in_(states))
    return db.session.scalars(query).all()


def active_reviewers(db, proposal):
    return {a.reviewer_id for a in assignments_of(db, proposal, operations.ACTIVE_STATES)}


def loads(db, call):
    rows = db.session.scalars(
        select(Assignment).join(Assignment.proposal).where(Assignment.state.in_(operations.ACTIVE_STATES))
    ).all()
    return Counter(a.reviewer_id for a in rows if a.proposal.call_id == call.id)


def events(db, action):
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def mails_to(db, email):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == email)).all()


@pytest.fixture
def officer(db):
    return make_officer()


# -- automatic assignment ------------------------------------------------------------------------------------


def test_automatic_assignment_never_picks_a_member_or_an_affiliated_reviewer(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=2)
    proposal = make_proposal(call=call, state=ProposalState.ELIGIBLE)
    member = make_reviewer()
    proposal.organisation.memberships.append(Membership(user=member, is_manager=False))
    affiliated = make_reviewer(affiliations=[proposal.organisation])
    free = [make_reviewer(), make_reviewer()]
    db.session.flush()

    operations.assign_reviewers(db.session, officer, call)

    assert active_reviewers(db, proposal) == {free[0].id, free[1].id}
    assert member.id not in active_reviewers(db, proposal)
    assert affiliated.id not in active_reviewers(db, proposal)


def test_each_proposal_gets_the_number_of_reviewers_the_call_asks_for(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=3)
    proposals = eligible_proposals(call, 4)
    for _ in range(5):
        make_reviewer()

    run = operations.assign_reviewers(db.session, officer, call)

    assert [len(active_reviewers(db, p)) for p in proposals] == [3, 3, 3, 3]
    assert len(run.created) == 12
    assert run.unfilled == {}


def test_a_call_without_rubric_gets_the_default_one_and_three_reviewers(db, officer):
    call = make_call()
    proposal = make_proposal(call=call, state=ProposalState.ELIGIBLE)
    for _ in range(4):
        make_reviewer()

    operations.assign_reviewers(db.session, officer, call)

    assert len(active_reviewers(db, proposal)) == 3
    assert [c.weight for c in operations.rubric_of(db.session, call).criteria] == [30, 25, 20, 15, 10]


def test_every_automatic_assignment_is_audited_with_its_reason_and_the_conflicts_left_out(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=1)
    proposal = make_proposal(call=call, state=ProposalState.ELIGIBLE)
    make_reviewer(affiliations=[proposal.organisation])
    make_reviewer(affiliations=[proposal.organisation])
    chosen = make_reviewer()

    operations.assign_reviewers(db.session, officer, call)

    [event] = events(db, "assignment.created")
    assert event.actor_id == officer.id
    assert event.after["reason"] == "automatic"
    assert event.after["conflicted_reviewers_excluded"] == 2
    assert event.after["reviewer"] == chosen.id
    [assignment] = assignments_of(db, proposal)
    assert assignment.assigned_by_id is None


def test_loads_stay_within_one_of_each_other(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=2)
    eligible_proposals(call, 7)
    reviewers = [make_reviewer() for _ in range(4)]

    operations.assign_reviewers(db.session, officer, call)

    counts = [loads(db, call)[r.id] for r in reviewers]
    assert sum(counts) == 14
    assert max(counts) - min(counts) <= 1


def test_the_maximum_load_is_kept_and_the_seats_left_empty_are_reported(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=2)
    proposals = eligible_proposals(call, 3)
    reviewers = [make_reviewer(max_load=2), make_reviewer(max_load=1)]

    run = operations.assign_reviewers(db.session, officer, call)

    assert loads(db, call)[reviewers[0].id] == 2
    assert loads(db, call)[reviewers[1].id] == 1
    assert sum(run.unfilled.values()) == 3
    assert set(run.unfilled) <= {p.id for p in proposals}


def test_matching_expertise_is_preferred_among_equally_loaded_reviewers(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=1)
    proposal = make_proposal(call=call, state=ProposalState.ELIGIBLE, theme="marine_mammals")
    proposal.tags.append(ProposalTag(kind="region", code="KZ-47"))
    make_reviewer(themes=["forests"])
    expert = make_reviewer(themes=["marine_mammals"], regions=["KZ-47"])
    db.session.flush()

    operations.assign_reviewers(db.session, officer, call)

    assert active_reviewers(db, proposal) == {expert.id}


def test_the_same_input_gives_the_same_assignments(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=2)
    proposals = eligible_proposals(call, 5)
    reviewers = [make_reviewer(themes=["marine_mammals"] if i % 2 else []) for i in range(4)]
    affiliated = make_reviewer(affiliations=[proposals[0].organisation])
    db.session.flush()

    def run_once():
        savepoint = db.session.begin_nested()
        operations.assign_reviewers(db.session, officer, call)
        pairs = sorted((a.proposal_id, a.reviewer_id) for p in proposals for a in assignments_of(db, p))
        savepoint.rollback()
        return pairs

    first = run_once()
    second = run_once()

    assert first == second
    assert len(first) == 10
    assert (proposals[0].id, affiliated.id) not in first
    assert {r for _, r in first} >= {r.id for r in reviewers}


def test_a_second_run_fills_only_the_empty_seats(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=2)
    proposal = make_proposal(call=call, state=ProposalState.ELIGIBLE)
    make_reviewer()
    operations.assign_reviewers(db.session, officer, call)
    assert len(active_reviewers(db, proposal)) == 1
    make_reviewer()

    run = operations.assign_reviewers(db.session, officer, call)

    assert len(run.created) == 1
    assert len(active_reviewers(db, proposal)) == 2


def test_reviewers_without_a_profile_or_inactive_are_not_assigned(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=3)
    proposal = make_proposal(call=call, state=ProposalState.ELIGIBLE)
    make_reviewer(profile=False)
    inactive = make_reviewer()
    inactive.is_active = False
    active = make_reviewer()

    operations.assign_reviewers(db.session, officer, call)

    assert active_reviewers(db, proposal) == {active.id}


def test_an_eligible_proposal_is_in_review_at_its_first_assignment(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=1)
    proposal = make_proposal(call=call, state=ProposalState.ELIGIBLE)
    waiting = make_proposal(call=call, state=ProposalState.SUBMITTED)
    make_reviewer()

    run = operations.assign_reviewers(db.session, officer, call)

    assert proposal.state == ProposalState.IN_REVIEW
    assert run.started == [proposal]
    assert waiting.state == ProposalState.SUBMITTED
    assert assignments_of(db, waiting) == []
    [moved] = events(db, "proposal.in_review")
    assert moved.entity_id == str(proposal.id)
    assert moved.actor_id == officer.id


def test_a_proposal_no_reviewer_can_take_stays_eligible(db, officer):
    call = make_call()
    proposal = make_proposal(call=call, state=ProposalState.ELIGIBLE)
    make_reviewer(affiliations=[proposal.organisation])

    run = operations.assign_reviewers(db.session, officer, call)

    assert proposal.state == ProposalState.ELIGIBLE
    assert run.unfilled == {proposal.id: 3}


def test_the_assignment_mail_of_a_blind_call_does_not_name_the_applicant(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=1, blind=True)
    proposal = make_proposal(call=call, state=ProposalState.ELIGIBLE)
    reviewer = make_reviewer()

    operations.assign_reviewers(db.session, officer, call)

    [mail] = mails_to(db, reviewer.email)
    assert proposal.reference in mail.body_text
    assert proposal.organisation.name_en not in mail.body_text


def test_the_assignment_mail_of_an_open_call_names_the_applicant_for_the_conflict_check(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=1, blind=False)
    proposal = make_proposal(call=call, state=ProposalState.ELIGIBLE)
    reviewer = make_reviewer()

    operations.assign_reviewers(db.session, officer, call)

    [mail] = mails_to(db, reviewer.email)
    assert proposal.organisation.name_en in mail.body_text


def test_one_mail_per_reviewer_lists_all_their_new_proposals(db, officer):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=1)
    proposals = eligible_proposals(call, 2)
    reviewer = make_reviewer()

    operations.assign_reviewers(db.session, officer, call)

    [mail] = mails_to(db, reviewer.email)
    assert all(p.reference in mail.body_text for p in proposals)


# -- by hand -------------------------------------------------------------------------------------------------


def test_an_officer_can_assign_a_reviewer_by_hand_with_a_reason(db, officer):
    proposal = make_proposal(state=ProposalState.ELIGIBLE)
    make_rubric(proposal.call)
    reviewer = make_reviewer(max_load=0)

    assignment = operations.assign_manually(
        db.session, officer, proposal, reviewer, "Knows the Kenderli colony"
    )

    assert assignment.assigned_by_id == officer.id
    assert assignment.override_reason == "Knows the Kenderli colony"
    assert assignment.state == AssignmentState.ASSIGNED
    assert proposal.state == ProposalState.IN_REVIEW
    [event] = events(db, "assignment.created")
    assert event.after["reason"] == "override"
    assert event.after["capacity"] == 0


def test_assigning_by_hand_without_a_reason_is_refused(db, officer):
    proposal = make_proposal(state=ProposalState.ELIGIBLE)
    reviewer = make_reviewer()

    with pytest.raises(DomainError) as refusal:
        operations.assign_manually(db.session, officer, proposal, reviewer, "   ")

    assert refusal.value.field == "reason"
    assert assignments_of(db, proposal) == []


def test_assigning_a_member_of_the_applicant_by_hand_is_refused(db, officer):
    applicant = make_applicant()
    applicant.role_grants.append(UserRole(role=Role.REVIEWER))
    db.session.flush()
    proposal = make_proposal(organisation=applicant.primary_organisation, state=ProposalState.ELIGIBLE)

    with pytest.raises(DomainError) as refusal:
        operations.assign_manually(db.session, officer, proposal, applicant, "Override")

    assert "conflict of interest" in refusal.value.message
    assert applicant.primary_organisation.name_en in refusal.value.message
    assert assignments_of(db, proposal) == []
    assert proposal.state == ProposalState.ELIGIBLE


def test_assigning_an_affiliated_reviewer_by_hand_is_refused(db, officer):
    proposal = make_proposal(state=ProposalState.ELIGIBLE)
    reviewer = make_reviewer(affiliations=[proposal.organisation])

    with pytest.raises(DomainError, match="affiliated"):
        operations.assign_manually(db.session, officer, proposal, reviewer, "Override")

    assert assignments_of(db, proposal) == []


def test_a_reviewer_who_declared_a_conflict_cannot_be_assigned_again_by_hand(db, officer):
    assignment = make_assignment(state=AssignmentState.CONFLICTED)

    with pytest.raises(DomainError, match="declared a conflict"):
        operations.assign_manually(db.session, officer, assignment.proposal, assignment.reviewer, "Override")


def test_a_reviewer_who_declined_can_be_assigned_again_by_hand(db, officer):
    assignment = make_assignment(state=AssignmentState.DECLINED, declaration_note="Busy until May")

    again = operations.assign_manually(
        db.session, officer, assignment.proposal, assignment.reviewer, "Free now"
    )

    assert again.id == assignment.id
    assert again.state == AssignmentState.ASSIGNED
    assert again.declaration_note is None


def test_assigning_a_reviewer_twice_is_refused(db, officer):
    assignment = make_assignment()

    with pytest.raises(DomainError, match="already a reviewer"):
        operations.assign_manually(db.session, officer, assignment.proposal, assignment.reviewer, "Again")


def test_assigning_to_a_proposal_not_in_review_is_refused(db, officer):
    proposal = make_proposal(state=ProposalState.SUBMITTED)

    with pytest.raises(DomainError, match="eligible proposals"):
        operations.assign_manually(db.session, officer, proposal, make_reviewer(), "Early")


def test_a_user_without_the_reviewer_role_cannot_be_assigned(db, officer):
    proposal = make_proposal(state=ProposalState.ELIGIBLE)

    with pytest.raises(DomainError, match="reviewer"):
        operations.assign_manually(db.session, officer, proposal, make_user(roles=[Role.BOARD_MEMBER]), "x")


def test_removing_an_assignment_needs_a_reason_and_tells_the_reviewer(db, officer):
    assignment = make_assignment(state=AssignmentState.ACCEPTED)

    with pytest.raises(DomainError):
        operations.remove_assignment(db.session, officer, assignment, "")
    operations.remove_assignment(db.session, officer, assignment, "No reply for three weeks")

    assert assignment.state == AssignmentState.REMOVED
    assert assignment.override_reason == "No reply for three weeks"
    assert events(db, "assignment.removed")[0].after["reason"] == "No reply for three weeks"
    assert mails_to(db, assignment.reviewer.email)


# -- declarations and declining ------------------------------------------------------------------------------


def test_declaring_no_conflict_accepts_and_opens_the_full_proposal(db):
    assignment = make_assignment()
    reviewer = assignment.reviewer
    assert not assignment.proposal.is_reviewed_by(reviewer)

    operations.declare_conflict(db.session, reviewer, assignment, False, "")

    assert assignment.state == AssignmentState.ACCEPTED
    assert assignment.declared_at is not None
    assert assignment.proposal.is_reviewed_by(reviewer)
    [event] = events(db, "assignment.accepted")
    assert event.actor_id == reviewer.id


def test_a_declared_conflict_withdraws_the_assignment_and_assigns_a_replacement(db):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=1)
    proposal = make_proposal(call=call, state=ProposalState.IN_REVIEW)
    assignment = make_assignment(proposal)
    replacement = make_reviewer()

    operations.declare_conflict(
        db.session, assignment.reviewer, assignment, True, "My brother leads the project"
    )

    assert assignment.state == AssignmentState.CONFLICTED
    assert assignment.declaration_note == "My brother leads the project"
    assert active_reviewers(db, proposal) == {replacement.id}
    [event] = events(db, "assignment.conflicted")
    assert event.after["note"] == "My brother leads the project"
    assert not proposal.is_reviewed_by(assignment.reviewer)


def test_a_declared_conflict_without_a_replacement_tells_the_officer(db):
    officer = make_officer()
    call = make_call(created_by=officer)
    make_rubric(call, reviewers_per_proposal=1)
    proposal = make_proposal(call=call, state=ProposalState.IN_REVIEW)
    assignment = make_assignment(proposal)

    operations.declare_conflict(db.session, assignment.reviewer, assignment, True, "")

    [mail] = mails_to(db, officer.email)
    assert proposal.reference in mail.subject
    assert active_reviewers(db, proposal) == set()


def test_a_reviewer_cannot_declare_for_someone_else(db):
    assignment = make_assignment()

    with pytest.raises(DomainError):
        operations.declare_conflict(db.session, make_reviewer(), assignment, False, "")

    assert assignment.state == AssignmentState.ASSIGNED


def test_a_submitted_review_cannot_be_withdrawn_by_declaring_a_conflict(db):
    review = make_review()
    assignment = review.assignment

    with pytest.raises(DomainError, match="submitted"):
        operations.declare_conflict(db.session, assignment.reviewer, assignment, True, "")

    assert assignment.state == AssignmentState.SUBMITTED


def test_declining_withdraws_the_assignment_and_assigns_a_replacement(db):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=1)
    proposal = make_proposal(call=call, state=ProposalState.IN_REVIEW)
    assignment = make_assignment(proposal)
    replacement = make_reviewer()

    operations.decline_assignment(db.session, assignment.reviewer, assignment, "On fieldwork until August")

    assert assignment.state == AssignmentState.DECLINED
    assert assignment.declaration_note == "On fieldwork until August"
    assert active_reviewers(db, proposal) == {replacement.id}
    assert events(db, "assignment.declined")[0].after["reason"] == "On fieldwork until August"


def test_declining_needs_a_reason(db):
    assignment = make_assignment()

    with pytest.raises(DomainError) as refusal:
        operations.decline_assignment(db.session, assignment.reviewer, assignment, "")

    assert refusal.value.field == "reason"
    assert assignment.state == AssignmentState.ASSIGNED


def test_a_new_affiliation_withdraws_a_pending_assignment_to_that_organisation(db):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=1)
    proposal = make_proposal(call=call, state=ProposalState.IN_REVIEW)
    assignment = make_assignment(proposal)
    replacement = make_reviewer()

    operations.add_own_affiliation(db.session, assignment.reviewer, proposal.organisation, "Former adviser")

    assert assignment.state == AssignmentState.CONFLICTED
    assert active_reviewers(db, proposal) == {replacement.id}


# -- reviewed ------------------------------------------------------------------------------------------------


def test_a_proposal_is_reviewed_when_every_assigned_review_is_in(db):
    proposal = make_proposal(state=ProposalState.IN_REVIEW)
    first = make_review(proposal=proposal)
    make_review(proposal=proposal)
    make_assignment(proposal, state=AssignmentState.DECLINED)

    moved = operations.review_completed(db.session, proposal)

    assert moved
    assert proposal.state == ProposalState.REVIEWED
    event = events(db, "proposal.reviewed")[0]
    assert event.actor_id is None
    assert first.assignment.state == AssignmentState.SUBMITTED


def test_a_proposal_stays_in_review_while_a_review_is_missing(db):
    proposal = make_proposal(state=ProposalState.IN_REVIEW)
    make_review(proposal=proposal)
    make_assignment(proposal, state=AssignmentState.ACCEPTED)

    assert not operations.review_completed(db.session, proposal)
    assert proposal.state == ProposalState.IN_REVIEW


def test_a_proposal_without_reviewers_is_not_reviewed(db):
    proposal = make_proposal(state=ProposalState.IN_REVIEW)

    assert not operations.review_completed(db.session, proposal)
    assert proposal.state == ProposalState.IN_REVIEW


def test_an_officer_closes_a_review_with_a_reason_even_with_reviews_missing(db, officer):
    proposal = make_proposal(state=ProposalState.IN_REVIEW)
    make_review(proposal=proposal)
    pending = make_assignment(proposal, state=AssignmentState.ACCEPTED)

    operations.close_review(db.session, officer, proposal, "Two reviews are enough; the third is unreachable")

    assert proposal.state == ProposalState.REVIEWED
    assert pending.state == AssignmentState.REMOVED
    event = events(db, "proposal.reviewed")[0]
    assert event.after["reason"] == "Two reviews are enough; the third is unreachable"
    assert mails_to(db, pending.reviewer.email)


def test_closing_a_review_without_a_reason_is_refused(db, officer):
    proposal = make_proposal(state=ProposalState.IN_REVIEW)

    with pytest.raises(DomainError) as refusal:
        operations.close_review(db.session, officer, proposal, "")

    assert refusal.value.field == "reason"
    assert proposal.state == ProposalState.IN_REVIEW


def test_closing_a_review_of_a_proposal_not_in_review_is_refused(db, officer):
    proposal = make_proposal(state=ProposalState.ELIGIBLE)

    with pytest.raises(DomainError, match="not in review"):
        operations.close_review(db.session, officer, proposal, "Enough")


# -- reminders -----------------------------------------------------------------------------------------------


def test_reminders_go_to_reviewers_due_within_three_days_once_a_day(db):
    now = utcnow()
    soon = make_assignment(due_at=now + timedelta(days=2))
    overdue = make_assignment(due_at=now - timedelta(days=1), state=AssignmentState.ACCEPTED)
    later = make_assignment(due_at=now + timedelta(days=10))
    done = make_review(due_at=now + timedelta(days=1)).assignment

    assert operations.send_reminders(db.session, now) == 2
    assert operations.send_reminders(db.session, now + timedelta(hours=2)) == 0
    assert operations.send_reminders(db.session, now + timedelta(days=1)) == 2

    assert len(mails_to(db, soon.reviewer.email)) == 2
    assert "overdue" in mails_to(db, overdue.reviewer.email)[0].subject
    assert mails_to(db, later.reviewer.email) == []
    assert mails_to(db, done.reviewer.email) == []


def test_the_reminders_command_prints_how_many_were_sent(db, runner):
    make_assignment(due_at=utcnow() + timedelta(days=1))
    db.session.commit()

    result = runner.invoke(args=["reminders", "send"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Sent 1 reminder."


# -- the planner's properties (Hypothesis) -------------------------------------------------------------------


@st.composite
def planning_input(draw, conflicts=True, equal_capacity=False):
    reviewer_count = draw(st.integers(min_value=1, max_value=8))
    organisation_ids = list(range(1, draw(st.integers(min_value=1, max_value=6)) + 1))
    capacity = draw(st.integers(min_value=0, max_value=6))
    offers = [
        ReviewerOffer(
            reviewer_id=reviewer_id,
            load=0 if equal_capacity else draw(st.integers(min_value=0, max_value=3)),
            capacity=10**6 if equal_capacity else capacity + draw(st.integers(min_value=0, max_value=3)),
            conflicted_organisations=frozenset(
                draw(st.lists(st.sampled_from(organisation_ids), max_size=2)) if conflicts else []
            ),
            themes=frozenset(draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=2))),
        )
        for reviewer_id in range(1, reviewer_count + 1)
    ]
    needs = [
        ProposalNeed(
            proposal_id=100 + index,
            organisation_id=draw(st.sampled_from(organisation_ids)),
            seats=draw(st.integers(min_value=0, max_value=min(4, reviewer_count) if equal_capacity else 4)),
            theme=draw(st.sampled_from(["a", "b", "c", None])),
            excluded_reviewers=frozenset(
                draw(st.lists(st.integers(min_value=1, max_value=reviewer_count), max_size=2))
                if conflicts
                else []
            ),
        )
        for index in range(draw(st.integers(min_value=0, max_value=10)))
    ]
    return needs, offers


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, database=None)


@PROPERTY_SETTINGS
@given(planning_input())
def test_no_pair_is_conflicted_or_excluded_and_no_capacity_is_exceeded(data):
    needs, offers = data
    need_of = {n.proposal_id: n for n in needs}
    offer_of = {o.reviewer_id: o for o in offers}

    pairs, unfilled = plan_assignments(needs, offers)

    assert len(pairs) == len(set(pairs))
    for proposal_id, reviewer_id in pairs:
        assert not is_conflicted(need_of[proposal_id], offer_of[reviewer_id])
        assert reviewer_id not in need_of[proposal_id].excluded_reviewers
    new_load = Counter(reviewer_id for _, reviewer_id in pairs)
    for offer in offers:
        if new_load[offer.reviewer_id]:
            assert offer.load + new_load[offer.reviewer_id] <= offer.capacity
    seats_taken = Counter(proposal_id for proposal_id, _ in pairs)
    for need in needs:
        assert seats_taken[need.proposal_id] + unfilled.get(need.proposal_id, 0) == max(need.seats, 0)


@PROPERTY_SETTINGS
@given(planning_input(conflicts=False, equal_capacity=True))
def test_without_conflicts_and_with_ample_equal_capacity_loads_differ_by_at_most_one(data):
    needs, offers = data

    pairs, unfilled = plan_assignments(needs, offers)

    assert unfilled == {}
    new_load = Counter(reviewer_id for _, reviewer_id in pairs)
    counts = [new_load[offer.reviewer_id] for offer in offers]
    assert max(counts) - min(counts) <= 1


@PROPERTY_SETTINGS
@given(planning_input())
def test_the_plan_is_deterministic_whatever_the_input_order(data):
    needs, offers = data

    first = plan_assignments(needs, offers)
    second = plan_assignments(list(reversed(needs)), list(reversed(offers)))

    assert first == second


@PROPERTY_SETTINGS
@given(planning_input())
def test_a_seat_is_left_empty_only_when_no_eligible_reviewer_has_room(data):
    needs, offers = data

    pairs, unfilled = plan_assignments(needs, offers)

    new_load = Counter(reviewer_id for _, reviewer_id in pairs)
    seated = {(p, r) for p, r in pairs}
    for need in needs:
        if need.proposal_id not in unfilled:
            continue
        for offer in offers:
            could = (
                not is_conflicted(need, offer)
                and offer.reviewer_id not in need.excluded_reviewers
                and (need.proposal_id, offer.reviewer_id) not in seated
            )
            assert not (could and offer.load + new_load[offer.reviewer_id] < offer.capacity)


def test_the_greedy_trap_is_balanced():
    """Three reviewers, three proposals of two seats: a plain greedy pass gives loads 3, 2, 1."""
    needs = [ProposalNeed(proposal_id=p, organisation_id=99, seats=2) for p in (1, 2, 3)]
    offers = [ReviewerOffer(reviewer_id=r, load=0, capacity=10) for r in (1, 2, 3)]

    pairs, unfilled = plan_assignments(needs, offers)

    assert unfilled == {}
    assert sorted(Counter(r for _, r in pairs).values()) == [2, 2, 2]


def test_a_full_reviewer_hands_over_a_seat_so_that_every_seat_is_filled():
    """Greedy gives proposal 1 to reviewer 1 (the only one for 2); a chain of moves fixes it."""
    needs = [
        ProposalNeed(proposal_id=1, organisation_id=10, seats=1),
        ProposalNeed(proposal_id=2, organisation_id=20, seats=1),
    ]
    offers = [
        ReviewerOffer(reviewer_id=1, load=0, capacity=1),
        ReviewerOffer(reviewer_id=2, load=0, capacity=1, conflicted_organisations=frozenset({20})),
    ]

    pairs, unfilled = plan_assignments(needs, offers)

    assert unfilled == {}
    assert pairs == [(1, 2), (2, 1)]


def test_organisations_conflict_is_by_membership_too(db):
    organisation = make_organisation()
    reviewer = make_reviewer()
    organisation.memberships.append(Membership(user=reviewer, is_manager=False))
    db.session.flush()

    conflicts = operations.conflicted_organisation_ids(db.session, [reviewer.id])

    assert conflicts[reviewer.id] == {organisation.id}
    assert profile_of(reviewer) is not None
