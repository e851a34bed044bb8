"""``fundapp reminders send``: mail reviewers whose reviews are due within three days or overdue.

Meant for a scheduler (cron, a systemd timer) once a day; running it more often sends nothing new, as each
assignment is reminded at most once per day (``operations.send_reminders``).
"""

import click
from flask.cli import with_appcontext

from fundapp.extensions import db


@click.group("reminders")
def reminders_group():
    """Reminder mails."""


@reminders_group.command("send")
@with_appcontext
def send_command():
    """Mail reviewers whose reviews are due within three days or overdue (at most once a day)."""
    from fundapp.reviews.operations import send_reminders

    count = send_reminders(db.session)
    db.session.commit()
    click.echo(f"Sent {count} reminder{'s' if count != 1 else ''}.")
