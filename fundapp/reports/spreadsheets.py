"""Spreadsheets of the fund's books for its staff: grants, tranches and donor contributions as XLSX.

Each workbook is written in openpyxl's write-only mode (rows go straight to the file): a bold header row
frozen above the data, amounts as numbers with their currency's decimals beside a currency column, dates
as dates, instants in the fund's time zone (spreadsheets have none), and every text cell neutralised so
that a name such as ``=HYPERLINK(...)`` is shown, never run.

Who may download: grants and tranches, fund staff (programme officers, finance officers, admins);
contributions, which carry the bank's references, finance officers and admins.
"""

import io
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from fundapp.applications.screening import neutralise
from fundapp.core.formatting import fund_timezone
from fundapp.core.money import Money, minor_unit_exponent
from fundapp.core.permissions import Role
from fundapp.disbursements.models import EntryKind, Grant, JournalEntry, Posting, Tranche
from fundapp.donors.models import Allocation, Contribution

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

STAFF_ROLES = (Role.PROGRAMME_OFFICER, Role.FINANCE_OFFICER, Role.ADMIN)
BOOKKEEPING_ROLES = (Role.FINANCE_OFFICER, Role.ADMIN)


def can_export_grants(user):
    """Grants and tranches: fund staff."""
    return user.is_authenticated and user.has_role(*STAFF_ROLES)


def can_export_contributions(user):
    """Contributions show bank references: finance officers and admins."""
    return user.is_authenticated and user.has_role(*BOOKKEEPING_ROLES)


# -- cells -------------------------------------------------------------------------------------------------


class Amount:
    """A Money value for a cell: the number in major units, formatted with the currency's decimals."""

    def __init__(self, money):
        self.money = money


def _number_format(currency):
    places = minor_unit_exponent(currency)
    return "#,##0" + ("." + "0" * places if places else "")


def _local(instant):
    return instant.astimezone(fund_timezone()).replace(tzinfo=None, microsecond=0) if instant else None


def _cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, Amount):
        cell = WriteOnlyCell(sheet, value=value.money.amount)
        cell.number_format = _number_format(value.money.currency)
    elif isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
    else:
        cell = WriteOnlyCell(sheet, value=neutralise(value))
    return cell


def workbook_bytes(title, header, rows, widths=()):
    """An XLSX workbook of one sheet: ``header`` (bold, frozen) then ``rows`` of plain values, ``Amount``,
    dates and datetimes."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    heading = []
    for label in header:
        cell = WriteOnlyCell(sheet, value=neutralise(str(label)))
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# -- grants ------------------------------------------------------------------------------------------------


def grant_sums(session, grants):
    """``{grant id: (committed, released, refunded)}`` in minor units, as ``ledger.grant_figures`` counts
    them, in two queries for all ``grants``."""
    by_account = {grant.account_id: grant for grant in grants}
    by_pool_account = defaultdict(list)
    for grant in grants:
        by_pool_account[grant.pool.account_id].append(grant)
    sums = {grant.id: [0, 0, 0] for grant in grants}
    if not grants:
        return {}
    rows = session.execute(
        select(Posting.account_id, JournalEntry.kind, func.sum(Posting.amount_minor))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account_id.in_(by_account))
        .group_by(Posting.account_id, JournalEntry.kind)
    )
    for account_id, kind, total in rows:
        grant = by_account[account_id]
        kind = EntryKind(kind)
        if kind in (EntryKind.COMMITMENT, EntryKind.DECOMMITMENT):
            sums[grant.id][0] -= int(total)
        elif kind == EntryKind.RELEASE:
            sums[grant.id][1] += int(total)
    refunds = session.execute(
        select(JournalEntry.grant_id, Posting.account_id, func.sum(Posting.amount_minor))
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(JournalEntry.kind == EntryKind.REFUND, JournalEntry.grant_id.in_(sums))
        .group_by(JournalEntry.grant_id, Posting.account_id)
    )
    grants_by_id = {grant.id: grant for grant in grants}
    for grant_id, account_id, total in refunds:
        if account_id == grants_by_id[grant_id].pool.account_id:
            sums[grant_id][2] -= int(total)
    return {grant_id: tuple(values) for grant_id, values in sums.items()}


def grants_header():
    return [
        _("Reference"),
        _("Title"),
        _("Organisation"),
        _("BIN"),
        _("Call"),
        _("Funding pool"),
        _("State"),
        _("Start"),
        _("End"),
        _("Amount"),
        _("Committed"),
        _("Released"),
        _("Refunded"),
        _("Outstanding"),
        _("Currency"),
        _("Signed on"),
    ]


def grants_rows(session):
    grants = session.scalars(
        select(Grant)
        .order_by(Grant.reference)
        .options(selectinload(Grant.organisation), selectinload(Grant.call), selectinload(Grant.pool))
    ).all()
    sums = grant_sums(session, grants)
    for grant in grants:
        committed, released, refunded = sums[grant.id]
        currency = grant.currency
        yield [
            grant.reference,
            grant.title,
            grant.organisation.name_en,
            grant.organisation.bin,
            grant.call.reference,
            grant.pool.code,
            grant.state.value,
            grant.start_date,
            grant.end_date,
            Amount(grant.amount),
            Amount(Money(committed, currency)),
            Amount(Money(released, currency)),
            Amount(Money(refunded, currency)),
            Amount(Money(committed - released, currency)),
            currency,
            grant.fund_signed_on,
        ]


def grants_xlsx(session):
    widths = (16, 48, 36, 14, 16, 12, 12, 12, 12, 16, 16, 16, 16, 16, 9, 12)
    return workbook_bytes(_("Grants"), grants_header(), grants_rows(session), widths)


# -- tranches ----------------------------------------------------------------------------------------------


def tranches_header():
    return [
        _("Grant"),
        _("Organisation"),
        _("Tranche"),
        _("Planned date"),
        _("Waits for"),
        _("State"),
        _("Amount"),
        _("Currency"),
        _("Approved at (%(zone)s)", zone=str(fund_timezone())),
        _("Paid on"),
        _("Cancellation reason"),
    ]


def tranches_rows(session):
    tranches = session.scalars(
        select(Tranche)
        .join(Grant, Grant.id == Tranche.grant_id)
        .order_by(Grant.reference, Tranche.number)
        .options(selectinload(Tranche.grant).selectinload(Grant.organisation))
    ).all()
    for tranche in tranches:
        yield [
            tranche.grant.reference,
            tranche.grant.organisation.name_en,
            tranche.number,
            tranche.planned_date,
            tranche.gate.value,
            tranche.state.value,
            Amount(tranche.amount),
            tranche.currency,
            _local(tranche.approved_at),
            tranche.paid_on,
            tranche.cancel_reason,
        ]


def tranches_xlsx(session):
    widths = (16, 36, 8, 12, 16, 12, 16, 9, 18, 12, 40)
    return workbook_bytes(_("Tranches"), tranches_header(), tranches_rows(session), widths)


# -- contributions ---------------------------------------------------------------------------------------


def contributions_header():
    return [
        _("Donor reference"),
        _("Donor"),
        _("Funding pool"),
        _("Value date"),
        _("Amount"),
        _("Currency"),
        _("Rate"),
        _("Base amount"),
        _("Base currency"),
        _("Allocated to grants"),
        _("Bank reference"),
    ]


def contributions_rows(session):
    contributions = session.scalars(
        select(Contribution)
        .order_by(Contribution.value_date, Contribution.id)
        .options(selectinload(Contribution.donor), selectinload(Contribution.pool))
    ).all()
    allocated = dict(
        session.execute(
            select(Allocation.contribution_id, func.sum(Allocation.amount_minor))
            .where(Allocation.contribution_id.is_not(None))
            .group_by(Allocation.contribution_id)
        ).all()
    )
    for contribution in contributions:
        yield [
            contribution.donor.reference,
            contribution.donor.name,
            contribution.pool.code,
            contribution.value_date,
            Amount(contribution.amount),
            contribution.currency,
            Decimal(contribution.rate),
            Amount(contribution.base_amount),
            contribution.base_currency,
            Amount(Money(int(allocated.get(contribution.id) or 0), contribution.base_currency)),
            contribution.bank_reference,
        ]


def contributions_xlsx(session):
    widths = (14, 36, 12, 12, 16, 9, 10, 18, 9, 18, 24)
    return workbook_bytes(_("Contributions"), contributions_header(), contributions_rows(session), widths)
