"""``fundapp report donor`` and ``fundapp report portfolio``: the donor and portfolio reports as files.

``fundapp report donor DONOR_REF [--from DATE --to DATE] --out FILE.pdf`` writes a donor's report for the
period (default: from the donor's first contribution to today); without DONOR_REF it lists the donors, one
per line, the reference first. ``fundapp report portfolio --year YEAR --out FILE.pdf`` writes the fund's
annual report. Both render at once, in this process (no job queue), with the same code as the pages.
"""

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from fundapp.core.errors import DomainError
from fundapp.extensions import db

_OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


def _list_donors():
    from fundapp.donors.models import Donor

    for reference, name, language, currency in db.session.execute(
        select(Donor.reference, Donor.name, Donor.preferred_language, Donor.preferred_currency).order_by(
            Donor.reference
        )
    ):
        click.echo(f"{reference}  {name} ({language}, {currency})")


def _require_out(out):
    if out is None:
        raise click.UsageError("Give the file to write with --out FILE.pdf.")
    return out


@click.command("donor")
@click.argument("donor_ref", required=False)
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last day (YYYY-MM-DD).")
@click.option("--language", type=click.Choice(["en", "ru", "kk"]), help="Default: the donor's language.")
@click.option("--out", type=_OUT, help="The PDF file to write.")
@with_appcontext
def donor_report_command(donor_ref, date_from, date_to, language, out):
    """Write the report to donor DONOR_REF for a period to --out FILE.pdf.

    Without DONOR_REF, list the donors: reference, name, language and currency, one per line.
    """
    from fundapp.donors.models import Donor
    from fundapp.reports.documents import render_donor_report
    from fundapp.reports.generation import check_period

    if not donor_ref:
        _list_donors()
        return
    donor = db.session.scalar(select(Donor).where(Donor.reference == donor_ref.strip()))
    if donor is None:
        raise click.BadParameter(
            f"no donor has the reference {donor_ref!r}; run 'fundapp report donor' to list them.",
            param_hint="DONOR_REF",
        )
    out = _require_out(out)
    try:
        period = check_period(_date(date_from), _date(date_to))
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint="--from/--to") from None
    rendered = render_donor_report(db.session, donor, *period, language=language)
    out.write_bytes(rendered.data)
    click.echo(
        f"Wrote {out}: report to {donor.reference}, {rendered.page_count} pages, "
        f"{rendered.size_bytes} bytes, SHA-256 {rendered.sha256}."
    )


@click.command("portfolio")
@click.option("--year", required=True, help="The year the report covers, e.g. 2026.")
@click.option("--language", type=click.Choice(["en", "ru", "kk"]), help="Default: the fund's language.")
@click.option("--out", type=_OUT, help="The PDF file to write.")
@with_appcontext
def portfolio_report_command(year, language, out):
    """Write the fund's portfolio (annual) report for --year to --out FILE.pdf."""
    from fundapp.reports.documents import render_portfolio_report
    from fundapp.reports.generation import check_year

    try:
        year = check_year(year)
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint="--year") from None
    out = _require_out(out)
    rendered = render_portfolio_report(db.session, year, language=language)
    out.write_bytes(rendered.data)
    click.echo(
        f"Wrote {out}: portfolio report {year}, {rendered.page_count} pages, {rendered.size_bytes} bytes, "
        f"SHA-256 {rendered.sha256}."
    )


def _date(value):
    return value.date() if value is not None else None


__all__ = ["donor_report_command", "portfolio_report_command"]
