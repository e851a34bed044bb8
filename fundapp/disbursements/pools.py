"""Funding pools: creating them, receiving funds into them, and choosing the pool a grant draws from.

The rule, one for the whole fund: a proposal draws from the most specific pool in its currency that can
cover it, in this order: a pool restricted to its call, a pool restricted to its theme, an unrestricted
pool (pools of one kind in the order of their codes). "Can cover" means the pool's available balance
(received less committed) less what approved grants not yet signed have reserved from it is at least the
amount. Restricted money is never used for another theme or call.
"""

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from fundapp.core.audit import record_event
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.disbursements import ledger
from fundapp.disbursements.models import (
    AccountKind,
    EntryKind,
    FundingPool,
    Grant,
    GrantState,
    Restriction,
)

POOL_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,39}")
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
MAX_BANK_REFERENCE = 140
MAX_NAME_LENGTH = 300


def get_pool(session, code):
    return session.scalar(select(FundingPool).where(FundingPool.code == code))


def create_pool(
    session, actor, *, code, name, currency, restriction=Restriction.UNRESTRICTED, theme=None, call=None
):
    """A new pool with its ledger account. ``code`` is short and upper-case (SEAL, GENERAL)."""
    code = (code or "").strip().upper()
    name = (name or "").strip()
    currency = (currency or "").strip().upper()
    if not POOL_CODE.fullmatch(code):
        raise DomainError(
            _("A pool code is 2 to 40 capital letters, digits or hyphens, e.g. SEAL or STEPPE-2026."),
            field="code",
        )
    if not name:
        raise DomainError(_("Give the pool a name."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise DomainError(_("A pool's name is at most 300 characters."), field="name")
    if not CURRENCY_CODE.fullmatch(currency):
        raise DomainError(
            _("A currency is an ISO 4217 code of three capital letters, e.g. KZT or USD."), field="currency"
        )
    if get_pool(session, code) is not None:
        raise DomainError(_("There is already a pool with the code %(code)s.", code=code), field="code")
    restriction = Restriction(restriction)
    if restriction == Restriction.THEME and not theme:
        raise DomainError(_("Choose the theme the pool is restricted to."), field="theme")
    if restriction == Restriction.THEME and not _is_theme(session, theme):
        raise DomainError(_("%(theme)s is not one of the fund's themes.", theme=theme), field="theme")
    if restriction == Restriction.CALL and call is None:
        raise DomainError(_("Choose the call the pool is restricted to."), field="call")
    if restriction == Restriction.CALL and call.currency != currency:
        raise DomainError(
            _(
                "The call %(call)s is in %(currency)s; its pool must be too.",
                call=call.reference,
                currency=call.currency,
            ),
            field="currency",
        )
    account = ledger.new_account(session, f"POOL-{code}", name, AccountKind.POOL, currency)
    pool = FundingPool(
        code=code,
        name=name,
        restriction=restriction,
        theme=theme if restriction == Restriction.THEME else None,
        call_id=call.id if restriction == Restriction.CALL else None,
        currency=currency,
        account_id=account.id,
        created_by_id=getattr(actor, "id", None),
    )
    session.add(pool)
    session.flush()
    record_event(
        session,
        actor,
        pool,
        "pool.created",
        after={
            "code": code,
            "name": name,
            "restriction": restriction.value,
            "theme": pool.theme,
            "call_id": pool.call_id,
            "currency": currency,
        },
    )
    return pool


def _is_theme(session, code):
    from fundapp.reference.models import ReferenceItem, Vocabulary

    return (
        session.scalar(
            select(ReferenceItem.id).where(
                ReferenceItem.vocabulary == Vocabulary.THEME,
                ReferenceItem.code == code,
                ReferenceItem.is_active.is_(True),
            )
        )
        is not None
    )


def receive_funds(
    session, actor, pool, amount, *, value_date=None, bank_reference="", description="", idempotency_key=None
):
    """Record money received into ``pool`` (Dr cash, Cr pool). Returns the journal entry.

    Until the donors module records contributions, this is how money enters the fund (an admin form and
    ``fundapp ledger receive``). A retry with the same ``idempotency_key`` returns the first entry.
    """
    if not isinstance(amount, Money):
        raise TypeError("amount must be Money")
    if amount.currency != pool.currency:
        raise DomainError(
            _("The pool %(pool)s is kept in %(currency)s.", pool=pool.code, currency=pool.currency),
            field="amount",
        )
    if amount.minor <= 0:
        raise DomainError(_("The amount received must be more than zero."), field="amount")
    bank_reference = (bank_reference or "").strip()
    if len(bank_reference) > MAX_BANK_REFERENCE:
        raise DomainError(_("The bank reference is at most 140 characters."), field="bank_reference")
    value_date = value_date or fund_today()
    if value_date > fund_today():
        raise DomainError(_("Money cannot be received on a future date."), field="value_date")
    print_ = ledger.fingerprint(
        pool=pool.id,
        amount=amount.minor,
        currency=amount.currency,
        value_date=value_date,
        bank_reference=bank_reference,
    )
    earlier = ledger.entry_for_key(session, idempotency_key, print_)
    if earlier is not None:
        return earlier
    return ledger.post_entry(
        session,
        actor,
        EntryKind.RECEIPT,
        [(ledger.cash_account(session, amount.currency), amount), (pool.account, -amount)],
        value_date=value_date,
        description=(description or "").strip() or _("Funds received into %(pool)s", pool=pool.name),
        bank_reference=bank_reference,
        pool=pool,
        idempotency_key=idempotency_key,
        request_fingerprint=print_ if idempotency_key else None,
    )


# -- choosing a pool ----------------------------------------------------------------------------------------


def reserved(session, pool, *, excluding=None):
    """What approved grants not yet signed have reserved from ``pool``."""
    query = select(func.coalesce(func.sum(Grant.amount_minor), 0)).where(
        Grant.pool_id == pool.id, Grant.state == GrantState.AGREEMENT
    )
    if excluding is not None:
        query = query.where(Grant.id != excluding.id)
    return Money(int(session.scalar(query)), pool.currency)


def free(session, pool):
    """What the board can still approve from ``pool``: available less reserved."""
    return ledger.pool_available(session, pool) - reserved(session, pool)


def candidate_pools(session, proposal):
    """The pools ``proposal`` may draw from, most specific first (see the module's rule)."""
    pools = session.scalars(
        select(FundingPool).where(FundingPool.currency == proposal.currency).order_by(FundingPool.code)
    ).all()
    by_call = [p for p in pools if p.restriction == Restriction.CALL and p.call_id == proposal.call_id]
    by_theme = [
        p
        for p in pools
        if p.restriction == Restriction.THEME and proposal.theme and p.theme == proposal.theme
    ]
    general = [p for p in pools if p.restriction == Restriction.UNRESTRICTED]
    return by_call + by_theme + general


@dataclass(frozen=True)
class PoolChoice:
    pool: FundingPool
    free_after: Money  # what the pool can still approve after this amount


def choose_pool(session, proposal, amount):
    """The pool ``proposal`` draws ``amount`` from, with the candidates' rows locked; refuses (DomainError)
    when no pool can cover it, saying what the best candidate has."""
    candidates = candidate_pools(session, proposal)
    ledger.lock_accounts(session, [pool.account for pool in candidates])
    best = None
    for pool in candidates:
        left = free(session, pool)
        if amount <= left:
            return PoolChoice(pool, left - amount)
        if best is None or left > best[1]:
            best = (pool, left)
    if best is None:
        raise DomainError(
            _(
                "No funding pool in %(currency)s can fund this proposal: record funds received into a pool "
                "for its call, its theme or the fund's unrestricted money first.",
                currency=proposal.currency,
            ),
            field="amount",
        )
    pool, left = best
    raise DomainError(
        _(
            "Approving %(amount)s would commit money the fund has not received: the pool %(pool)s has "
            "%(left)s free (received, less committed and reserved by grants awaiting signature).",
            amount=amount.format(),
            pool=pool.name,
            left=left.format(),
        ),
        field="amount",
    )
