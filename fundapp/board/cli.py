"""``fundapp board ...``: the board's scheduled jobs.

``fundapp board close-due`` closes every vote by correspondence whose deadline has passed, as the system:
each item is decided by the board's rules (``operations.close_correspondence``), the minutes are stored
and the applicants told. It prints what it closed, one vote and its decisions at a time, so a scheduler's
log says what happened. Run it every few minutes, e.g. from cron.
"""

import sys

import click
from flask.cli import with_appcontext

from fundapp.extensions import db


@click.group("board")
def board_group():
    """The board's meetings and votes by correspondence."""


@board_group.command("close-due")
@with_appcontext
def close_due_command():
    """Close the votes by correspondence whose deadline has passed and print their decisions.

    Exits 1, closing nothing, if one of them cannot be closed (the message says why).
    """
    from fundapp.board.operations import close_due_correspondence
    from fundapp.core.errors import DomainError

    try:
        closed = close_due_correspondence(db.session)
    except DomainError as error:
        db.session.rollback()
        click.echo(f"Error: {error.message} Nothing was closed.", err=True)
        sys.exit(1)
    lines = [line for meeting in closed for line in _closed_lines(meeting)]
    db.session.commit()
    if not closed:
        click.echo("No vote by correspondence is due to close.")
        return
    for line in lines:
        click.echo(line)
    click.echo(f"Closed {len(closed)} vote(s) by correspondence.")


def _closed_lines(meeting):
    """``BRD-2026-04  Written vote on ... (deadline ...)``, then one line per decided item."""
    from fundapp.core.formatting import local_datetime

    yield f"{meeting.reference}  {meeting.title} (votes closed {local_datetime(meeting.vote_deadline)})"
    for item in meeting.items:
        decision = str(item.outcome.label)
        if item.approved_amount is not None:
            decision += f", {item.approved_amount.format()}"
        if item.conditions:
            decision += f"; conditions: {item.conditions}"
        if item.reason:
            decision += f": {item.reason}"
        yield f"  {item.proposal.reference}  {decision}"
