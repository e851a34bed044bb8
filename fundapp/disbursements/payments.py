"""The payment batch: every tranche approved for payment and not yet released, as the bank needs it.

Finance officer A approves a tranche (checking the bank details, whose IBAN the tranche keeps as
``approved_iban``); the batch lists those tranches so officer B can send them to the bank, then release
each one with the payment date and the bank's reference. The batch pays to ``approved_iban``, never to
whatever the grant holds now.

The CSV is UTF-8 without a byte-order mark (bank import tools read it as it is), comma-separated, with a
header row; amounts are in major units with the currency's decimal places ("4000000.00"), and every text
cell that a spreadsheet would read as a formula is neutralised.

``approved_payments`` is also what the ISO 20022 credit transfer file is built from (``pain001``).
"""

import csv
import io
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fundapp.applications.screening import neutralise
from fundapp.core.money import Money
from fundapp.disbursements.models import Grant, Tranche, TrancheState


@dataclass(frozen=True)
class Payment:
    """One approved tranche awaiting release, as the payments page and the batch show it."""

    tranche: Tranche
    grant: Grant
    amount: Money

    @property
    def purpose(self):
        return payment_purpose(self.grant, self.tranche)


def payment_purpose(grant, tranche):
    """The payment's purpose as the bank shows it to the grantee: "IBF-2026-0001 tranche 2"."""
    return _("%(reference)s tranche %(number)d", reference=grant.reference, number=tranche.number)


def approved_payments(session):
    """Every tranche approved and not yet released, by grant reference and tranche number."""
    tranches = session.scalars(
        select(Tranche)
        .join(Grant, Grant.id == Tranche.grant_id)
        .where(Tranche.state == TrancheState.APPROVED)
        .options(
            joinedload(Tranche.grant).joinedload(Grant.organisation),
            joinedload(Tranche.approved_by),
        )
        .order_by(Grant.reference, Tranche.number)
    ).all()
    return [Payment(tranche=t, grant=t.grant, amount=t.amount) for t in tranches]


def payment_batch_header():
    return [
        _("Beneficiary"),
        _("BIN"),
        _("IBAN"),
        _("BIC"),
        _("KBE"),
        _("Amount"),
        _("Currency"),
        _("Payment purpose"),
        _("Grant reference"),
    ]


def payment_batch_rows(session):
    """One row of plain, neutralised cell values per approved tranche (see the module's docstring).

    The beneficiary is the organisation's registered name in Russian, the name Kazakh banks hold.
    """
    rows = []
    for payment in approved_payments(session):
        grant, tranche = payment.grant, payment.tranche
        organisation = grant.organisation
        rows.append(
            [
                neutralise(value)
                for value in (
                    organisation.name_ru,
                    organisation.bin,
                    tranche.approved_iban or "",
                    grant.bank_bic or "",
                    grant.bank_kbe or "",
                    f"{payment.amount.amount:f}",
                    payment.amount.currency,
                    str(payment.purpose),
                    grant.reference,
                )
            ]
        )
    return rows


def payment_batch_csv(session):
    """The batch as CSV text: the header row, then ``payment_batch_rows``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(str(label)) for label in payment_batch_header()])
    writer.writerows(payment_batch_rows(session))
    return buffer.getvalue()
