"""Two finance officers pay a tranche in real browsers: the first checks the bank details and approves it,
sees that someone else must release it; the second records the payment (date and bank reference), and
clicking the button twice still pays once. The grantee then sees the tranche paid on their own page.

The active grant (signed, its amount committed from a funded pool) is set up through the factories and the
operations, in the live server's database.
"""

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from fundapp.core.formatting import fund_today
from fundapp.disbursements import ledger
from fundapp.disbursements.models import EntryKind, Grant, JournalEntry, TrancheState
from fundapp.extensions import db
from tests.disbursements.factories import days_ago, make_finance_officer, make_grant
from tests.e2e.conftest import SCREENSHOTS
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

BANK_REFERENCE = "KZ-OUT-2026-0777"


@pytest.fixture
def grant_setup(live_app):
    with live_app.app_context():
        approver = make_finance_officer(full_name="Yerlan Tokayev", email="approver@browser.example")
        releaser = make_finance_officer(full_name="Saule Bekova", email="releaser@browser.example")
        grant = make_grant(active=True, amount_minor=10_000_000_00, start=days_ago(20), end=days_ago(-345))
        member = grant.organisation.memberships[0].user
        db.session.commit()
        facts = {
            "approver": approver.email,
            "releaser": releaser.email,
            "member": member.email,
            "reference": grant.reference,
            "grant_id": grant.id,
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


def shoot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_two_finance_officers_approve_and_release_a_tranche(browser, live_server, live_app, grant_setup):
    reference = grant_setup["reference"]

    # Officer A: checks the bank details and approves tranche 1 (40% of 10,000,000.00).
    first = browser.new_context(base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900})
    page = first.new_page()
    log_in(page, grant_setup["approver"])
    page.goto(f"/grants/{reference}")
    tranche = page.locator("#tranche-1")
    expect(tranche).to_contain_text("KZT 4,000,000.00")
    expect(tranche).to_contain_text("Due")
    page.get_by_role("button", name="Approve tranche 1").click()
    expect(page.locator(".invalid-feedback, .alert").first).to_be_visible()  # the bank check is required
    page.get_by_label("I checked the bank details against the signed agreement").first.check()
    page.get_by_role("button", name="Approve tranche 1").click()
    expect(page.locator("#tranche-1")).to_contain_text("Approved for payment")
    expect(page.get_by_text("another finance officer must release it").first).to_be_visible()
    expect(page.get_by_role("link", name="Release tranche 1")).to_have_count(0)
    shoot(page, "tranche-approved")
    first.close()

    # Officer B: releases it with the payment date and the bank's reference, double-clicking the button.
    second = browser.new_context(
        base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    page = second.new_page()
    log_in(page, grant_setup["releaser"])
    page.goto(f"/grants/{reference}")
    page.get_by_role("link", name="Release tranche 1").click()
    page.get_by_label("Date the bank paid").fill(grant_setup["today"])
    page.get_by_label("Bank reference").fill(BANK_REFERENCE)
    page.get_by_role("button", name="Record the payment").dblclick()
    expect(page).to_have_url(f"{live_server}/grants/{reference}")
    expect(page.locator("#tranche-1")).to_contain_text("Released")
    expect(page.locator("#tranche-1")).to_contain_text(BANK_REFERENCE)
    shoot(page, "tranche-released")
    second.close()

    # The grantee sees the payment on their grant page.
    third = browser.new_context(base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900})
    page = third.new_page()
    log_in(page, grant_setup["member"])
    page.goto(f"/grants/{reference}")
    expect(page.locator("#tranche-1")).to_contain_text("Released")
    expect(page.get_by_role("button", name="Approve tranche 1")).to_have_count(0)
    third.close()

    with live_app.app_context():
        grant = db.session.get(Grant, grant_setup["grant_id"])
        tranche = grant.tranches[0]
        assert tranche.state == TrancheState.RELEASED
        assert tranche.approved_by.email == grant_setup["approver"]
        assert tranche.released_by.email == grant_setup["releaser"]
        assert tranche.bank_reference == BANK_REFERENCE
        releases = db.session.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == EntryKind.RELEASE)
        )
        assert releases == 1  # the double click paid once
        assert ledger.grant_figures(db.session, grant).released.minor == 4_000_000_00
        assert ledger.check_ledger(db.session) == []
        db.session.remove()
