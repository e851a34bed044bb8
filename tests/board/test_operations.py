"""Board operations: settings, meetings, the agenda, attendance, conflicts, votes, decisions and closing."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fundapp.applications.models import ProposalState
from fundapp.board import operations
from fundapp.board.models import (
    AgendaItem,
    DecisionOutcome,
    Meeting,
    MeetingKind,
    MeetingState,
    Vote,
    VoteChoice,
)
from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.mail import OutboxMessage
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.core.storage import StoredFile, stored_bytes
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.board.factories import make_agenda_item, make_board, make_board_member, make_meeting
from tests.factories import make_user

APPROVE, REJECT, ABSTAIN = VoteChoice.APPROVE, VoteChoice.REJECT, VoteChoice.ABSTAIN


def kzt(minor):
    return Money(minor, "KZT")


def actions(db, entity_type=None):
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    return db.session.scalars(query).all()


def in_session(present=4, members=5, **board_settings):
    """A board, an open meeting with ``present`` members present, and one undecided item."""
    board = make_board(members, **board_settings)
    meeting = make_meeting(board, state=MeetingState.OPEN, present=board.members[:present])
    item = make_agenda_item(meeting)
    return board, meeting, item


def vote_all(db, board, item, choices):
    for member, choice in zip(board.members, choices, strict=False):
        operations.cast_vote(db.session, board.secretary, item, member, choice)


# -- settings ----------------------------------------------------------------------------------------------


def test_settings_are_created_with_the_defaults(db):
    settings = operations.board_settings(db.session)
    assert (settings.quorum_percent, settings.majority_percent) == (50, 50)
    assert settings.chair_casting_vote is True and settings.minutes_name_votes is False
    assert operations.board_settings(db.session).id == settings.id


def test_admin_sets_the_chair_and_the_secretary(db):
    admin = make_user(roles=(Role.ADMIN,))
    chair, officer = make_board_member(), make_officer()
    operations.update_board_settings(
        db.session,
        admin,
        chair=chair,
        secretary=officer,
        quorum_percent=60,
        majority_percent=66,
        chair_casting_vote=False,
        minutes_name_votes=True,
    )
    settings = operations.board_settings(db.session)
    assert (settings.chair_id, settings.secretary_id, settings.quorum_percent) == (chair.id, officer.id, 60)
    assert "board.settings_changed" in actions(db)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chair": "officer"}, "is not a board member"),
        ({"secretary": "member"}, "must be a programme officer"),
        ({"quorum_percent": 100}, "from 0 to 99"),
        ({"majority_percent": -1}, "from 0 to 99"),
    ],
)
def test_bad_settings_are_refused(db, change, message):
    admin = make_user(roles=(Role.ADMIN,))
    people = {"officer": make_officer(), "member": make_board_member()}
    values = {
        "chair": None,
        "secretary": None,
        "quorum_percent": 50,
        "majority_percent": 50,
        "chair_casting_vote": True,
        "minutes_name_votes": False,
    }
    values.update({key: people.get(value, value) for key, value in change.items()})
    with pytest.raises(DomainError, match=message):
        operations.update_board_settings(db.session, admin, **values)
    assert operations.board_settings(db.session).quorum_percent == 50


def test_a_board_member_cannot_change_the_settings(db):
    member = make_board_member()
    with pytest.raises(DomainError, match="Only an admin or the board secretary"):
        operations.update_board_settings(
            db.session,
            member,
            chair=None,
            secretary=None,
            quorum_percent=10,
            majority_percent=50,
            chair_casting_vote=True,
            minutes_name_votes=False,
        )


def test_voting_rules_cannot_change_while_a_meeting_is_in_session(db):
    board, meeting, _item = in_session()
    with pytest.raises(DomainError, match=f"in session \\({meeting.reference}\\)"):
        operations.update_board_settings(
            db.session,
            board.secretary,
            chair=board.chair,
            secretary=board.secretary,
            quorum_percent=20,
            majority_percent=50,
            chair_casting_vote=True,
            minutes_name_votes=False,
        )
    assert operations.board_settings(db.session).quorum_percent == 50


# -- scheduling --------------------------------------------------------------------------------------------


def test_scheduling_numbers_meetings_per_year_in_the_funds_time_zone(db):
    board = make_board()
    first = operations.schedule_meeting(
        db.session,
        board.secretary,
        title="Spring board",
        scheduled_at=datetime(2031, 3, 12, 10, 0),  # typed in Almaty time
        location="Astana",
    )
    second = operations.schedule_meeting(
        db.session, board.secretary, title="Summer board", scheduled_at=datetime(2031, 6, 1, 10, 0)
    )
    assert (first.reference, second.reference) == ("BRD-2031-01", "BRD-2031-02")
    assert first.scheduled_at == datetime(2031, 3, 12, 5, 0, tzinfo=UTC)
    assert first.state == MeetingState.SCHEDULED
    assert actions(db, "Meeting").count("meeting.scheduled") == 2


def test_only_the_secretary_schedules_once_one_is_set(db):
    make_board()
    other_officer = make_officer()
    with pytest.raises(DomainError, match="Only the board secretary"):
        operations.schedule_meeting(
            db.session, other_officer, title="Board", scheduled_at=utcnow() + timedelta(days=3)
        )
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_any_programme_officer_schedules_while_no_secretary_is_set(db):
    make_board(secretary=False)
    meeting = operations.schedule_meeting(
        db.session, make_officer(), title="Board", scheduled_at=utcnow() + timedelta(days=3)
    )
    assert meeting.id is not None


def test_a_vote_by_correspondence_needs_a_deadline_after_it_opens(db):
    board = make_board()
    start = utcnow() + timedelta(days=1)
    with pytest.raises(DomainError, match="needs a deadline"):
        operations.schedule_meeting(
            db.session, board.secretary, title="Written vote", scheduled_at=start, kind="correspondence"
        )
    with pytest.raises(DomainError, match="must come after voting opens"):
        operations.schedule_meeting(
            db.session,
            board.secretary,
            title="Written vote",
            scheduled_at=start,
            kind="correspondence",
            vote_deadline=start - timedelta(hours=1),
        )


# -- the agenda --------------------------------------------------------------------------------------------


def reviewed_proposal(call=None):
    return make_proposal(call=call, complete=True, state=ProposalState.REVIEWED)


def test_adding_to_the_agenda_moves_the_proposal_on_the_agenda(db):
    board = make_board()
    meeting = make_meeting(board)
    proposal = reviewed_proposal()
    item = operations.add_to_agenda(db.session, board.secretary, meeting, proposal)
    assert proposal.state == ProposalState.ON_AGENDA
    assert item.recommended_minor == proposal.requested_minor == item.motion_amount_minor
    assert {"proposal.on_agenda", "agenda_item.added"} <= set(actions(db))


def test_a_recommendation_above_the_request_is_refused(db):
    board = make_board()
    meeting = make_meeting(board)
    proposal = reviewed_proposal()
    with pytest.raises(DomainError, match=r"more than .* requested"):
        operations.add_to_agenda(db.session, board.secretary, meeting, proposal, proposal.requested + kzt(1))
    assert proposal.state == ProposalState.REVIEWED and not meeting.items


def test_a_proposal_still_in_review_cannot_go_on_the_agenda(db):
    board = make_board()
    proposal = make_proposal(complete=True, state=ProposalState.IN_REVIEW)
    with pytest.raises(DomainError, match="only reviewed or deferred proposals"):
        operations.add_to_agenda(db.session, board.secretary, make_meeting(board), proposal)


def test_candidates_are_ranked_per_call_with_what_the_call_can_commit(db):
    board = make_board()
    meeting = make_meeting(board)
    call = make_call()
    strong = make_agenda_item(meeting, call=call).proposal
    # Put it back among the candidates, then rank it against a weaker one.
    operations.remove_from_agenda(db.session, board.secretary, meeting.items[0])
    weak = reviewed_proposal(call)
    from tests.reviews.factories import make_review

    make_review(proposal=weak, state="accepted", scores={0: 1, 1: 1})
    [(candidate_call, rows, available)] = operations.agenda_candidates(db.session)
    assert candidate_call.id == call.id and available == call.envelope
    assert [row.proposal.id for row in rows] == [strong.id, weak.id]
    assert rows[0].ranked.rank == 1 and rows[0].ranked.mean > rows[1].ranked.mean


def test_taking_an_item_off_the_agenda_returns_the_proposal(db):
    board = make_board()
    meeting = make_meeting(board)
    item = make_agenda_item(meeting)
    proposal = item.proposal
    operations.remove_from_agenda(db.session, board.secretary, item)
    assert proposal.state == ProposalState.REVIEWED and meeting.items == []


def test_an_item_with_votes_cannot_leave_the_agenda(db):
    board, _meeting, item = in_session()
    operations.cast_vote(db.session, board.secretary, item, board.members[0], APPROVE)
    with pytest.raises(DomainError, match="defer it"):
        operations.remove_from_agenda(db.session, board.secretary, item)
    assert item.proposal.state == ProposalState.ON_AGENDA


# -- attendance and conflicts ------------------------------------------------------------------------------


def test_attendance_is_for_board_members_only(db):
    board = make_board()
    meeting = make_meeting(board)
    with pytest.raises(DomainError, match="is not a member of the board"):
        operations.record_attendance(db.session, board.secretary, meeting, make_officer(), True)
    operations.record_attendance(db.session, board.secretary, meeting, board.members[0], True)
    operations.record_attendance(db.session, board.secretary, meeting, board.members[0], False)
    assert [(a.user_id, a.present) for a in meeting.attendance] == [(board.members[0].id, False)]


def test_a_vote_by_correspondence_has_no_attendance(db):
    board = make_board()
    meeting = make_meeting(board, kind=MeetingKind.CORRESPONDENCE)
    with pytest.raises(DomainError, match="no attendance"):
        operations.record_attendance(db.session, board.secretary, meeting, board.members[0], True)


def test_declaring_a_conflict_recuses_and_withdraws_the_vote(db):
    board, _meeting, item = in_session()
    member = board.members[1]
    operations.cast_vote(db.session, member, item, member, APPROVE)
    operations.declare_board_conflict(db.session, member, item, "My sister runs the applicant.")
    assert operations.is_recused(item, member)
    assert item.votes == []
    assert operations.tally_item(db.session, item).eligible == 4


def test_a_member_cannot_declare_a_conflict_for_another(db):
    board, _meeting, item = in_session()
    with pytest.raises(DomainError, match="Only the board secretary"):
        operations.declare_board_conflict(db.session, board.members[0], item, member=board.members[1])
    assert item.conflicts == []


def test_the_secretary_records_a_conflict_on_a_members_behalf(db):
    board, _meeting, item = in_session()
    operations.declare_board_conflict(db.session, board.secretary, item, "Co-author", member=board.members[2])
    assert [c.user_id for c in item.conflicts] == [board.members[2].id]


# -- votes -------------------------------------------------------------------------------------------------


def test_a_vote_without_quorum_is_refused(db):
    board, _meeting, item = in_session(present=2)
    with pytest.raises(DomainError) as refused:
        operations.cast_vote(db.session, board.secretary, item, board.members[0], APPROVE)
    assert refused.value.message == (
        "No quorum for this item: 2 of 5 eligible members are present; more than 50% are needed."
    )
    assert item.votes == []


def test_recusals_can_restore_the_quorum(db):
    # 2 of 5 present is no quorum; with 2 absent members recused it is 2 of 3.
    board, _meeting, item = in_session(present=2)
    for member in board.members[3:]:
        operations.declare_board_conflict(db.session, board.secretary, item, member=member)
    operations.cast_vote(db.session, board.secretary, item, board.members[0], APPROVE)
    assert len(item.votes) == 1


def test_a_vote_by_a_recused_member_is_refused(db):
    board, _meeting, item = in_session()
    member = board.members[0]
    operations.declare_board_conflict(db.session, member, item, "Adviser to the applicant")
    with pytest.raises(DomainError, match="recused"):
        operations.cast_vote(db.session, member, item, member, APPROVE)
    assert item.votes == []


def test_a_vote_by_a_non_member_is_refused(db):
    board, _meeting, item = in_session()
    outsider = make_officer()
    with pytest.raises(DomainError, match="not a member of the board"):
        operations.cast_vote(db.session, board.secretary, item, outsider, APPROVE)
    assert item.votes == []


def test_a_vote_by_an_absent_member_is_refused(db):
    board, _meeting, item = in_session(present=4)
    with pytest.raises(DomainError, match="not recorded as present"):
        operations.cast_vote(db.session, board.secretary, item, board.members[4], APPROVE)


def test_a_member_cannot_vote_for_another(db):
    board, _meeting, item = in_session()
    with pytest.raises(DomainError, match="only vote for yourself"):
        operations.cast_vote(db.session, board.members[0], item, board.members[1], APPROVE)


def test_no_vote_before_the_meeting_opens(db):
    board = make_board()
    meeting = make_meeting(board, present=True)
    item = make_agenda_item(meeting)
    with pytest.raises(DomainError, match="opens the meeting"):
        operations.cast_vote(db.session, board.secretary, item, board.members[0], APPROVE)


def test_a_member_can_change_their_vote_until_the_decision(db):
    board, _meeting, item = in_session()
    member = board.members[0]
    operations.cast_vote(db.session, member, item, member, APPROVE)
    operations.cast_vote(db.session, member, item, member, REJECT)
    assert [(v.user_id, v.choice, v.recorded_by_id) for v in item.votes] == [(member.id, REJECT, member.id)]
    assert actions(db, "Vote") == ["vote.cast", "vote.changed"]


def test_a_vote_after_the_decision_is_refused(db):
    board, _meeting, item = in_session()
    vote_all(db, board, item, [APPROVE, APPROVE, APPROVE])
    operations.decide_item(db.session, board.secretary, item, outcome_request="approved")
    with pytest.raises(DomainError, match="has been decided"):
        operations.cast_vote(db.session, board.secretary, item, board.members[3], REJECT)
    assert len(item.votes) == 3


# -- decisions ---------------------------------------------------------------------------------------------


def test_a_passed_motion_approves_the_recommended_amount(db):
    board, _meeting, item = in_session(present=4)
    vote_all(db, board, item, [APPROVE, APPROVE, REJECT, ABSTAIN])
    operations.decide_item(db.session, board.secretary, item, outcome_request=DecisionOutcome.APPROVED)
    assert item.outcome == DecisionOutcome.APPROVED
    assert item.approved_minor == item.recommended_minor
    assert (item.eligible_count, item.participating_count) == (5, 4)
    assert item.proposal.state == ProposalState.APPROVED
    assert item.decided_by_id == board.secretary.id
    assert "agenda_item.decided" in actions(db)


def test_a_motion_with_conditions_approves_with_conditions(db):
    board, _meeting, item = in_session()
    operations.set_motion(
        db.session, board.secretary, item, kzt(5_000_000_00), "Written consent of the akimat."
    )
    vote_all(db, board, item, [APPROVE, APPROVE, APPROVE])
    operations.decide_item(db.session, board.secretary, item, outcome_request="approved")
    assert item.outcome == DecisionOutcome.APPROVED_WITH_CONDITIONS
    assert (item.approved_minor, item.conditions) == (5_000_000_00, "Written consent of the akimat.")
    assert item.proposal.state == ProposalState.APPROVED_WITH_CONDITIONS


def test_changing_the_motion_clears_the_votes(db):
    board, _meeting, item = in_session()
    vote_all(db, board, item, [APPROVE, APPROVE])
    operations.set_motion(db.session, board.secretary, item, kzt(2_000_000_00), "")
    assert item.votes == [] and item.motion_amount_minor == 2_000_000_00
    assert "agenda_item.motion_changed" in actions(db)


def test_a_failed_motion_is_rejected_with_a_reason(db):
    board, _meeting, item = in_session()
    vote_all(db, board, item, [REJECT, REJECT, APPROVE])
    with pytest.raises(DomainError, match="reason for the rejection"):
        operations.decide_item(db.session, board.secretary, item, outcome_request="rejected", reason="  ")
    assert item.outcome is None
    operations.decide_item(
        db.session, board.secretary, item, outcome_request="rejected", reason="No baseline survey."
    )
    assert (item.outcome, item.reason) == (DecisionOutcome.REJECTED, "No baseline survey.")
    assert item.proposal.state == ProposalState.REJECTED


def test_approval_is_refused_when_the_motion_failed(db):
    board, _meeting, item = in_session()
    vote_all(db, board, item, [REJECT, REJECT, APPROVE])
    with pytest.raises(DomainError, match="did not pass"):
        operations.decide_item(db.session, board.secretary, item, outcome_request="approved")
    assert item.outcome is None and item.proposal.state == ProposalState.ON_AGENDA


def test_a_decision_without_quorum_is_refused(db):
    board = make_board()
    meeting = make_meeting(board, state=MeetingState.OPEN, present=board.members[:3])
    item = make_agenda_item(meeting)
    vote_all(db, board, item, [APPROVE, APPROVE, APPROVE])
    operations.record_attendance(db.session, board.secretary, meeting, board.members[2], False)
    with pytest.raises(DomainError, match="No quorum for this item: 2 of 5"):
        operations.decide_item(db.session, board.secretary, item, outcome_request="approved")
    assert item.outcome is None


def test_a_tie_follows_the_chairs_casting_vote(db):
    board, _meeting, item = in_session(present=4)
    vote_all(db, board, item, [APPROVE, APPROVE, REJECT, REJECT])  # members[0] is the chair
    operations.decide_item(db.session, board.secretary, item, outcome_request="approved")
    assert item.outcome == DecisionOutcome.APPROVED


def test_a_tie_fails_when_the_chair_is_recused(db):
    board, _meeting, item = in_session(present=5)
    operations.declare_board_conflict(db.session, board.chair, item, "Former employee of the applicant")
    for member, choice in zip(board.members[1:], [APPROVE, APPROVE, REJECT, REJECT], strict=True):
        operations.cast_vote(db.session, board.secretary, item, member, choice)
    with pytest.raises(DomainError, match="did not pass"):
        operations.decide_item(db.session, board.secretary, item, outcome_request="approved")


def test_an_amount_above_the_request_is_refused(db):
    board, _meeting, item = in_session()
    above = item.proposal.requested + kzt(100)
    with pytest.raises(DomainError, match="at most the amount requested"):
        operations.set_motion(db.session, board.secretary, item, above)
    vote_all(db, board, item, [APPROVE, APPROVE, APPROVE])
    with pytest.raises(DomainError, match="at most the amount requested"):
        operations.decide_item(db.session, board.secretary, item, outcome_request="approved", amount=above)
    assert item.outcome is None and item.motion_amount_minor == item.proposal.requested_minor


def test_an_amount_other_than_the_motion_is_refused(db):
    board, _meeting, item = in_session()
    vote_all(db, board, item, [APPROVE, APPROVE, APPROVE])
    with pytest.raises(DomainError, match="The board voted on approving"):
        operations.decide_item(
            db.session, board.secretary, item, outcome_request="approved", amount=kzt(1_000_000_00)
        )


def test_an_amount_above_the_envelope_is_refused_by_the_guard(db):
    call = make_call(envelope_minor=20_000_000_00, grant_max_minor=20_000_000_00)
    board = make_board()
    meeting = make_meeting(board, state=MeetingState.OPEN, present=True)
    first = make_agenda_item(meeting, call=call, outcome="approved", approved=15_000_000_00)
    second = make_agenda_item(meeting, call=call)  # requests 8 500 000.50 KZT; 5 000 000 left
    vote_all(db, board, second, [APPROVE, APPROVE, APPROVE])
    with pytest.raises(DomainError, match=r"past its envelope: only .*5,000,000\.00 is left"):
        operations.decide_item(db.session, board.secretary, second, outcome_request="approved")
    assert second.outcome is None and second.proposal.state == ProposalState.ON_AGENDA
    assert first.outcome == DecisionOutcome.APPROVED


def test_a_second_decision_on_the_same_item_is_refused(db):
    board, _meeting, item = in_session()
    vote_all(db, board, item, [APPROVE, APPROVE, APPROVE])
    operations.decide_item(db.session, board.secretary, item, outcome_request="approved")
    with pytest.raises(DomainError, match="a decision cannot be changed"):
        operations.decide_item(db.session, board.secretary, item, outcome_request="deferred", reason="Again")
    assert item.outcome == DecisionOutcome.APPROVED and item.proposal.state == ProposalState.APPROVED


def test_deferral_returns_the_proposal_for_a_later_meeting(db):
    board, _meeting, item = in_session()
    with pytest.raises(DomainError, match="reason for deferring"):
        operations.decide_item(db.session, board.secretary, item, outcome_request="deferred")
    operations.decide_item(
        db.session, board.secretary, item, outcome_request="deferred", reason="Awaiting the site survey."
    )
    proposal = item.proposal
    assert (item.outcome, proposal.state) == (DecisionOutcome.DEFERRED, ProposalState.DEFERRED)
    later = make_meeting(board, scheduled_at=utcnow() + timedelta(days=40))
    again = operations.add_to_agenda(db.session, board.secretary, later, proposal)
    assert proposal.state == ProposalState.ON_AGENDA and again.meeting_id == later.id
    # Taken off the later agenda, it is deferred again (not merely reviewed).
    operations.remove_from_agenda(db.session, board.secretary, again)
    assert proposal.state == ProposalState.DEFERRED


def test_a_non_secretary_cannot_decide(db):
    board, _meeting, item = in_session()
    vote_all(db, board, item, [APPROVE, APPROVE, APPROVE])
    with pytest.raises(DomainError, match="Only the board secretary"):
        operations.decide_item(db.session, board.members[0], item, outcome_request="approved")


# -- closing -----------------------------------------------------------------------------------------------


def test_closing_with_undecided_items_lists_them(db):
    board, meeting, first = in_session()
    second = make_agenda_item(meeting)
    vote_all(db, board, first, [APPROVE, APPROVE, APPROVE])
    operations.decide_item(db.session, board.secretary, first, outcome_request="approved")
    with pytest.raises(DomainError) as refused:
        operations.close_meeting(db.session, board.secretary, meeting)
    assert refused.value.message == (
        f"Decide every item before closing the meeting. Not decided yet: {second.proposal.reference}."
    )
    assert meeting.state == MeetingState.OPEN


def decided_meeting(db):
    board, meeting, approved = in_session()
    rejected = make_agenda_item(meeting)
    deferred = make_agenda_item(meeting)
    operations.set_motion(db.session, board.secretary, approved, kzt(6_000_000_00), "Hire two rangers first.")
    vote_all(db, board, approved, [APPROVE, APPROVE, APPROVE])
    operations.decide_item(db.session, board.secretary, approved, outcome_request="approved")
    vote_all(db, board, rejected, [REJECT, REJECT, REJECT])
    operations.decide_item(
        db.session, board.secretary, rejected, outcome_request="rejected", reason="No baseline survey."
    )
    operations.decide_item(
        db.session, board.secretary, deferred, outcome_request="deferred", reason="Awaiting permits."
    )
    return board, meeting, (approved, rejected, deferred)


def test_closing_stores_the_minutes_with_their_hash(db):
    board, meeting, _items = decided_meeting(db)
    operations.close_meeting(db.session, board.secretary, meeting)
    assert meeting.state == MeetingState.CLOSED and meeting.closed_at is not None
    stored = db.session.get(StoredFile, meeting.minutes_file_id)
    content = stored_bytes(stored)
    assert content.startswith(b"%PDF")
    import hashlib

    assert meeting.minutes_sha256 == hashlib.sha256(content).hexdigest() == stored.sha256
    assert {"meeting.closed", "meeting.minutes_stored"} <= set(actions(db, "Meeting"))


def test_closing_tells_the_applicants_each_decision(db):
    board, meeting, (approved, rejected, deferred) = decided_meeting(db)
    operations.close_meeting(db.session, board.secretary, meeting)
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    by_address = {}
    for message in messages:
        by_address.setdefault(message.to_address, []).append(message)

    def mail_of(item):
        [member] = [m.user for m in item.proposal.organisation.memberships]
        [message] = by_address[member.email]
        return message

    assert "is approved" in mail_of(approved).subject
    assert "6,000,000.00" in mail_of(approved).body_text
    assert "Hire two rangers first." in mail_of(approved).body_text
    assert "No baseline survey." in mail_of(rejected).body_text
    assert "Awaiting permits." in mail_of(deferred).body_text


def test_nothing_is_mailed_before_the_close(db):
    decided_meeting(db)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize(
    "change",
    ["vote", "decide", "conflict", "attendance", "motion", "remove", "add", "open"],
)
def test_a_closed_meetings_decisions_cannot_change(db, change):
    board, meeting, (approved, _rejected, _deferred) = decided_meeting(db)
    operations.close_meeting(db.session, board.secretary, meeting)
    secretary, member = board.secretary, board.members[0]
    attempts = {
        "vote": lambda: operations.cast_vote(db.session, secretary, approved, member, REJECT),
        "decide": lambda: operations.decide_item(
            db.session, secretary, approved, outcome_request="deferred", reason="Rethink"
        ),
        "conflict": lambda: operations.declare_board_conflict(db.session, member, approved, "late"),
        "attendance": lambda: operations.record_attendance(db.session, secretary, meeting, member, False),
        "motion": lambda: operations.set_motion(db.session, secretary, approved, kzt(1_000_000_00)),
        "remove": lambda: operations.remove_from_agenda(db.session, secretary, approved),
        "add": lambda: operations.add_to_agenda(db.session, secretary, meeting, reviewed_proposal()),
        "open": lambda: operations.open_meeting(db.session, secretary, meeting),
    }
    with pytest.raises(DomainError, match=r"This meeting is closed; its decisions cannot change\."):
        attempts[change]()
    assert approved.outcome == DecisionOutcome.APPROVED_WITH_CONDITIONS
    assert approved.approved_minor == 6_000_000_00
    assert len(approved.votes) == 3


def test_a_meeting_without_an_agenda_cannot_open(db):
    board = make_board()
    meeting = make_meeting(board)
    with pytest.raises(DomainError, match="at least one proposal"):
        operations.open_meeting(db.session, board.secretary, meeting)
    assert meeting.state == MeetingState.SCHEDULED


def test_cancelling_takes_the_proposals_off_the_agenda(db):
    board = make_board()
    meeting = make_meeting(board)
    proposal = make_agenda_item(meeting).proposal
    with pytest.raises(DomainError, match="Give a reason"):
        operations.cancel_meeting(db.session, board.secretary, meeting, "")
    operations.cancel_meeting(db.session, board.secretary, meeting, "The chair is ill.")
    assert meeting.state == MeetingState.CANCELLED and meeting.items == []
    assert proposal.state == ProposalState.REVIEWED


# -- votes by correspondence -------------------------------------------------------------------------------


def written_vote(db, board=None, **kwargs):
    board = board or make_board()
    meeting = make_meeting(
        board,
        kind=MeetingKind.CORRESPONDENCE,
        scheduled_at=utcnow() - timedelta(days=1),
        vote_deadline=utcnow() + timedelta(days=6),
    )
    item = make_agenda_item(meeting, **kwargs)
    operations.open_meeting(db.session, board.secretary, meeting)
    return board, meeting, item


def test_members_vote_by_correspondence_without_attendance(db):
    board, _meeting, item = written_vote(db)
    member = board.members[3]
    operations.cast_vote(db.session, member, item, member, APPROVE)
    assert [v.user_id for v in item.votes] == [member.id]


def test_closing_a_written_vote_before_its_deadline_is_refused(db):
    board, meeting, _item = written_vote(db)
    with pytest.raises(DomainError, match="Voting is open until"):
        operations.close_correspondence(db.session, board.secretary, meeting)
    assert meeting.state == MeetingState.OPEN


def test_a_vote_after_the_deadline_is_refused(db):
    board, meeting, item = written_vote(db)
    late = meeting.vote_deadline + timedelta(seconds=1)
    with pytest.raises(DomainError, match="Voting closed at"):
        operations.cast_vote(db.session, board.members[0], item, board.members[0], APPROVE, now=late)


def test_a_written_vote_is_decided_by_the_same_rules_when_it_closes(db):
    board, meeting, passed = written_vote(db)
    failed = make_agenda_item(meeting)
    no_quorum = make_agenda_item(meeting)
    for member in board.members[:3]:
        operations.cast_vote(db.session, member, passed, member, APPROVE)
        operations.cast_vote(db.session, member, failed, member, REJECT)
    operations.cast_vote(db.session, board.members[0], no_quorum, board.members[0], APPROVE)
    after = meeting.vote_deadline + timedelta(minutes=1)
    operations.close_correspondence(db.session, None, meeting, now=after)
    assert passed.outcome == DecisionOutcome.APPROVED and passed.participating_count == 3
    assert failed.outcome == DecisionOutcome.REJECTED and "did not approve" in failed.reason
    assert no_quorum.outcome == DecisionOutcome.DEFERRED and no_quorum.reason.startswith("No quorum")
    assert no_quorum.proposal.state == ProposalState.DEFERRED
    assert meeting.state == MeetingState.CLOSED and meeting.minutes_sha256


def test_a_written_approval_the_envelope_cannot_cover_is_deferred(db):
    call = make_call(envelope_minor=20_000_000_00, grant_max_minor=20_000_000_00)
    board = make_board()
    make_agenda_item(
        make_meeting(board, state=MeetingState.CLOSED), call=call, outcome="approved", approved=15_000_000_00
    )
    board, meeting, item = written_vote(db, board, call=call)
    for member in board.members[:3]:
        operations.cast_vote(db.session, member, item, member, APPROVE)
    operations.close_correspondence(db.session, None, meeting, now=meeting.vote_deadline)
    assert item.outcome == DecisionOutcome.DEFERRED and "past its envelope" in item.reason
    assert item.approved_minor is None


def test_items_of_a_written_vote_are_not_decided_by_hand(db):
    board, _meeting, item = written_vote(db)
    with pytest.raises(DomainError, match="decided when it closes"):
        operations.decide_item(db.session, board.secretary, item, outcome_request="approved")


def test_close_due_correspondence_closes_only_past_deadlines(db):
    board, due, _ = written_vote(db)
    _board, not_due, _ = written_vote(db, board)
    not_due.vote_deadline = utcnow() + timedelta(days=30)
    closed = operations.close_due_correspondence(db.session, now=due.vote_deadline + timedelta(seconds=1))
    assert closed == [due]
    assert due.state == MeetingState.CLOSED and not_due.state == MeetingState.OPEN


def test_votes_are_stored_once_per_member_and_item(db):
    board, _meeting, item = in_session()
    member = board.members[0]
    for choice in (APPROVE, ABSTAIN, APPROVE):
        operations.cast_vote(db.session, board.secretary, item, member, choice)
    count = db.session.scalar(select(func.count()).select_from(Vote).where(Vote.item_id == item.id))
    assert count == 1
    assert db.session.get(AgendaItem, item.id).votes[0].choice == APPROVE


def test_an_item_nobody_voted_on_cannot_be_rejected(db):
    board, _meeting, item = in_session()
    with pytest.raises(DomainError, match="Nobody has voted"):
        operations.decide_item(db.session, board.secretary, item, outcome_request="rejected", reason="Weak")
    assert item.outcome is None
