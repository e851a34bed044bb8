"""Which donors' money a grant spends: one rule, first in, first out, stored as ``Allocation`` rows.

The rule. When a grant commits an amount from a pool (at signing), the commitment is attributed to the
contributions received into that pool in the order they arrived (value date, then the order they were
recorded), each up to what is still unallocated of it; whatever no contribution covers (money received
without a donor, refunds from grantees) is attributed to "other funds" (``contribution_id`` NULL). When a
grant is closed and its unspent commitment goes back to the pool, the attribution is unwound last in,
first out: "other funds" first, then the latest contributions, so the money returns to the donors whose
money was used last.

What a grant released is attributed to the same contributions in the same proportions as its net
commitment (``released_by_contribution``), split as ``Money.allocate`` splits so the parts add up exactly.

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
    currency = released.currency
    return {key: Money(minor, currency) for key, minor in split_by_contribution(net, released.minor).items()}


def split_by_contribution(net, minor, keys=None):
    """``released_by_contribution`` in bare minor units, ``{key: int}``, for ``keys`` (all of ``net``'s by
    default; the others still set the proportions): the split of ``Money.allocate`` in integers. Each key
    gets its whole units; the units left over go one each to the largest remainders, equal remainders in
    key order (contributions by id, "other funds" last). The pages that split the releases of many grants
    ask for the donor's keys only: the remainders of the others are counted, not sorted."""
    if keys is None:
        keys = sorted(net.keys() - {OTHER_FUNDS}) + ([OTHER_FUNDS] if OTHER_FUNDS in net else [])
    if not net or minor == 0:
        return dict.fromkeys(keys, 0)
    if min(net.values()) < 0:
        raise ValueError(f"ratios cannot be negative: {min(net.values())}")
    total = sum(net.values())
    if total == 0:
        raise ValueError("at least one ratio must be positive")
    units = abs(minor)
    remainders = {key: units * weight % total for key, weight in net.items()}
    left_over = sum(remainders.values()) // total  # the units the whole parts leave
    cutoff, tied_winners = total, ()  # no remainder reaches the cutoff: nobody gets one more
    if left_over:
        ranked = sorted(remainders.values(), reverse=True)
        cutoff = ranked[left_over - 1]  # the smallest remainder that gets one more unit
        places = left_over - ranked.index(cutoff)  # how many of the remainders equal to it do
        tied_winners = [key for key, remainder in remainders.items() if remainder == cutoff]
        if len(tied_winners) > places:
            tied_winners = sorted(tied_winners, key=lambda key: (key is OTHER_FUNDS, key or 0))[:places]
        tied_winners = set(tied_winners)
    sign = -1 if minor < 0 else 1
    parts = {}
    for key in keys:
        one_more = remainders[key] > cutoff or key in tied_winners
        parts[key] = sign * (units * net[key] // total + one_more)
    return parts


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
