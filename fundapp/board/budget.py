"""The budget guard: no approval may commit more than there is.

Every approval goes through ``guard_commitment`` inside the transaction that records it. It locks the
call's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's single writer serialises anyway), so two
decisions racing for the last money of a call are taken one after the other and the second sees the first.
It then asks the ledger: the proposal must draw from a funding pool whose available balance (received
less committed, less what grants awaiting signature have reserved) covers the amount, so the board never
approves money the fund has not received (``fundapp.disbursements.pools.choose_pool``; the pools' rows are
locked too).
"""

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp.applications.models import Call, Proposal
from fundapp.board.models import AgendaItem, DecisionOutcome
from fundapp.core.errors import DomainError
from fundapp.core.money import Money

APPROVING = (DecisionOutcome.APPROVED, DecisionOutcome.APPROVED_WITH_CONDITIONS)


def committed(session, call):
    """What the board has approved so far in the call."""
    total = session.scalar(
        select(func.coalesce(func.sum(AgendaItem.approved_minor), 0))
        .join(Proposal, Proposal.id == AgendaItem.proposal_id)
        .where(Proposal.call_id == call.id, AgendaItem.outcome.in_(APPROVING))
    )
    return Money(int(total), call.currency)


def available(session, call):
    """What the call can still commit: its envelope less what the board has approved."""
    return call.envelope - committed(session, call)


def guard_commitment(session, proposal, amount):
    """Refuse (DomainError) an approval of ``amount`` that would take the proposal's call past its envelope
    or commit money no funding pool it may draw from has. Returns the ``PoolChoice`` (the pool the grant
    draws from, and what it can still approve after this).

    Locks the call's row and the candidate pools' first; call it in the transaction that records the
    approval.
    """
    from fundapp.disbursements.pools import choose_pool

    call = proposal.call
    session.execute(select(Call.id).where(Call.id == call.id).with_for_update())
    left = available(session, call)
    if amount > left:
        raise DomainError(
            _(
                "Approving %(amount)s would take %(call)s past its envelope: only %(left)s is left.",
                amount=amount.format(),
                call=call.reference,
                left=left.format(),
            ),
            field="amount",
        )
    return choose_pool(session, proposal, amount)
