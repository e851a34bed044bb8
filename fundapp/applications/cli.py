"""``fundapp calls ...``: the calls' scheduled jobs.

``fundapp calls close-due`` closes every published call whose closing instant has passed
(``calls.close_due_calls``, the system acting) and prints the calls it closed. Run it every few minutes,
e.g. from cron, so that a call's page and the officers' lists show it closed soon after its deadline (a
late submission is refused at the deadline whether or not this has run).
"""

import click
from flask.cli import with_appcontext

from fundapp.extensions import db


@click.group("calls")
def calls_group():
    """Calls for proposals."""


@calls_group.command("close-due")
@with_appcontext
def close_due_command():
    """Close the published calls whose deadline has passed and print them."""
    from fundapp.applications.calls import close_due_calls
    from fundapp.core.formatting import local_datetime

    closed = close_due_calls(db.session)
    lines = [
        f"{call.reference}  {call.title} (closed at {local_datetime(call.closes_at)})" for call in closed
    ]
    db.session.commit()
    if not closed:
        click.echo("No call is due to close.")
        return
    for line in lines:
        click.echo(line)
    click.echo(f"Closed {len(closed)} call(s).")
