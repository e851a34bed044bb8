"""Tests of the reports module. ``make_portfolio()`` builds the grants the open-data and spreadsheet tests
share, through the real operations: a donor's contribution in the pool the grants draw from, a grant paid
once and partly refunded, one terminated and closed (the rest de-committed), one suspended, and two that
must never be published (one awaiting signature, one cancelled)."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from fundapp.core.formatting import fund_today
from fundapp.disbursements import operations
from fundapp.extensions import db
from tests.applications.factories import fund_call, make_call, make_officer
from tests.disbursements.factories import days_ago, kzt, make_finance_officer, make_grant
from tests.donors.factories import make_contribution, make_donor

#: The official schemas, beside the project (../shared/standards).
STANDARDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "standards"


def standards_dir(name):
    """The folder of one standard's schemas; missing, the test fails under CI and is skipped elsewhere."""
    folder = (STANDARDS / name).resolve()
    if not folder.is_dir():
        import os

        message = f"the official schemas are missing: {folder}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


@dataclass
class Portfolio:
    officer: object
    finance_a: object
    finance_b: object
    donor: object
    contribution: object
    paid: object  # active, tranche 1 released, part refunded
    closed: object  # tranche 1 released, terminated, closed
    suspended: object
    unsigned: object  # still in agreement
    cancelled: object

    @property
    def published(self):
        return [self.paid, self.closed, self.suspended]


def release_first_tranche(grant, people, key):
    tranche = grant.tranches[0]
    operations.refresh_due(db.session, grant)
    operations.approve_tranche(db.session, people.finance_a, tranche, bank_details_checked=True)
    operations.release_tranche(
        db.session,
        people.finance_b,
        tranche,
        paid_on=fund_today(),
        bank_reference=f"PAY-{key}",
        idempotency_key=f"release-{key}",
    )
    return tranche


def make_portfolio():
    officer = make_officer()
    finance_a, finance_b = make_finance_officer(), make_finance_officer()
    call = make_call(funded=False)
    pool = fund_call(call, 0)
    donor = make_donor(
        name="Caspian Seal Trust",
        kind="foundation",
        org_identifier="GB-CHC-1234567",
        preferred_currency="EUR",
    )
    contribution = make_contribution(donor, pool, "200000.00", currency="EUR", rate="540.25")
    grants = {}
    for name in ("paid", "closed", "suspended"):
        grants[name] = make_grant(
            active=True,
            call=call,
            officer=officer,
            amount_minor=10_000_000_00,
            start=days_ago(100),
            end=days_ago(-630),
        )
    people = Portfolio(
        officer,
        finance_a,
        finance_b,
        donor,
        contribution,
        grants["paid"],
        grants["closed"],
        grants["suspended"],
        make_grant(call=call, officer=officer, amount_minor=5_000_000_00),
        make_grant(call=call, officer=officer, amount_minor=5_000_000_00),
    )
    release_first_tranche(people.paid, people, "paid")
    operations.record_refund(
        db.session,
        finance_a,
        people.paid,
        kzt(250_000_50),
        value_date=fund_today(),
        bank_reference="RET-1",
    )
    release_first_tranche(people.closed, people, "closed")
    operations.terminate_grant(db.session, officer, people.closed, "The reserve was not created.")
    operations.close_grant(db.session, officer, people.closed)
    operations.suspend_grant(db.session, officer, people.suspended, "The report is late.")
    operations.cancel_grant(db.session, officer, people.cancelled, "The grantee withdrew.")
    db.session.flush()
    return people
