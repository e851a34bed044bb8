"""The budget guard: no approval may commit more than there is.

Every approval goes through ``guard_commitment`` inside the transaction that records it. It locks the
call's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's single writer serialises anyway), so two
decisions racing for the last money of a call are taken one after the other and the second sees the first.
The disbursements module extends this one function to the ledger's available balance of the pool.
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


def guard_commitment(session, call, amount):
    """Refuse (DomainError) an approval of ``amount`` that would take the call past its envelope.

    Locks the call's row first; call it in the transaction that records the approval.
    """
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
    return left - amount
