"""Grant operations: the schedule, the agreement, signing (the ledger commitment), the grant's life and
its closure."""

import io
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today
from fundapp.disbursements import ledger, operations
from fundapp.disbursements.documents import render_agreement
from fundapp.disbursements.models import (
    EntryKind,
    GrantState,
    JournalEntry,
    ReportKind,
    ReportState,
    TrancheGate,
    TrancheState,
)
from fundapp.disbursements.pools import free
from tests.applications.factories import fund_call, make_call, make_officer
from tests.core.sample_files import MINIMAL_PDF
from tests.disbursements.factories import days_ago, kzt, make_finance_officer, make_grant
from tests.factories import make_user


def decided_days_ago(grant, days=10):
    grant.agenda_item.decided_at = utcnow() - timedelta(days=days)


def signed_copy(data=MINIMAL_PDF, name="signed.pdf"):
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


def sign(grant, officer, **overrides):
    fields = {
        "grantee_signatory": "Aigerim Nurlanovna, director",
        "grantee_signed_on": days_ago(2),
        "fund_signatory": "Executive director",
        "fund_signed_on": days_ago(1),
        "signed_copy": signed_copy(),
    }
    fields.update(overrides)
    return operations.sign_grant(fields.pop("session", None) or _session(), officer, grant, **fields)


def _session():
    from fundapp.extensions import db

    return db.session


def rows_of(grant, **changes):
    rows = [{"amount": t.amount, "planned_date": t.planned_date, "gate": t.gate} for t in grant.tranches]
    for index, change in changes.items():
        rows[int(index.removeprefix("t"))].update(change)
    return rows


def pdf_text(tmp_path, data):
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def officer(db):
    return make_officer()


# -- the schedule --------------------------------------------------------------------------------------------


def test_schedule_in_agreement_can_be_replaced_and_rebuilds_the_reports(db, officer):
    grant = make_grant(amount_minor=10_000_000_00, officer=officer)
    start = grant.start_date
    rows = [
        {"amount": kzt(5_000_000_00), "planned_date": start, "gate": TrancheGate.NONE},
        {"amount": kzt(3_000_000_00), "planned_date": start + timedelta(days=120), "gate": "progress_report"},
        {"amount": kzt(1_000_000_00), "planned_date": start + timedelta(days=240), "gate": "progress_report"},
        {
            "amount": kzt(1_000_000_00),
            "planned_date": grant.end_date + timedelta(days=30),
            "gate": "final_report",
        },
    ]
    operations.update_schedule(db.session, officer, grant, rows)
    assert [t.amount_minor for t in grant.tranches] == [
        5_000_000_00,
        3_000_000_00,
        1_000_000_00,
        1_000_000_00,
    ]
    assert [r.kind for r in grant.reports] == [ReportKind.PROGRESS, ReportKind.PROGRESS, ReportKind.FINAL]
    second = grant.reports[1]
    assert second.period_start == start + timedelta(days=121)
    assert second.period_end == start + timedelta(days=240)
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "grant.schedule_changed")
        )
        == 1
    )


def test_schedule_that_does_not_add_up_is_refused_with_the_difference(db, officer):
    grant = make_grant(amount_minor=10_000_000_00, officer=officer)
    rows = rows_of(grant, t0={"amount": kzt(4_500_000_00)})
    with pytest.raises(DomainError) as refusal:
        operations.update_schedule(db.session, officer, grant, rows)
    assert "500,000.00" in refusal.value.message and "more than the grant" in refusal.value.message
    db.session.expire_all()
    assert [t.amount_minor for t in grant.tranches] == [4_000_000_00, 4_000_000_00, 2_000_000_00]


def test_schedule_short_of_the_grant_says_how_much_is_missing(db, officer):
    grant = make_grant(amount_minor=10_000_000_00, officer=officer)
    rows = rows_of(grant)[:2]
    with pytest.raises(DomainError) as refusal:
        operations.update_schedule(db.session, officer, grant, rows)
    assert "2,000,000.00" in refusal.value.message and "less than the grant" in refusal.value.message


def test_tranche_before_the_start_is_refused(db, officer):
    grant = make_grant(amount_minor=10_000_000_00, officer=officer)
    rows = rows_of(grant, t0={"planned_date": grant.start_date - timedelta(days=1)})
    with pytest.raises(DomainError, match="before the grant starts"):
        operations.update_schedule(db.session, officer, grant, rows)


def test_released_tranche_cannot_be_edited(db, officer):
    finance_a, finance_b = make_finance_officer(), make_finance_officer()
    grant = make_grant(active=True, amount_minor=10_000_000_00, officer=officer)
    first = grant.tranches[0]
    operations.approve_tranche(db.session, finance_a, first, bank_details_checked=True)
    operations.release_tranche(
        db.session, finance_b, first, paid_on=fund_today(), bank_reference="PAY-1", idempotency_key="k1"
    )
    rows = rows_of(grant, t0={"amount": kzt(3_000_000_00)}, t1={"amount": kzt(5_000_000_00)})
    with pytest.raises(DomainError, match="Tranche 1 is released; it cannot be changed"):
        operations.update_schedule(db.session, officer, grant, rows)
    db.session.expire_all()
    assert [t.amount_minor for t in grant.tranches] == [4_000_000_00, 4_000_000_00, 2_000_000_00]


def test_signed_schedule_moves_open_tranches_but_keeps_count_and_gates(db, officer):
    grant = make_grant(active=True, amount_minor=10_000_000_00, officer=officer)
    rows = rows_of(grant, t1={"amount": kzt(3_000_000_00)}, t2={"amount": kzt(3_000_000_00)})
    operations.update_schedule(db.session, officer, grant, rows)
    assert [t.amount_minor for t in grant.tranches] == [4_000_000_00, 3_000_000_00, 3_000_000_00]

    with pytest.raises(DomainError, match="keeps its 3 tranches"):
        operations.update_schedule(db.session, officer, grant, rows_of(grant)[:2])
    with pytest.raises(DomainError, match="cannot change"):
        operations.update_schedule(db.session, officer, grant, rows_of(grant, t1={"gate": TrancheGate.NONE}))


def test_only_programme_officers_edit_the_schedule(db):
    grant = make_grant()
    with pytest.raises(DomainError, match="programme officer"):
        operations.update_schedule(db.session, make_finance_officer(), grant, rows_of(grant))


# -- the agreement -------------------------------------------------------------------------------------------


def test_agreement_pdf_names_parties_amount_schedule_reports_and_bank(db, officer, tmp_path):
    grant = make_grant(amount_minor=10_000_000_00, officer=officer, conditions="Hire a seal vet first.")
    grant.conditions = "Hire a seal vet first."
    text = pdf_text(tmp_path, render_agreement(grant))
    organisation = grant.organisation
    assert "International Biodiversity Fund of Kazakhstan" in text
    assert organisation.name_en in text and organisation.bin in text
    assert grant.reference in text and grant.title in text
    assert "10,000,000.00" in text and "4,000,000.00" in text and "2,000,000.00" in text
    assert "Hire a seal vet first." in text
    assert "Progress report 1, accepted by the fund" in text
    assert "The final report, accepted by the fund" in text
    assert organisation.bank_iban in text
    assert "For the grantee" in text and "For the fund" in text


def test_store_agreement_keeps_the_pdf_and_its_hash_and_a_schedule_change_outdates_it(db, officer):
    grant = make_grant(amount_minor=10_000_000_00, officer=officer)
    stored = operations.store_agreement(db.session, officer, grant)
    assert grant.agreement_file_id == stored.id
    assert len(grant.agreement_sha256) == 64
    operations.update_schedule(db.session, officer, grant, rows_of(grant))
    assert grant.agreement_file_id is None and grant.agreement_sha256 is None


# -- signing -------------------------------------------------------------------------------------------------


def test_signing_activates_and_commits_the_amount(db, officer, mail):
    grant = make_grant(amount_minor=10_000_000_00, officer=officer)
    decided_days_ago(grant)
    pool_before = ledger.pool_available(db.session, grant.pool)
    sign(grant, officer)
    assert grant.state == GrantState.ACTIVE
    assert grant.activated_at is not None
    assert grant.bank_iban == grant.organisation.bank_iban
    assert grant.signed_copy_file_id is not None and grant.agreement_file_id is not None
    figures = ledger.grant_figures(db.session, grant)
    assert figures.committed == kzt(10_000_000_00) and figures.outstanding == kzt(10_000_000_00)
    assert ledger.pool_available(db.session, grant.pool) == pool_before - kzt(10_000_000_00)
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.grant_id == grant.id))
    assert entry.kind == EntryKind.COMMITMENT and entry.value_date == days_ago(1)
    assert ledger.check_ledger(db.session) == []
    # The first tranche waits for nothing and its date (the project start) has come.
    assert grant.tranches[0].state == TrancheState.DUE


def test_signing_with_a_short_pool_is_refused_and_changes_nothing(db, officer):
    call = make_call(funded=False)
    fund_call(call, 10_000_000_00)
    grant = make_grant(call=call, amount_minor=10_000_000_00, officer=officer)
    decided_days_ago(grant)
    # Money left the pool after the approval (another grant signed from it).
    other = make_grant(call=call, amount_minor=1_000_000_00, officer=officer)
    grant.pool.account  # noqa: B018
    ledger.post_entry(
        db.session,
        officer,
        EntryKind.COMMITMENT,
        [(other.pool.account, other.amount), (other.account, -other.amount)],
        value_date=fund_today(),
        pool=other.pool,
        grant=other,
    )
    with pytest.raises(DomainError, match="commit money the fund has not received"):
        sign(grant, officer)
    assert grant.state == GrantState.AGREEMENT
    assert grant.signed_copy_file_id is None and grant.bank_iban is None
    assert ledger.grant_figures(db.session, grant).committed.minor == 0
    assert ledger.check_ledger(db.session) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"grantee_signatory": "  "}, "grantee_signatory"),
        ({"fund_signed_on": None}, "fund_signed_on"),
        ({"fund_signed_on": "tomorrow"}, "fund_signed_on"),
        ({"grantee_signed_on": "before the decision"}, "grantee_signed_on"),
        ({"signed_copy": None}, "signed_copy"),
        ({"signed_copy": "text"}, "signed_copy"),
    ],
)
def test_bad_signatures_are_refused(db, officer, overrides, field):
    grant = make_grant(officer=officer)
    decided_days_ago(grant)
    days = {"tomorrow": fund_today() + timedelta(days=1), "before the decision": days_ago(30)}
    overrides = {
        key: days.get(value, value) if isinstance(value, str) else value for key, value in overrides.items()
    }
    if overrides.get("signed_copy") == "text":
        overrides["signed_copy"] = signed_copy(b"just some text, not a pdf", "agreement.pdf")
    with pytest.raises(DomainError) as refusal:
        sign(grant, officer, **overrides)
    assert refusal.value.field == field
    assert grant.state == GrantState.AGREEMENT


def test_an_organisation_without_iban_cannot_sign(db, officer):
    grant = make_grant(officer=officer)
    decided_days_ago(grant)
    grant.organisation.bank_iban = None
    with pytest.raises(DomainError, match="IBAN"):
        sign(grant, officer)
    assert grant.state == GrantState.AGREEMENT


# -- the grant's life ----------------------------------------------------------------------------------------


def test_cancelling_an_unsigned_grant_frees_its_reservation(db, officer):
    grant = make_grant(amount_minor=10_000_000_00, officer=officer)
    before = free(db.session, grant.pool)
    operations.cancel_grant(db.session, officer, grant, "The grantee withdrew.")
    assert grant.state == GrantState.CANCELLED
    assert free(db.session, grant.pool) == before + kzt(10_000_000_00)
    assert all(t.state == TrancheState.CANCELLED for t in grant.tranches)
    assert (
        db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.grant_id == grant.id)) == 0
    )


def test_termination_cancels_the_open_tranches(db, officer):
    grant = make_grant(active=True, officer=officer)
    operations.approve_tranche(
        db.session, make_finance_officer(), grant.tranches[0], bank_details_checked=True
    )
    operations.terminate_grant(db.session, officer, grant, "Funds misused.")
    assert grant.state == GrantState.TERMINATED
    assert [t.state for t in grant.tranches] == [TrancheState.CANCELLED] * 3
    assert grant.tranches[0].cancel_reason == "Funds misused."


def test_suspension_needs_a_reason_and_stops_payments(db, officer):
    grant = make_grant(active=True, officer=officer)
    with pytest.raises(DomainError) as refusal:
        operations.suspend_grant(db.session, officer, grant, "  ")
    assert refusal.value.field == "reason"
    operations.suspend_grant(db.session, officer, grant, "Report overdue by months.")
    with pytest.raises(DomainError, match="suspended"):
        operations.approve_tranche(
            db.session, make_finance_officer(), grant.tranches[0], bank_details_checked=True
        )
    operations.resume_grant(db.session, officer, grant)
    assert grant.state == GrantState.ACTIVE


def test_closure_decommits_the_rest_and_the_pool_gets_it_back(db, officer):
    finance_a, finance_b = make_finance_officer(), make_finance_officer()
    grant = make_grant(active=True, amount_minor=10_000_000_00, officer=officer)
    first = grant.tranches[0]
    operations.approve_tranche(db.session, finance_a, first, bank_details_checked=True)
    operations.release_tranche(
        db.session, finance_b, first, paid_on=fund_today(), bank_reference="PAY-1", idempotency_key=None
    )
    operations.terminate_grant(db.session, officer, grant, "Project stopped.")
    available_before = ledger.pool_available(db.session, grant.pool)
    operations.close_grant(db.session, officer, grant)
    assert grant.state == GrantState.CLOSED and grant.closed_at is not None
    figures = ledger.grant_figures(db.session, grant)
    assert figures.committed == kzt(4_000_000_00) and figures.released == kzt(4_000_000_00)
    assert figures.outstanding.minor == 0
    assert ledger.pool_available(db.session, grant.pool) == available_before + kzt(6_000_000_00)
    assert ledger.check_ledger(db.session) == []


def test_closure_waits_for_every_tranche(db, officer):
    grant = make_grant(active=True, officer=officer)
    for report in grant.reports:
        report.state = ReportState.ACCEPTED
    operations.complete_grant(db.session, officer, grant)
    with pytest.raises(DomainError, match="released or cancelled"):
        operations.close_grant(db.session, officer, grant)
    assert grant.state == GrantState.COMPLETED


def test_completion_waits_for_the_final_report(db, officer):
    grant = make_grant(active=True, officer=officer)
    with pytest.raises(DomainError, match="final report"):
        operations.complete_grant(db.session, officer, grant)
    assert grant.state == GrantState.ACTIVE


def test_others_cannot_manage_grants(db):
    grant = make_grant(active=True)
    with pytest.raises(DomainError):
        operations.suspend_grant(db.session, make_user(), grant, "no")
    assert grant.state == GrantState.ACTIVE


# -- the timeline --------------------------------------------------------------------------------------------


def test_timeline_flags_overdue_tranches_and_reports(db, officer):
    grant = make_grant(active=True, officer=officer, start=days_ago(200), end=days_ago(-200))
    report = grant.reports[0]
    report.due_date = days_ago(5)
    operations.refresh_due(db.session, grant)
    rows = operations.grant_timeline(grant)
    assert [row.day for row in rows] == sorted(row.day for row in rows)
    by_anchor = {row.anchor: row for row in rows}
    assert by_anchor["tranche-1"].overdue  # due since the start, not paid
    assert by_anchor["report-1"].overdue
    assert not by_anchor["tranche-3"].overdue and not by_anchor["tranche-3"].due
    assert any(row.kind == "signature" for row in rows)


def test_an_overlong_reason_is_refused(db, officer):
    grant = make_grant(active=True, officer=officer)
    with pytest.raises(DomainError) as refusal:
        operations.suspend_grant(db.session, officer, grant, "x" * 5001)
    assert refusal.value.field == "reason"
    assert grant.state == GrantState.ACTIVE
