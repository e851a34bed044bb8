"""Factories for the board: members and settings, meetings, agenda items with votes and decisions.

``make_board()`` gives five board members, the first of them the chair, and a programme officer as the
secretary; ``make_meeting(board)`` a scheduled meeting; ``make_agenda_item(meeting)`` a reviewed proposal
(with two submitted reviews, so it is ranked) on the meeting's agenda. Items can be built already voted on
(``votes=``), with conflicts (``recused=``) and decided (``outcome=``), so that documents can be tested on
a closed meeting without going through every operation::

    board = make_board()
    meeting = make_meeting(board, state=MeetingState.CLOSED, present=board.members[:4])
    make_agenda_item(meeting, votes={m: "approve" for m in board.members[:4]}, outcome="approved")
"""

import itertools
from dataclasses import dataclass, field
from datetime import timedelta

from fundapp.applications.models import ProposalState
from fundapp.board import operations
from fundapp.board.models import (
    AgendaItem,
    Attendance,
    BoardConflict,
    BoardSettings,
    DecisionOutcome,
    Meeting,
    MeetingKind,
    MeetingState,
    Vote,
    VoteChoice,
)
from fundapp.core.db import utcnow
from fundapp.core.formatting import to_local
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.extensions import db
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.factories import make_user

_sequence = itertools.count(1)

_PROPOSAL_STATES = {
    DecisionOutcome.APPROVED: ProposalState.APPROVED,
    DecisionOutcome.APPROVED_WITH_CONDITIONS: ProposalState.APPROVED_WITH_CONDITIONS,
    DecisionOutcome.REJECTED: ProposalState.REJECTED,
    DecisionOutcome.DEFERRED: ProposalState.DEFERRED,
}


@dataclass
class Board:
    """What ``make_board`` built: the members (the chair first, if any), the chair, secretary and settings."""

    members: list
    chair: object
    secretary: object
    settings: BoardSettings
    extra: dict = field(default_factory=dict)


def make_board_member(**fields):
    roles = set(fields.pop("roles", ()))
    roles.add(Role.BOARD_MEMBER)
    n = next(_sequence)
    fields.setdefault("full_name", f"Board Member {n:03d}")
    return make_user(roles=tuple(sorted(roles)), **fields)


def make_board(members=5, *, chair=True, secretary=True, **settings):
    """A board of ``members`` new board members and its settings.

    ``chair``: True (the first member chairs), False (no chair) or a user. ``secretary``: True (a new
    programme officer), False/None (none: any programme officer manages meetings) or a user.
    ``settings``: BoardSettings fields (quorum_percent, majority_percent, chair_casting_vote,
    minutes_name_votes).
    """
    people = [make_board_member() for _ in range(members)]
    if chair is True:
        chair = people[0] if people else None
    elif chair is False:
        chair = None
    if secretary is True:
        secretary = make_officer(full_name=f"Board Secretary {next(_sequence):03d}")
    elif secretary is False:
        secretary = None
    board_settings = operations.board_settings(db.session)
    board_settings.chair_id = chair.id if chair is not None else None
    board_settings.secretary_id = secretary.id if secretary is not None else None
    for name, value in settings.items():
        setattr(board_settings, name, value)
    db.session.flush()
    db.session.expire(board_settings, ["chair", "secretary"])
    return Board(people, chair, secretary, board_settings)


def make_meeting(
    board=None,
    *,
    kind=MeetingKind.MEETING,
    state=MeetingState.SCHEDULED,
    scheduled_at=None,
    vote_deadline=None,
    title=None,
    location="Astana, the fund's office",
    present=None,
    absent=(),
    **fields,
):
    """A meeting (or a vote by correspondence) of ``board`` (default: a new board).

    Scheduled a week from now unless ``scheduled_at`` is given; a vote by correspondence gets a deadline
    a week after it. ``state`` OPEN or CLOSED also sets ``opened_at``/``closed_at`` (a CLOSED meeting built
    here has no minutes file: render them with the documents module if the test needs them).
    ``present``: members recorded as present (True: all of the board's members); ``absent``: members
    recorded as absent.
    """
    board = board or make_board()
    kind = MeetingKind(kind)
    state = MeetingState(state)
    scheduled_at = scheduled_at or utcnow() + timedelta(days=7)
    if kind == MeetingKind.CORRESPONDENCE and vote_deadline is None:
        vote_deadline = scheduled_at + timedelta(days=7)
    creator = board.secretary or make_officer()
    meeting = Meeting(
        reference=operations.next_meeting_reference(db.session, to_local(scheduled_at).year),
        kind=kind,
        title=title or f"Board meeting {next(_sequence)}",
        scheduled_at=scheduled_at,
        location=location if kind == MeetingKind.MEETING else "",
        vote_deadline=vote_deadline,
        state=state,
        created_by_id=creator.id,
        **fields,
    )
    if state in (MeetingState.OPEN, MeetingState.CLOSED):
        meeting.opened_at = meeting.opened_at or scheduled_at
    if state == MeetingState.CLOSED:
        meeting.closed_at = meeting.closed_at or scheduled_at + timedelta(hours=3)
    if present is True:
        present = board.members
    for member in present or ():
        meeting.attendance.append(Attendance(user_id=member.id, present=True))
    for member in absent:
        meeting.attendance.append(Attendance(user_id=member.id, present=False))
    db.session.add(meeting)
    db.session.flush()
    return meeting


def make_agenda_item(
    meeting=None,
    proposal=None,
    *,
    call=None,
    recommended=None,
    conditions="",
    reviews=2,
    votes=None,
    recused=(),
    outcome=None,
    reason="",
    approved=None,
    **proposal_fields,
):
    """A proposal on ``meeting``'s agenda (default: a new scheduled meeting).

    ``proposal`` defaults to a new complete proposal of ``call`` (default: the call of the meeting's first
    item, or a new call) with ``reviews`` submitted reviews. ``recommended`` (minor units; default: the
    amount requested) is also the motion, with ``conditions``. ``votes``: ``{member: choice}``;
    ``recused``: members who declared a conflict. ``outcome`` (a DecisionOutcome or its value) records the
    decision as ``decide_item`` would (``approved``: minor units, default the motion; ``reason`` for a
    rejection or deferral) and moves the proposal to the matching state; otherwise it is ON_AGENDA.
    """
    meeting = meeting or make_meeting()
    if proposal is None:
        if call is None:
            call = meeting.items[0].proposal.call if meeting.items else make_call()
        proposal = make_proposal(call=call, complete=True, state=ProposalState.REVIEWED, **proposal_fields)
        if reviews:
            from tests.reviews.factories import make_review

            for index in range(reviews):
                make_review(
                    proposal=proposal,
                    state="accepted",
                    scores={0: 5 - (index % 3), 1: 4},
                    comments=f"Review {index + 1}: credible plan; the monitoring budget is thin.",
                )
    recommended = proposal.requested_minor if recommended is None else recommended
    item = AgendaItem(
        proposal_id=proposal.id,
        position=max((i.position for i in meeting.items), default=0) + 1,
        recommended_minor=recommended,
        motion_amount_minor=recommended,
        motion_conditions=conditions,
    )
    meeting.items.append(item)
    db.session.flush()
    recorder = operations.board_settings(db.session).secretary_id or meeting.created_by_id
    for member, choice in (votes or {}).items():
        item.votes.append(Vote(user_id=member.id, choice=VoteChoice(choice), recorded_by_id=recorder))
    for member in recused:
        item.conflicts.append(BoardConflict(user_id=member.id, note="Advises the applicant."))
    proposal.state = ProposalState.ON_AGENDA
    if outcome is not None:
        outcome = DecisionOutcome(outcome)
        item.outcome = outcome
        if outcome in operations.APPROVING:
            item.approved_minor = recommended if approved is None else approved
            item.conditions = conditions
        item.reason = reason or (
            "" if outcome in operations.APPROVING else "The monitoring plan does not show results."
        )
        tally = operations.tally_item(db.session, item)
        item.eligible_count = tally.eligible
        item.participating_count = tally.participating
        item.decided_at = meeting.opened_at or utcnow()
        item.decided_by_id = recorder
        proposal.state = _PROPOSAL_STATES[outcome]
    db.session.flush()
    return item


def money(item_or_proposal, minor):
    """``Money(minor, currency of the proposal)``."""
    proposal = getattr(item_or_proposal, "proposal", item_or_proposal)
    return Money(minor, proposal.currency)


__all__ = [
    "Board",
    "make_agenda_item",
    "make_board",
    "make_board_member",
    "make_meeting",
    "money",
]
