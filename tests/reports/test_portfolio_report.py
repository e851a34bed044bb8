"""The portfolio (annual) report: the year's figures in its text equal the ledger's."""

import re
import subprocess

from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.disbursements import ledger
from fundapp.reports.documents import render_portfolio_report
from tests.reports.test_report_data import donor_scenario


def text_of(data, tmp_path):
    path = tmp_path / "portfolio.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True).stdout
    return re.sub(r"\s+", " ", text.decode().replace("\xa0", " "))


def shown(money):
    return re.sub(r"\s+", " ", money.format("en").replace("\xa0", " "))


def test_the_years_figures_are_the_ledgers(db, tmp_path):
    scenario = donor_scenario()
    rendered = render_portfolio_report(db.session, fund_today().year)
    text = text_of(rendered.data, tmp_path)
    figures = ledger.pool_figures_many(db.session, ledger.pools_in_order(db.session)).values()
    committed = Money.sum((f.committed for f in figures), "KZT")
    released = Money.sum((f.released for f in figures), "KZT")
    figures_page = text[text.index("Key figures") : text.index("Received by donor")]
    assert shown(committed) in figures_page and shown(released) in figures_page
    assert "Released to grantees" in figures_page
    assert scenario.donor.name in text and scenario.grant_a.reference in text
    assert f"Annual report {fund_today().year}" in text


def test_a_year_without_activity_says_so(db, tmp_path):
    rendered = render_portfolio_report(db.session, 2001)
    assert "No contributions, allocations or releases in this period" in text_of(rendered.data, tmp_path)
