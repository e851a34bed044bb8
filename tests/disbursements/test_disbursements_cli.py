"""``fundapp ledger ...`` and ``fundapp grants ...``: checking the ledger, keeping the books from a shell,
and the grants' daily jobs."""

from datetime import timedelta

from sqlalchemy import func, select

from fundapp.core.formatting import fund_today
from fundapp.disbursements import ledger
from fundapp.disbursements.models import (
    AccountKind,
    EntryKind,
    FundingPool,
    GrantReport,
    JournalEntry,
    Posting,
    Restriction,
    TrancheState,
)
from fundapp.disbursements.pools import create_pool, get_pool, receive_funds
from tests.applications.factories import make_call
from tests.disbursements.factories import days_ago, kzt, make_finance_officer, make_grant


def entries(db):
    return db.session.scalar(select(func.count()).select_from(JournalEntry))


def seal(db, minor=0):
    pool = create_pool(db.session, None, code="SEAL", name="Caspian seal", currency="KZT")
    if minor:
        receive_funds(db.session, None, pool, kzt(minor))
    return pool


# -- ledger check -----------------------------------------------------------------------------------------


def test_a_healthy_ledger_is_said_to_hold(runner, db):
    make_grant(active=True)
    db.session.commit()
    counts = [
        db.session.scalar(select(func.count()).select_from(model))
        for model in (JournalEntry, Posting, FundingPool)
    ]

    result = runner.invoke(args=["ledger", "check"])

    assert result.exit_code == 0, result.output
    assert (
        result.output
        == f"Ledger holds: {counts[0]} entries, {counts[1]} postings, {counts[2]} pools, 1 grants.\n"
    )


def test_an_empty_ledger_holds_too(runner, db):
    result = runner.invoke(args=["ledger", "check"])

    assert result.exit_code == 0
    assert result.output == "Ledger holds: 0 entries, 0 postings, 0 pools, 0 grants.\n"


def test_a_broken_ledger_exits_1_naming_the_first_violation_first(runner, db):
    pool = seal(db, 100_00)
    grant = ledger.new_account(db.session, "GRANT-BAD", "Bad", AccountKind.COMMITMENT, "KZT")
    # Written past post_entry, as a bug would: one posting only, and a pool committing more than it has.
    lonely = JournalEntry(kind=EntryKind.RECEIPT, value_date=fund_today())
    db.session.add(lonely)
    db.session.flush()
    db.session.add(
        Posting(entry_id=lonely.id, account_id=pool.account_id, amount_minor=-5_00, currency="KZT")
    )
    overdraw = JournalEntry(kind=EntryKind.COMMITMENT, value_date=fund_today())
    db.session.add(overdraw)
    db.session.flush()
    db.session.add_all(
        [
            Posting(entry_id=overdraw.id, account_id=pool.account_id, amount_minor=500_00, currency="KZT"),
            Posting(entry_id=overdraw.id, account_id=grant.id, amount_minor=-500_00, currency="KZT"),
        ]
    )
    db.session.commit()

    result = runner.invoke(args=["ledger", "check"])

    assert result.exit_code == 1
    lines = result.output.splitlines()  # the runner mixes standard error into the output
    assert lines[0] == f"journal entry {lonely.id}: its KZT postings sum to -5.00 KZT, not zero"
    assert f"journal entry {lonely.id} has fewer than two postings" in lines
    assert "pool account POOL-SEAL: available balance is negative (-395.00 KZT)" in lines
    assert lines[-1] == "Ledger check failed: 3 violation(s)."
    assert "Ledger holds" not in result.output


def test_a_release_of_a_scheduled_tranche_fails_the_check(runner, db):
    grant = make_grant(active=True)
    tranche = grant.tranches[0]
    entry = ledger.post_entry(
        db.session,
        None,
        EntryKind.RELEASE,
        [(grant.account, tranche.amount), (ledger.cash_account(db.session, "KZT"), -tranche.amount)],
        value_date=fund_today(),
        tranche=tranche,
    )
    db.session.commit()

    result = runner.invoke(args=["ledger", "check"])

    assert result.exit_code == 1
    assert (
        result.output.splitlines()[0]
        == f"tranche {tranche.id} has a release entry ({entry.id}) but is scheduled"
    )


# -- ledger receive ---------------------------------------------------------------------------------------


def test_funds_received_are_recorded_and_committed(runner, db):
    pool = seal(db)
    db.session.commit()
    day = fund_today() - timedelta(days=1)

    result = runner.invoke(
        args=[
            "ledger",
            "receive",
            "--pool",
            "seal",
            "--amount",
            "1000000.00",
            "--date",
            day.isoformat(),
            "--reference",
            "MT103-77",
            "--description",
            "Founding contribution",
        ]
    )

    assert result.exit_code == 0, result.output
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.pool_id == pool.id))
    assert (
        result.output
        == f"Recorded entry {entry.id}: KZT\u00a01,000,000.00 received into SEAL on {day.isoformat()}.\n"
    )
    assert (entry.value_date, entry.bank_reference, entry.description, entry.recorded_by_id) == (
        day,
        "MT103-77",
        "Founding contribution",
        None,
    )
    db.session.expire_all()
    assert ledger.pool_available(db.session, pool) == kzt(1_000_000_00)


def test_funds_received_as_a_user_name_them(runner, db):
    seal(db)
    officer = make_finance_officer(email="aliya@fund.example")
    db.session.commit()

    result = runner.invoke(
        args=["ledger", "receive", "--pool", "SEAL", "--amount", "5", "--as", "Aliya@fund.example"]
    )

    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(JournalEntry.recorded_by_id)) == officer.id


def test_a_receipt_run_twice_with_one_key_records_once(runner, db):
    pool = seal(db)
    db.session.commit()
    arguments = ["ledger", "receive", "--pool", "SEAL", "--amount", "5", "--key", "import-2026-03-01-7"]

    first = runner.invoke(args=arguments)
    second = runner.invoke(args=arguments)

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert first.output == second.output
    db.session.expire_all()
    assert ledger.pool_available(db.session, pool) == kzt(5_00)


def refused(runner, db, arguments, message):
    seal(db)
    db.session.commit()
    before = entries(db)

    result = runner.invoke(args=["ledger", "receive", *arguments])

    assert result.exit_code != 0
    assert message in result.output
    assert entries(db) == before
    return result


def test_an_unknown_pool_is_refused(runner, db):
    result = refused(runner, db, ["--pool", "WHALES", "--amount", "5"], "no pool has the code 'WHALES'")
    assert "--pool" in result.output


def test_a_bad_amount_is_refused(runner, db):
    refused(runner, db, ["--pool", "SEAL", "--amount", "abc"], "“abc” is not an amount.")


def test_an_amount_finer_than_the_currency_is_refused(runner, db):
    refused(runner, db, ["--pool", "SEAL", "--amount", "1.001"], "has more than 2 decimal places")


def test_a_negative_amount_is_refused(runner, db):
    refused(runner, db, ["--pool", "SEAL", "--amount=-5"], "An amount cannot be negative.")


def test_a_malformed_date_is_refused(runner, db):
    result = refused(runner, db, ["--pool", "SEAL", "--amount", "5", "--date", "01.03.2026"], "'01.03.2026'")
    assert "--date" in result.output


def test_a_future_date_is_refused(runner, db):
    tomorrow = (fund_today() + timedelta(days=1)).isoformat()
    result = refused(runner, db, ["--pool", "SEAL", "--amount", "5", "--date", tomorrow], "future date")
    assert "--date" in result.output


def test_an_unknown_user_is_refused(runner, db):
    refused(runner, db, ["--pool", "SEAL", "--amount", "5", "--as", "nobody@example.org"], "no active user")


# -- ledger pools and create-pool -------------------------------------------------------------------------


def test_the_pools_are_listed_with_their_balances(runner, db):
    grant = make_grant(active=True, amount_minor=4_000_000_00)
    seal(db, 250_000_00)
    create_pool(
        db.session,
        None,
        code="STEPPE",
        name="Steppe",
        currency="KZT",
        restriction="theme",
        theme="steppe_ungulates",
    )
    db.session.commit()

    result = runner.invoke(args=["ledger", "pools"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["Code", "Restriction", "Currency", "Received", "Committed", "Available"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["SEAL"] == ["SEAL", "unrestricted", "KZT", "250,000.00", "0.00", "250,000.00"]
    assert rows["STEPPE"] == ["STEPPE", "theme", "steppe_ungulates", "KZT", "0.00", "0.00", "0.00"]
    assert rows[grant.pool.code] == [
        grant.pool.code,
        "call",
        grant.call.reference,
        "KZT",
        "100,000,000.00",
        "4,000,000.00",
        "96,000,000.00",
    ]


def test_no_pool_is_said(runner, db):
    result = runner.invoke(args=["ledger", "pools"])

    assert result.exit_code == 0
    assert "No funding pool yet" in result.output


def test_a_pool_is_created(runner, db):
    result = runner.invoke(
        args=["ledger", "create-pool", "--code", "general", "--name", "Unrestricted funds"]
    )

    assert result.exit_code == 0, result.output
    assert result.output == "Created pool GENERAL (unrestricted, KZT).\n"
    pool = get_pool(db.session, "GENERAL")
    assert (pool.name, pool.restriction, pool.currency) == (
        "Unrestricted funds",
        Restriction.UNRESTRICTED,
        "KZT",
    )


def test_a_theme_pool_and_a_call_pool_are_created(runner, db):
    call = make_call(funded=False, currency="KZT")
    db.session.commit()

    theme = runner.invoke(
        args=[
            "ledger",
            "create-pool",
            "--code",
            "SNOW",
            "--name",
            "Snow leopard",
            "--theme",
            "large_carnivores",
        ]
    )
    by_call = runner.invoke(
        args=["ledger", "create-pool", "--code", "C1", "--name", "Call one", "--call", call.reference]
    )

    assert (theme.exit_code, by_call.exit_code) == (0, 0), theme.output + by_call.output
    assert get_pool(db.session, "SNOW").theme == "large_carnivores"
    assert get_pool(db.session, "C1").call_id == call.id


def test_a_bad_pool_is_refused_with_the_option_named(runner, db):
    seal(db)
    db.session.commit()
    cases = [
        (["--code", "SEAL", "--name", "Again"], "already a pool with the code SEAL"),
        (["--code", "X1", "--name", "x", "--theme", "dragons"], "dragons is not one of the fund's themes"),
        (["--code", "X2", "--name", "x", "--call", "CALL-NOPE"], "no call has the reference 'CALL-NOPE'"),
        (["--code", "X3", "--name", "x", "--currency", "tenge"], "ISO 4217"),
        (["--code", "X4", "--name", "x", "--theme", "large_carnivores", "--call", "C"], "not both"),
    ]
    for arguments, message in cases:
        result = runner.invoke(args=["ledger", "create-pool", *arguments])
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(FundingPool)) == 1


# -- grants mark-due and remind-overdue -------------------------------------------------------------------


def test_mark_due_moves_tranches_whose_date_has_come(runner, db):
    grant = make_grant(active=True, start=days_ago(10), end=days_ago(10) + timedelta(days=400))
    first = grant.tranches[0]
    db.session.commit()
    assert first.state == TrancheState.SCHEDULED

    result = runner.invoke(args=["grants", "mark-due"])

    assert result.exit_code == 0, result.output
    assert result.output == "1 tranche(s) became due.\n"
    db.session.expire_all()
    assert first.state == TrancheState.DUE
    assert grant.tranches[1].state == TrancheState.SCHEDULED
    assert runner.invoke(args=["grants", "mark-due"]).output == "0 tranche(s) became due.\n"


def test_remind_overdue_mails_once_per_report(runner, db, mail):
    start = days_ago(400)
    grant = make_grant(active=True, start=start, end=start + timedelta(days=365))
    db.session.commit()
    from fundapp.disbursements.reporting import overdue_reports

    overdue = overdue_reports(db.session)
    assert {report.grant_id for report in overdue} == {grant.id}
    assert overdue

    result = runner.invoke(args=["grants", "remind-overdue"])

    assert result.exit_code == 0, result.output
    assert result.output == f"{len(overdue)} reminder(s) sent.\n"
    assert mail
    db.session.expire_all()
    assert all(db.session.get(GrantReport, report.id).reminded_at is not None for report in overdue)
    assert runner.invoke(args=["grants", "remind-overdue"]).output == "0 reminder(s) sent.\n"
