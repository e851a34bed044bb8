"""Two decisions racing for the last money of a call, on PostgreSQL: exactly one of them succeeds.

The ``db`` fixture's rolled-back connection cannot be shared between threads, so these tests work in a
database of their own, created for the module from FUNDAPP_TEST_DATABASE_URL and dropped afterwards:
each thread has its own app context, session and connection, and commits for real.
"""

import threading
from datetime import timedelta

import pytest

from fundapp.board import budget, operations
from fundapp.board.models import AgendaItem, DecisionOutcome, MeetingState
from fundapp.core.errors import DomainError
from fundapp.core.money import Money
from fundapp.extensions import db as _db

pytestmark = pytest.mark.postgres

#: How many times each race is run, each on fresh items.
ROUNDS = 3


def _race(app, secretary_id, item_ids):
    """Decide each of ``item_ids`` (approve) in its own thread and connection, all released at once.

    Returns ``{item id: "approved" or the refusal's message}``.
    """
    barrier = threading.Barrier(len(item_ids))
    results = {}
    errors = []

    def decide(item_id):
        with app.app_context():
            session = _db.session
            try:
                from fundapp.accounts.models import User

                secretary = session.get(User, secretary_id)
                item = session.get(AgendaItem, item_id)
                operations.board_settings(session)
                _ = (item.proposal.call, item.votes, item.conflicts, item.meeting.attendance)
                session.commit()  # end the read transaction: each decision starts fresh after the barrier
                barrier.wait(timeout=30)
                try:
                    operations.decide_item(session, secretary, item, outcome_request="approved")
                    session.commit()
                    results[item_id] = "approved"
                except DomainError as error:
                    session.rollback()
                    results[item_id] = str(error.message)
            except Exception as error:  # surfaced in the main thread
                errors.append(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=decide, args=(item_id,)) for item_id in item_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return results


def _build_round(envelope_left_for_one):
    """A call whose envelope leaves exactly one motion's worth (or two), and an open meeting with two items
    on it, each approved by every member present. Returns ``(call id, secretary id, [item ids], motion)``.

    The database is committed for real, so the board is made once and found again in later rounds.
    """
    from tests.applications.factories import make_call
    from tests.board.factories import Board, make_agenda_item, make_board, make_meeting
    from tests.factories import _sequence

    members = operations.board_members(_db.session)
    if members:
        settings = operations.board_settings(_db.session)
        board = Board(list(members), settings.chair, settings.secretary, settings)
    else:
        board = make_board(members=3)
    call = make_call(
        reference=f"CALL-RACE-{next(_sequence):05d}",
        envelope_minor=20_000_000_00,
        grant_max_minor=20_000_000_00,
    )
    meeting = make_meeting(board, state=MeetingState.OPEN, present=True)
    votes = dict.fromkeys(board.members, "approve")
    items = [make_agenda_item(meeting, call=call, votes=votes) for _ in range(2)]
    motion = items[0].motion_amount_minor
    assert items[1].motion_amount_minor == motion
    earlier = make_meeting(
        board, state=MeetingState.CLOSED, scheduled_at=meeting.scheduled_at - timedelta(days=60)
    )
    already = call.envelope_minor - (motion if envelope_left_for_one else 2 * motion)
    make_agenda_item(earlier, call=call, outcome="approved", approved=already)
    _db.session.commit()
    return call.id, board.secretary.id, [item.id for item in items], motion


def test_two_approvals_racing_for_the_last_money_of_a_call_one_wins(race_app):
    from fundapp.applications.models import Call, ProposalState

    for _round in range(ROUNDS):
        with race_app.app_context():
            call_id, secretary_id, item_ids, motion = _build_round(envelope_left_for_one=True)
            _db.session.remove()

        results = _race(race_app, secretary_id, item_ids)

        assert list(results.values()).count("approved") == 1, results
        [refusal] = [message for message in results.values() if message != "approved"]
        assert "past its envelope" in refusal
        with race_app.app_context():
            call = _db.session.get(Call, call_id)
            assert budget.available(_db.session, call) == Money(0, call.currency)
            items = [_db.session.get(AgendaItem, item_id) for item_id in item_ids]
            outcomes = sorted((item.outcome is not None, item.proposal.state) for item in items)
            assert outcomes == [(False, ProposalState.ON_AGENDA), (True, ProposalState.APPROVED)]
            assert [item.approved_minor for item in items if item.outcome] == [motion]
            _db.session.remove()


def test_two_approvals_that_both_fit_both_succeed(race_app):
    """The lock serialises the decisions; it does not refuse the second when there is money for both."""
    with race_app.app_context():
        _call_id, secretary_id, item_ids, _motion = _build_round(envelope_left_for_one=False)
        _db.session.remove()

    results = _race(race_app, secretary_id, item_ids)

    assert list(results.values()) == ["approved", "approved"]


def test_two_secretaries_deciding_the_same_item_at_once_decide_it_once(race_app):
    with race_app.app_context():
        _call_id, secretary_id, item_ids, _motion = _build_round(envelope_left_for_one=False)
        _db.session.remove()
    item_id = item_ids[0]
    barrier = threading.Barrier(2)
    results = []

    def decide():
        with race_app.app_context():
            from fundapp.accounts.models import User

            session = _db.session
            secretary = session.get(User, secretary_id)
            item = session.get(AgendaItem, item_id)
            _ = (item.proposal.call, item.votes, item.meeting.attendance)
            session.commit()
            barrier.wait(timeout=30)
            try:
                operations.decide_item(session, secretary, item, outcome_request="approved")
                session.commit()
                results.append("approved")
            except DomainError as error:
                session.rollback()
                results.append(str(error.message))
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=decide) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert results.count("approved") == 1, results
    assert any("a decision cannot be changed" in message for message in results), results
    with race_app.app_context():
        item = _db.session.get(AgendaItem, item_id)
        assert item.outcome == DecisionOutcome.APPROVED
        _db.session.remove()
