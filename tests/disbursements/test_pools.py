"""Funding pools: creating them, receiving funds (validation and idempotency), choosing the pool a proposal
draws from and what approved grants awaiting signature reserve."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundapp.core.audit import AuditEvent
from fundapp.core.errors import Conflict, DomainError
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.disbursements import ledger
from fundapp.disbursements.models import (
    AccountKind,
    EntryKind,
    FundingPool,
    GrantState,
    JournalEntry,
    LedgerAccount,
    Restriction,
)
from fundapp.disbursements.pools import choose_pool, create_pool, free, receive_funds, reserved
from tests.applications.factories import make_call, make_proposal
from tests.disbursements.factories import kzt, make_finance_officer, make_grant


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def general_pool(db, minor=0, code="GENERAL"):
    pool = create_pool(db.session, None, code=code, name="Unrestricted funds", currency="KZT")
    if minor:
        receive_funds(db.session, None, pool, kzt(minor))
    return pool


# -- create_pool ------------------------------------------------------------------------------------------


def test_a_pool_is_created_with_its_ledger_account_and_an_audit_event(db):
    officer = make_finance_officer()

    pool = create_pool(
        db.session,
        officer,
        code=" steppe-2026 ",
        name=" Saiga and steppe ",
        currency="kzt",
        restriction=Restriction.THEME,
        theme="steppe_ungulates",
    )

    assert (pool.code, pool.name, pool.currency, pool.theme, pool.call_id) == (
        "STEPPE-2026",
        "Saiga and steppe",
        "KZT",
        "steppe_ungulates",
        None,
    )
    assert (pool.account.code, pool.account.kind.value, pool.account.currency) == (
        "POOL-STEPPE-2026",
        "pool",
        "KZT",
    )
    assert pool.created_by_id == officer.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pool.created"))
    assert event.actor_id == officer.id and event.after["restriction"] == "theme"


def test_a_call_pool_takes_the_call_and_no_theme(db):
    call = make_call(funded=False)

    pool = create_pool(
        db.session,
        None,
        code="CALL-A",
        name="Call A",
        currency="KZT",
        restriction="call",
        call=call,
        theme="x",
    )

    assert (pool.restriction, pool.call_id, pool.theme) == (Restriction.CALL, call.id, None)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"code": "x"}, "code", "A pool code is 2 to 40 capital letters"),
        ({"code": "SEAL POOL"}, "code", "A pool code is 2 to 40 capital letters"),
        ({"code": "A" * 41}, "code", "A pool code is 2 to 40 capital letters"),
        ({"name": "  "}, "name", "Give the pool a name."),
        ({"name": "n" * 301}, "name", "at most 300 characters"),
        ({"currency": "TENGE"}, "currency", "ISO 4217 code"),
        ({"currency": ""}, "currency", "ISO 4217 code"),
        ({"restriction": Restriction.THEME}, "theme", "Choose the theme"),
        (
            {"restriction": Restriction.THEME, "theme": "dragons"},
            "theme",
            "dragons is not one of the fund's themes",
        ),
        ({"restriction": Restriction.CALL}, "call", "Choose the call"),
    ],
)
def test_a_bad_pool_is_refused_and_nothing_is_written(db, fields, field, message):
    before = (count(db, FundingPool), count(db, LedgerAccount))
    arguments = {"code": "SEAL", "name": "Caspian seal", "currency": "KZT", **fields}

    with pytest.raises(DomainError, match=message) as refused:
        create_pool(db.session, None, **arguments)

    assert refused.value.field == field
    assert (count(db, FundingPool), count(db, LedgerAccount)) == before


def test_a_pool_code_is_unique(db):
    general_pool(db)

    with pytest.raises(DomainError, match="already a pool with the code GENERAL"):
        create_pool(db.session, None, code="general", name="Again", currency="KZT")

    assert count(db, FundingPool) == 1


def test_a_call_pool_is_in_the_call_currency(db):
    call = make_call(funded=False)

    with pytest.raises(DomainError, match="is in KZT; its pool must be too") as refused:
        create_pool(
            db.session, None, code="USD-CALL", name="x", currency="USD", restriction="call", call=call
        )

    assert refused.value.field == "currency"
    assert count(db, FundingPool) == 0


# -- receive_funds ----------------------------------------------------------------------------------------


def test_funds_received_are_one_entry_debiting_cash_and_crediting_the_pool(db):
    pool = general_pool(db)
    officer = make_finance_officer()
    day = fund_today() - timedelta(days=3)

    entry = receive_funds(
        db.session,
        officer,
        pool,
        kzt(250_000_000_00),
        value_date=day,
        bank_reference=" MT103-4471 ",
        description="First tranche of the founding contribution",
    )

    assert (
        entry.kind.value,
        entry.value_date,
        entry.bank_reference,
        entry.pool_id,
        entry.recorded_by_id,
    ) == (
        "receipt",
        day,
        "MT103-4471",
        pool.id,
        officer.id,
    )
    assert entry.description == "First tranche of the founding contribution"
    assert [(p.account.code, p.amount_minor) for p in entry.postings] == [
        ("CASH-KZT", 250_000_000_00),
        ("POOL-GENERAL", -250_000_000_00),
    ]
    assert ledger.pool_available(db.session, pool) == kzt(250_000_000_00)


def test_a_receipt_without_a_date_or_description_gets_today_and_a_plain_one(db):
    pool = general_pool(db)

    entry = receive_funds(db.session, None, pool, kzt(1_00))

    assert entry.value_date == fund_today()
    assert entry.description == "Funds received into Unrestricted funds"


@pytest.mark.parametrize(
    ("amount", "fields", "field", "message"),
    [
        (kzt(0), {}, "amount", "must be more than zero"),
        (kzt(-5_00), {}, "amount", "must be more than zero"),
        (Money(5_00, "USD"), {}, "amount", "The pool GENERAL is kept in KZT"),
        (kzt(5_00), {"value_date": "tomorrow"}, "value_date", "future date"),
        (kzt(5_00), {"bank_reference": "R" * 141}, "bank_reference", "at most 140 characters"),
    ],
)
def test_a_bad_receipt_is_refused_and_nothing_is_written(db, amount, fields, field, message):
    pool = general_pool(db)
    before = count(db, JournalEntry)
    if fields.get("value_date") == "tomorrow":
        fields = {"value_date": fund_today() + timedelta(days=1)}

    with pytest.raises(DomainError, match=message) as refused:
        receive_funds(db.session, None, pool, amount, **fields)

    assert refused.value.field == field
    assert count(db, JournalEntry) == before
    assert ledger.pool_available(db.session, pool) == kzt(0)


def test_a_retry_with_the_same_key_and_details_returns_the_first_entry(db):
    pool = general_pool(db)
    first = receive_funds(db.session, None, pool, kzt(100_00), bank_reference="W-1", idempotency_key="k-1")

    again = receive_funds(db.session, None, pool, kzt(100_00), bank_reference="W-1", idempotency_key="k-1")

    assert again.id == first.id
    assert count(db, JournalEntry) == 1
    assert ledger.pool_available(db.session, pool) == kzt(100_00)


def test_the_same_key_with_other_details_is_a_conflict(db):
    pool = general_pool(db)
    receive_funds(db.session, None, pool, kzt(100_00), idempotency_key="k-1")

    with pytest.raises(Conflict, match="already made with other details"):
        receive_funds(db.session, None, pool, kzt(100_01), idempotency_key="k-1")

    assert count(db, JournalEntry) == 1
    assert ledger.pool_available(db.session, pool) == kzt(100_00)


def test_without_a_key_two_receipts_are_two_entries(db):
    pool = general_pool(db)
    receive_funds(db.session, None, pool, kzt(100_00))
    receive_funds(db.session, None, pool, kzt(100_00))

    assert ledger.pool_available(db.session, pool) == kzt(200_00)


# -- choosing a pool --------------------------------------------------------------------------------------


def unfunded_proposal():
    call = make_call(funded=False)
    return make_proposal(call=call, complete=True)


def call_pool(db, call, minor):
    pool = create_pool(
        db.session, None, code="CALL", name="Call", currency="KZT", restriction="call", call=call
    )
    receive_funds(db.session, None, pool, kzt(minor))
    return pool


def theme_pool(db, theme, minor):
    pool = create_pool(
        db.session, None, code="THEME", name="Theme", currency="KZT", restriction="theme", theme=theme
    )
    receive_funds(db.session, None, pool, kzt(minor))
    return pool


def test_the_call_pool_comes_before_the_theme_pool_before_the_unrestricted_one(db):
    proposal = unfunded_proposal()
    general = general_pool(db, 10_000_00, code="AAA-GENERAL")  # first by code, last by rule
    theme = theme_pool(db, proposal.theme, 10_000_00)
    by_call = call_pool(db, proposal.call, 10_000_00)

    assert choose_pool(db.session, proposal, kzt(1_000_00)).pool == by_call
    assert choose_pool(db.session, proposal, kzt(1_000_00)).free_after == kzt(9_000_00)
    # Once the call pool's money is committed, the theme pool; once that is too, the unrestricted one.
    spend(db, by_call, kzt(10_000_00))
    assert choose_pool(db.session, proposal, kzt(1_000_00)).pool == theme
    spend(db, theme, kzt(10_000_00))
    assert choose_pool(db.session, proposal, kzt(1_000_00)).pool == general


def spend(db, pool, amount):
    account = ledger.new_account(db.session, f"GRANT-{pool.code}", "Other", AccountKind.COMMITMENT, "KZT")
    ledger.post_entry(
        db.session,
        None,
        EntryKind.COMMITMENT,
        [(pool.account, amount), (account, -amount)],
        value_date=fund_today(),
    )


def test_a_pool_that_cannot_cover_the_amount_is_skipped(db):
    proposal = unfunded_proposal()
    call_pool(db, proposal.call, 500_00)
    theme = theme_pool(db, proposal.theme, 800_00)
    general = general_pool(db, 5_000_00)

    assert choose_pool(db.session, proposal, kzt(700_00)).pool == theme
    assert choose_pool(db.session, proposal, kzt(900_00)).pool == general


def test_pools_of_another_theme_call_or_currency_are_never_used(db):
    proposal = unfunded_proposal()
    other_theme = "large_carnivores"
    assert other_theme != proposal.theme
    theme_pool(db, other_theme, 10_000_00)
    call_pool(db, make_call(funded=False), 10_000_00)
    dollars = create_pool(db.session, None, code="USD", name="Dollars", currency="USD")
    receive_funds(db.session, None, dollars, Money(10_000_00, "USD"))

    with pytest.raises(DomainError, match="No funding pool in KZT can fund this proposal"):
        choose_pool(db.session, proposal, kzt(1_00))


def test_when_no_pool_covers_the_amount_the_refusal_names_the_best_candidate(db):
    proposal = unfunded_proposal()
    call_pool(db, proposal.call, 500_00)
    general_pool(db, 900_00)

    with pytest.raises(
        DomainError, match=r"Approving .*1,000\.00 .*the pool Unrestricted funds has .*900\.00 free"
    ):
        choose_pool(db.session, proposal, kzt(1_000_00))


def test_an_approved_grant_awaiting_signature_reserves_its_amount(db):
    grant = make_grant(amount_minor=4_000_000_00)
    pool = grant.pool
    assert grant.state == GrantState.AGREEMENT
    available = ledger.pool_available(db.session, pool)

    assert reserved(db.session, pool) == kzt(4_000_000_00)
    assert reserved(db.session, pool, excluding=grant) == kzt(0)
    assert free(db.session, pool) == available - kzt(4_000_000_00)


def test_a_signed_grant_is_committed_not_reserved(db):
    grant = make_grant(active=True, amount_minor=4_000_000_00)
    pool = grant.pool

    assert reserved(db.session, pool) == kzt(0)
    assert ledger.pool_figures(db.session, pool).committed == kzt(4_000_000_00)
    assert free(db.session, pool) == ledger.pool_available(db.session, pool)


def test_reservations_make_choose_pool_move_on(db):
    """The call pool's money is all reserved by a grant awaiting signature: the next proposal of the call
    goes to the unrestricted pool."""
    grant = make_grant(amount_minor=5_000_000_00)
    call = grant.call
    pool = grant.pool
    # Take the call pool down to exactly what the grant reserves.
    spend(db, pool, ledger.pool_available(db.session, pool) - grant.amount)
    general = general_pool(db, 2_000_000_00)
    proposal = make_proposal(call=call, complete=True)

    assert free(db.session, pool) == kzt(0)
    assert choose_pool(db.session, proposal, kzt(1_000_000_00)).pool == general
