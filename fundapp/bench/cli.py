"""``fundapp bench seed``: fill an empty database with a fund at scale for the benchmarks."""

import time
from dataclasses import fields

import click
from flask.cli import with_appcontext

from fundapp.extensions import db


@click.group("bench")
def bench_group():
    """Data for the benchmarks in bench/ (see bench/README.md)."""


def _size_options(command):
    from fundapp.bench.seed import Sizes

    for field in reversed(fields(Sizes)):
        name = field.name.replace("_", "-")
        help_text = {
            "ranking-call": "proposals in the call in review (the one the ranking benchmark ranks)",
            "seed": "seed of the random data (the same seed gives the same fund)",
        }.get(name, f"how many {field.name.replace('_', ' ')}")
        command = click.option(
            f"--{name}", field.name, type=int, default=field.default, show_default=True, help=help_text
        )(command)
    return command


@bench_group.command("seed")
@_size_options
@with_appcontext
def seed_command(**sizes):
    """Fill the (empty, upgraded) database with a large, realistic fund: 10,000 proposals over 20 calls,
    30,000 reviews, 500 grants with 2,000 tranches and their reports, 200 donors and about 100,000 ledger
    postings by default. Every account's password is bench-password-2026."""
    from fundapp.bench.seed import BENCH_LOGINS, BENCH_PASSWORD, SeedError, Sizes, estimated_rows, seed

    sizes = Sizes(**sizes)
    problems = sizes.problems()
    if problems:
        raise click.UsageError(" ".join(problems))
    started = time.perf_counter()
    with click.progressbar(
        length=estimated_rows(sizes),
        label="Seeding",
        show_eta=True,
        item_show_func=lambda stage: stage,
    ) as bar:

        def progress(rows, stage):
            bar.update(rows, stage)

        try:
            counts = seed(db.session, sizes, progress)
        except SeedError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
        bar.update(bar.length, "done")
    seconds = time.perf_counter() - started
    shown = ["user_account", "proposal", "review", "agenda_item", "grant_award", "tranche", "grant_report"]
    shown += ["donor", "contribution", "journal_entry", "posting", "audit_event"]
    click.echo(", ".join(f"{counts.get(table, 0):,} {table}" for table in shown))
    click.echo(f"Seeded in {seconds:.0f} s. Logins (password {BENCH_PASSWORD}):")
    for role, email in BENCH_LOGINS.items():
        click.echo(f"  {role.replace('_', ' ')}: {email}")
