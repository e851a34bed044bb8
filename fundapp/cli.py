"""The ``fundapp`` command: the Flask CLI of this app, plus the fund's own commands."""

import json
import sys

import click
from flask.cli import FlaskGroup, with_appcontext

from fundapp.extensions import db


def _create_app():
    from fundapp import create_app

    return create_app()


def main():
    cli = FlaskGroup(create_app=_create_app, help="fundapp: the fund's command line.")
    cli.main(prog_name="fundapp")


def register_commands(app):
    app.cli.add_command(summary_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(reference_group)
    app.cli.add_command(mail_group)
    from fundapp.applications.cli import calls_group
    from fundapp.bench.cli import bench_group
    from fundapp.board.cli import board_group
    from fundapp.board.report_cli import report_group
    from fundapp.core.jobs import worker_command
    from fundapp.disbursements.cli import grants_group, ledger_group
    from fundapp.reports.opendata import add_export_commands
    from fundapp.reviews.export_cli import export_group
    from fundapp.reviews.reminders import reminders_group

    app.cli.add_command(worker_command)
    app.cli.add_command(report_group)
    add_export_commands(export_group)  # fundapp export iati | 360giving
    app.cli.add_command(export_group)
    app.cli.add_command(reminders_group)
    app.cli.add_command(board_group)
    app.cli.add_command(calls_group)
    app.cli.add_command(ledger_group)
    app.cli.add_command(grants_group)
    app.cli.add_command(bench_group)


@click.command("summary")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@with_appcontext
def summary_command(as_json):
    """Counts of what the fund holds, by entity and state."""
    from fundapp.core.summary import collect_summary

    summary = collect_summary(db.session)
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    for entity, counts in sorted(summary.items()):
        if isinstance(counts, dict):
            click.echo(f"{entity}: {counts.get('total', 0)}")
            for state, count in sorted(counts.items()):
                if state != "total":
                    click.echo(f"  {state}: {count}")
        else:
            click.echo(f"{entity}: {counts}")


@click.group("audit")
def audit_group():
    """The audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify_command():
    """Check the hash chain of the audit log; exit 1 naming the first bad event."""
    from sqlalchemy import func, select

    from fundapp.core.audit import AuditEvent, verify_chain

    problem = verify_chain(db.session)
    if problem:
        event, reason = problem
        click.echo(
            f"Audit chain broken at event {event.id} ({event.entity_type}:{event.entity_id} {event.action}, "
            f"{event.occurred_at.isoformat()}): {reason}.",
            err=True,
        )
        sys.exit(1)
    count = db.session.scalar(select(func.count()).select_from(AuditEvent))
    click.echo(f"Audit chain intact: {count} events.")


@click.command("create-user")
@click.argument("email")
@click.option("--name", "full_name", default=None, help="Full name (defaults to the part before @).")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="Role to grant; repeat for several (applicant, reviewer, board_member, programme_officer, "
    "finance_officer, admin).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(email, full_name, roles, password_stdin):
    """Create a user with one or more roles; the password comes from a prompt or stdin."""
    from fundapp.accounts.operations import create_user
    from fundapp.core.errors import DomainError
    from fundapp.core.permissions import Role

    try:
        role_values = [Role(role.strip().lower().replace(" ", "_").replace("-", "_")) for role in roles]
    except ValueError:
        raise click.BadParameter(
            "unknown role; choose from " + ", ".join(r.value for r in Role), param_hint="--role"
        ) from None
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            db.session,
            None,
            email=email,
            full_name=full_name or email.split("@")[0],
            password=password,
            roles=role_values,
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Created {user.email} with roles: {', '.join(sorted(r.value for r in user.roles))}.")


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Load even if the database already holds users.")
@with_appcontext
def seed_demo_command(force):
    """Load a realistic demo fund (organisations and people in every role) into an empty database."""
    from fundapp.accounts.models import get_user_by_email
    from fundapp.demo import DEMO_PASSWORD, STAFF, demo_logins, seed_demo

    loaded = seed_demo(db.session, force=force)
    if loaded is None:
        click.echo("The database already holds users, so the demo data was not loaded.")
        if get_user_by_email(STAFF[0][0]) is None:
            return
        loaded = demo_logins()
    else:
        db.session.commit()
        click.echo("Demo data loaded.")
    click.echo(f"Demo logins (password for every one: {DEMO_PASSWORD}):")
    for email, roles in loaded:
        click.echo(f"  {email:<32} {roles}")


@click.group("mail")
def mail_group():
    """The mail outbox."""


@mail_group.command("send-pending")
@with_appcontext
def mail_send_pending_command():
    """Send every outbox message not sent yet (for a scheduler; failed messages are retried)."""
    from fundapp.core.mail import deliver_outbox

    sent = deliver_outbox()
    click.echo(f"Sent {sent} message(s).")


@click.group("reference")
def reference_group():
    """Reference lists (regions, IUCN lists, GBF targets, DAC sectors)."""


@reference_group.command("load")
@with_appcontext
def reference_load_command():
    """Add any missing reference items; items already present (and admins' edits) are kept."""
    from fundapp.reference.data import load_reference_data

    added = load_reference_data(db.session)
    db.session.commit()
    click.echo(f"Reference data loaded: {added} items added.")
