"""``fundapp board close-due``: votes by correspondence past their deadline are decided and closed."""

from datetime import timedelta

from sqlalchemy import select

from fundapp.applications.models import ProposalState
from fundapp.board.models import Meeting, MeetingKind, MeetingState
from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from tests.board.factories import make_agenda_item, make_board, make_meeting


def written_vote(board, *, deadline, title="Written vote on the Caspian call"):
    """An open vote by correspondence of ``board`` whose votes close at ``deadline``."""
    return make_meeting(
        board,
        kind=MeetingKind.CORRESPONDENCE,
        state=MeetingState.OPEN,
        scheduled_at=deadline - timedelta(days=7),
        vote_deadline=deadline,
        title=title,
    )


def test_nothing_due_is_said_and_nothing_changes(runner, db):
    board = make_board()
    running = written_vote(board, deadline=utcnow() + timedelta(days=2))
    make_agenda_item(running, votes=dict.fromkeys(board.members, "approve"))
    db.session.commit()

    result = runner.invoke(args=["board", "close-due"])

    assert result.exit_code == 0, result.output
    assert result.output == "No vote by correspondence is due to close.\n"
    db.session.expire_all()
    assert running.state == MeetingState.OPEN


def test_a_vote_past_its_deadline_is_decided_closed_and_printed(runner, db):
    board = make_board(members=5)
    due = written_vote(board, deadline=utcnow() - timedelta(minutes=5))
    approved = make_agenda_item(
        due, recommended=12_000_000_00, votes=dict.fromkeys(board.members[:4], "approve")
    )
    rejected = make_agenda_item(
        due, votes={**dict.fromkeys(board.members[:3], "reject"), board.members[3]: "approve"}
    )
    unanswered = make_agenda_item(due, votes={board.members[0]: "approve"})
    running = written_vote(board, deadline=utcnow() + timedelta(days=2), title="Still voting")
    make_agenda_item(running, votes=dict.fromkeys(board.members, "approve"))
    db.session.commit()

    result = runner.invoke(args=["board", "close-due"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{due.reference}  Written vote on the Caspian call (votes closed ")
    assert f"  {approved.proposal.reference}  Approved, KZT\u00a012,000,000.00" in lines
    assert any(
        line.startswith(f"  {rejected.proposal.reference}  Rejected: The board did not approve")
        for line in lines
    )
    assert any(line.startswith(f"  {unanswered.proposal.reference}  Deferred: No quorum") for line in lines)
    assert lines[-1] == "Closed 1 vote(s) by correspondence."
    assert running.reference not in result.output

    db.session.expire_all()
    assert due.state == MeetingState.CLOSED and due.minutes_sha256
    assert running.state == MeetingState.OPEN
    assert [approved.proposal.state, rejected.proposal.state, unanswered.proposal.state] == [
        ProposalState.APPROVED,
        ProposalState.REJECTED,
        ProposalState.DEFERRED,
    ]
    closed_by = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_type == "Meeting",
            AuditEvent.entity_id == str(due.id),
            AuditEvent.action == "meeting.closed",
        )
    )
    assert closed_by.actor_label == "system"


def test_running_it_again_closes_nothing_more(runner, db):
    board = make_board()
    due = written_vote(board, deadline=utcnow() - timedelta(minutes=5))
    make_agenda_item(due, votes=dict.fromkeys(board.members, "approve"))
    db.session.commit()

    first = runner.invoke(args=["board", "close-due"])
    again = runner.invoke(args=["board", "close-due"])

    assert first.exit_code == again.exit_code == 0
    assert due.reference in first.output
    assert again.output == "No vote by correspondence is due to close.\n"
    assert db.session.scalar(select(Meeting.state).where(Meeting.id == due.id)) == MeetingState.CLOSED


def test_a_vote_that_cannot_be_closed_is_reported_and_nothing_is_closed(runner, db):
    board = make_board()
    fine = written_vote(board, deadline=utcnow() - timedelta(minutes=5))
    make_agenda_item(fine, votes=dict.fromkeys(board.members, "approve"))
    broken = written_vote(board, deadline=utcnow() - timedelta(minutes=1), title="Inconsistent")
    item = make_agenda_item(broken, votes=dict.fromkeys(board.members, "approve"))
    item.proposal.state = ProposalState.REVIEWED  # data the workflow cannot move to a decision
    db.session.commit()

    result = runner.invoke(args=["board", "close-due"])

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "Nothing was closed." in result.stderr
    assert result.stdout == ""
    db.session.expire_all()
    assert (fine.state, broken.state) == (MeetingState.OPEN, MeetingState.OPEN)
