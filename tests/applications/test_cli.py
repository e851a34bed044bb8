"""``fundapp calls close-due``: published calls past their deadline are closed by the system."""

from datetime import timedelta

from fundapp.applications.models import CallState
from fundapp.core.db import utcnow
from tests.applications.factories import make_call


def test_calls_past_their_deadline_are_closed_and_printed(runner, db):
    due = make_call(
        title="Saiga calving grounds",
        opens_at=utcnow() - timedelta(days=30),
        closes_at=utcnow() - timedelta(minutes=1),
    )
    running = make_call()
    draft = make_call(
        state=CallState.DRAFT,
        published_at=None,
        opens_at=utcnow() - timedelta(days=9),
        closes_at=utcnow() - timedelta(days=1),
    )
    db.session.commit()

    result = runner.invoke(args=["calls", "close-due"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{due.reference}  Saiga calving grounds (closed at ")
    assert "(Asia/Almaty)" in lines[0]
    assert lines[-1] == "Closed 1 call(s)."
    db.session.expire_all()
    assert (due.state, running.state, draft.state) == (CallState.CLOSED, CallState.PUBLISHED, CallState.DRAFT)


def test_nothing_due_is_said(runner, db):
    make_call()
    db.session.commit()

    result = runner.invoke(args=["calls", "close-due"])

    assert result.exit_code == 0
    assert result.output == "No call is due to close.\n"
