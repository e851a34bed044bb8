"""The double-entry ledger: accounts, journal entries and their postings, balances and invariants.

Every money movement is one ``JournalEntry`` whose ``Posting`` rows sum to zero per currency, written by
``post_entry`` and nothing else. Rows are never updated or deleted: a database trigger refuses it (installed
with the tables, on SQLite and PostgreSQL), and a mistake is corrected by ``reverse_entry``.

``post_entry`` locks the pool and commitment accounts it touches (in id order, so two entries never wait
on each other crosswise) and refuses any entry that would leave a pool's available balance or a grant's
outstanding commitment below zero. ``check_ledger`` (``fundapp ledger check``) re-checks every invariant
over the whole ledger and names each violation.

Signs: debit positive, credit negative. Cash has a debit balance; pools and commitments credit balances.

    funds received into pool P     Dr cash        Cr P
    commitment of grant G from P   Dr P           Cr G
    release of a tranche of G      Dr G           Cr cash
    de-commitment of G at closure  Dr G           Cr P
    refund by the grantee of G     Dr cash        Cr P
"""

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import DDL, bindparam, event, func, select

from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.errors import Conflict, DomainError
from fundapp.core.money import Money
from fundapp.disbursements.models import (
    AccountKind,
    EntryKind,
    FundingPool,
    Grant,
    JournalEntry,
    LedgerAccount,
    Posting,
    Tranche,
    TrancheState,
)

# -- append-only, enforced by the database ------------------------------------------------------------------

APPEND_ONLY_TABLES = ("journal_entry", "posting")

_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table}
BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: {table} cannot be {past}; post a reversing entry');
END"""
    for table in APPEND_ONLY_TABLES
    for verb, past in (("UPDATE", "updated"), ("DELETE", "deleted"))
]

_POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION fundapp_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % cannot be %; post a reversing entry',
        TG_TABLE_NAME, lower(TG_OP) || 'd';
END;
$$ LANGUAGE plpgsql"""

_POSTGRES_TRIGGERS = [
    f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION fundapp_ledger_append_only()"""
    for table in APPEND_ONLY_TABLES
]


def append_only_statements(dialect_name):
    """The SQL that makes the ledger's tables append-only on ``dialect_name`` (used by the migration too)."""
    if dialect_name == "sqlite":
        return list(_SQLITE_TRIGGERS)
    if dialect_name == "postgresql":
        return [_POSTGRES_FUNCTION, *_POSTGRES_TRIGGERS]
    return []


def _install_triggers(table, connection, **kw):
    if table.name != "posting":  # both tables exist once the later one is created
        return
    for statement in append_only_statements(connection.dialect.name):
        # DDL() %-formats its text; the PostgreSQL function's RAISE uses % placeholders.
        connection.execute(DDL(statement.replace("%", "%%")))


event.listen(Posting.__table__, "after_create", _install_triggers)


# -- accounts --------------------------------------------------------------------------------------------


def cash_account(session, currency):
    """The fund's cash account in ``currency`` (created the first time it is needed)."""
    code = f"CASH-{currency}"
    account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    if account is None:
        account = LedgerAccount(
            code=code,
            name=_("Cash (%(currency)s)", currency=currency),
            kind=AccountKind.CASH,
            currency=currency,
        )
        session.add(account)
        session.flush()
    return account


def new_account(session, code, name, kind, currency):
    account = LedgerAccount(code=code, name=name, kind=kind, currency=currency)
    session.add(account)
    session.flush()
    return account


# -- balances ------------------------------------------------------------------------------------------------


def balance(session, account, *, kinds=None):
    """The account's balance (debits positive), optionally over entries of ``kinds`` only."""
    query = select(func.coalesce(func.sum(Posting.amount_minor), 0)).where(Posting.account_id == account.id)
    if kinds is not None:
        query = query.join(JournalEntry, JournalEntry.id == Posting.entry_id).where(
            JournalEntry.kind.in_(kinds)
        )
    return Money(int(session.scalar(query)), account.currency)


@dataclass(frozen=True)
class PoolFigures:
    received: Money  # receipts, net of reversals
    refunded: Money  # refunds from grantees
    committed: Money  # commitments less de-commitments
    available: Money  # received + refunded - committed
    released: Money  # paid out of grants drawn from this pool


@dataclass(frozen=True)
class GrantFigures:
    committed: Money  # commitment less de-commitment
    released: Money
    refunded: Money
    outstanding: Money  # committed - released


def _sums_by_kind(session, account_ids):
    """{(account_id, kind): minor} over every posting on ``account_ids``."""
    if not account_ids:
        return {}
    rows = session.execute(
        select(Posting.account_id, JournalEntry.kind, func.sum(Posting.amount_minor))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account_id.in_(account_ids))
        .group_by(Posting.account_id, JournalEntry.kind)
    )
    return {(account_id, EntryKind(kind)): int(total) for account_id, kind, total in rows}


#: What moves a pool's account besides receipts. A release (Dr grant, Cr cash) never touches a pool.
_POOL_MOVEMENTS = (EntryKind.COMMITMENT, EntryKind.DECOMMITMENT, EntryKind.REFUND)


def pool_figures_many(session, pools):
    """``{pool.id: PoolFigures}`` for ``pools``, in four queries whatever their number.

    Receipts are nearly all of a pool's postings, so they are never joined to their entries: a pool's balance
    is a sum over its account's postings read from the index alone, the few commitments, de-commitments
    and refunds are found from their entries, and received is the rest. Released is summed over the pools'
    grant accounts, looked up first and named in the query, so that PostgreSQL reads their few postings
    from the index instead of scanning every posting. (Separate statements rather than one UNION: the
    union is costly enough for PostgreSQL to start parallel workers, which take longer than the sums.)
    """
    pools = list(pools)
    if not pools:
        return {}
    pool_accounts = [pool.account_id for pool in pools]
    balances = dict(
        session.execute(
            select(Posting.account_id, func.sum(Posting.amount_minor))
            .where(Posting.account_id.in_(pool_accounts))
            .group_by(Posting.account_id)
        ).all()
    )
    moved = {
        (account_id, EntryKind(kind)): int(total)
        for account_id, kind, total in session.execute(
            select(Posting.account_id, JournalEntry.kind, func.sum(Posting.amount_minor))
            .join(Posting, Posting.entry_id == JournalEntry.id)
            .where(JournalEntry.kind.in_(_POOL_MOVEMENTS), Posting.account_id.in_(pool_accounts))
            .group_by(Posting.account_id, JournalEntry.kind)
        )
    }
    pool_of_grant_account = dict(
        session.execute(
            select(Grant.account_id, Grant.pool_id).where(Grant.pool_id.in_([pool.id for pool in pools]))
        ).all()
    )
    released = defaultdict(int)
    if pool_of_grant_account:
        # The ids are written into the SQL: hundreds of bound parameters take longer to bind than the sum.
        grant_accounts = bindparam("grant_accounts", list(pool_of_grant_account), literal_execute=True)
        for account_id, total in session.execute(
            select(Posting.account_id, func.sum(Posting.amount_minor))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(JournalEntry.kind == EntryKind.RELEASE, Posting.account_id.in_(grant_accounts))
            .group_by(Posting.account_id)
        ):
            released[pool_of_grant_account[account_id]] += int(total)
    figures = {}
    for pool in pools:

        def of(kind, pool=pool):
            return moved.get((pool.account_id, kind), 0)

        currency = pool.currency
        total = int(balances.get(pool.account_id, 0))
        figures[pool.id] = PoolFigures(
            received=Money(-(total - sum(of(kind) for kind in _POOL_MOVEMENTS)), currency),
            refunded=Money(-of(EntryKind.REFUND), currency),
            committed=Money(of(EntryKind.COMMITMENT) + of(EntryKind.DECOMMITMENT), currency),
            available=Money(-total, currency),
            released=Money(released[pool.id], currency),
        )
    return figures


def pool_figures(session, pool):
    return pool_figures_many(session, [pool])[pool.id]


def pool_available(session, pool):
    """What the pool can still commit: received (and refunded) less committed."""
    return -balance(session, pool.account)


def grant_figures(session, grant):
    sums = _sums_by_kind(session, [grant.account_id])
    currency = grant.currency

    def of(kind):
        return sums.get((grant.account_id, kind), 0)

    committed = -(of(EntryKind.COMMITMENT) + of(EntryKind.DECOMMITMENT))
    released = of(EntryKind.RELEASE)
    refunded = -session.scalar(
        select(func.coalesce(func.sum(Posting.amount_minor), 0))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(
            JournalEntry.grant_id == grant.id,
            JournalEntry.kind == EntryKind.REFUND,
            Posting.account_id == grant.pool.account_id,
        )
    )
    return GrantFigures(
        committed=Money(committed, currency),
        released=Money(released, currency),
        refunded=Money(int(refunded), currency),
        outstanding=Money(committed - released, currency),
    )


# -- posting -------------------------------------------------------------------------------------------------


def fingerprint(**parameters):
    """SHA-256 of a request's parameters, to tell a retry from a different request with the same key."""
    canonical = json.dumps(parameters, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_for_key(session, idempotency_key, request_fingerprint):
    """The entry an earlier request with ``idempotency_key`` made, or None.

    The same key with other parameters is refused (``Conflict``, shown as 409): a key names one request.
    """
    if not idempotency_key:
        return None
    entry = session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == idempotency_key))
    if entry is not None and entry.request_fingerprint != request_fingerprint:
        raise Conflict(
            _(
                "This request was already made with other details (the same request key was used). "
                "Reload the page and try again."
            )
        )
    return entry


def lock_accounts(session, accounts):
    """Lock the accounts' rows in id order (PostgreSQL; SQLite's single writer serialises anyway)."""
    ids = sorted({account.id for account in accounts})
    if ids:
        session.execute(
            select(LedgerAccount.id)
            .where(LedgerAccount.id.in_(ids))
            .order_by(LedgerAccount.id)
            .with_for_update()
        )


def post_entry(
    session,
    actor,
    kind,
    lines,
    *,
    value_date,
    description="",
    bank_reference="",
    pool=None,
    grant=None,
    tranche=None,
    reverses=None,
    idempotency_key=None,
    request_fingerprint=None,
):
    """Write one journal entry with ``lines`` (``[(account, Money), ...]``, debits positive) and return it.

    Refuses (``DomainError``, nothing written) an entry that does not balance per currency, a zero or
    mismatched-currency line, or one that would leave a pool's available balance or a grant's outstanding
    commitment negative. Locks the pool and commitment accounts involved first. Never commits.
    """
    lines = [(account, amount) for account, amount in lines]
    if len(lines) < 2:
        raise DomainError(_("A journal entry needs at least two postings."))
    totals = defaultdict(int)
    for account, amount in lines:
        if not isinstance(amount, Money):
            raise TypeError(f"a posting amount must be Money, not {amount!r}")
        if amount.minor == 0:
            raise DomainError(_("A posting of zero is not a money movement."), field="amount")
        if amount.currency != account.currency:
            raise DomainError(
                _(
                    "The account %(account)s is kept in %(expected)s, not %(given)s.",
                    account=account.code,
                    expected=account.currency,
                    given=amount.currency,
                )
            )
        totals[amount.currency] += amount.minor
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise DomainError(
            _(
                "The postings of an entry must sum to zero in each currency; these do not: %(sums)s.",
                sums=", ".join(str(Money(total, currency)) for currency, total in unbalanced.items()),
            )
        )

    guarded = [
        account for account, _amount in lines if account.kind in (AccountKind.POOL, AccountKind.COMMITMENT)
    ]
    lock_accounts(session, guarded)
    # An account may appear on several lines: check what the whole entry does to it, not each line alone.
    moves = {}
    for account, amount in lines:
        if account.kind != AccountKind.CASH:
            previous = moves.get(account.id, (account, None))[1]
            moves[account.id] = (account, amount if previous is None else previous + amount)
    for account, amount in moves.values():
        # Pools and commitments have credit balances: what is left is minus the balance.
        before = balance(session, account)
        if (-(before + amount)).minor < 0:
            raise DomainError(_refusal(session, account, -before, amount), field="amount")

    entry = JournalEntry(
        kind=kind,
        value_date=value_date,
        recorded_at=utcnow(),
        recorded_by_id=getattr(actor, "id", None),
        description=(description or "")[:500],
        bank_reference=(bank_reference or "")[:140],
        pool_id=pool.id if pool is not None else None,
        grant_id=grant.id if grant is not None else None,
        tranche_id=tranche.id if tranche is not None else None,
        reverses_id=reverses.id if reverses is not None else None,
        idempotency_key=idempotency_key or None,
        request_fingerprint=request_fingerprint,
    )
    session.add(entry)
    session.flush()
    for account, amount in lines:
        session.add(
            Posting(
                entry_id=entry.id, account_id=account.id, amount_minor=amount.minor, currency=amount.currency
            )
        )
    session.flush()
    record_event(
        session,
        actor,
        entry,
        f"ledger.{kind.value}" if reverses is None else f"ledger.{kind.value}_reversed",
        after={
            "value_date": value_date.isoformat(),
            "postings": [[account.code, amount.minor, amount.currency] for account, amount in lines],
            "bank_reference": entry.bank_reference,
            "reverses": entry.reverses_id,
        },
    )
    return entry


def _refusal(session, account, left, amount):
    if account.kind == AccountKind.POOL:
        return _(
            "The pool %(pool)s has only %(left)s available; %(amount)s cannot be taken from it.",
            pool=account.name,
            left=left.format(),
            amount=(amount if amount.minor > 0 else -amount).format(),
        )
    return _(
        "The grant's commitment (%(account)s) has only %(left)s outstanding; "
        "%(amount)s cannot be paid from it.",
        account=account.code,
        left=left.format(),
        amount=(amount if amount.minor > 0 else -amount).format(),
    )


def reverse_entry(session, actor, entry, reason, *, value_date=None):
    """Correct ``entry`` by posting its exact opposite (same kind, ``reverses`` set). An entry is reversed at
    most once and a reversal is not reversed; a reversal that would break an invariant is refused, and so
    is the reversal of a grant's commitment or de-commitment (they follow the grant's state)."""
    from fundapp.core.formatting import fund_today

    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the entry is reversed."), field="reason")
    if entry.reverses_id is not None:
        raise DomainError(_("This entry is itself a reversal; post a new entry instead of reversing it."))
    if session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == entry.id)) is not None:
        raise DomainError(_("This entry has already been reversed."))
    if entry.kind in (EntryKind.COMMITMENT, EntryKind.DECOMMITMENT) and entry.grant_id is not None:
        # Reversing it would leave the grant's state and its commitment disagreeing.
        raise DomainError(
            _(
                "A grant's commitment follows the grant: cancel, terminate or close the grant instead of "
                "reversing this entry."
            )
        )
    if entry.kind == EntryKind.RELEASE and entry.tranche_id is not None:
        tranche = session.get(Tranche, entry.tranche_id)
        if tranche is not None and tranche.state == TrancheState.RELEASED:
            raise DomainError(
                _("A release is paid money: record a refund from the grantee instead of reversing it.")
            )
    lines = [(posting.account, -posting.amount) for posting in entry.postings]
    return post_entry(
        session,
        actor,
        entry.kind,
        lines,
        value_date=value_date or fund_today(),
        description=_("Reversal of entry %(id)d: %(reason)s", id=entry.id, reason=reason),
        pool=entry.pool,
        grant=entry.grant,
        reverses=entry,
    )


# -- the invariants ----------------------------------------------------------------------------------------


def check_ledger(session):
    """Every violation of the ledger's invariants, as sentences (an empty list when the ledger holds).

    1. the postings of every entry sum to zero per currency, and there are at least two;
    2. every posting is in its account's currency;
    3. no pool's available balance is negative;
    4. no grant has released more than it committed (no commitment account with a debit balance);
    5. a tranche is released at most once, by one release entry of its amount, and only a released
       tranche has one.
    """
    problems = []
    unbalanced = session.execute(
        select(Posting.entry_id, Posting.currency, func.sum(Posting.amount_minor))
        .group_by(Posting.entry_id, Posting.currency)
        .having(func.sum(Posting.amount_minor) != 0)
        .order_by(Posting.entry_id)
    ).all()
    for entry_id, currency, total in unbalanced:
        problems.append(
            f"journal entry {entry_id}: its {currency} postings sum to "
            f"{Money(int(total), currency)}, not zero"
        )
    short = session.execute(
        select(JournalEntry.id)
        .outerjoin(Posting, Posting.entry_id == JournalEntry.id)
        .group_by(JournalEntry.id)
        .having(func.count(Posting.id) < 2)
        .order_by(JournalEntry.id)
    ).scalars()
    for entry_id in short:
        problems.append(f"journal entry {entry_id} has fewer than two postings")
    mismatched = session.execute(
        select(Posting.id, Posting.currency, LedgerAccount.code, LedgerAccount.currency)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(Posting.currency != LedgerAccount.currency)
        .order_by(Posting.id)
    )
    for posting_id, currency, code, expected in mismatched:
        problems.append(f"posting {posting_id} is in {currency} on the {expected} account {code}")
    balances = session.execute(
        select(LedgerAccount.code, LedgerAccount.kind, LedgerAccount.currency, func.sum(Posting.amount_minor))
        .join(Posting, Posting.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind.in_([AccountKind.POOL, AccountKind.COMMITMENT]))
        .group_by(LedgerAccount.id, LedgerAccount.code, LedgerAccount.kind, LedgerAccount.currency)
        .having(func.sum(Posting.amount_minor) > 0)
        .order_by(LedgerAccount.code)
    )
    for code, kind, currency, total in balances:
        excess = Money(int(total), currency)
        if AccountKind(kind) == AccountKind.POOL:
            problems.append(f"pool account {code}: available balance is negative ({-excess})")
        else:
            problems.append(f"grant account {code}: released {excess} more than it committed")
    releases = session.execute(
        select(JournalEntry.tranche_id, func.count(JournalEntry.id))
        .where(JournalEntry.tranche_id.is_not(None))
        .group_by(JournalEntry.tranche_id)
        .having(func.count(JournalEntry.id) > 1)
    )
    for tranche_id, count in releases:
        problems.append(f"tranche {tranche_id} was released {count} times")
    release_rows = session.execute(
        select(Tranche.id, Tranche.state, Tranche.amount_minor, Tranche.grant_id, JournalEntry.id)
        .outerjoin(JournalEntry, JournalEntry.tranche_id == Tranche.id)
        .order_by(Tranche.id)
    ).all()
    for tranche_id, state, amount_minor, grant_id, entry_id in release_rows:
        released = TrancheState(state) == TrancheState.RELEASED
        if released and entry_id is None:
            problems.append(
                f"tranche {tranche_id} is marked released but the ledger has no release entry for it"
            )
        elif entry_id is not None and not released:
            problems.append(f"tranche {tranche_id} has a release entry ({entry_id}) but is {state}")
        elif entry_id is not None:
            paid = session.scalar(
                select(func.sum(Posting.amount_minor))
                .join(Grant, Grant.account_id == Posting.account_id)
                .where(Posting.entry_id == entry_id, Grant.id == grant_id)
            )
            if int(paid or 0) != amount_minor:
                problems.append(
                    f"tranche {tranche_id}: release entry {entry_id} paid {paid} minor units, "
                    f"the tranche is {amount_minor}"
                )
    return problems


def pools_in_order(session):
    return session.scalars(select(FundingPool).order_by(FundingPool.code)).all()
