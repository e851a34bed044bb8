"""The budget guard: what a call has committed, what it can still commit, and the refusal past it."""

import pytest

from fundapp.board import budget
from fundapp.board.models import DecisionOutcome, MeetingState
from fundapp.core.errors import DomainError
from fundapp.core.money import Money
from tests.applications.factories import make_call, make_proposal
from tests.board.factories import make_agenda_item, make_board, make_meeting


def kzt(minor):
    return Money(minor, "KZT")


def small_call():
    return make_call(envelope_minor=20_000_000_00, grant_max_minor=20_000_000_00)


def closed_meeting():
    board = make_board()
    return make_meeting(board, state=MeetingState.CLOSED, present=True)


def test_a_new_call_has_its_whole_envelope_available(db):
    call = small_call()
    assert budget.committed(db.session, call) == kzt(0)
    assert budget.available(db.session, call) == call.envelope


def test_only_approvals_count_as_committed(db):
    call = small_call()
    meeting = closed_meeting()
    make_agenda_item(meeting, call=call, outcome=DecisionOutcome.APPROVED, approved=5_000_000_00)
    make_agenda_item(
        meeting, call=call, outcome=DecisionOutcome.APPROVED_WITH_CONDITIONS, approved=3_000_000_00
    )
    make_agenda_item(meeting, call=call, outcome=DecisionOutcome.REJECTED)
    make_agenda_item(meeting, call=call, outcome=DecisionOutcome.DEFERRED)
    make_agenda_item(make_meeting(), call=call)  # on an agenda, undecided
    assert budget.committed(db.session, call) == kzt(8_000_000_00)
    assert budget.available(db.session, call) == kzt(12_000_000_00)


def test_approvals_in_other_calls_do_not_count(db):
    call, other = small_call(), small_call()
    make_agenda_item(closed_meeting(), call=other, outcome="approved", approved=9_000_000_00)
    assert budget.available(db.session, call) == call.envelope


def test_the_guard_allows_exactly_the_last_money(db):
    call = small_call()
    make_agenda_item(closed_meeting(), call=call, outcome="approved", approved=15_000_000_00)
    proposal = make_proposal(call=call)
    choice = budget.guard_commitment(db.session, proposal, kzt(5_000_000_00))
    assert choice.pool.call_id == call.id


def test_the_guard_refuses_one_minor_unit_too_many(db):
    call = small_call()
    make_agenda_item(closed_meeting(), call=call, outcome="approved", approved=15_000_000_00)
    with pytest.raises(DomainError) as refused:
        budget.guard_commitment(db.session, make_proposal(call=call), kzt(5_000_000_01))
    assert refused.value.field == "amount"
    assert call.reference in refused.value.message
    assert "5,000,000.00" in refused.value.message
    assert budget.committed(db.session, call) == kzt(15_000_000_00)


def test_the_guard_refuses_another_currency(db):
    call = small_call()
    with pytest.raises(DomainError, match="different currencies"):
        budget.guard_commitment(db.session, make_proposal(call=call), Money(100, "USD"))
