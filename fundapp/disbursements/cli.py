"""``fundapp ledger ...`` and ``fundapp grants ...``: the ledger's checks and bookkeeping, and the grants'
scheduled jobs.

``fundapp ledger check`` re-checks every invariant of the ledger (``ledger.check_ledger``): it prints one
line and exits 0 when the ledger holds, else prints each violation, the first first, to standard error and
exits 1, so a scheduler or a deployment script can stop on it. ``ledger receive``, ``ledger pools`` and
``ledger create-pool`` keep the books from a shell until the donors module records contributions.
``grants mark-due`` and ``grants remind-overdue`` are meant for a daily cron job.

Commands act as the system unless ``--as EMAIL`` names the user the audit log should show.
"""

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from fundapp.extensions import db

ledger_group = AppGroup("ledger", help="The fund's ledger: check its invariants, record funds received.")
grants_group = AppGroup("grants", help="Grants: mark tranches due, remind grantees of overdue reports.")


def _actor(email):
    """The active user with ``email``, or None (the system) when no email is given."""
    if not email:
        return None
    from fundapp.accounts.models import User

    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.is_active:
        raise click.BadParameter(f"no active user has the email {email!r}.", param_hint="--as")
    return user


def _pool_or_fail(code):
    from fundapp.disbursements.pools import get_pool

    pool = get_pool(db.session, (code or "").strip().upper())
    if pool is None:
        raise click.BadParameter(
            f"no pool has the code {code!r}; run 'fundapp ledger pools' to list them.", param_hint="--pool"
        )
    return pool


#: Which option a domain error's field came from.
_OPTION_OF_FIELD = {
    "amount": "--amount",
    "value_date": "--date",
    "bank_reference": "--reference",
    "code": "--code",
    "name": "--name",
    "currency": "--currency",
    "theme": "--theme",
    "call": "--call",
}


def _refused(error):
    """A DomainError as a click error naming the option it is about (exit code 2), nothing written."""
    db.session.rollback()
    hint = _OPTION_OF_FIELD.get(error.field)
    if hint:
        return click.BadParameter(str(error.message), param_hint=hint)
    return click.ClickException(str(error.message))


@ledger_group.command("check")
def check_command():
    """Check every invariant of the ledger; exit 1 naming each violation, the first first."""
    from fundapp.disbursements.ledger import check_ledger
    from fundapp.disbursements.models import FundingPool, Grant, JournalEntry, Posting

    problems = check_ledger(db.session)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"Ledger check failed: {len(problems)} violation(s).", err=True)
        sys.exit(1)

    def count(model):
        return db.session.scalar(select(func.count()).select_from(model)) or 0

    click.echo(
        f"Ledger holds: {count(JournalEntry)} entries, {count(Posting)} postings, "
        f"{count(FundingPool)} pools, {count(Grant)} grants."
    )


@ledger_group.command("receive")
@click.option("--pool", "pool_code", required=True, help="The pool's code, e.g. SEAL.")
@click.option("--amount", required=True, help="In the pool's currency, major units: 1000000.00.")
@click.option(
    "--date",
    "value_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Value date, YYYY-MM-DD (default: today in the fund's calendar).",
)
@click.option("--reference", default="", help="The bank's reference of the transfer.")
@click.option("--description", default="", help="What the money is (default: 'Funds received into ...').")
@click.option("--key", default=None, help="Idempotency key: running again with it records nothing more.")
@click.option("--as", "as_email", default=None, help="Record as this user (default: the system).")
def receive_command(pool_code, amount, value_date, reference, description, key, as_email):
    """Record funds received into a pool (Dr cash, Cr pool) and commit."""
    from fundapp.applications.calls import parse_amount
    from fundapp.core.errors import DomainError
    from fundapp.disbursements.pools import receive_funds

    actor = _actor(as_email)
    pool = _pool_or_fail(pool_code)
    day = value_date.date() if value_date is not None else None
    try:
        money = parse_amount(amount, pool.currency, field_name="amount")
        entry = receive_funds(
            db.session,
            actor,
            pool,
            money,
            value_date=day,
            bank_reference=reference,
            description=description,
            idempotency_key=key,
        )
    except DomainError as error:
        raise _refused(error) from None
    db.session.commit()
    click.echo(
        f"Recorded entry {entry.id}: {money.format()} received into {pool.code} "
        f"on {entry.value_date.isoformat()}."
    )


def _plain(amount):
    return f"{amount.amount:,f}"


@ledger_group.command("pools")
def pools_command():
    """List the pools with what they received, committed and have available."""
    from fundapp.disbursements.ledger import pool_figures_many, pools_in_order

    pools = pools_in_order(db.session)
    if not pools:
        click.echo("No funding pool yet. Create one with 'fundapp ledger create-pool'.")
        return
    figures = pool_figures_many(db.session, pools)
    header = ("Code", "Restriction", "Currency", "Received", "Committed", "Available")
    rows = []
    for pool in pools:
        figure = figures[pool.id]
        if pool.theme:
            restriction = f"theme {pool.theme}"
        elif pool.call_id:
            restriction = f"call {pool.call.reference}"
        else:
            restriction = pool.restriction.value
        rows.append(
            (
                pool.code,
                restriction,
                pool.currency,
                _plain(figure.received + figure.refunded),
                _plain(figure.committed),
                _plain(figure.available),
            )
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [
            cell.rjust(width) if index >= 3 else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        click.echo("  ".join(cells).rstrip())


@ledger_group.command("create-pool")
@click.option("--code", required=True, help="Short code in capitals, e.g. SEAL.")
@click.option("--name", required=True, help="The pool's name.")
@click.option("--currency", default=None, help="ISO 4217 code (default: the fund's base currency).")
@click.option("--theme", default=None, help="Restrict the pool to this theme (a THEME code).")
@click.option(
    "--call", "call_reference", default=None, help="Restrict the pool to this call (its reference)."
)
@click.option("--as", "as_email", default=None, help="Create as this user (default: the system).")
def create_pool_command(code, name, currency, theme, call_reference, as_email):
    """Create a funding pool: unrestricted, or restricted to a theme or a call."""
    from fundapp.applications.models import Call
    from fundapp.core.errors import DomainError
    from fundapp.disbursements.models import Restriction
    from fundapp.disbursements.pools import create_pool

    if theme and call_reference:
        raise click.UsageError("a pool is restricted to a theme or to a call, not both.")
    actor = _actor(as_email)
    call = None
    if call_reference:
        call = db.session.scalar(select(Call).where(Call.reference == call_reference.strip()))
        if call is None:
            raise click.BadParameter(f"no call has the reference {call_reference!r}.", param_hint="--call")
    restriction = Restriction.CALL if call else Restriction.THEME if theme else Restriction.UNRESTRICTED
    try:
        pool = create_pool(
            db.session,
            actor,
            code=code,
            name=name,
            currency=currency or (call.currency if call else current_app.config["BASE_CURRENCY"]),
            restriction=restriction,
            theme=theme,
            call=call,
        )
    except DomainError as error:
        raise _refused(error) from None
    db.session.commit()
    click.echo(f"Created pool {pool.code} ({pool.restriction.value}, {pool.currency}).")


@grants_group.command("mark-due")
def mark_due_command():
    """Mark due every tranche whose date has come and whose report is accepted."""
    from fundapp.disbursements.operations import refresh_due_tranches

    result = refresh_due_tranches(db.session)
    db.session.commit()
    count = result if isinstance(result, int) else len(result or ())
    click.echo(f"{count} tranche(s) became due.")


@grants_group.command("remind-overdue")
def remind_overdue_command():
    """Email grantees whose reports are overdue (at most one reminder a week per report)."""
    from fundapp.disbursements.reporting import send_overdue_reminders

    result = send_overdue_reminders(db.session)
    db.session.commit()
    count = result if isinstance(result, int) else len(result or ())
    click.echo(f"{count} reminder(s) sent.")
