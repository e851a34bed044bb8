"""The double-entry ledger: what post_entry refuses, balances and figures on worked examples, reversals,
the append-only triggers and check_ledger naming each broken invariant."""

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.disbursements import ledger
from fundapp.disbursements.models import (
    AccountKind,
    EntryKind,
    JournalEntry,
    Posting,
    Restriction,
    TrancheState,
)
from fundapp.disbursements.pools import create_pool, receive_funds
from tests.disbursements.factories import kzt, make_finance_officer, make_grant

TODAY = date(2026, 3, 2)


def counts(db):
    return (
        db.session.scalar(select(func.count()).select_from(JournalEntry)),
        db.session.scalar(select(func.count()).select_from(Posting)),
    )


def pool_with(db, minor, code="SEAL"):
    pool = create_pool(db.session, None, code=code, name=f"Pool {code}", currency="KZT")
    if minor:
        receive_funds(db.session, None, pool, kzt(minor))
    return pool


def commitment_account(db, code="GRANT-T-1"):
    return ledger.new_account(db.session, code, code, AccountKind.COMMITMENT, "KZT")


def commit(db, pool, account, minor):
    return ledger.post_entry(
        db.session,
        None,
        EntryKind.COMMITMENT,
        [(pool.account, kzt(minor)), (account, kzt(-minor))],
        value_date=TODAY,
    )


def release(db, account, minor, tranche=None):
    return ledger.post_entry(
        db.session,
        None,
        EntryKind.RELEASE,
        [(account, kzt(minor)), (ledger.cash_account(db.session, "KZT"), kzt(-minor))],
        value_date=TODAY,
        tranche=tranche,
    )


# -- post_entry refuses, writing nothing ------------------------------------------------------------------


def test_an_unbalanced_entry_is_refused_and_nothing_is_written(db):
    pool = pool_with(db, 0)
    cash = ledger.cash_account(db.session, "KZT")
    before = counts(db)

    with pytest.raises(DomainError, match=r"must sum to zero in each currency.*KZT"):
        ledger.post_entry(
            db.session,
            None,
            EntryKind.RECEIPT,
            [(cash, kzt(100_00)), (pool.account, kzt(-99_00))],
            value_date=TODAY,
        )

    assert counts(db) == before


def test_an_entry_needs_two_postings(db):
    cash = ledger.cash_account(db.session, "KZT")
    before = counts(db)

    with pytest.raises(DomainError, match="at least two postings"):
        ledger.post_entry(db.session, None, EntryKind.RECEIPT, [(cash, kzt(100))], value_date=TODAY)
    with pytest.raises(DomainError, match="at least two postings"):
        ledger.post_entry(db.session, None, EntryKind.RECEIPT, [], value_date=TODAY)

    assert counts(db) == before


def test_a_zero_posting_is_refused(db):
    pool = pool_with(db, 0)
    cash = ledger.cash_account(db.session, "KZT")
    before = counts(db)

    with pytest.raises(DomainError, match="A posting of zero"):
        ledger.post_entry(
            db.session, None, EntryKind.RECEIPT, [(cash, kzt(0)), (pool.account, kzt(0))], value_date=TODAY
        )

    assert counts(db) == before


def test_a_posting_in_another_currency_than_its_account_is_refused(db):
    pool = pool_with(db, 0)
    cash = ledger.cash_account(db.session, "KZT")
    before = counts(db)

    with pytest.raises(DomainError, match="POOL-SEAL is kept in KZT, not USD"):
        ledger.post_entry(
            db.session,
            None,
            EntryKind.RECEIPT,
            [(cash, kzt(100)), (pool.account, Money(-100, "USD"))],
            value_date=TODAY,
        )

    assert counts(db) == before


def test_a_float_amount_is_a_programming_error(db):
    pool = pool_with(db, 0)
    cash = ledger.cash_account(db.session, "KZT")

    with pytest.raises(TypeError, match="must be Money"):
        ledger.post_entry(
            db.session, None, EntryKind.RECEIPT, [(cash, 1.5), (pool.account, -1.5)], value_date=TODAY
        )


def test_committing_more_than_a_pool_has_is_refused(db):
    pool = pool_with(db, 1_000_00)
    grant = commitment_account(db)
    before = counts(db)

    with pytest.raises(DomainError, match=r"has only .*1,000\.00 available; .*1,000\.01 cannot be taken"):
        commit(db, pool, grant, 1_000_01)

    assert counts(db) == before
    assert ledger.pool_available(db.session, pool) == kzt(1_000_00)


def test_releasing_more_than_a_grant_committed_is_refused(db):
    pool = pool_with(db, 1_000_00)
    grant = commitment_account(db)
    commit(db, pool, grant, 600_00)
    release(db, grant, 400_00)
    before = counts(db)

    with pytest.raises(DomainError, match=r"only .*200\.00 outstanding; .*200\.01 cannot be paid"):
        release(db, grant, 200_01)

    assert counts(db) == before
    assert ledger.balance(db.session, grant) == kzt(-200_00)


def test_two_lines_on_one_pool_are_checked_together(db):
    """Each line alone fits the pool; together they would overdraw it."""
    pool = pool_with(db, 1_000_00)
    first, second = commitment_account(db, "GRANT-A"), commitment_account(db, "GRANT-B")
    before = counts(db)

    with pytest.raises(DomainError, match="available"):
        ledger.post_entry(
            db.session,
            None,
            EntryKind.COMMITMENT,
            [
                (pool.account, kzt(600_00)),
                (pool.account, kzt(600_00)),
                (first, kzt(-600_00)),
                (second, kzt(-600_00)),
            ],
            value_date=TODAY,
        )

    assert counts(db) == before


# -- balances and figures ---------------------------------------------------------------------------------


def test_pool_and_grant_figures_on_a_worked_example(db):
    """Received 1 000 000; committed 400 000 to a grant; paid 150 000 of it; the grantee refunded 20 000;
    at closure the unspent 250 000 went back to the pool; a second receipt of 50 000 was reversed."""
    grant = make_grant(active=False, amount_minor=400_000_00)
    pool = grant.pool
    base = ledger.pool_figures(db.session, pool)  # the call's envelope, received by the factory
    receive_funds(db.session, None, pool, kzt(1_000_000_00))
    mistaken = receive_funds(db.session, None, pool, kzt(50_000_00))
    ledger.reverse_entry(db.session, None, mistaken, "Booked twice")
    commit_entry = ledger.post_entry(
        db.session,
        None,
        EntryKind.COMMITMENT,
        [(pool.account, kzt(400_000_00)), (grant.account, kzt(-400_000_00))],
        value_date=TODAY,
        pool=pool,
        grant=grant,
    )
    assert [(p.account.code, p.amount_minor) for p in commit_entry.postings] == [
        (pool.account.code, 400_000_00),
        (grant.account.code, -400_000_00),
    ]
    release(db, grant.account, 150_000_00)
    ledger.post_entry(
        db.session,
        None,
        EntryKind.REFUND,
        [(ledger.cash_account(db.session, "KZT"), kzt(20_000_00)), (pool.account, kzt(-20_000_00))],
        value_date=TODAY,
        pool=pool,
        grant=grant,
    )
    ledger.post_entry(
        db.session,
        None,
        EntryKind.DECOMMITMENT,
        [(grant.account, kzt(250_000_00)), (pool.account, kzt(-250_000_00))],
        value_date=TODAY,
        pool=pool,
        grant=grant,
    )

    figures = ledger.pool_figures(db.session, pool)
    assert figures.received - base.received == kzt(1_000_000_00)
    assert figures.refunded == kzt(20_000_00)
    assert figures.committed == kzt(150_000_00)  # 400 000 committed less 250 000 de-committed
    assert figures.released == kzt(150_000_00)
    assert figures.available - base.available == kzt(1_000_000_00 + 20_000_00 - 150_000_00)
    assert ledger.pool_available(db.session, pool) == figures.available

    assert ledger.grant_figures(db.session, grant) == ledger.GrantFigures(
        committed=kzt(150_000_00), released=kzt(150_000_00), refunded=kzt(20_000_00), outstanding=kzt(0)
    )
    cash = ledger.cash_account(db.session, "KZT")
    assert ledger.balance(db.session, cash) - kzt(base.received.minor) == kzt(
        1_000_000_00 - 150_000_00 + 20_000_00
    )
    assert ledger.check_ledger(db.session) == []


def test_pool_figures_many_gives_each_pool_its_own(db):
    seal = pool_with(db, 500_00, "SEAL")
    steppe = pool_with(db, 300_00, "STEPPE")
    empty = pool_with(db, 0, "EMPTY")
    commit(db, steppe, commitment_account(db), 100_00)

    figures = ledger.pool_figures_many(db.session, [seal, steppe, empty])

    assert figures[seal.id].available == kzt(500_00)
    assert (figures[steppe.id].received, figures[steppe.id].committed, figures[steppe.id].available) == (
        kzt(300_00),
        kzt(100_00),
        kzt(200_00),
    )
    assert figures[empty.id] == ledger.PoolFigures(*(kzt(0),) * 5)
    assert ledger.pool_figures_many(db.session, []) == {}


# -- reversals --------------------------------------------------------------------------------------------


def test_a_reversal_negates_every_posting_and_nets_the_entry_out(db):
    pool = pool_with(db, 0)
    officer = make_finance_officer()
    entry = receive_funds(db.session, officer, pool, kzt(700_00), bank_reference="WIRE-1")

    reversal = ledger.reverse_entry(db.session, officer, entry, "  Wrong pool  ")

    assert reversal.kind == EntryKind.RECEIPT and reversal.reverses_id == entry.id
    assert reversal.recorded_by_id == officer.id
    assert reversal.description == f"Reversal of entry {entry.id}: Wrong pool"
    assert sorted(p.amount_minor for p in reversal.postings) == [-700_00, 700_00]
    assert {p.account_id: -p.amount_minor for p in reversal.postings} == {
        p.account_id: p.amount_minor for p in entry.postings
    }
    assert ledger.pool_available(db.session, pool) == kzt(0)
    assert ledger.check_ledger(db.session) == []


def test_an_entry_is_reversed_once_only(db):
    pool = pool_with(db, 0)
    entry = receive_funds(db.session, None, pool, kzt(700_00))
    ledger.reverse_entry(db.session, None, entry, "Wrong pool")
    before = counts(db)

    with pytest.raises(DomainError, match="already been reversed"):
        ledger.reverse_entry(db.session, None, entry, "Again")

    assert counts(db) == before


def test_a_reversal_is_not_reversed(db):
    pool = pool_with(db, 0)
    reversal = ledger.reverse_entry(db.session, None, receive_funds(db.session, None, pool, kzt(700_00)), "x")
    before = counts(db)

    with pytest.raises(DomainError, match="itself a reversal"):
        ledger.reverse_entry(db.session, None, reversal, "Undo the undo")

    assert counts(db) == before


def test_a_reversal_needs_a_reason(db):
    entry = receive_funds(db.session, None, pool_with(db, 0), kzt(700_00))
    before = counts(db)

    with pytest.raises(DomainError, match="Say why") as refused:
        ledger.reverse_entry(db.session, None, entry, "   ")

    assert refused.value.field == "reason"
    assert counts(db) == before


def test_a_reversal_that_would_overdraw_the_pool_is_refused(db):
    """The money received was committed since: taking the receipt back would leave the pool negative."""
    pool = pool_with(db, 0)
    receipt = receive_funds(db.session, None, pool, kzt(1_000_00))
    commit(db, pool, commitment_account(db), 800_00)
    before = counts(db)

    with pytest.raises(DomainError, match=r"has only .*200\.00 available; .*1,000\.00 cannot be taken"):
        ledger.reverse_entry(db.session, None, receipt, "Sender asked for it back")

    assert counts(db) == before
    assert ledger.pool_available(db.session, pool) == kzt(200_00)


def test_a_commitment_partly_released_cannot_be_reversed(db):
    pool = pool_with(db, 1_000_00)
    account = commitment_account(db)
    commitment = commit(db, pool, account, 1_000_00)
    release(db, account, 100_00)
    before = counts(db)

    with pytest.raises(DomainError, match="outstanding"):
        ledger.reverse_entry(db.session, None, commitment, "Signed by mistake")

    assert counts(db) == before


def test_the_release_of_a_released_tranche_is_refunded_not_reversed(db):
    grant = make_grant(active=True)
    tranche = grant.tranches[0]
    entry = release(db, grant.account, tranche.amount_minor, tranche=tranche)
    tranche.state = TrancheState.RELEASED
    db.session.flush()
    before = counts(db)

    with pytest.raises(DomainError, match="record a refund"):
        ledger.reverse_entry(db.session, None, entry, "Paid the wrong account")

    assert counts(db) == before


# -- append-only, enforced by the database ----------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_entry SET description = 'tampered' WHERE id = :entry",
        "DELETE FROM journal_entry WHERE id = :entry",
        "UPDATE posting SET amount_minor = amount_minor * 2 WHERE entry_id = :entry",
        "DELETE FROM posting WHERE entry_id = :entry",
    ],
)
def test_ledger_rows_cannot_be_updated_or_deleted(db, statement):
    entry = receive_funds(db.session, None, pool_with(db, 0), kzt(700_00))
    db.session.flush()
    table = "journal_entry" if "journal_entry" in statement else "posting"
    verb = "updated" if statement.startswith("UPDATE") else "deleted"

    refused = pytest.raises(DBAPIError, match=f"ledger rows are append-only: {table} cannot be {verb}")
    with refused, db.session.begin_nested():
        db.session.execute(text(statement), {"entry": entry.id})

    db.session.expire_all()
    assert entry.description.startswith("Funds received")
    assert sorted(p.amount_minor for p in entry.postings) == [-700_00, 700_00]


def test_an_orm_update_of_an_entry_is_refused_too(db):
    entry = receive_funds(db.session, None, pool_with(db, 0), kzt(700_00))
    db.session.flush()

    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        entry.bank_reference = "changed"
        db.session.flush()

    db.session.expire_all()
    assert entry.bank_reference == ""


# -- check_ledger -----------------------------------------------------------------------------------------


def test_a_healthy_ledger_has_no_violation(db):
    grant = make_grant(active=True)
    tranche = grant.tranches[0]
    release(db, grant.account, tranche.amount_minor, tranche=tranche)
    tranche.state = TrancheState.RELEASED
    db.session.flush()

    assert ledger.check_ledger(db.session) == []


def raw_entry(db, kind, postings, **fields):
    """An entry written straight to the tables, past post_entry's checks (as a bug or a hand edit would)."""
    entry = JournalEntry(kind=kind, value_date=fund_today(), **fields)
    db.session.add(entry)
    db.session.flush()
    for account, minor, *currency in postings:
        db.session.add(
            Posting(
                entry_id=entry.id,
                account_id=account.id,
                amount_minor=minor,
                currency=currency[0] if currency else account.currency,
            )
        )
    db.session.flush()
    return entry


def test_an_unbalanced_entry_is_named(db):
    pool = pool_with(db, 0)
    entry = raw_entry(db, EntryKind.RECEIPT, [(pool.account, -500_00)])

    problems = ledger.check_ledger(db.session)

    assert problems[0] == f"journal entry {entry.id}: its KZT postings sum to -500.00 KZT, not zero"
    assert f"journal entry {entry.id} has fewer than two postings" in problems


def test_a_posting_in_the_wrong_currency_is_named(db):
    pool = pool_with(db, 0)
    cash = ledger.cash_account(db.session, "KZT")
    entry = raw_entry(db, EntryKind.RECEIPT, [(cash, 100, "USD"), (pool.account, -100, "USD")])
    first = min(p.id for p in entry.postings)

    assert ledger.check_ledger(db.session)[0] == f"posting {first} is in USD on the KZT account CASH-KZT"


def test_a_pool_committing_more_than_it_received_is_named(db):
    pool = pool_with(db, 100_00)
    grant = commitment_account(db)
    raw_entry(db, EntryKind.COMMITMENT, [(pool.account, 150_00), (grant, -150_00)])

    assert ledger.check_ledger(db.session) == [
        "pool account POOL-SEAL: available balance is negative (-50.00 KZT)"
    ]


def test_a_grant_releasing_more_than_it_committed_is_named(db):
    pool = pool_with(db, 100_00)
    grant = commitment_account(db)
    commit(db, pool, grant, 100_00)
    raw_entry(db, EntryKind.RELEASE, [(grant, 130_00), (ledger.cash_account(db.session, "KZT"), -130_00)])

    assert ledger.check_ledger(db.session) == [
        "grant account GRANT-T-1: released 30.00 KZT more than it committed"
    ]


def test_a_release_of_a_tranche_not_released_is_named(db):
    grant = make_grant(active=True)
    tranche = grant.tranches[0]
    assert tranche.state == TrancheState.SCHEDULED
    entry = release(db, grant.account, tranche.amount_minor, tranche=tranche)

    assert ledger.check_ledger(db.session) == [
        f"tranche {tranche.id} has a release entry ({entry.id}) but is scheduled"
    ]


def test_a_tranche_marked_released_without_a_release_entry_is_named(db):
    grant = make_grant(active=True)
    tranche = grant.tranches[1]
    tranche.state = TrancheState.RELEASED
    db.session.flush()

    assert ledger.check_ledger(db.session) == [
        f"tranche {tranche.id} is marked released but the ledger has no release entry for it"
    ]


def test_a_release_of_the_wrong_amount_is_named(db):
    grant = make_grant(active=True)
    tranche = grant.tranches[0]
    entry = release(db, grant.account, tranche.amount_minor - 1, tranche=tranche)
    tranche.state = TrancheState.RELEASED
    db.session.flush()

    assert ledger.check_ledger(db.session) == [
        f"tranche {tranche.id}: release entry {entry.id} paid {tranche.amount_minor - 1} minor units, "
        f"the tranche is {tranche.amount_minor}"
    ]


def test_a_tranche_is_released_at_most_once_by_the_database(db):
    grant = make_grant(active=True)
    tranche = grant.tranches[0]
    release(db, grant.account, 100_00, tranche=tranche)

    with pytest.raises(DBAPIError), db.session.begin_nested():
        release(db, grant.account, 100_00, tranche=tranche)

    assert db.session.scalar(select(func.count()).where(JournalEntry.tranche_id == tranche.id)) == 1


def test_a_theme_pool_and_a_call_pool_are_separate_accounts(db):
    """A restricted pool is its own account: money received into one is not available in another."""
    theme = create_pool(
        db.session,
        None,
        code="SEALS",
        name="Seals",
        currency="KZT",
        restriction=Restriction.THEME,
        theme="marine_mammals",
    )
    general = pool_with(db, 0, "GENERAL")
    receive_funds(db.session, None, theme, kzt(900_00))

    assert ledger.pool_available(db.session, theme) == kzt(900_00)
    assert ledger.pool_available(db.session, general) == kzt(0)
    with pytest.raises(DomainError, match="available"):
        commit(db, general, commitment_account(db), 1)


def test_a_grant_commitment_follows_the_grant_and_is_not_reversed(db):
    grant = make_grant(active=True)
    commitment = db.session.scalar(
        select(JournalEntry).where(
            JournalEntry.grant_id == grant.id, JournalEntry.kind == EntryKind.COMMITMENT
        )
    )
    before = counts(db)

    with pytest.raises(DomainError, match="cancel, terminate or close the grant"):
        ledger.reverse_entry(db.session, None, commitment, "Signed by mistake")

    assert counts(db) == before
    assert ledger.grant_figures(db.session, grant).outstanding == grant.amount
