"""The figures of a donor on data worked by hand, in the base currency and the donor's.

Pool GENERAL (KZT). Donor K gives 300 000.00 KZT on 15 January; donor E 1 000.00 EUR at 512.345 on
1 February (512 345.00 KZT). Grant G of 600 000.00, signed 1 March, takes K's 300 000 first, then 300 000
of E's. Its first tranche (40%, 240 000.00) is released today and split 120 000 / 120 000.

E in euros: allocated 1000 x 300 000 / 512 345 = 585.543... = 585.54; released 1000 x 120 000 / 512 345
= 234.217... = 234.22; balance 1000.00 - 585.54 = 414.46 (212 345.00 KZT).
"""

from datetime import date

import pytest
from sqlalchemy import event, select

from fundapp.applications.models import ProposalTag
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.disbursements import ledger
from fundapp.disbursements.models import EntryKind
from fundapp.donors import queries
from fundapp.extensions import db
from tests.donors.factories import (
    close,
    make_contribution,
    make_donor,
    make_funded_grant,
    make_pledge,
    make_pool,
    release,
)


def kzt(value):
    return Money.from_decimal(value, "KZT")


def eur(value):
    return Money.from_decimal(value, "EUR")


@pytest.fixture
def book(db):
    pool = make_pool("GENERAL")
    k = make_donor(name="K", preferred_currency="KZT")
    e = make_donor(name="E", preferred_currency="EUR")
    make_contribution(k, pool, "300000.00", value_date=date(2026, 1, 15))
    make_contribution(e, pool, "1000.00", currency="EUR", rate="512.345", value_date=date(2026, 2, 1))
    grant = make_funded_grant(pool, 600_000_00, signed_on=date(2026, 3, 1))
    release(grant, 1)
    return {"pool": pool, "k": k, "e": e, "grant": grant}


def test_figures_of_a_donor_in_both_currencies(book):
    figures = queries.donor_figures(db.session, book["e"])

    assert (figures.base_currency, figures.donor_currency) == ("KZT", "EUR")
    assert figures.contributed == queries.Amounts(kzt("512345.00"), eur("1000.00"))
    assert figures.allocated == queries.Amounts(kzt("300000.00"), eur("585.54"))
    assert figures.released == queries.Amounts(kzt("120000.00"), eur("234.22"))
    assert figures.balance == queries.Amounts(kzt("212345.00"), eur("414.46"))
    assert (figures.contributions, figures.projects) == (1, 1)


def test_figures_of_a_donor_in_the_base_currency(book):
    figures = queries.donor_figures(db.session, book["k"])

    assert figures.contributed == queries.Amounts(kzt("300000.00"), kzt("300000.00"))
    assert figures.allocated.base == kzt("300000.00") and figures.balance.base == kzt("0.00")
    assert figures.released.donor == kzt("120000.00")


def test_a_period_counts_each_movement_by_its_value_date(book):
    spring = queries.donor_figures(db.session, book["e"], date(2026, 1, 1), date(2026, 3, 31))
    assert spring.contributed.donor == eur("1000.00")
    assert spring.allocated.donor == eur("585.54")
    assert spring.released.base == kzt("0.00")
    assert spring.balance == queries.Amounts(kzt("212345.00"), eur("414.46"))

    today = fund_today()
    autumn = queries.donor_figures(db.session, book["e"], date(2026, 6, 1), today)
    assert autumn.contributed.base == kzt("0.00") and autumn.allocated.base == kzt("0.00")
    assert autumn.released == queries.Amounts(kzt("120000.00"), eur("234.22"))
    assert autumn.balance.donor == eur("414.46")
    assert autumn.contributions == 0


def test_a_period_before_any_money_has_nothing(book):
    figures = queries.donor_figures(db.session, book["e"], date(2025, 1, 1), date(2025, 12, 31))
    assert figures.contributed.base.minor == figures.balance.base.minor == 0
    assert figures.projects == 0
    assert queries.funded_projects(db.session, book["e"], date(2025, 1, 1), date(2025, 12, 31)) == []


def test_funded_projects_carry_the_donors_share(book):
    [row] = queries.funded_projects(db.session, book["e"])
    grant = book["grant"]

    assert (row.reference, row.title, row.state) == (grant.reference, grant.title, grant.state)
    assert row.organisation == grant.organisation.name
    assert row.attributed == queries.Amounts(kzt("300000.00"), eur("585.54"))
    assert row.released == queries.Amounts(kzt("120000.00"), eur("234.22"))
    assert row.grant_amount == kzt("600000.00")
    regions = db.session.scalars(
        select(ProposalTag.code).where(
            ProposalTag.proposal_id == grant.proposal_id, ProposalTag.kind == "region"
        )
    ).all()
    assert sorted(region.code for region in row.regions) == sorted(regions)


def test_shares_of_all_donors_add_up_to_the_grant(book):
    rows = [queries.funded_projects(db.session, book[who])[0] for who in ("k", "e")]
    assert sum(row.attributed.base.minor for row in rows) == book["grant"].amount_minor
    assert sum(row.released.base.minor for row in rows) == 240_000_00


def test_a_donor_without_a_contribution_in_their_currency_is_shown_in_the_base_currency(db):
    pool = make_pool("LOCAL")
    donor = make_donor(preferred_currency="USD")
    make_contribution(donor, pool, "1000.00")
    figures = queries.donor_figures(db.session, donor)
    assert figures.donor_currency == "KZT"
    assert figures.contributed.donor == kzt("1000.00")


def test_contributions_and_pledges_are_listed_with_what_is_used(book):
    [row] = queries.contributions_of(db.session, book["e"])
    assert (row.amount, row.base_amount, str(row.rate)) == (eur("1000.00"), kzt("512345.00"), "512.345")
    assert (row.allocated, row.unallocated) == (kzt("300000.00"), kzt("212345.00"))

    pledge = make_pledge(book["e"], book["pool"], "2000.00")
    [pledged] = queries.pledges_of(db.session, book["e"])
    assert pledged.pledge_id == pledge.id and pledged.outstanding == eur("2000.00")


def test_donor_totals_for_the_list(book):
    totals = queries.donor_totals(db.session, [book["k"], book["e"]])
    assert totals[book["e"].id] == queries.DonorTotals(kzt("512345.00"), kzt("300000.00"))
    assert totals[book["k"].id].allocated == kzt("300000.00")


def test_funded_projects_take_the_same_number_of_queries_for_one_grant_or_three(db):
    pool = make_pool("MANY")
    donor = make_donor(preferred_currency="EUR")
    make_contribution(donor, pool, "100000.00", currency="EUR", rate="500")

    def statements():
        seen = []

        def count(*args, **kwargs):
            seen.append(1)

        engine = db.session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            queries.funded_projects(db.session, donor)
            queries.donor_figures(db.session, donor)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    make_funded_grant(pool, 1_000_000_00)
    db.session.expire_all()
    one = statements()
    make_funded_grant(pool, 1_000_000_00)
    make_funded_grant(pool, 1_000_000_00)
    db.session.expire_all()
    assert one > 0 and statements() == one


def test_what_each_donor_is_shown_of_a_release_is_their_share_by_the_attribution_rule(db):
    """A grant partly released, one released in full (each key then gets its whole net, which the
    queries take without reading the other keys' nets) and one closed after a release (de-committed):
    what the portal shows each donor is their part of ``allocation.donor_shares``."""
    from fundapp.donors.allocation import donor_shares

    pool = make_pool("SHARES")
    donors = [make_donor(name=name, preferred_currency="EUR") for name in ("A", "B", "C")]
    gifts = {}  # contribution id -> donor id: the three take turns, so that each grant draws on them all
    for day, (donor, amount, rate) in enumerate(
        [(donors[0], "301.57", "510.01"), (donors[1], "277.77", "509.33"), (donors[2], "333.33", "512.87")]
        * 9,
        start=1,
    ):
        gift = make_contribution(
            donor, pool, amount, currency="EUR", rate=rate, value_date=date(2026, 1, day)
        )
        gifts[gift.id] = donor.id
    partly = make_funded_grant(pool, 1_500_000_01)
    whole = make_funded_grant(pool, 1_000_000_03)
    closed = make_funded_grant(pool, 700_000_07)
    release(partly, 1)
    ledger.post_entry(  # all of it paid out at once, as the ledger allows
        db.session,
        None,
        EntryKind.RELEASE,
        [(whole.account, whole.amount), (ledger.cash_account(db.session, "KZT"), -whole.amount)],
        value_date=fund_today(),
        grant=whole,
    )
    release(closed, 1)
    close(closed)
    shares = donor_shares(db.session, [partly, whole, closed])

    for donor in donors:
        rows = {row.grant_id: row for row in queries.funded_projects(db.session, donor)}
        for grant in (partly, whole, closed):
            mine = [share for key, share in shares[grant.id].items() if gifts.get(key) == donor.id]
            shown = rows.get(grant.id)
            attributed = shown.attributed.base.minor if shown else 0
            released = shown.released.base if shown else Money.zero("KZT")
            assert attributed == sum(minor for minor, _released in mine)
            assert released == Money.sum((part for _minor, part in mine), "KZT")
        assert rows[partly.id].released.base and rows[whole.id].released == rows[whole.id].attributed
