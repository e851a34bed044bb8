"""A finance officer generates a donor report in a real browser and downloads it; the donor's contact
then finds the same report on the donor portal. The PDF's text (read with ``pdftotext``) names the donor
and shows the amount the donor contributed.

The donor, its contribution (in euros, at a rate) and a grant its money funds are set up through the
factories and operations, in the live server's database. Without Redis the report is generated inline.
"""

import subprocess

import pytest
from playwright.sync_api import expect

from fundapp.core.formatting import fund_today
from fundapp.donors.models import GeneratedReport, ReportJobState
from fundapp.extensions import db
from tests.applications.factories import make_call
from tests.disbursements.factories import activate, days_ago, make_finance_officer, make_grant
from tests.donors.factories import make_contribution, make_donor, make_donor_user
from tests.e2e.conftest import SCREENSHOTS
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

PDFTOTEXT = "/usr/bin/pdftotext"
DONOR_NAME = "Caspian Seal Trust (browser test)"


@pytest.fixture
def donor_setup(live_app):
    with live_app.app_context():
        officer = make_finance_officer(full_name="Saule Bekova", email="reports@browser.example")
        donor = make_donor(name=DONOR_NAME, preferred_currency="EUR")
        call = make_call(funded=False)
        grant = make_grant(call=call, amount_minor=5_000_000_00, start=days_ago(60), end=days_ago(-300))
        make_contribution(
            donor, grant.pool, "20000.00", currency="EUR", rate="540.25", value_date=days_ago(30)
        )
        activate(grant)
        contact = make_donor_user(donor, email="contact@trust.example")
        db.session.commit()
        facts = {
            "officer": officer.email,
            "contact": contact.email,
            "donor_id": donor.id,
            "label": f"{donor.reference} · {donor.name}",
            "today": fund_today().isoformat(),
        }
        db.session.remove()
    return facts


def log_in(page, email):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_staff_generate_a_donor_report_and_download_it(browser, live_server, live_app, donor_setup, tmp_path):
    context = browser.new_context(
        base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    log_in(page, donor_setup["officer"])
    page.goto("/reports/")
    page.get_by_label("Donor", exact=True).select_option(value=str(donor_setup["donor_id"]))
    page.locator("#donor-date_to").fill(donor_setup["today"])
    page.get_by_role("button", name="Generate the donor report").click()

    # Inline generation: the status page shows it ready (it refreshes itself while it is not).
    download_link = page.get_by_role("link", name="Download the PDF")
    expect(download_link).to_be_visible(timeout=60_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "donor-report-ready.png"), full_page=True)
    with page.expect_download() as download_info:
        download_link.click()
    path = tmp_path / "report.pdf"
    download_info.value.save_as(path)
    context.close()

    assert path.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert DONOR_NAME in text
    assert "20,000.00" in text  # what the donor contributed, in euros

    with live_app.app_context():
        report = db.session.query(GeneratedReport).filter_by(donor_id=donor_setup["donor_id"]).one()
        assert report.state == ReportJobState.DONE
        assert report.sha256 and len(report.sha256) == 64
        report_id = report.id
        db.session.remove()

    # The donor's contact finds it on the portal and downloads the same file.
    donor_context = browser.new_context(base_url=live_server, locale="en-GB", accept_downloads=True)
    page = donor_context.new_page()
    log_in(page, donor_setup["contact"])
    page.goto("/portal/")
    link = page.locator(f'a[href="/reports/{report_id}/download"]')
    expect(link).to_have_count(1)
    with page.expect_download() as download_info:
        link.click()
    again = tmp_path / "again.pdf"
    download_info.value.save_as(again)
    donor_context.close()
    assert again.read_bytes() == path.read_bytes()
