"""From an open call to a screened proposal in a real browser.

An applicant answers the call's eligibility questions, starts a proposal, types its summary and a budget of
two lines (the other sections are filled through the operations, to keep the test short), sees the
autosave say "saved", attaches a PDF, submits and sees the confirmation; then a programme officer, in a
browser of their own, finds the proposal in the list, ticks the checklist and screens it eligible.
"""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fundapp.accounts.models import User
from fundapp.applications import operations, sections
from fundapp.applications.models import Proposal, ProposalState
from fundapp.demo import document_pdf
from fundapp.extensions import db
from tests.applications.factories import complete_content, make_call, make_officer
from tests.e2e.conftest import SCREENSHOTS
from tests.factories import DEFAULT_PASSWORD, make_applicant

pytestmark = pytest.mark.browser

CALL_TITLE = "Caspian seal and the marine reserve (browser test)"
PROPOSAL_TITLE = "Seal haul-outs of the Tyuleniy islands"
SUMMARY = (
    "Rangers and volunteers protect the Caspian seal haul-outs on the Tyuleniy islands, remove ghost nets "
    "from the seals' routes and count the animals every spring and autumn."
)
#: The sections the browser does not fill: written through the operations, as colleagues would have.
PREFILLED = [key for key in sections.SECTION_KEYS if key not in ("summary", "budget")]


@pytest.fixture
def cast(live_app):
    """An applicant of an organisation, a programme officer and an open call, in the live database."""
    with live_app.app_context():
        applicant = make_applicant(full_name="Aliya Dzhaksybekova")
        officer = make_officer(full_name="Daniyar Seitkali")
        call = make_call(
            title=CALL_TITLE,
            themes=["marine_mammals", "protected_areas"],
            required_attachments=["registration_certificate"],
        )
        db.session.commit()
        people = {
            "applicant": applicant.email,
            "applicant_id": applicant.id,
            "officer": officer.email,
            "call_question": call.questions[0].text,
            "organisation": applicant.primary_organisation.name_en,
        }
        db.session.remove()
    return people


def log_in(page, email):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def prefill_sections(live_app, proposal_id, applicant_id):
    with live_app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        applicant = db.session.get(User, applicant_id)
        for key in PREFILLED:
            operations.save_section(
                db.session, applicant, proposal, key, complete_content(key), proposal.section(key).version
            )
        db.session.commit()
        db.session.remove()


def proposal_state(live_app, proposal_id):
    with live_app.app_context():
        state = db.session.scalar(select(Proposal.state).where(Proposal.id == proposal_id))
        db.session.remove()
    return state


def wait_for_autosave(page):
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Saved at \d\d:\d\d"), timeout=20_000)


def fill_budget_line(page, number, category, description, unit, year, quantity, unit_cost, cofinancing):
    prefix = f"#f-lines-{number}-"
    page.locator(prefix + "category").select_option(category)
    page.locator(prefix + "description").fill(description)
    page.locator(prefix + "unit").fill(unit)
    page.locator(prefix + "year").select_option(year)
    page.locator(prefix + "quantity").press_sequentially(quantity)
    page.locator(prefix + "unit_cost").press_sequentially(unit_cost)
    page.locator(prefix + "cofinancing").press_sequentially(cofinancing)


def test_applicant_submits_a_proposal_and_the_officer_screens_it_eligible(
    page, browser, live_server, live_app, cast, screenshot
):
    # -- the applicant finds the call and applies -----------------------------------------------------------
    log_in(page, cast["applicant"])
    page.goto("/calls")
    page.get_by_role("link", name=CALL_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(CALL_TITLE)
    screenshot("journey-01-call")
    page.get_by_role("link", name="Apply", exact=True).click()

    page.get_by_role("group", name=cast["call_question"]).get_by_label("Yes").check()
    page.get_by_label("Title of the proposal").fill(PROPOSAL_TITLE)
    page.get_by_label("Theme").select_option("marine_mammals")
    screenshot("journey-02-apply")
    page.get_by_role("button", name="Start the proposal").click()

    expect(page.get_by_role("status").first).to_contain_text("is started")
    proposal_id = int(re.search(r"/proposals/(\d+)$", page.url).group(1))
    prefill_sections(live_app, proposal_id, cast["applicant_id"])

    # -- the summary, typed; the autosave says when it saved -----------------------------------------------
    page.goto(f"/proposals/{proposal_id}/sections/summary")
    summary = page.get_by_label("Summary", exact=True)
    summary.press_sequentially(SUMMARY[:40])
    summary.fill(SUMMARY)
    words = len(SUMMARY.split())
    expect(page.locator("[data-word-count-for='f-summary']")).to_contain_text(f"{words} of 300 words")
    wait_for_autosave(page)
    screenshot("journey-03-summary-saved")

    # -- the budget: two lines with typed amounts; totals update as the applicant types ----------------------
    page.goto(f"/proposals/{proposal_id}/sections/budget")
    fill_budget_line(page, 0, "staff", "Rangers' salaries", "month", "1", "24", "250000", "1000000")
    page.get_by_role("button", name="Add a budget line").click()
    fill_budget_line(page, 1, "equipment", "Boat and engine", "set", "1", "1", "3500000.50", "0")
    expect(page.locator("output[data-total='requested']")).to_have_text(re.compile(r"8\D?500\D?000\.50"))
    wait_for_autosave(page)
    screenshot("journey-04-budget-saved")

    page.reload()
    expect(page.locator("#f-lines-1-unit_cost")).to_have_value(re.compile(r"^3\D?500\D?000\.50$"))
    expect(page.locator("#save-status")).to_contain_text("Saved at")

    # -- a registration certificate, as a real PDF ----------------------------------------------------------
    page.goto(f"/proposals/{proposal_id}/attachments")
    page.get_by_label("What is this document?").select_option("registration_certificate")
    certificate = document_pdf(
        "Certificate of state registration", [cast["organisation"], "Ministry of Justice of Kazakhstan"]
    )
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "registration-certificate.pdf", "mimeType": "application/pdf", "buffer": certificate}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").first).to_contain_text("“registration-certificate.pdf” is attached")
    expect(page.get_by_role("link", name="registration-certificate.pdf")).to_be_visible()
    screenshot("journey-05-attachments")

    # -- submitting --------------------------------------------------------------------------------------
    page.goto(f"/proposals/{proposal_id}/submit")
    expect(page.get_by_role("heading", name="Ready to submit")).to_be_visible()
    page.get_by_role("button", name="Submit the proposal").click()
    expect(page.get_by_role("status").first).to_contain_text("is submitted")
    expect(page.get_by_role("status").first).to_contain_text("SHA-256")
    screenshot("journey-06-submitted")
    assert proposal_state(live_app, proposal_id) == ProposalState.SUBMITTED

    # -- the programme officer, in a browser of their own, screens it ----------------------------------------
    context = browser.new_context(
        base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    try:
        officer = context.new_page()
        officer.set_default_timeout(15_000)
        log_in(officer, cast["officer"])
        officer.get_by_role("navigation").get_by_role("link", name="Proposals").click()
        row = officer.get_by_role("row").filter(has_text=PROPOSAL_TITLE)
        expect(row).to_contain_text("Submitted")
        officer.screenshot(path=str(SCREENSHOTS / "journey-07-officer-list.png"), full_page=True)
        row.get_by_role("link").first.click()

        checklist = officer.get_by_role("group", name="Checklist")
        boxes = checklist.get_by_role("checkbox")
        expect(boxes).to_have_count(6)
        for index in range(6):
            boxes.nth(index).check()
        officer.get_by_label("Eligible: goes to review").check()
        officer.screenshot(path=str(SCREENSHOTS / "journey-08-screening.png"), full_page=True)
        officer.get_by_role("button", name="Record the screening").click()

        expect(officer.get_by_role("status").first).to_contain_text("is now Eligible")
        officer.screenshot(path=str(SCREENSHOTS / "journey-09-screened.png"), full_page=True)
    finally:
        context.close()

    assert proposal_state(live_app, proposal_id) == ProposalState.ELIGIBLE
