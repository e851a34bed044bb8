"""A reviewer declares no conflict, scores every criterion (autosaved), submits, and reads the locked review,
in a real browser."""

import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

import config
from fundapp import create_app
from fundapp.applications.models import ProposalState
from fundapp.extensions import db
from fundapp.reference.data import load_reference_data
from fundapp.reviews.models import AssignmentState
from tests.e2e.conftest import SCREENSHOTS
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

CRITERIA = [
    {
        "title": "Conservation relevance",
        "weight": 30,
        "level_descriptors": {
            "1": "Marginal",
            "2": "Limited",
            "3": "Moderate",
            "4": "Strong",
            "5": "Outstanding",
        },
    },
    {
        "title": "Feasibility",
        "weight": 25,
        "level_descriptors": {
            "1": "Not feasible",
            "2": "Doubtful",
            "3": "Plausible",
            "4": "Sound",
            "5": "Excellent",
        },
    },
    {
        "title": "Capacity",
        "weight": 15,
        "allow_na": True,
        "level_descriptors": {
            "1": "Insufficient",
            "2": "Limited",
            "3": "Adequate",
            "4": "Strong",
            "5": "Proven",
        },
    },
]


@pytest.fixture(scope="module")
def review_site(tmp_path_factory):
    """The app served on a free port with its own SQLite file, holding one assignment waiting for its
    reviewer's declaration: ``(base_url, facts)``."""
    folder = tmp_path_factory.mktemp("e2e-review")

    class ReviewBrowserConfig(config.TestConfig):
        INSTANCE_PATH = str(folder / "instance")
        STORAGE_PATH = str(folder / "files")
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'review.sqlite3'}"
        RATELIMIT_STORAGE_URI = "memory://"

    app = create_app(ReviewBrowserConfig)
    with app.app_context():
        db.create_all()
        load_reference_data(db.session)
        facts = _seed()
        db.session.commit()
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="fundapp-e2e-review", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", facts
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


def _seed():
    from tests.applications.factories import make_call, make_member_proposal
    from tests.reviews.factories import make_assignment, make_reviewer, make_rubric

    call = make_call(title="Caspian seal and saiga 2026")
    make_rubric(call, criteria=CRITERIA)
    proposal, _member = make_member_proposal(call=call, complete=True, state=ProposalState.IN_REVIEW)
    reviewer = make_reviewer(email="olga.reviewer@example.org", full_name="Dr Olga Pereladova")
    assignment = make_assignment(proposal=proposal, reviewer=reviewer, state=AssignmentState.ASSIGNED)
    return {"email": reviewer.email, "reference": proposal.reference, "assignment_id": assignment.id}


@pytest.fixture
def review_page(browser, review_site, request):
    base_url, facts = review_site
    context = browser.new_context(base_url=base_url, locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page, facts
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"failed-{request.node.name}.png"), full_page=True)
    context.close()


def shoot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_reviewer_declares_no_conflict_scores_and_submits(review_page):
    page, facts = review_page

    page.goto("/login")
    page.get_by_label("Email").fill(facts["email"])
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="My reviews")).to_be_visible()

    page.get_by_role("link", name="My reviews").click()
    expect(page.get_by_role("heading", name="Conflict of interest to declare")).to_be_visible()
    page.get_by_role("link", name=f"Declare {facts['reference']}").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Conflict of interest")
    page.get_by_label(re.compile("^No: I have no conflict of interest")).check()
    page.get_by_role("button", name="Send my declaration").click()

    expect(page.get_by_role("heading", name="Your review")).to_be_visible()
    expect(page.get_by_text(f"You can now read and score {facts['reference']}.")).to_be_visible()
    page.get_by_role("group", name=re.compile("Conservation relevance")).get_by_label("4 · Strong").check()
    page.get_by_role("group", name=re.compile("Feasibility")).get_by_label("5 · Excellent").check()
    page.get_by_role("group", name=re.compile("Capacity")).get_by_label("Not applicable").check()
    page.get_by_role("group", name="Your recommendation").get_by_label("Fund with changes").check()
    page.get_by_label("Comments").fill("Strong monitoring design; the boat budget needs a second quote.")

    expect(page.locator("[data-save-status]")).to_contain_text("Saved", timeout=10_000)
    shoot(page, "review-form")

    page.reload()  # what autosave stored comes back from the server
    expect(
        page.get_by_role("group", name=re.compile("Feasibility")).get_by_label("5 · Excellent")
    ).to_be_checked()
    expect(page.get_by_label("Comments")).to_have_value(re.compile("second quote"))

    # Submitting straight after typing: the last change is saved first, then the review is submitted.
    page.get_by_label("Comments").press("Control+End")
    page.get_by_label("Comments").press_sequentially(" Ranger training is well costed.")
    page.get_by_role("button", name="Submit the review").click()

    expect(page.get_by_text(f"Your review of {facts['reference']} is submitted.")).to_be_visible()
    expect(page.get_by_text(re.compile("The review is locked"))).to_be_visible()
    # Relevance 0.75 * 30 + feasibility 1 * 25 over 55 weight points (capacity N/A): 86.4 / 100.
    expect(page.get_by_text("86.4 / 100")).to_be_visible()
    expect(page.get_by_role("button", name="Submit the review")).to_have_count(0)
    expect(page.get_by_label("Comments")).to_have_count(0)
    expect(page.get_by_text(re.compile("second quote. Ranger training is well costed."))).to_be_visible()
    shoot(page, "review-submitted")
