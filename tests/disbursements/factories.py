"""Factories for grants: a grant straight from a board approval, in AGREEMENT or already ACTIVE.

``make_grant()`` approves a new complete proposal (a funded call: its pool holds the envelope) at a closed
meeting and creates the grant exactly as the board does (``create_grant``), with the default 40/40/20
schedule and its reports. ``make_grant(active=True)`` also records both signatures and a signed copy and
commits the amount in the ledger, as signing does::

    grant = make_grant(active=True, amount_minor=10_000_000_00)
    first = grant.tranches[0]            # 40%, waits for nothing
"""

import io
from datetime import date, timedelta

from fundapp.board.models import MeetingState
from fundapp.core.db import utcnow
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.core.storage import save_upload
from fundapp.disbursements import ledger
from fundapp.disbursements.grants import create_grant
from fundapp.disbursements.models import EntryKind, FundingPool, GrantState
from fundapp.donors.allocation import attribute_commitment
from fundapp.extensions import db
from tests.applications.factories import fund_call, make_call, make_officer
from tests.board.factories import make_agenda_item, make_meeting
from tests.core.sample_files import MINIMAL_PDF
from tests.factories import make_user


def make_finance_officer(**fields):
    return make_user(roles=(Role.FINANCE_OFFICER,), **fields)


def make_grant(
    *, active=False, amount_minor=None, call=None, officer=None, start=None, end=None, **item_fields
):
    """A grant created by a board approval (see the module's docstring).

    ``amount_minor`` is the approved amount (default: the amount requested). ``start``/``end`` (dates)
    replace the project period, before the schedule is built (default: the proposal's timeline).
    """
    officer = officer or make_officer()
    call = call or make_call()
    # The board met (and decided) two days ago: signatures may be dated from then.
    meeting = make_meeting(state=MeetingState.CLOSED, present=True, scheduled_at=utcnow() - timedelta(days=2))
    item = make_agenda_item(meeting, call=call, outcome="approved", approved=amount_minor, **item_fields)
    pool = db.session.query(FundingPool).filter_by(call_id=call.id).order_by(FundingPool.id).first()
    if pool is None:  # an unfunded call: an empty pool, to receive funds into later
        pool = fund_call(call, 0)
    if start is not None or end is not None:
        _set_timeline(item.proposal, start, end)
    grant = create_grant(db.session, officer, item, pool)
    if active:
        activate(grant, officer)
    db.session.flush()
    return grant


def _set_timeline(proposal, start, end):
    section = proposal.section("timeline")
    content = dict(section.content or {})
    if start is not None:
        content["start"] = start.isoformat()
    if end is not None:
        content["end"] = end.isoformat()
    section.content = content
    db.session.flush()


def activate(grant, officer=None, signed_on=None):
    """Sign and activate ``grant`` as the signing operation does: both signatures, the signed copy, the
    bank details of the organisation copied, the amount committed from its pool."""
    signed_on = signed_on or fund_today()
    stored = save_upload(
        db.session,
        io.BytesIO(MINIMAL_PDF),
        allowed_kinds=["pdf"],
        max_bytes=1_000_000,
        uploaded_by=officer,
        filename=f"{grant.reference}-signed.pdf",
    )
    organisation = grant.organisation
    grant.grantee_signatory = "Aigerim Nurlanovna, director"
    grant.grantee_signed_on = signed_on
    grant.fund_signatory = "Executive director of the fund"
    grant.fund_signed_on = signed_on
    grant.signed_copy_file_id = stored.id
    grant.bank_name = organisation.bank_name
    grant.bank_bic = organisation.bank_bic
    grant.bank_iban = organisation.bank_iban
    grant.bank_kbe = organisation.bank_kbe
    entry = ledger.post_entry(
        db.session,
        officer,
        EntryKind.COMMITMENT,
        [(grant.pool.account, grant.amount), (grant.account, -grant.amount)],
        value_date=signed_on,
        pool=grant.pool,
        grant=grant,
        description=f"Commitment of {grant.reference}",
    )
    attribute_commitment(db.session, grant, entry, grant.amount)
    grant.state = GrantState.ACTIVE
    grant.activated_at = utcnow()
    db.session.flush()
    return grant


def kzt(minor):
    return Money(minor, "KZT")


def days_ago(n):
    return fund_today() - timedelta(days=n)


__all__ = ["activate", "date", "days_ago", "kzt", "make_finance_officer", "make_grant"]
