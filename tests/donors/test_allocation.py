"""The FIFO attribution of grants to contributions, on cases worked by hand.

Pool SEAL in KZT. Donor A gives 1 000 000.00 on 1 March, donor B 500 000.00 on 1 February (B arrived first).
"""

from datetime import date

import pytest
from sqlalchemy import select

from fundapp.core.money import Money
from fundapp.disbursements import ledger
from fundapp.donors.allocation import (
    OTHER_FUNDS,
    donor_shares,
    net_by_contribution,
    released_by_contribution,
    unallocated,
)
from fundapp.donors.models import Allocation
from fundapp.extensions import db
from tests.disbursements.factories import kzt
from tests.donors.factories import (
    close,
    make_contribution,
    make_donor,
    make_funded_grant,
    make_pool,
    release,
)


@pytest.fixture
def pool(db):
    return make_pool("SEAL")


@pytest.fixture
def gifts(pool):
    donor_a, donor_b = make_donor(name="A"), make_donor(name="B")
    a = make_contribution(donor_a, pool, "1000000.00", value_date=date(2026, 3, 1))
    b = make_contribution(donor_b, pool, "500000.00", value_date=date(2026, 2, 1))
    return a, b


def test_a_commitment_takes_the_earliest_contribution_first(pool, gifts):
    a, b = gifts
    grant = make_funded_grant(pool, 800_000_00)

    assert net_by_contribution(db.session, grant) == {b.id: 500_000_00, a.id: 300_000_00}


def test_a_second_commitment_continues_where_the_first_stopped(pool, gifts):
    a, b = gifts
    make_funded_grant(pool, 400_000_00)
    second = make_funded_grant(pool, 400_000_00)

    assert net_by_contribution(db.session, second) == {b.id: 100_000_00, a.id: 300_000_00}
    assert [(c.id, free) for c, free in unallocated(db.session, pool)] == [(b.id, 0), (a.id, 700_000_00)]


def test_what_no_contribution_covers_is_attributed_to_other_funds(pool, gifts):
    a, b = gifts
    ledger_receipt = kzt(200_000_00)
    from fundapp.disbursements.pools import receive_funds

    receive_funds(db.session, None, pool, ledger_receipt, bank_reference="NO-DONOR")
    grant = make_funded_grant(pool, 1_600_000_00)

    net = net_by_contribution(db.session, grant)
    assert net == {b.id: 500_000_00, a.id: 1_000_000_00, OTHER_FUNDS: 100_000_00}
    assert sum(net.values()) == grant.amount_minor


def test_closure_gives_back_other_funds_first_then_the_latest_contribution(pool, gifts):
    a, b = gifts
    from fundapp.disbursements.pools import receive_funds

    receive_funds(db.session, None, pool, kzt(100_000_00), bank_reference="NO-DONOR")
    grant = make_funded_grant(pool, 1_600_000_00)  # B 500 000, A 1 000 000, other 100 000
    release(grant, 1)  # 40%: 640 000.00
    close(grant)  # 960 000.00 back: other 100 000, then A (latest) 860 000

    assert net_by_contribution(db.session, grant) == {b.id: 500_000_00, a.id: 140_000_00}
    given_back = db.session.scalars(
        select(Allocation).where(Allocation.grant_id == grant.id, Allocation.amount_minor < 0)
    ).all()
    assert [(row.contribution_id, row.amount_minor) for row in given_back] == [
        (OTHER_FUNDS, -100_000_00),
        (a.id, -860_000_00),
    ]
    assert ledger.grant_figures(db.session, grant).committed == kzt(640_000_00)


def test_money_given_back_is_allocated_again_to_the_next_grant(pool, gifts):
    a, b = gifts
    first = make_funded_grant(pool, 1_200_000_00)  # B 500 000, A 700 000
    close(first)  # nothing released: all back, A first (latest), then B
    second = make_funded_grant(pool, 600_000_00)

    assert net_by_contribution(db.session, first) == {}
    assert net_by_contribution(db.session, second) == {b.id: 500_000_00, a.id: 100_000_00}


def test_released_is_split_in_proportion_exactly_to_the_tiyn():
    net = {1: 1, 2: 1, 3: 1}
    parts = released_by_contribution(net, Money(100, "KZT"))  # 1.00 KZT over three equal shares

    assert parts == {1: Money(34, "KZT"), 2: Money(33, "KZT"), 3: Money(33, "KZT")}
    assert sum(part.minor for part in parts.values()) == 100


def test_released_split_puts_other_funds_last_and_adds_up(pool, gifts):
    net = {None: 1, 7: 2}
    parts = released_by_contribution(net, Money(10, "KZT"))

    assert parts == {7: Money(7, "KZT"), None: Money(3, "KZT")}


def test_donor_shares_attribute_a_release_by_the_commitment(pool, gifts):
    a, b = gifts
    grant = make_funded_grant(pool, 1_000_000_01)  # B 500 000.00, A 500 000.01
    release(grant, 1)

    released = ledger.grant_figures(db.session, grant).released
    shares = donor_shares(db.session, [grant])[grant.id]
    assert shares[b.id][0] == 500_000_00 and shares[a.id][0] == 500_000_01
    assert shares[a.id][1] + shares[b.id][1] == released
    assert abs(shares[a.id][1].minor - shares[b.id][1].minor) <= 1


def test_a_contribution_in_another_currency_is_allocated_by_its_base_amount(pool):
    donor = make_donor(preferred_currency="EUR")
    gift = make_contribution(
        donor, pool, "1000.00", currency="EUR", rate="540.25", value_date=date(2026, 1, 5)
    )
    assert gift.base_amount == kzt(540_250_00)
    grant = make_funded_grant(pool, 540_250_00)

    assert net_by_contribution(db.session, grant) == {gift.id: 540_250_00}
