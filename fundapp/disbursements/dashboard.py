"""What grants and the ledger add to navigation, home pages and the fund summary.

Programme officers see agreements to sign, reports to review and grants to close; finance officers the
tranches to approve and, separately, those another officer approved and they may release; grantees the
reports they owe.
"""

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from fundapp.accounts.models import Membership
from fundapp.core.formatting import fund_today, local_date
from fundapp.core.navigation import NextAction, register_nav, register_next_actions
from fundapp.core.permissions import Role
from fundapp.core.summary import count_by_state, register_counter
from fundapp.disbursements import ledger
from fundapp.disbursements.models import (
    FundingPool,
    Grant,
    GrantReport,
    GrantState,
    ReportKind,
    ReportState,
    Tranche,
    TrancheState,
)
from fundapp.disbursements.pools import reserved
from fundapp.extensions import db

# The "Grants" entry is registered with the grants blueprint (views.py).
register_nav(_l("Finance"), "finance.pools", roles=[Role.FINANCE_OFFICER], order=55)


def _grant_url(grant):
    return url_for("grants.grant", reference=grant.reference)


def _count(query):
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _officer_actions(user):
    session = db.session
    actions = []
    to_sign = session.scalars(
        select(Grant).where(Grant.state == GrantState.AGREEMENT).order_by(Grant.reference).limit(5)
    ).all()
    for grant in to_sign:
        actions.append(
            NextAction(
                _("Prepare and sign the agreement of %(reference)s", reference=grant.reference),
                _grant_url(grant),
                grant.title,
            )
        )
    submitted = session.execute(
        select(GrantReport, Grant)
        .join(Grant, Grant.id == GrantReport.grant_id)
        .where(GrantReport.state == ReportState.SUBMITTED)
        .order_by(GrantReport.submitted_at)
        .limit(10)
    ).all()
    for report, grant in submitted:
        actions.append(
            NextAction(
                _("Review the final report of %(reference)s", reference=grant.reference)
                if report.kind == ReportKind.FINAL
                else _(
                    "Review progress report %(number)d of %(reference)s",
                    number=report.number,
                    reference=grant.reference,
                ),
                url_for("grant_reports.report", reference=grant.reference, number=report.number),
                grant.title,
                urgency="urgent",
            )
        )
    to_close = session.scalars(
        select(Grant).where(Grant.state.in_([GrantState.COMPLETED, GrantState.TERMINATED])).limit(5)
    ).all()
    for grant in to_close:
        actions.append(
            NextAction(
                _("Close %(reference)s", reference=grant.reference),
                _grant_url(grant),
                _("Settle its tranches; what was not paid goes back to the pool."),
            )
        )
    return actions


def _finance_actions(user):
    actions = []
    due = _count(select(Tranche.id).where(Tranche.state == TrancheState.DUE))
    if due:
        actions.append(
            NextAction(
                ngettext("%(num)d tranche is due for approval", "%(num)d tranches are due for approval", due),
                url_for("grants.index", tranches="due"),
                _("Check the bank details and approve for payment."),
                urgency="urgent",
            )
        )
    to_release = _count(
        select(Tranche.id).where(Tranche.state == TrancheState.APPROVED, Tranche.approved_by_id != user.id)
    )
    if to_release:
        actions.append(
            NextAction(
                ngettext(
                    "%(num)d approved tranche waits for your release",
                    "%(num)d approved tranches wait for your release",
                    to_release,
                ),
                url_for("finance.payments"),
                _("Approved by another finance officer: pay it and record the bank reference."),
                urgency="urgent",
            )
        )
    return actions


def _report_task(report, grant):
    """What the grantee has to do about ``report``, as a sentence."""
    names = {"number": report.number, "reference": grant.reference, "date": local_date(report.due_date)}
    final = report.kind == ReportKind.FINAL
    if report.state == ReportState.CHANGES_REQUESTED:
        if final:
            return _("Revise the final report of %(reference)s: the fund asked for changes", **names)
        return _("Revise progress report %(number)d of %(reference)s: the fund asked for changes", **names)
    if final:
        return _("Write the final report of %(reference)s, due %(date)s", **names)
    return _("Write progress report %(number)d of %(reference)s, due %(date)s", **names)


def _grantee_actions(user):
    session = db.session
    today = fund_today()
    rows = session.execute(
        select(GrantReport, Grant)
        .join(Grant, Grant.id == GrantReport.grant_id)
        .join(Membership, Membership.organisation_id == Grant.organisation_id)
        .where(
            Membership.user_id == user.id,
            Grant.state.in_([GrantState.ACTIVE, GrantState.SUSPENDED]),
            GrantReport.state.in_([ReportState.DUE, ReportState.CHANGES_REQUESTED]),
        )
        .order_by(GrantReport.due_date)
        .limit(10)
    ).all()
    actions = []
    for report, grant in rows:
        title = _report_task(report, grant)
        actions.append(
            NextAction(
                title,
                url_for("grant_reports.report", reference=grant.reference, number=report.number),
                grant.title,
                urgency="urgent" if report.due_date <= today else "normal",
            )
        )
    return actions


def pool_balances(session):
    """Each pool's figures in minor units, for ``fundapp summary --json``."""
    pools = session.scalars(select(FundingPool).order_by(FundingPool.code)).all()
    figures = ledger.pool_figures_many(session, pools)
    result = {}
    for pool in pools:
        figure = figures[pool.id]
        result[pool.code] = {
            "currency": pool.currency,
            "restriction": pool.restriction.value,
            "received_minor": figure.received.minor,
            "refunded_minor": figure.refunded.minor,
            "committed_minor": figure.committed.minor,
            "reserved_minor": reserved(session, pool).minor,
            "available_minor": figure.available.minor,
            "released_minor": figure.released.minor,
        }
    return result


register_next_actions(Role.PROGRAMME_OFFICER, _officer_actions)
register_next_actions(Role.FINANCE_OFFICER, _finance_actions)
register_next_actions(Role.APPLICANT, _grantee_actions)
register_counter("grants_by_state", count_by_state(Grant, Grant.state))
register_counter("tranches_by_state", count_by_state(Tranche, Tranche.state))
register_counter("grant_reports_by_state", count_by_state(GrantReport, GrantReport.state))
register_counter("pool_balances", pool_balances)
