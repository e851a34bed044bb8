"""The board secretary runs a meeting in a real browser: opens it, records attendance, enters the members'
votes (one member recuses themself from an item in their own browser), decides an approval with an amount
and a rejection with a reason, closes the meeting and downloads the minutes, whose text (read with
``pdftotext``) shows each decision.

The meeting, its two agenda items (reviewed proposals with submitted reviews) and the board are set up
through the operations and the factories, in the live server's database.
"""

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fundapp.applications.models import Proposal, ProposalState
from fundapp.board import operations
from fundapp.board.models import DecisionOutcome, Meeting, MeetingState
from fundapp.core.db import utcnow
from fundapp.core.money import Money
from fundapp.core.storage import stored_bytes
from fundapp.extensions import db
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.board.factories import make_board, make_board_member
from tests.e2e.conftest import SCREENSHOTS
from tests.factories import DEFAULT_PASSWORD
from tests.reviews.factories import make_review

pytestmark = pytest.mark.browser

PDFTOTEXT = "/usr/bin/pdftotext"
MEMBERS = ["Prof. Bakhyt Zhumabekov", "Gulnara Ospanova", "Timur Kassymov", "Askar Mukhamediyarov"]
#: Absent from the meeting.
ABSENT = "Askar Mukhamediyarov"
#: Declares a conflict on the second item, in their own browser.
RECUSING = "Gulnara Ospanova"
APPROVED_AMOUNT = "5000000"
APPROVED_TEXT = "KZT 5,000,000.00"
REJECTION_REASON = "The monitoring plan does not show how the counts would be repeated after the grant."


@pytest.fixture
def meeting_setup(live_app):
    """A board of four (the first chairs), a programme officer as its secretary, and a meeting scheduled
    for now with two reviewed proposals on its agenda: the facts the test needs, as plain values."""
    with live_app.app_context():
        members = [
            make_board_member(full_name=name, email=f"board-{n}@browser.example")
            for n, name in enumerate(MEMBERS)
        ]
        secretary = make_officer(full_name="Daniyar Seitkali", email="secretary@browser.example")
        make_board(members=0, chair=members[0], secretary=secretary)
        call = make_call(title="Snow leopard corridors (browser test)")
        proposals = []
        for title in ("Camera traps in Katon-Karagay", "Argali counts in Ulytau"):
            proposal = make_proposal(call=call, complete=True, state=ProposalState.REVIEWED, title=title)
            for score in (5, 4):
                make_review(proposal=proposal, state="accepted", scores={0: score, 1: 4})
            proposals.append(proposal)
        assert Money.from_decimal(APPROVED_AMOUNT, "KZT") < proposals[0].requested
        meeting = operations.schedule_meeting(
            db.session,
            secretary,
            title="Board meeting (browser test)",
            scheduled_at=utcnow().replace(microsecond=0),
            location="Astana, the fund's office",
        )
        items = [operations.add_to_agenda(db.session, secretary, meeting, p) for p in proposals]
        db.session.commit()
        facts = {
            "secretary": secretary.email,
            "recusing": members[MEMBERS.index(RECUSING)].email,
            "meeting": meeting.reference,
            "items": [item.id for item in items],
            "references": [p.reference for p in proposals],
            "proposal_ids": [p.id for p in proposals],
        }
        db.session.remove()
    return facts


@pytest.fixture
def second_page(browser, live_server):
    """Another browser (no shared cookies), for a board member."""
    context = browser.new_context(
        base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def log_in(page, email):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def button(scope, action, member):
    """The button ``action`` ("Approve", "Present", ...) of ``member``'s row: its accessible name is the
    action and, visually hidden, the member's name."""
    return scope.get_by_role("button", name=re.compile(rf"^{action}\s*:\s*{re.escape(member)}$"))


def flash(page, text):
    expect(page.locator(".alert").filter(has_text=text).first).to_be_visible()


@pytest.mark.skipif(not shutil.which(PDFTOTEXT), reason="needs pdftotext (apt-get install poppler-utils)")
def test_secretary_runs_the_meeting_and_downloads_minutes_showing_each_decision(
    page, second_page, screenshot, meeting_setup, live_app, tmp_path
):
    facts = meeting_setup
    first, second = facts["references"]
    first_item, second_item = (page.locator(f"#item-{item_id}") for item_id in facts["items"])

    # The secretary finds the meeting and opens it.
    log_in(page, facts["secretary"])
    page.get_by_role("link", name="Board", exact=True).click()
    page.get_by_role("link", name=facts["meeting"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(facts["meeting"])
    page.get_by_role("button", name="Open the meeting").click()
    flash(page, f"{facts['meeting']} is open.")

    # Attendance: three present, one absent.
    for name in MEMBERS:
        choice = "Absent" if name == ABSENT else "Present"
        button(page, choice, name).click()
        flash(page, "Attendance recorded.")
    expect(page.get_by_text("3 of 4 members present.")).to_be_visible()

    # A member declares a conflict on the second item in their own browser, and is recused.
    log_in(second_page, facts["recusing"])
    second_page.goto(f"/board/meetings/{facts['meeting']}")
    own_card = second_page.locator(f"#item-{facts['items'][1]}")
    own_card.get_by_text("Declare a conflict of interest").click()
    own_card.get_by_label("Nature of the conflict").fill("I sit on the applicant's supervisory board.")
    own_card.get_by_role("button", name="Declare and recuse myself").click()
    flash(second_page, f"the member is recused from {second}")

    # First item: the motion is changed to a smaller amount, then three members approve it.
    page.reload()
    first_item.get_by_text("Change the motion").click()
    first_item.get_by_label(re.compile(r"^Amount to approve")).fill(APPROVED_AMOUNT)
    first_item.get_by_role("button", name="Save the motion").click()
    flash(page, f"The motion on {first} is saved.")
    expect(first_item.get_by_text(f"Approve {APPROVED_TEXT}")).to_be_visible()
    for name in MEMBERS:
        if name != ABSENT:
            button(first_item, "Approve", name).click()
            flash(page, f"The vote on {first} is recorded.")
    expect(first_item.get_by_text("The motion passes:")).to_be_visible()
    screenshot("board-meeting-votes")
    first_item.get_by_role("button", name="Record: approved").click()
    flash(page, f"{first}: Approved.")

    # Second item: the recused member cannot vote; the other two present reject; the reason is recorded.
    expect(second_item.get_by_text("Recused", exact=True)).to_be_visible()
    expect(button(second_item, "Reject", RECUSING)).to_have_count(0)
    for name in MEMBERS:
        if name not in (ABSENT, RECUSING):
            button(second_item, "Reject", name).click()
            flash(page, f"The vote on {second} is recorded.")
    expect(second_item.get_by_text("The motion fails:")).to_be_visible()
    second_item.get_by_label("Reason for the rejection (sent to the applicant)").fill(REJECTION_REASON)
    second_item.get_by_role("button", name="Record: rejected").click()
    flash(page, f"{second}: Rejected.")

    # Closing stores the minutes; the page links them.
    page.get_by_role("button", name="Close the meeting").click()
    flash(page, f"{facts['meeting']} is closed.")
    expect(page.get_by_text(re.compile(r"Minutes stored .*SHA-256 [0-9a-f]{64}"))).to_be_visible()
    screenshot("board-meeting-closed")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Minutes (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"{facts['meeting']}-minutes.pdf"
    minutes_path = tmp_path / download.suggested_filename
    download.save_as(minutes_path)

    text = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", str(minutes_path), "-"], capture_output=True, check=True, text=True
    ).stdout
    text = " ".join(text.replace("\u00a0", " ").split())
    assert f"{first} · Camera traps in Katon-Karagay" in text
    assert f"Decision: approved, {APPROVED_TEXT}." in text
    assert f"{second} · Argali counts in Ulytau" in text
    assert "Decision: rejected." in text
    assert f"Reason: {REJECTION_REASON}" in text
    assert f"Recusals {RECUSING}" in text
    assert f"Absent: {ABSENT}" in text

    with live_app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.reference == facts["meeting"]))
        assert meeting.state == MeetingState.CLOSED
        assert stored_bytes(meeting.minutes_file) == minutes_path.read_bytes()
        assert [item.outcome for item in meeting.items] == [
            DecisionOutcome.APPROVED,
            DecisionOutcome.REJECTED,
        ]
        states = [db.session.get(Proposal, proposal_id).state for proposal_id in facts["proposal_ids"]]
        assert states == [ProposalState.APPROVED, ProposalState.REJECTED]
        db.session.remove()
    assert (SCREENSHOTS / "board-meeting-closed.png").exists()
