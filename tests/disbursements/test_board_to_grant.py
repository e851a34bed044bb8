"""A board approval creates the grant: reference, schedule and reports; the pool's money guards it."""

import pytest
from sqlalchemy import select

from fundapp.board import operations as board
from fundapp.board.models import MeetingState
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today
from fundapp.disbursements.models import Grant, GrantState, ReportKind, TrancheGate, TrancheState
from fundapp.disbursements.pools import free
from tests.applications.factories import fund_call, make_call
from tests.board.factories import make_agenda_item, make_board, make_meeting


def _voted_item(db, the_board, meeting, **fields):
    return make_agenda_item(meeting, votes=dict.fromkeys(the_board.members, "approve"), **fields)


@pytest.fixture
def the_board(db):
    return make_board(members=3)


def _meeting(the_board):
    return make_meeting(the_board, state=MeetingState.OPEN, present=True)


def test_approval_creates_the_grant_in_agreement_with_the_default_schedule(db, the_board):
    call = make_call()
    meeting = _meeting(the_board)
    item = _voted_item(db, the_board, meeting, call=call, recommended=10_000_000_00)
    board.decide_item(db.session, the_board.secretary, item, outcome_request="approved")

    grant = db.session.scalar(select(Grant).where(Grant.proposal_id == item.proposal_id))
    assert grant.reference == f"IBF-{fund_today().year}-0001"
    assert grant.state == GrantState.AGREEMENT
    assert grant.amount.minor == 10_000_000_00
    assert [t.amount_minor for t in grant.tranches] == [4_000_000_00, 4_000_000_00, 2_000_000_00]
    assert [t.gate for t in grant.tranches] == [
        TrancheGate.NONE,
        TrancheGate.PROGRESS_REPORT,
        TrancheGate.FINAL_REPORT,
    ]
    assert all(t.state == TrancheState.SCHEDULED for t in grant.tranches)
    assert [r.kind for r in grant.reports] == [ReportKind.PROGRESS, ReportKind.FINAL]
    assert grant.tranches[1].report_id == grant.reports[0].id
    assert grant.tranches[2].report_id == grant.reports[1].id


def test_a_second_approval_takes_the_next_reference(db, the_board):
    call = make_call()
    meeting = _meeting(the_board)
    first = _voted_item(db, the_board, meeting, call=call, recommended=1_000_000_00)
    second = _voted_item(db, the_board, meeting, call=call, recommended=1_000_000_00)
    board.decide_item(db.session, the_board.secretary, first, outcome_request="approved")
    board.decide_item(db.session, the_board.secretary, second, outcome_request="approved")
    references = db.session.scalars(select(Grant.reference).order_by(Grant.id)).all()
    assert references == [f"IBF-{fund_today().year}-0001", f"IBF-{fund_today().year}-0002"]


def test_an_unfunded_call_cannot_be_approved(db, the_board):
    call = make_call(funded=False)
    meeting = _meeting(the_board)
    item = _voted_item(db, the_board, meeting, call=call, recommended=1_000_000_00)
    with pytest.raises(DomainError) as refusal:
        board.decide_item(db.session, the_board.secretary, item, outcome_request="approved")
    assert "No funding pool" in refusal.value.message
    assert db.session.scalar(select(Grant).where(Grant.proposal_id == item.proposal_id)) is None
    assert item.outcome is None


def test_money_reserved_by_unsigned_grants_is_not_approved_twice(db, the_board):
    call = make_call(funded=False)
    pool = fund_call(call, 15_000_000_00)
    meeting = _meeting(the_board)
    first = _voted_item(db, the_board, meeting, call=call, recommended=10_000_000_00)
    second = _voted_item(db, the_board, meeting, call=call, recommended=10_000_000_00)
    board.decide_item(db.session, the_board.secretary, first, outcome_request="approved")
    assert free(db.session, pool).minor == 5_000_000_00

    with pytest.raises(DomainError) as refusal:
        board.decide_item(db.session, the_board.secretary, second, outcome_request="approved")
    assert "commit money the fund has not received" in refusal.value.message
    assert db.session.scalar(select(Grant).where(Grant.proposal_id == second.proposal_id)) is None
