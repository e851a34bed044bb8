"""Which donors' money a grant spends: one rule, first in, first out, stored as ``Allocation`` rows.

The rule. When a grant commits an amount from a pool (at signing), the commitment is attributed to the
contributions received into that pool in the order they arrived (value date, then the order they were
recorded), each up to what is still unallocated of it; whatever no contribution covers (money received
without a donor, refunds from grantees) is attributed to "other funds" (``contribution_id`` NULL). When a
grant is closed and its unspent commitment goes back to the pool, the attribution is unwound last in,
first out: "other funds" first, then the latest contributions, so the money returns to the donors whose
money was used last.

What a grant released is attributed to the same contributions in the same proportions as its net
commitment (``released_by_contribution``), split with ``Money.allocate`` so the parts add up exactly.

The rule never attributes more of a contribution than it brought: ``unallocated`` is never negative
(a property test checks it over random sequences).
"""

from collections import defaultdict

from sqlalchemy import func, select

from fundapp.core.money import Money
from fundapp.donors.models import Allocation, Contribution

OTHER_FUNDS = None  # the key of what no contribution covers


def allocated_by_contribution(session, pool):
    """``{contribution id: minor units allocated}`` over the contributions into ``pool``."""
    rows = session.execute(
        select(Allocation.contribution_id, func.sum(Allocation.amount_minor))
        .join(Contribution, Contribution.id == Allocation.contribution_id)
        .where(Contribution.pool_id == pool.id)
        .group_by(Allocation.contribution_id)
    )
    return {contribution_id: int(total) for contribution_id, total in rows}


def unallocated(session, pool):
    """``[(contribution, minor units still unallocated)]`` for ``pool``, first in first."""
    used = allocated_by_contribution(session, pool)
    contributions = session.scalars(
        select(Contribution)
        .where(Contribution.pool_id == pool.id)
        .order_by(Contribution.value_date, Contribution.id)
    ).all()
    return [(c, c.base_amount_minor - used.get(c.id, 0)) for c in contributions]


def attribute_commitment(session, grant, entry, amount):
    """Attribute ``amount`` (Money, the commitment ``entry`` of ``grant``) first in, first out. Returns the
    new allocations. Call it in the transaction that posts the commitment (the pool is locked)."""
    left = amount.minor
    allocations = []
    for contribution, free in unallocated(session, grant.pool):
        if left <= 0:
            break
        take = min(free, left)
        if take > 0:
            allocations.append(_allocation(grant, entry, contribution.id, take, amount.currency))
            left -= take
    if left > 0:
        allocations.append(_allocation(grant, entry, OTHER_FUNDS, left, amount.currency))
    session.add_all(allocations)
    session.flush()
    return allocations


def attribute_decommitment(session, grant, entry, amount):
    """Unwind ``amount`` (Money, the de-commitment ``entry`` of ``grant``) last in, first out: negative
    allocations, "other funds" first, then the latest contributions."""
    net = net_by_contribution(session, grant)
    held = [key for key, minor in net.items() if minor > 0]
    contributions = sorted(
        (key for key in held if key is not OTHER_FUNDS), key=lambda key: _arrival(session, key), reverse=True
    )
    order = ([OTHER_FUNDS] if OTHER_FUNDS in held else []) + contributions
    left = amount.minor
    allocations = []
    for key in order:
        if left <= 0:
            break
        give_back = min(net[key], left)
        allocations.append(_allocation(grant, entry, key, -give_back, amount.currency))
        left -= give_back
    session.add_all(allocations)
    session.flush()
    return allocations


def _arrival(session, contribution_id):
    contribution = session.get(Contribution, contribution_id)
    return (contribution.value_date, contribution.id)


def _allocation(grant, entry, contribution_id, minor, currency):
    return Allocation(
        grant_id=grant.id,
        contribution_id=contribution_id,
        entry_id=entry.id,
        amount_minor=minor,
        currency=currency,
    )


def net_by_contribution(session, grant):
    """``{contribution id or None: net minor units}`` of ``grant``'s commitment, zeros left out."""
    rows = session.execute(
        select(Allocation.contribution_id, func.sum(Allocation.amount_minor))
        .where(Allocation.grant_id == grant.id)
        .group_by(Allocation.contribution_id)
    )
    return {key: int(total) for key, total in rows if int(total)}


def released_by_contribution(net, released):
    """Split ``released`` (Money) over ``net`` (``{key: minor}``) in proportion, exactly."""
    keys = sorted(net, key=lambda key: (key is None, key or 0))
    if not keys or released.minor == 0:
        return dict.fromkeys(keys, Money.zero(released.currency))
    parts = released.allocate([net[key] for key in keys])
    return dict(zip(keys, parts, strict=True))


def donor_shares(session, grants):
    """``{grant id: {contribution id or None: (committed minor, released Money)}}`` for ``grants``."""
    from fundapp.disbursements import ledger

    result = defaultdict(dict)
    for grant in grants:
        net = net_by_contribution(session, grant)
        released = released_by_contribution(net, ledger.grant_figures(session, grant).released)
        for key, minor in net.items():
            result[grant.id][key] = (minor, released[key])
    return result
