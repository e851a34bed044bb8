"""A property of the attribution rule over random histories: contributions from several donors (and money
received without a donor), commitments of grants and de-commitments at closure, in any order.

Whatever happens: no contribution is ever allocated more than it brought or less than nothing; the
allocations of a commitment (or a de-commitment) add up to it exactly; no grant holds a negative share of
any contribution.
"""

from collections import defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fundapp.core.money import Money
from fundapp.disbursements import ledger
from fundapp.disbursements.models import EntryKind
from fundapp.disbursements.pools import receive_funds
from fundapp.donors.allocation import (
    attribute_commitment,
    attribute_decommitment,
    net_by_contribution,
    split_by_contribution,
)
from fundapp.donors.models import Allocation, Contribution
from fundapp.extensions import db
from tests.donors.factories import make_contribution, make_donor, make_funded_grant, make_pool

GRANTS = 3
DONORS = 3
START = date(2026, 1, 1)

gift = st.tuples(st.just("give"), st.integers(0, DONORS - 1), st.integers(1, 5_000_000), st.integers(0, 200))
other = st.tuples(st.just("other"), st.integers(1, 2_000_000))
commit = st.tuples(st.just("commit"), st.integers(0, GRANTS - 1), st.integers(1, 100))
decommit = st.tuples(st.just("decommit"), st.integers(0, GRANTS - 1), st.integers(1, 100))
histories = st.lists(st.one_of(gift, other, commit, decommit), min_size=1, max_size=25)


@pytest.fixture
def world(db):
    pool = make_pool("PROP")
    donors = [make_donor() for _ in range(DONORS)]
    grants = [make_funded_grant(pool, 1_000_00, active=False) for _ in range(GRANTS)]
    db.session.flush()
    return pool, donors, grants


def _apply(step, pool, donors, grants):
    kind = step[0]
    if kind == "give":
        _kind, who, minor, day = step
        make_contribution(
            donors[who], pool, Money(minor, "KZT").amount, value_date=START + timedelta(days=day)
        )
    elif kind == "other":
        receive_funds(db.session, None, pool, Money(step[1], "KZT"), bank_reference="NO-DONOR")
    elif kind == "commit":
        _kind, which, percent = step
        available = ledger.pool_available(db.session, pool).minor
        minor = available * percent // 100
        if minor <= 0:
            return
        grant = grants[which]
        amount = Money(minor, "KZT")
        entry = ledger.post_entry(
            db.session,
            None,
            EntryKind.COMMITMENT,
            [(pool.account, amount), (grant.account, -amount)],
            value_date=START,
            pool=pool,
            grant=grant,
        )
        attribute_commitment(db.session, grant, entry, amount)
    else:
        _kind, which, percent = step
        grant = grants[which]
        outstanding = ledger.grant_figures(db.session, grant).outstanding.minor
        minor = outstanding * percent // 100
        if minor <= 0:
            return
        amount = Money(minor, "KZT")
        entry = ledger.post_entry(
            db.session,
            None,
            EntryKind.DECOMMITMENT,
            [(grant.account, amount), (pool.account, -amount)],
            value_date=START,
            pool=pool,
            grant=grant,
        )
        attribute_decommitment(db.session, grant, entry, amount)


def _check(pool, grants):
    allocated = dict(
        db.session.execute(
            select(Allocation.contribution_id, func.sum(Allocation.amount_minor))
            .where(Allocation.contribution_id.is_not(None))
            .group_by(Allocation.contribution_id)
        ).all()
    )
    for contribution in db.session.scalars(select(Contribution).where(Contribution.pool_id == pool.id)):
        used = int(allocated.get(contribution.id, 0))
        assert 0 <= used <= contribution.base_amount_minor
    by_entry = defaultdict(int)
    for row in db.session.scalars(select(Allocation)):
        by_entry[row.entry_id] += row.amount_minor
    for grant in grants:
        for entry in db.session.scalars(
            select(ledger.JournalEntry).where(ledger.JournalEntry.grant_id == grant.id)
        ):
            moved = sum(p.amount_minor for p in entry.postings if p.account_id == grant.account_id)
            # The commitment account is credited by a commitment, debited by a de-commitment.
            assert by_entry[entry.id] == -moved
        assert all(minor > 0 for minor in net_by_contribution(db.session, grant).values())
        assert sum(net_by_contribution(db.session, grant).values()) == (
            ledger.grant_figures(db.session, grant).committed.minor
        )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories)
def test_allocations_never_exceed_contributions_and_add_up_to_each_commitment(world, history):
    pool, donors, grants = world
    savepoint = db.session.begin_nested()
    try:
        for step in history:
            _apply(step, pool, donors, grants)
        _check(pool, grants)
    finally:
        savepoint.rollback()


nets = st.dictionaries(  # contribution ids and "other funds" (None) -> net minor units
    st.one_of(st.none(), st.integers(1, 60)),
    st.one_of(st.integers(0, 3), st.integers(0, 10**15)),
    min_size=1,
    max_size=12,
).filter(lambda net: sum(net.values()) > 0)


@settings(max_examples=300, deadline=None)
@given(net=nets, minor=st.one_of(st.integers(-5, 5), st.integers(-(10**13), 10**13)), data=st.data())
def test_a_release_is_split_as_money_allocate_splits_it_for_every_key_or_some(net, minor, data):
    order = sorted(net, key=lambda key: (key is None, key or 0))
    parts = (
        Money(minor, "KZT").allocate([net[key] for key in order])
        if minor
        else [Money.zero("KZT")] * len(order)
    )
    expected = {key: part.minor for key, part in zip(order, parts, strict=True)}

    assert split_by_contribution(net, minor) == expected
    some = data.draw(st.lists(st.sampled_from(order), unique=True))
    assert split_by_contribution(net, minor, some) == {key: expected[key] for key in some}
