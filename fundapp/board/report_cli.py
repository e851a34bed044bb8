"""``fundapp report ...``: the fund's printed documents from the command line.

``fundapp report board-pack [MEETING_REF] --out FILE.pdf`` renders a meeting's board pack;
``fundapp report minutes [MEETING_REF] --out FILE.pdf`` writes the minutes stored when the meeting closed
(the very bytes, with the SHA-256 recorded then). Without a reference, each lists the meetings.

``report_group`` is the one ``report`` group: other modules add their reports to it, e.g. in
``register_commands``: ``report_group.add_command(donor_report_command)``.
"""

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from fundapp.extensions import db

_OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.group("report")
def report_group():
    """Printed documents (PDF): board packs, minutes and the fund's reports."""


def _list_meetings():
    """One meeting a line, the reference first: "BRD-2026-01  Board meeting of 12 March 2026 (closed)"."""
    from fundapp.board.models import Meeting

    for reference, title, state in db.session.execute(
        select(Meeting.reference, Meeting.title, Meeting.state).order_by(
            Meeting.scheduled_at, Meeting.reference
        )
    ):
        click.echo(f"{reference}  {title} ({state.value})")


def _meeting(reference, command):
    """The meeting with ``reference``; exit 2 (a usage error) naming the reference when there is none."""
    from fundapp.board.models import Meeting

    meeting = db.session.scalar(select(Meeting).where(Meeting.reference == reference.strip()))
    if meeting is None:
        raise click.BadParameter(
            f"no meeting has the reference {reference!r}; run 'fundapp report {command}' to list them.",
            param_hint="MEETING_REF",
        )
    return meeting


def _require_out(out):
    if out is None:
        raise click.UsageError("Give the file to write with --out FILE.pdf.")
    return out


@report_group.command("board-pack")
@click.argument("meeting_ref", required=False)
@click.option("--out", type=_OUT, help="The PDF file to write.")
@with_appcontext
def board_pack_command(meeting_ref, out):
    """Write the board pack of meeting MEETING_REF to --out FILE.pdf.

    Without MEETING_REF, list the meetings: reference, title and state, one per line.
    """
    if not meeting_ref:
        _list_meetings()
        return
    meeting = _meeting(meeting_ref, "board-pack")
    out = _require_out(out)
    from fundapp.board.documents import render_board_pack
    from fundapp.core.pdf import pdf_sha256

    data = render_board_pack(meeting)
    out.write_bytes(data)
    click.echo(
        f"Wrote {out}: board pack of {meeting.reference}, {len(data)} bytes, SHA-256 {pdf_sha256(data)}."
    )


@report_group.command("minutes")
@click.argument("meeting_ref", required=False)
@click.option("--out", type=_OUT, help="The PDF file to write.")
@with_appcontext
def minutes_command(meeting_ref, out):
    """Write the minutes of the closed meeting MEETING_REF to --out FILE.pdf, as stored at its close.

    Without MEETING_REF, list the meetings: reference, title and state, one per line. Exits 1 for a
    meeting that is not closed yet.
    """
    from fundapp.board.models import MeetingState
    from fundapp.core.pdf import pdf_sha256
    from fundapp.core.storage import stored_bytes

    if not meeting_ref:
        _list_meetings()
        return
    meeting = _meeting(meeting_ref, "minutes")
    if meeting.state == MeetingState.CANCELLED:
        _fail(f"{meeting.reference} was cancelled: it has no minutes.")
    if meeting.state != MeetingState.CLOSED:
        _fail(
            f"{meeting.reference} is not closed yet: its minutes are written when the secretary closes it "
            f"(it is {meeting.state.value})."
        )
    if meeting.minutes_file is None:
        _fail(f"{meeting.reference} is closed but no minutes are stored for it.")
    out = _require_out(out)
    data = stored_bytes(meeting.minutes_file)
    digest = pdf_sha256(data)
    if meeting.minutes_sha256 and digest != meeting.minutes_sha256:
        _fail(
            f"The stored minutes of {meeting.reference} do not match the SHA-256 recorded at close "
            f"({meeting.minutes_sha256}); the file was not written."
        )
    out.write_bytes(data)
    click.echo(f"Wrote {out}: minutes of {meeting.reference}, {len(data)} bytes, SHA-256 {digest}.")


def _fail(message):
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


# The donor and portfolio reports live with the reports module; they belong to the same group.
from fundapp.reports.cli import donor_report_command, portfolio_report_command  # noqa: E402

report_group.add_command(donor_report_command)
report_group.add_command(portfolio_report_command)
