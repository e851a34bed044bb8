"""Factories for donors: a donor, a contribution into a pool (through the real operation, so it is a
ledger receipt), and a portal user for a donor::

    donor = make_donor(preferred_currency="EUR")
    make_contribution(donor, pool, "100000.00", currency="EUR", rate="540.25")
"""

import itertools
from decimal import Decimal

from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.donors import operations
from fundapp.donors.models import DonorContact
from fundapp.extensions import db
from tests.factories import make_user

_sequence = itertools.count(1)


def make_donor(**fields):
    n = next(_sequence)
    values = {
        "name": f"Caspian Conservation Foundation {n}",
        "kind": "foundation",
        "country": "DE",
        "preferred_language": "en",
        "preferred_currency": "EUR",
    }
    values.update(fields)
    return operations.create_donor(db.session, None, **values)


def make_contribution(donor, pool, amount, *, currency=None, rate=None, value_date=None, bank_reference=""):
    """``amount`` (major units, text or Decimal) of ``currency`` (default: the pool's) from ``donor``."""
    currency = currency or pool.currency
    if currency != pool.currency and rate is None:
        rate = Decimal("500")
    return operations.record_contribution(
        db.session,
        None,
        donor,
        pool,
        Money.from_decimal(amount, currency),
        rate=rate,
        value_date=value_date,
        bank_reference=bank_reference or f"IN-{next(_sequence):05d}",
    )


def make_donor_user(donor, **fields):
    """A user with the donor role, a contact of ``donor`` with portal access."""
    user = make_user(roles=(Role.DONOR,), **fields)
    db.session.add(DonorContact(donor_id=donor.id, name=user.full_name, email=user.email, user_id=user.id))
    db.session.flush()
    return user


def make_pool(code=None, currency="KZT", **fields):
    """An empty unrestricted pool in ``currency`` (the base currency by default)."""
    from fundapp.disbursements.pools import create_pool

    code = code or f"DPOOL-{next(_sequence)}"
    return create_pool(db.session, None, code=code, name=f"Pool {code}", currency=currency, **fields)


def make_funded_grant(pool, amount_minor, *, active=True, signed_on=None, **fields):
    """A grant drawing from ``pool`` (whatever its call), signed on ``signed_on``: its commitment is
    attributed to the pool's contributions first in, first out."""
    from tests.applications.factories import make_call
    from tests.disbursements.factories import activate, make_grant

    grant = make_grant(amount_minor=amount_minor, call=make_call(funded=False), **fields)
    grant.pool_id = pool.id
    grant.pool = pool
    db.session.flush()
    if active:
        activate(grant, signed_on=signed_on)
    return grant


def release(grant, number=1, *, paid_on=None):
    """Approve and release tranche ``number`` of ``grant`` (two finance officers, as the rule wants)."""
    from fundapp.core.formatting import fund_today
    from fundapp.disbursements import operations as grant_operations
    from tests.disbursements.factories import make_finance_officer

    tranche = grant.tranches[number - 1]
    tranche.planned_date = min(tranche.planned_date, fund_today())
    grant_operations.refresh_due(db.session, grant)
    grant_operations.approve_tranche(db.session, make_finance_officer(), tranche, bank_details_checked=True)
    grant_operations.release_tranche(
        db.session,
        make_finance_officer(),
        tranche,
        paid_on=paid_on or fund_today(),
        bank_reference=f"PAY-{next(_sequence)}",
        idempotency_key=None,
    )
    return tranche


def close(grant):
    """Terminate (cancelling what is not paid) and close ``grant``: the rest is de-committed."""
    from fundapp.disbursements import operations as grant_operations
    from tests.applications.factories import make_officer

    officer = make_officer()
    grant_operations.terminate_grant(db.session, officer, grant, "Project stopped.")
    grant_operations.close_grant(db.session, officer, grant)
    return grant


def make_pledge(donor, pool, amount, *, currency=None, pledged_on=None, instalments=None):
    """A pledge of ``amount`` (major units) in ``currency`` (default: the donor's)."""
    from fundapp.core.formatting import fund_today

    currency = currency or donor.preferred_currency
    pledged_on = pledged_on or fund_today()
    rows = [(due, Money.from_decimal(part, currency)) for due, part in (instalments or [])]
    return operations.record_pledge(
        db.session, None, donor, pool, Money.from_decimal(amount, currency), pledged_on, rows
    )
