"""``fundapp export ranking [CALL_REF] --out FILE.csv``: a call's ranking as the ranking page exports it."""

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from fundapp.extensions import db


@click.group("export")
def export_group():
    """Spreadsheets of the fund's data."""


@export_group.command("ranking")
@click.argument("call_ref", required=False)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write: CSV, or XLSX when the name ends with .xlsx (without it, CSV to standard output).",
)
@click.option(
    "--order",
    type=click.Choice(["mean", "normalised"]),
    default="mean",
    show_default=True,
    help="Rank by the mean score or by the reviewer-normalised score.",
)
@with_appcontext
def export_ranking_command(call_ref, out, order):
    """Write the ranking of call CALL_REF (the table the ranking page exports).

    Without CALL_REF, list the calls: reference, title and state, one per line.
    """
    from fundapp.applications.models import Call
    from fundapp.reviews.ranking import csv_text, ranking, xlsx_bytes

    if not call_ref:
        for reference, title, state in db.session.execute(
            select(Call.reference, Call.title, Call.state).order_by(Call.reference)
        ):
            click.echo(f"{reference}  {title} ({state.value})")
        return
    call = db.session.scalar(select(Call).where(Call.reference == call_ref.strip()))
    if call is None:
        raise click.BadParameter(
            f"no call has the reference {call_ref!r}; run 'fundapp export ranking' to list them.",
            param_hint="CALL_REF",
        )
    ranked = ranking(db.session, call, order_by=order)
    if out is not None and out.suffix.lower() == ".xlsx":
        out.write_bytes(xlsx_bytes(ranked))
    elif out is not None:
        out.write_bytes(csv_text(ranked).encode("utf-8"))
    else:
        click.echo(csv_text(ranked), nl=False)
        return
    reviewed = sum(1 for item in ranked if item.is_reviewed)
    click.echo(f"Wrote {out}: {len(ranked)} proposal(s), {reviewed} reviewed.", err=True)
