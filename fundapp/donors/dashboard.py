"""What donors add to navigation, home pages and the fund summary.

Fund staff who deal with donors get a "Donors" entry; a donor's contact gets the portal. Finance officers
see the pledge instalments that are due and not yet covered by what the pledge received; a donor's
contact is pointed at their portal.
"""

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from fundapp.core.formatting import fund_today
from fundapp.core.navigation import NextAction, register_nav, register_next_actions
from fundapp.core.permissions import Role
from fundapp.core.summary import count_by_state, register_counter
from fundapp.donors.models import Contribution, Donor, Pledge, PledgeInstalment, PledgeState
from fundapp.extensions import db

register_nav(
    _l("Donors"), "donors.index", roles=[Role.FINANCE_OFFICER, Role.PROGRAMME_OFFICER, Role.ADMIN], order=57
)
register_nav(_l("Our contributions"), "portal.home", roles=[Role.DONOR], order=10)
register_nav(
    _l("Reports"),
    "reports.index",
    roles=[Role.PROGRAMME_OFFICER, Role.FINANCE_OFFICER, Role.ADMIN],
    order=65,
)


def overdue_pledges(session, today=None):
    """Open pledges whose instalments due by ``today`` add up to more than the pledge has received."""
    today = today or fund_today()
    due = (
        select(PledgeInstalment.pledge_id, func.sum(PledgeInstalment.amount_minor).label("due"))
        .where(PledgeInstalment.due_on <= today)
        .group_by(PledgeInstalment.pledge_id)
        .subquery()
    )
    received = (
        select(Contribution.pledge_id, func.sum(Contribution.amount_minor).label("received"))
        .where(Contribution.pledge_id.is_not(None))
        .group_by(Contribution.pledge_id)
        .subquery()
    )
    return session.scalars(
        select(Pledge)
        .join(due, due.c.pledge_id == Pledge.id)
        .outerjoin(received, received.c.pledge_id == Pledge.id)
        .where(Pledge.state == PledgeState.OPEN, due.c.due > func.coalesce(received.c.received, 0))
        .order_by(Pledge.pledged_on)
    ).all()


def _finance_actions(user):
    late = overdue_pledges(db.session)
    if not late:
        return []
    first = late[0]
    return [
        NextAction(
            ngettext(
                "%(num)d pledge has instalments due and not received",
                "%(num)d pledges have instalments due and not received",
                len(late),
            ),
            url_for("donors.donor", reference=first.donor.reference, _anchor="pledges"),
            _("Ask the donor, or record the contribution when it arrives."),
        )
    ]


def _donor_actions(user):
    return [
        NextAction(
            _("See what your contributions fund"),
            url_for("portal.home"),
            _("The projects, the money released to them and your reports."),
        )
    ]


def contribution_totals(session):
    """The number of contributions and their base-currency total per currency, for ``fundapp summary``."""
    rows = session.execute(
        select(Contribution.base_currency, func.count(), func.sum(Contribution.base_amount_minor)).group_by(
            Contribution.base_currency
        )
    ).all()
    return {
        "total": sum(count for _currency, count, _sum in rows),
        "base_minor": {currency: int(total) for currency, _count, total in rows},
    }


register_next_actions(Role.FINANCE_OFFICER, _finance_actions)
register_next_actions(Role.DONOR, _donor_actions)
register_counter("donors", count_by_state(Donor, Donor.kind))
register_counter("contributions", contribution_totals)
register_counter("pledges_by_state", count_by_state(Pledge, Pledge.state))
