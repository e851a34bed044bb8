"""``fundapp seed-demo``: calls in each state, proposals in every state the workflow reaches, made through the
operations (versions with their PDFs, an intact audit chain), counted by ``fundapp summary``.

Seeding renders a PDF per submission, so it runs once for the module, in a transaction rolled back at the
end (as the ``db`` fixture does for one test).
"""

import hashlib
import json
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundapp.accounts.models import User
from fundapp.applications.models import (
    Call,
    CallState,
    Proposal,
    ProposalStage,
    ProposalState,
    ProposalVersion,
    Screening,
    ScreeningOutcome,
)
from fundapp.applications.sections import in_country
from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from fundapp.core.formatting import fund_timezone
from fundapp.core.storage import stored_bytes
from fundapp.demo import DEMO_PASSWORD, OFFICER_EMAIL, PROJECTS
from fundapp.extensions import db as _db
from fundapp.extensions import limiter
from tests.conftest import login


@pytest.fixture(scope="module")
def seeded(app):
    """The output of ``fundapp seed-demo`` run once on an empty database, rolled back after the module."""
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        engines = _db._app_engines[app]
        engine = engines[None]
        engines[None] = connection
        _db.session.remove()
        _db.session.configure(join_transaction_mode="create_savepoint")
        try:
            result = app.test_cli_runner().invoke(args=["seed-demo"])
            assert result.exit_code == 0, result.output
            yield result.output
        finally:
            _db.session.remove()
            engines[None] = engine
            transaction.rollback()
            connection.close()


@pytest.fixture
def session(seeded):
    yield _db.session
    _db.session.rollback()


def proposal_states(session):
    return Counter(state for (state,) in session.execute(select(Proposal.state)))


def demo_user(session, email):
    return session.scalar(select(User).where(User.email == email))


def test_seed_demo_prints_the_logins(seeded):
    assert "Demo data loaded." in seeded
    assert OFFICER_EMAIL in seeded and DEMO_PASSWORD in seeded
    assert "youth@ecoclub.example" in seeded


def test_calls_are_published_closed_and_draft(session):
    calls = {call.title: call for call in session.scalars(select(Call))}

    assert calls["Caspian seal and the marine reserve"].state == CallState.PUBLISHED
    assert calls["Caspian seal and the marine reserve"].is_open()
    assert calls["Caspian seal and the marine reserve"].themes == ["marine_mammals", "protected_areas"]
    assert calls["Saiga and steppe ungulates"].state == CallState.PUBLISHED
    assert calls["Saiga and steppe ungulates"].is_two_stage and calls["Saiga and steppe ungulates"].is_open()
    assert calls["Snow leopard corridors"].state == CallState.CLOSED
    assert calls["Wetlands of the Turgay and Tengiz lakes"].state == CallState.DRAFT


def test_the_closed_call_closed_last_month(session):
    call = session.scalar(select(Call).where(Call.title == "Snow leopard corridors"))
    today = utcnow().astimezone(fund_timezone()).date()
    last_month = today.replace(day=1) - timedelta(days=1)

    closed_on = call.closes_at.astimezone(fund_timezone()).date()
    assert (closed_on.year, closed_on.month) == (last_month.year, last_month.month)
    assert call.opens_at < call.closes_at


def test_proposals_are_in_every_state_of_the_workflow(session):
    states = proposal_states(session)

    assert set(states) == set(ProposalState)
    # One draft in progress, and the full-proposal draft of the invited concept note.
    assert states[ProposalState.DRAFT] == 2
    assert sum(states.values()) == len(PROJECTS) + 1


def test_each_project_ends_in_its_state(session):
    for project in PROJECTS:
        proposal = session.scalar(select(Proposal).where(Proposal.title == project["title"]))
        if project["call"] == "saiga":
            proposal = session.scalar(
                select(Proposal).where(
                    Proposal.title == project["title"], Proposal.stage == ProposalStage.CONCEPT
                )
            )
        assert proposal.state == project["state"], project["key"]


def test_the_invited_concept_note_has_a_full_proposal_draft_in_progress(session):
    concept = session.scalar(
        select(Proposal).where(
            Proposal.state == ProposalState.INVITED, Proposal.stage == ProposalStage.CONCEPT
        )
    )
    full = session.scalar(select(Proposal).where(Proposal.concept_id == concept.id))

    assert full.stage == ProposalStage.FULL and full.state == ProposalState.DRAFT
    assert full.organisation_id == concept.organisation_id
    assert full.section("budget").version > concept.section("budget").version
    assert full.requested_minor != concept.requested_minor


def test_screenings_that_tell_the_applicant_why_carry_a_reason(session):
    screenings = session.scalars(select(Screening)).all()
    outcomes = Counter(screening.outcome for screening in screenings)

    assert outcomes[ScreeningOutcome.INELIGIBLE] == 1
    assert outcomes[ScreeningOutcome.DECLINE] == 1
    assert outcomes[ScreeningOutcome.MORE_INFO] == 2  # one still waiting, one answered and resubmitted
    for screening in screenings:
        if screening.outcome in (
            ScreeningOutcome.INELIGIBLE,
            ScreeningOutcome.DECLINE,
            ScreeningOutcome.MORE_INFO,
        ):
            assert screening.reason.strip()
        if screening.outcome == ScreeningOutcome.ELIGIBLE:
            assert all(screening.checklist.values())


def test_every_submitted_proposal_has_a_version_with_a_pdf_matching_its_sha256(session):
    proposals = session.scalars(
        select(Proposal).where(Proposal.state != ProposalState.DRAFT).order_by(Proposal.id)
    ).all()

    assert len(proposals) == len(PROJECTS) - 1
    for proposal in proposals:
        assert proposal.versions, proposal.reference
        assert proposal.submitted_at is not None
        for version in proposal.versions:
            data = stored_bytes(version.pdf_file)
            assert data.startswith(b"%PDF-")
            assert hashlib.sha256(data).hexdigest() == version.pdf_sha256 == version.pdf_file.sha256


def test_the_proposal_sent_back_for_more_information_was_resubmitted_with_a_second_version(session):
    numbers = session.execute(
        select(Proposal.state, func.max(ProposalVersion.number))
        .join(ProposalVersion, ProposalVersion.proposal_id == Proposal.id)
        .group_by(Proposal.id, Proposal.state)
    ).all()

    assert (ProposalState.ELIGIBLE, 2) in numbers
    eligible = session.scalar(select(Proposal).where(Proposal.state == ProposalState.ELIGIBLE))
    first, second = eligible.versions
    assert first.snapshot != second.snapshot
    assert "veterinary-protocol.pdf" in {item["name"] for item in second.snapshot["attachments"]}
    assert "veterinary-protocol.pdf" not in {item["name"] for item in first.snapshot["attachments"]}


def test_submissions_of_the_closed_call_were_made_before_its_deadline(session):
    call = session.scalar(select(Call).where(Call.state == CallState.CLOSED))
    proposals = session.scalars(select(Proposal).where(Proposal.call_id == call.id)).all()

    assert len(proposals) == 7
    for proposal in proposals:
        assert call.opens_at <= proposal.submitted_at < call.closes_at
        assert all(version.submitted_at < call.closes_at for version in proposal.versions)


def test_submitted_proposals_carry_the_attachments_their_call_requires(session):
    for proposal in session.scalars(select(Proposal).where(Proposal.state != ProposalState.DRAFT)):
        attached = {attachment.kind.value for attachment in proposal.attachments}
        assert set(proposal.call.required_attachments) <= attached, proposal.reference


def test_every_site_lies_in_the_country(session):
    for proposal in session.scalars(select(Proposal)):
        for site in proposal.section("sites").content.get("sites", []):
            assert in_country(site["latitude"], site["longitude"]), (proposal.reference, site["name"])


def test_summary_counts_the_seeded_proposals_by_state(app, session):
    result = app.test_cli_runner().invoke(args=["summary", "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    expected = {state.value: count for state, count in proposal_states(session).items()}
    assert summary["proposals_by_state"] == expected | {"total": sum(expected.values())}
    assert summary["calls_by_state"] == {"published": 2, "closed": 1, "draft": 1, "total": 4}


def test_the_audit_chain_verifies_after_seeding(app, session):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])

    assert result.exit_code == 0, result.output
    assert "Audit chain intact" in result.output
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {
        "proposal.submitted",
        "proposal.version_frozen",
        "proposal.eligible",
        "proposal.approved",
    } <= actions


def test_seeding_again_changes_nothing(app, session):
    before = proposal_states(session)
    users = session.scalar(select(func.count()).select_from(User))

    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0
    assert "not loaded" in result.output
    assert proposal_states(session) == before
    assert session.scalar(select(func.count()).select_from(User)) == users


def test_the_officer_can_open_every_demo_proposal(app, session):
    limiter.reset()
    browser = app.test_client()
    login(browser, demo_user(session, OFFICER_EMAIL), DEMO_PASSWORD)

    listing = browser.get("/officer/proposals")
    assert listing.status_code == 200
    for proposal in session.scalars(select(Proposal)):
        page = browser.get(f"/officer/proposals/{proposal.id}")
        assert page.status_code == 200, proposal.reference
        assert proposal.reference in page.get_data(as_text=True)
    assert browser.get("/").status_code == 200


def test_demo_applicants_see_their_proposals(app, session):
    limiter.reset()
    for email in ("seal@caspianseal.example", "saiga@steppe.example", "youth@ecoclub.example"):
        user = demo_user(session, email)
        browser = app.test_client()
        login(browser, user, DEMO_PASSWORD)
        page = browser.get("/proposals").get_data(as_text=True)
        for proposal in session.scalars(
            select(Proposal).where(Proposal.organisation_id == user.primary_organisation.id)
        ):
            assert proposal.reference in page
            assert browser.get(f"/proposals/{proposal.id}").status_code == 200
        assert browser.get("/").status_code == 200
