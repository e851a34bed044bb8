"""Grants: created by a board approval, with a tranche schedule and the reports the tranches wait for.

``create_grant`` is called by the board in the transaction that records an approval; the pool it draws
from was chosen (and its row locked) by the board's budget guard. The grant starts in AGREEMENT: an
officer adjusts the schedule, renders the agreement, records both signatures and uploads the signed
copy; activation commits the amount in the ledger (``operations.sign_grant``).

The default schedule splits the grant by ``GRANT_TRANCHE_PERCENTS`` (40/40/20): the first tranche is paid
at the start and waits for nothing, each middle one waits for a progress report covering the time since
the previous one, the last waits for the final report (due ``FINAL_REPORT_DAYS`` after the end).
"""

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select, text

from fundapp.core.audit import record_event
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.disbursements import ledger
from fundapp.disbursements.models import (
    AccountKind,
    Grant,
    GrantReport,
    ReportKind,
    Tranche,
    TrancheGate,
)

_REFERENCE_LOCK_KEY = 7_300_006
DEFAULT_DURATION_DAYS = 365


def next_grant_reference(session, today=None):
    """The next free reference, e.g. IBF-2026-0001 (prefix from config, year in the fund's calendar)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFERENCE_LOCK_KEY})
    year = (today or fund_today()).year
    prefix = f"{current_app.config['REFERENCE_PREFIXES']['grant']}-{year}-"
    last = session.scalar(
        select(Grant.reference)
        .where(Grant.reference.like(prefix + "%"))
        .order_by(func.length(Grant.reference).desc(), Grant.reference.desc())
        .limit(1)
    )
    number = int(last.removeprefix(prefix)) + 1 if last and last.removeprefix(prefix).isdigit() else 1
    return f"{prefix}{number:04d}"


def project_period(proposal, today=None):
    """(start, end) from the proposal's timeline; without one, from the first of next month for a year."""
    section = proposal.section("timeline")
    content = section.content if section else {}
    start = _day(content.get("start"))
    end = _day(content.get("end"))
    if start is None:
        today = today or fund_today()
        start = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    if end is None or end <= start:
        end = start + timedelta(days=DEFAULT_DURATION_DAYS)
    return start, end


def _day(value):
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def default_schedule(amount, start, end, percents=None):
    """``[(amount, planned_date, gate, (period_start, period_end) or None), ...]`` splitting ``amount``."""
    percents = list(percents or current_app.config["GRANT_TRANCHE_PERCENTS"])
    parts = amount.allocate(percents)
    count = len(parts)
    span = (end - start).days
    schedule = []
    for index, part in enumerate(parts):
        if index == 0:
            schedule.append((part, start, TrancheGate.NONE, None))
        elif index == count - 1:
            final_due = end + timedelta(days=current_app.config["FINAL_REPORT_DAYS"])
            schedule.append((part, final_due, TrancheGate.FINAL_REPORT, (start, end)))
        else:
            period_end = start + timedelta(days=span * index // (count - 1))
            period_start = (
                start if index == 1 else start + timedelta(days=span * (index - 1) // (count - 1) + 1)
            )
            schedule.append((part, period_end, TrancheGate.PROGRESS_REPORT, (period_start, period_end)))
    return schedule


def create_grant(session, actor, item, pool, *, today=None):
    """The grant for an approved agenda item, drawing from ``pool``: AGREEMENT, with its default schedule
    and the reports its tranches wait for. Never commits."""
    proposal = item.proposal
    amount = Money(item.approved_minor, proposal.currency)
    start, end = project_period(proposal, today)
    account_reference = next_grant_reference(session, today)
    account = ledger.new_account(
        session,
        f"GRANT-{account_reference}",
        f"{account_reference} {proposal.title}"[:300],
        AccountKind.COMMITMENT,
        proposal.currency,
    )
    grant = Grant(
        reference=account_reference,
        proposal_id=proposal.id,
        agenda_item_id=item.id,
        organisation_id=proposal.organisation_id,
        call_id=proposal.call_id,
        pool_id=pool.id,
        title=proposal.title,
        amount_minor=amount.minor,
        currency=amount.currency,
        start_date=start,
        end_date=end,
        conditions=item.conditions or "",
        account_id=account.id,
        created_by_id=getattr(actor, "id", None),
    )
    session.add(grant)
    session.flush()
    build_schedule(session, grant, default_schedule(amount, start, end))
    record_event(
        session,
        actor,
        grant,
        "grant.created",
        after={
            "reference": grant.reference,
            "proposal": proposal.reference,
            "amount_minor": grant.amount_minor,
            "currency": grant.currency,
            "pool": pool.code,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "tranches": [
                [t.number, t.amount_minor, t.planned_date.isoformat(), t.gate.value] for t in grant.tranches
            ],
        },
    )
    return grant


def build_schedule(session, grant, schedule):
    """Replace the grant's tranches and reports by ``schedule`` (see ``default_schedule``)."""
    for tranche in list(grant.tranches):
        grant.tranches.remove(tranche)
    session.flush()
    for report in list(grant.reports):
        grant.reports.remove(report)
    session.flush()
    report_number = 0
    for number, (amount, planned, gate, period) in enumerate(schedule, 1):
        report = None
        if gate != TrancheGate.NONE:
            report_number += 1
            period_start, period_end = period
            kind = ReportKind.FINAL if gate == TrancheGate.FINAL_REPORT else ReportKind.PROGRESS
            due = (
                planned
                if kind == ReportKind.PROGRESS
                else grant.end_date + timedelta(days=current_app.config["FINAL_REPORT_DAYS"])
            )
            report = GrantReport(
                grant=grant,
                number=report_number,
                kind=kind,
                period_start=period_start,
                period_end=period_end,
                due_date=due,
            )
            session.add(report)
            session.flush()
        session.add(
            Tranche(
                grant=grant,
                number=number,
                amount_minor=amount.minor,
                currency=amount.currency,
                planned_date=planned,
                gate=gate,
                report_id=report.id if report else None,
            )
        )
    if not any(gate == TrancheGate.FINAL_REPORT for _amount, _planned, gate, _period in schedule):
        # Every grant ends with a final report, even when no tranche waits for it.
        session.add(
            GrantReport(
                grant=grant,
                number=report_number + 1,
                kind=ReportKind.FINAL,
                period_start=grant.start_date,
                period_end=grant.end_date,
                due_date=grant.end_date + timedelta(days=current_app.config["FINAL_REPORT_DAYS"]),
            )
        )
    session.flush()
    session.refresh(grant, attribute_names=["tranches", "reports"])
    return grant
