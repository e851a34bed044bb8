"""Tranches: due when their date has come and their report is accepted; approved by one finance officer,
released by another, at most once; retries with the same request key change nothing; refunds."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundapp.core.errors import Conflict, DomainError
from fundapp.core.formatting import fund_today
from fundapp.disbursements import ledger, operations
from fundapp.disbursements.models import EntryKind, JournalEntry, Posting, ReportState, TrancheState
from tests.applications.factories import make_officer
from tests.disbursements.factories import days_ago, kzt, make_finance_officer, make_grant


@pytest.fixture
def people(db):
    return {"officer": make_officer(), "a": make_finance_officer(), "b": make_finance_officer()}


@pytest.fixture
def grant(db, people):
    """Active since 100 days; tranche 2 (progress report 1) was planned 10 days ago."""
    grant = make_grant(
        active=True,
        amount_minor=10_000_000_00,
        officer=people["officer"],
        start=days_ago(100),
        end=days_ago(-265),
    )
    grant.tranches[1].planned_date = days_ago(10)
    db.session.flush()
    return grant


def approve(grant, people, number=1):
    from fundapp.extensions import db

    tranche = grant.tranches[number - 1]
    return operations.approve_tranche(db.session, people["a"], tranche, bank_details_checked=True)


def release(grant, people, number=1, key="key-1", reference="PAY-0001", paid_on=None, who="b"):
    from fundapp.extensions import db

    return operations.release_tranche(
        db.session,
        people[who],
        grant.tranches[number - 1],
        paid_on=paid_on or fund_today(),
        bank_reference=reference,
        idempotency_key=key,
    )


def entry_count(db):
    return db.session.scalar(select(func.count(JournalEntry.id)))


# -- falling due ---------------------------------------------------------------------------------------------


def test_a_tranche_is_due_only_when_its_date_came_and_its_report_is_accepted(db, grant):
    moved = operations.refresh_due(db.session, grant)
    assert [t.number for t in moved] == [1]
    second = grant.tranches[1]
    assert second.state == TrancheState.SCHEDULED  # date came, report not accepted
    second.report.state = ReportState.ACCEPTED
    second.planned_date = fund_today() + timedelta(days=1)
    assert operations.refresh_due(db.session, grant) == []  # report accepted, date not come
    second.planned_date = fund_today()
    assert operations.refresh_due(db.session, grant) == [second]
    assert second.state == TrancheState.DUE


def test_refresh_due_tranches_moves_every_paying_grant(db, grant, people):
    other = make_grant(active=True, officer=people["officer"], start=days_ago(50), end=days_ago(-300))
    moved = operations.refresh_due_tranches(db.session)
    assert {(t.grant_id, t.number) for t in moved} >= {(grant.id, 1), (other.id, 1)}
    assert all(t.state == TrancheState.DUE for t in moved)


def test_an_unsigned_grant_has_no_due_tranches(db, people):
    grant = make_grant(officer=people["officer"], start=days_ago(100), end=days_ago(-265))
    assert operations.refresh_due(db.session, grant) == []
    assert grant.tranches[0].state == TrancheState.SCHEDULED


# -- approval ------------------------------------------------------------------------------------------------


def test_approval_records_who_and_the_iban(db, grant, people):
    tranche = approve(grant, people)
    assert tranche.state == TrancheState.APPROVED
    assert tranche.approved_by_id == people["a"].id and tranche.approved_at is not None
    assert tranche.approved_iban == grant.bank_iban


def test_approval_needs_the_bank_details_checked(db, grant, people):
    with pytest.raises(DomainError) as refusal:
        operations.approve_tranche(db.session, people["a"], grant.tranches[0], bank_details_checked=False)
    assert refusal.value.field == "bank_details_checked"
    assert grant.tranches[0].approved_by_id is None


def test_a_tranche_waiting_for_its_report_cannot_be_approved(db, grant, people):
    with pytest.raises(DomainError, match="progress report 1 to be accepted"):
        approve(grant, people, number=2)
    assert grant.tranches[1].state == TrancheState.SCHEDULED


def test_only_finance_officers_approve(db, grant, people):
    with pytest.raises(DomainError, match="finance officer"):
        operations.approve_tranche(
            db.session, people["officer"], grant.tranches[0], bank_details_checked=True
        )


def test_withdrawing_an_approval_makes_the_tranche_due_again(db, grant, people):
    tranche = approve(grant, people)
    operations.withdraw_approval(db.session, people["a"], tranche, "Wrong account.")
    assert (
        tranche.state == TrancheState.DUE and tranche.approved_by_id is None and tranche.approved_iban is None
    )


# -- release -------------------------------------------------------------------------------------------------


def test_approve_then_release_by_another_officer_pays_the_tranche(db, grant, people, mail):
    approve(grant, people)
    entry = release(grant, people)
    tranche = grant.tranches[0]
    assert tranche.state == TrancheState.RELEASED
    assert tranche.released_by_id == people["b"].id and tranche.paid_on == fund_today()
    assert tranche.bank_reference == "PAY-0001"
    assert entry.kind == EntryKind.RELEASE and entry.tranche_id == tranche.id
    figures = ledger.grant_figures(db.session, grant)
    assert figures.released == kzt(4_000_000_00) and figures.outstanding == kzt(6_000_000_00)
    assert ledger.check_ledger(db.session) == []


def test_the_approver_cannot_release(db, grant, people):
    approve(grant, people)
    before = entry_count(db)
    with pytest.raises(DomainError, match="another finance officer must release it"):
        release(grant, people, who="a")
    assert grant.tranches[0].state == TrancheState.APPROVED
    assert entry_count(db) == before


def test_release_before_approval_is_refused(db, grant, people):
    operations.refresh_due(db.session, grant)
    with pytest.raises(DomainError, match="not approved yet"):
        release(grant, people)
    assert grant.tranches[0].state == TrancheState.DUE


def test_release_before_the_gating_report_is_accepted_is_refused(db, grant, people):
    before = entry_count(db)
    with pytest.raises(DomainError, match="not approved yet"):
        release(grant, people, number=2)
    assert grant.tranches[1].state == TrancheState.SCHEDULED
    assert entry_count(db) == before


def test_released_twice_is_impossible(db, grant, people):
    approve(grant, people)
    release(grant, people)
    before = entry_count(db)
    with pytest.raises(DomainError, match="already released"):
        release(grant, people, key="key-2")
    assert entry_count(db) == before


def test_a_retry_with_the_same_key_returns_the_first_entry_and_writes_nothing(db, grant, people):
    approve(grant, people)
    first = release(grant, people, key="same-key")
    before = entry_count(db)
    postings = db.session.scalar(select(func.count(Posting.id)))
    again = release(grant, people, key="same-key")
    assert again.id == first.id
    assert entry_count(db) == before
    assert db.session.scalar(select(func.count(Posting.id))) == postings


def test_the_same_key_with_other_details_is_a_conflict(db, grant, people):
    approve(grant, people)
    release(grant, people, key="same-key")
    with pytest.raises(Conflict):
        release(grant, people, key="same-key", reference="PAY-OTHER")


@pytest.mark.parametrize(
    ("paid_on", "reference", "field"),
    [
        ("tomorrow", "PAY-1", "paid_on"),
        ("before approval", "PAY-1", "paid_on"),
        ("today", "   ", "bank_reference"),
        ("today", "X" * 141, "bank_reference"),
    ],
)
def test_bad_payment_details_are_refused(db, grant, people, paid_on, reference, field):
    approve(grant, people)
    days = {
        "tomorrow": fund_today() + timedelta(days=1),
        "before approval": days_ago(3),
        "today": fund_today(),
    }
    with pytest.raises(DomainError) as refusal:
        release(grant, people, paid_on=days[paid_on], reference=reference)
    assert refusal.value.field == field
    assert grant.tranches[0].state == TrancheState.APPROVED


def test_changed_bank_details_need_a_new_approval(db, grant, people):
    approve(grant, people)
    grant.bank_iban = "KZ000000000000000000"
    with pytest.raises(DomainError, match="approve again"):
        release(grant, people)


def test_a_suspended_grant_pays_nothing(db, grant, people):
    approve(grant, people)
    operations.suspend_grant(db.session, people["officer"], grant, "Audit.")
    with pytest.raises(DomainError, match="suspended"):
        release(grant, people)


def test_the_last_tranche_is_paid_after_completion(db, grant, people):
    for report in grant.reports:
        report.state = ReportState.ACCEPTED
    for tranche in grant.tranches:
        tranche.planned_date = days_ago(1)
    operations.complete_grant(db.session, people["officer"], grant)
    assert [t.state for t in grant.tranches] == [TrancheState.DUE] * 3
    for number in (1, 2, 3):
        approve(grant, people, number)
        release(grant, people, number, key=f"k{number}", reference=f"PAY-{number}")
    operations.close_grant(db.session, people["officer"], grant)
    figures = ledger.grant_figures(db.session, grant)
    assert figures.released == kzt(10_000_000_00) and figures.outstanding.minor == 0
    assert ledger.check_ledger(db.session) == []


def test_cancelling_a_released_tranche_is_refused(db, grant, people):
    approve(grant, people)
    release(grant, people)
    with pytest.raises(DomainError, match="released"):
        operations.cancel_tranche(db.session, people["officer"], grant.tranches[0], "Oops.")
    assert grant.tranches[0].state == TrancheState.RELEASED


# -- refunds -------------------------------------------------------------------------------------------------


def _paid(grant, people):
    approve(grant, people)
    release(grant, people)


@pytest.mark.parametrize("minor", [-100, 0])
def test_a_negative_or_zero_refund_is_refused(db, grant, people, minor):
    _paid(grant, people)
    before = entry_count(db)
    with pytest.raises(DomainError, match=r"A refund is money coming back: enter a positive amount\."):
        operations.record_refund(
            db.session, people["a"], grant, kzt(minor), value_date=fund_today(), bank_reference="R"
        )
    assert entry_count(db) == before


def test_a_refund_above_what_was_paid_is_refused(db, grant, people):
    _paid(grant, people)
    operations.record_refund(
        db.session, people["a"], grant, kzt(1_000_000_00), value_date=fund_today(), bank_reference="R1"
    )
    with pytest.raises(DomainError, match="at most"):
        operations.record_refund(
            db.session, people["a"], grant, kzt(3_000_000_01), value_date=fund_today(), bank_reference="R2"
        )
    assert ledger.grant_figures(db.session, grant).refunded == kzt(1_000_000_00)


def test_a_refund_goes_back_into_the_pool(db, grant, people):
    _paid(grant, people)
    before = ledger.pool_available(db.session, grant.pool)
    entry = operations.record_refund(
        db.session,
        people["b"],
        grant,
        kzt(500_000_00),
        value_date=fund_today(),
        bank_reference="RET-1",
        idempotency_key="r-1",
    )
    assert entry.kind == EntryKind.REFUND
    assert ledger.pool_available(db.session, grant.pool) == before + kzt(500_000_00)
    again = operations.record_refund(
        db.session,
        people["b"],
        grant,
        kzt(500_000_00),
        value_date=fund_today(),
        bank_reference="RET-1",
        idempotency_key="r-1",
    )
    assert again.id == entry.id
    assert ledger.check_ledger(db.session) == []


def test_a_refund_dated_in_the_future_is_refused(db, grant, people):
    _paid(grant, people)
    with pytest.raises(DomainError) as refusal:
        operations.record_refund(
            db.session,
            people["a"],
            grant,
            kzt(100),
            value_date=fund_today() + timedelta(days=1),
            bank_reference="R",
        )
    assert refusal.value.field == "value_date"
