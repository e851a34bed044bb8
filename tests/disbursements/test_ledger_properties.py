"""Property: whatever sequence of receipts, commitments, releases, de-commitments, refunds and reversals is
attempted through the ledger's functions, check_ledger finds nothing, a refused step writes nothing, and
the balances are what a plain model of the pools and grants says they are."""

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fundapp.core.errors import DomainError
from fundapp.disbursements import ledger
from fundapp.disbursements.models import AccountKind, EntryKind, JournalEntry, Posting
from fundapp.disbursements.pools import create_pool, receive_funds
from tests.disbursements.factories import kzt

DAY = date(2026, 1, 15)
POOLS = 2
GRANTS = 3

amounts = st.integers(min_value=1, max_value=5_000)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), st.integers(0, POOLS - 1), amounts),
        st.tuples(st.just("commit"), st.integers(0, POOLS - 1), st.integers(0, GRANTS - 1), amounts),
        st.tuples(st.just("release"), st.integers(0, GRANTS - 1), amounts),
        st.tuples(st.just("decommit"), st.integers(0, GRANTS - 1), st.integers(0, POOLS - 1), amounts),
        st.tuples(st.just("refund"), st.integers(0, POOLS - 1), amounts),
        st.tuples(st.just("reverse"), st.integers(0, 40)),
    ),
    min_size=1,
    max_size=25,
)


def _counts(session):
    return (
        session.scalar(select(func.count()).select_from(JournalEntry)),
        session.scalar(select(func.count()).select_from(Posting)),
    )


class Books:
    """The accounts of one example, and what their balances should be."""

    def __init__(self, session):
        self.session = session
        self.cash = ledger.cash_account(session, "KZT")
        self.pools = [
            create_pool(session, None, code=f"PROP-{n}", name=f"Pool {n}", currency="KZT")
            for n in range(POOLS)
        ]
        self.grants = [
            ledger.new_account(session, f"GRANT-PROP-{n}", f"Grant {n}", AccountKind.COMMITMENT, "KZT")
            for n in range(GRANTS)
        ]
        self.available = [0] * POOLS  # expected: received + refunded - committed
        self.outstanding = [0] * GRANTS  # expected: committed - released
        self.entries = []  # entries posted in this example, reversible or not

    def post(self, kind, lines):
        return ledger.post_entry(
            self.session, None, kind, [(account, kzt(minor)) for account, minor in lines], value_date=DAY
        )

    def apply(self, step):
        """Run ``step``; return the expected balance changes, applied only if the ledger accepted it."""
        name, *args = step
        if name == "receive":
            pool, minor = args
            entry = receive_funds(self.session, None, self.pools[pool], kzt(minor), value_date=DAY)
            return entry, [("pool", pool, minor)]
        if name == "commit":
            pool, grant, minor = args
            entry = self.post(
                EntryKind.COMMITMENT, [(self.pools[pool].account, minor), (self.grants[grant], -minor)]
            )
            return entry, [("pool", pool, -minor), ("grant", grant, minor)]
        if name == "release":
            grant, minor = args
            entry = self.post(EntryKind.RELEASE, [(self.grants[grant], minor), (self.cash, -minor)])
            return entry, [("grant", grant, -minor)]
        if name == "decommit":
            grant, pool, minor = args
            entry = self.post(
                EntryKind.DECOMMITMENT, [(self.grants[grant], minor), (self.pools[pool].account, -minor)]
            )
            return entry, [("grant", grant, -minor), ("pool", pool, minor)]
        if name == "refund":
            pool, minor = args
            entry = self.post(EntryKind.REFUND, [(self.cash, minor), (self.pools[pool].account, -minor)])
            return entry, [("pool", pool, minor)]
        (index,) = args
        if not self.entries:
            return None, []
        target = self.entries[index % len(self.entries)]
        entry = ledger.reverse_entry(self.session, None, target, "Property test")
        return entry, self._effects_of_reversal(target)

    def _effects_of_reversal(self, target):
        effects = []
        for posting in target.postings:
            for n, pool in enumerate(self.pools):
                if posting.account_id == pool.account_id:
                    effects.append(("pool", n, posting.amount_minor))  # credit balance: minus the negation
            for n, grant in enumerate(self.grants):
                if posting.account_id == grant.id:
                    effects.append(("grant", n, posting.amount_minor))
        return effects

    def record(self, effects):
        for what, n, minor in effects:
            if what == "pool":
                self.available[n] += minor
            else:
                self.outstanding[n] += minor

    def check(self):
        assert ledger.check_ledger(self.session) == []
        for n, pool in enumerate(self.pools):
            assert ledger.pool_available(self.session, pool) == kzt(self.available[n])
            assert self.available[n] >= 0
        for n, grant in enumerate(self.grants):
            assert -ledger.balance(self.session, grant) == kzt(self.outstanding[n])
            assert self.outstanding[n] >= 0


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_the_ledger_holds_after_any_sequence_of_movements(db, steps):
    savepoint = db.session.begin_nested()
    try:
        books = Books(db.session)
        for step in steps:
            before = _counts(db.session)
            try:
                entry, effects = books.apply(step)
            except DomainError:
                assert _counts(db.session) == before, f"refused step {step} wrote something"
            else:
                if entry is not None:
                    books.entries.append(entry)
                    books.record(effects)
                    assert _counts(db.session)[0] == before[0] + 1
            books.check()
    finally:
        savepoint.rollback()
