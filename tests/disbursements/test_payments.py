"""The payment batch: which tranches it holds and how each row reads."""

import csv
import io

from fundapp.core.db import utcnow
from fundapp.disbursements.models import TrancheState
from fundapp.disbursements.payments import (
    approved_payments,
    payment_batch_csv,
    payment_batch_header,
    payment_batch_rows,
)
from fundapp.extensions import db
from tests.applications.factories import make_call
from tests.disbursements.factories import make_finance_officer, make_grant


def approve(grant, number=1, iban=None):
    """Mark a tranche approved as the approval does (the approval itself is tested elsewhere)."""
    tranche = grant.tranches[number - 1]
    tranche.state = TrancheState.APPROVED
    tranche.approved_by_id = make_finance_officer().id
    tranche.approved_at = utcnow()
    tranche.approved_iban = iban or grant.bank_iban
    db.session.flush()
    return tranche


def test_only_approved_tranches_are_in_the_batch_by_grant_and_number(db):
    later = make_grant(active=True)
    earlier = make_grant(active=True)
    assert earlier.reference > later.reference  # references count up: "earlier" is the newer grant
    approve(earlier, 2)
    approve(earlier, 1)
    approve(later, 3)
    later.tranches[0].state = TrancheState.DUE
    released = later.tranches[1]
    released.state = TrancheState.CANCELLED
    db.session.flush()

    batch = approved_payments(db.session)

    assert [(p.grant.reference, p.tranche.number) for p in batch] == [
        (later.reference, 3),
        (earlier.reference, 1),
        (earlier.reference, 2),
    ]
    assert [str(p.purpose) for p in batch] == [
        f"{later.reference} tranche 3",
        f"{earlier.reference} tranche 1",
        f"{earlier.reference} tranche 2",
    ]


def test_a_row_holds_what_the_bank_needs(db):
    grant = make_grant(active=True, amount_minor=12_345_678_91)
    organisation = grant.organisation
    tranche = approve(grant, 1, iban="KZ11111111111111111X")

    (row,) = payment_batch_rows(db.session)

    assert row == [
        organisation.name_ru,
        organisation.bin,
        "KZ11111111111111111X",
        grant.bank_bic,
        grant.bank_kbe,
        f"{tranche.amount.amount:f}",
        "KZT",
        f"{grant.reference} tranche 1",
        grant.reference,
    ]
    assert row[5] == "4938271.57"  # 40% of 12 345 678.91; the split gives its left-over tiyn to the first


def test_amounts_have_the_currency_decimals(db):
    call = make_call(currency="KWD")
    grant = make_grant(active=True, call=call, amount_minor=10_000_000)
    approve(grant, 1)

    (row,) = payment_batch_rows(db.session)

    assert (row[5], row[6]) == ("4000.000", "KWD")


def test_every_text_cell_is_neutralised(db):
    grant = make_grant(active=True)
    grant.organisation.name_ru = '=HYPERLINK("http://evil.example")'
    grant.bank_bic = "+CMD"
    grant.bank_kbe = "-1"
    approve(grant, 1, iban="@KZ")

    (row,) = payment_batch_rows(db.session)

    assert row[:5] == ['\'=HYPERLINK("http://evil.example")', grant.organisation.bin, "'@KZ", "'+CMD", "'-1"]


def test_the_csv_has_a_header_and_crlf_rows(db):
    grant = make_grant(active=True)
    approve(grant, 1)

    text = payment_batch_csv(db.session)

    assert not text.startswith("\ufeff")
    assert text.count("\r\n") == 2
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [str(label) for label in payment_batch_header()]
    assert rows[1][-1] == grant.reference
