"""A Hypothesis state machine: receive, commit, approve, release, retry, refund, terminate and close in any
order, through the real operations; after every step the ledger's invariants hold and its figures equal a
simple model of what should have happened. A refused step changes nothing.
"""

import io
import uuid
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from fundapp.accounts.models import User
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.disbursements import ledger, operations
from fundapp.disbursements.models import (
    GrantState,
    JournalEntry,
    ReportState,
    TrancheState,
)
from fundapp.disbursements.pools import receive_funds
from fundapp.extensions import db
from tests.applications.factories import make_call
from tests.core.sample_files import MINIMAL_PDF
from tests.disbursements.factories import days_ago, make_finance_officer, make_grant

GRANTS = 3
GRANT_MINOR = 1_000_000_00
#: What the runs got done (not refused), so the test can show it reached the interesting steps.
DONE = Counter()


def kzt(minor):
    return Money(minor, "KZT")


def _entries():
    return db.session.scalar(select(func.count()).select_from(JournalEntry))


class LedgerMachine(RuleBasedStateMachine):
    """The fund: one pool, three approved grants awaiting signature, two finance officers."""

    @initialize()
    def fund(self):
        self.session = db.session
        call = make_call(funded=False)
        self.grants = [
            make_grant(call=call, amount_minor=GRANT_MINOR, start=days_ago(400), end=days_ago(10))
            for _ in range(GRANTS)
        ]
        self.pool = self.grants[0].pool
        receive_funds(self.session, None, self.pool, kzt(GRANT_MINOR), bank_reference="IN-0")
        self.officer = db.session.get(User, self.grants[0].created_by_id)
        self.approver, self.releaser = make_finance_officer(), make_finance_officer()
        self.received = GRANT_MINOR
        self.refunded = 0
        self.released = dict.fromkeys(range(GRANTS), 0)
        self.committed = dict.fromkeys(range(GRANTS), 0)
        self.keys = {}  # tranche id -> (key, paid_on, reference, entry id)
        # Start from a signed grant whose first tranche is approved, so that runs reach paying and
        # refunding and closing within a few steps (every other step stays open to them).
        self.sign(0)
        self._approve(self.grants[0].tranches[0])

    # -- helpers ----------------------------------------------------------------------------------------

    def _refused(self, action):
        """Run ``action`` in a savepoint; a DomainError rolls it back. Returns True when refused."""
        before = _entries()
        savepoint = self.session.begin_nested()
        try:
            action()
        except DomainError:
            savepoint.rollback()
            self.session.expire_all()
            assert _entries() == before, "a refused step wrote to the ledger"
            return True
        savepoint.commit()
        return False

    def _available(self):
        return self.received + self.refunded - sum(self.committed.values())

    # -- steps ------------------------------------------------------------------------------------------

    @rule(amount=st.integers(min_value=1, max_value=3 * GRANT_MINOR))
    def receive(self, amount):
        receive_funds(self.session, None, self.pool, kzt(amount), bank_reference=f"IN-{uuid.uuid4().hex[:8]}")
        self.received += amount

    @rule(index=st.integers(0, GRANTS - 1))
    def sign(self, index):
        grant = self.grants[index]
        today = fund_today()

        def act():
            operations.sign_grant(
                self.session,
                self.officer,
                grant,
                grantee_signatory="Director",
                grantee_signed_on=today,
                fund_signatory="Executive director",
                fund_signed_on=today,
                signed_copy=FileStorage(io.BytesIO(MINIMAL_PDF), filename="signed.pdf"),
            )

        could = grant.state == GrantState.AGREEMENT and self._available() >= grant.amount_minor
        refused = self._refused(act)
        assert refused == (not could)
        if not refused:
            self.committed[index] = grant.amount_minor
            DONE["sign"] += 1

    @rule(index=st.integers(0, GRANTS - 1), number=st.integers(1, 3))
    def accept_report(self, index, number):
        """The gating report of a tranche is accepted (the reports module's work, set directly here)."""
        grant = self.grants[index]
        tranche = grant.tranches[number - 1]
        if tranche.report is not None and tranche.report.state != ReportState.ACCEPTED:
            tranche.report.state = ReportState.ACCEPTED
            self.session.flush()

    def _tranches(self, state=None):
        return [t for grant in self.grants for t in grant.tranches if state is None or t.state == state]

    def _approve(self, tranche):
        DONE["approve-try"] += 1
        if not self._refused(
            lambda: operations.approve_tranche(
                self.session, self.approver, tranche, bank_details_checked=True
            )
        ):
            DONE["approve"] += 1

    @rule(index=st.integers(0, GRANTS - 1), number=st.integers(1, 3))
    def approve_any(self, index, number):
        self._approve(self.grants[index].tranches[number - 1])

    @precondition(lambda self: self._tranches(TrancheState.DUE))
    @rule(data=st.data())
    def approve_due(self, data):
        self._approve(data.draw(st.sampled_from(self._tranches(TrancheState.DUE))))

    def _release(self, tranche, by_approver):
        key, paid_on, reference = uuid.uuid4().hex, fund_today(), f"OUT-{uuid.uuid4().hex[:8]}"
        actor = self.approver if by_approver else self.releaser
        was_approved = tranche.state == TrancheState.APPROVED
        result = {}

        def act():
            result["entry"] = operations.release_tranche(
                self.session, actor, tranche, paid_on=paid_on, bank_reference=reference, idempotency_key=key
            )

        refused = self._refused(act)
        assert refused == (by_approver or not was_approved)
        if not refused:
            DONE["release"] += 1
            index = next(i for i, grant in enumerate(self.grants) if grant.id == tranche.grant_id)
            self.released[index] += tranche.amount_minor
            self.keys[tranche.id] = (key, paid_on, reference, result["entry"].id)
            self._retry(tranche.id)  # the double click: answered with the first result

    @rule(index=st.integers(0, GRANTS - 1), number=st.integers(1, 3), by_approver=st.booleans())
    def release_any(self, index, number, by_approver):
        self._release(self.grants[index].tranches[number - 1], by_approver)

    @precondition(lambda self: self._tranches(TrancheState.APPROVED))
    @rule(data=st.data(), by_approver=st.booleans())
    def release_approved(self, data, by_approver):
        self._release(data.draw(st.sampled_from(self._tranches(TrancheState.APPROVED))), by_approver)

    def _retry(self, tranche_id):
        key, paid_on, reference, entry_id = self.keys[tranche_id]
        tranche = next(t for t in self._tranches() if t.id == tranche_id)
        before = _entries()
        entry = operations.release_tranche(
            self.session,
            self.releaser,
            tranche,
            paid_on=paid_on,
            bank_reference=reference,
            idempotency_key=key,
        )
        assert entry.id == entry_id
        assert _entries() == before
        DONE["retry"] += 1

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def retry(self, data):
        """A retry later on, after other steps."""
        self._retry(data.draw(st.sampled_from(sorted(self.keys))))

    @rule(index=st.integers(0, GRANTS - 1), amount=st.integers(min_value=-GRANT_MINOR, max_value=GRANT_MINOR))
    def refund(self, index, amount):
        grant = self.grants[index]
        refunded_before = ledger.grant_figures(self.session, grant).refunded.minor

        def act():
            operations.record_refund(
                self.session,
                self.releaser,
                grant,
                kzt(amount),
                value_date=fund_today(),
                bank_reference="REF-1",
            )

        refused = self._refused(act)
        assert refused == (amount <= 0 or amount > self.released[index] - refunded_before)
        if not refused:
            DONE["refund"] += 1
            self.refunded += amount

    @rule(index=st.integers(0, GRANTS - 1))
    def terminate(self, index):
        grant = self.grants[index]
        self._refused(
            lambda: operations.terminate_grant(self.session, self.officer, grant, "Stopped by the fund")
        )

    @rule(index=st.integers(0, GRANTS - 1))
    def close(self, index):
        grant = self.grants[index]
        outstanding = self.committed[index] - self.released[index]
        if not self._refused(lambda: operations.close_grant(self.session, self.officer, grant)):
            self.committed[index] -= outstanding  # the rest goes back to the pool
            DONE["close"] += 1

    # -- what must always hold ----------------------------------------------------------------------------

    @invariant()
    def ledger_holds(self):
        if not hasattr(self, "pool"):
            return
        assert ledger.check_ledger(self.session) == []
        assert ledger.pool_available(self.session, self.pool).minor == self._available()
        for index, grant in enumerate(self.grants):
            figures = ledger.grant_figures(self.session, grant)
            assert figures.released.minor == self.released[index]
            assert figures.committed.minor == self.committed[index]
            assert figures.released <= figures.committed
            released_tranches = [t for t in grant.tranches if t.state == TrancheState.RELEASED]
            assert sum(t.amount_minor for t in released_tranches) == self.released[index]


def test_the_ledger_holds_after_any_sequence_of_operations(db):
    DONE.clear()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            derandomize=True,  # the same sequences every run: CI never meets a new one by chance
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
    # The sequences reached every kind of step that moves money, not only refusals.
    assert {"sign", "release", "retry", "refund", "close"} <= set(DONE), DONE
