"""``fundapp seed-demo``: calls in each state, proposals in every state of the workflow, the closed call's
reviews and the board meetings that decide it, all made through the operations (versions and minutes with
their PDFs, an intact audit chain), counted by ``fundapp summary``.

Seeding renders a PDF per submission, so it runs once for the module, in a transaction rolled back at the
end (as the ``db`` fixture does for one test).
"""

import hashlib
import json
import shutil
import subprocess
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
from fundapp.board import budget as board_budget
from fundapp.board import operations as board_operations
from fundapp.board.models import AgendaItem, DecisionOutcome, Meeting, MeetingState
from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from fundapp.core.formatting import fund_timezone
from fundapp.core.mail import OutboxMessage
from fundapp.core.storage import stored_bytes
from fundapp.demo import DEMO_PASSWORD, OFFICER_EMAIL, PROJECTS, REVIEWER_PROFILES
from fundapp.extensions import db as _db
from fundapp.extensions import limiter
from fundapp.reviews import operations as review_operations
from fundapp.reviews.models import Assignment, AssignmentState
from fundapp.reviews.ranking import ranking
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

    assert len(proposals) == len([project for project in PROJECTS if project["call"] == "leopard"])
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
        "rubric.created",
        "reviewer_profile.changed",
        "assignment.created",
        "assignment.accepted",
        "assignment.conflicted",
        "review.submitted",
        "proposal.in_review",
        "proposal.reviewed",
        "board.settings_changed",
        "meeting.scheduled",
        "agenda_item.added",
        "meeting.attendance",
        "board_conflict.declared",
        "vote.cast",
        "agenda_item.decided",
        "proposal.approved",
        "proposal.deferred",
        "meeting.minutes_stored",
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


# -- reviews of the closed call -----------------------------------------------------------------------------


def closed_call(session):
    return session.scalar(select(Call).where(Call.state == CallState.CLOSED))


def assignments_of(session, proposal):
    return session.scalars(
        select(Assignment).where(Assignment.proposal_id == proposal.id).order_by(Assignment.id)
    ).all()


def test_every_call_has_the_default_rubric(session):
    for call in session.scalars(select(Call)):
        rubric = review_operations.rubric_of(session, call)
        assert [criterion.title for criterion in rubric.criteria] == [
            title for title, *_rest in review_operations.DEFAULT_CRITERIA
        ], call.reference


def test_demo_reviewers_have_profiles_and_the_affiliated_one_never_reviews_its_organisation(session):
    for email in REVIEWER_PROFILES:
        profile = review_operations.profile_of(session, demo_user(session, email))
        assert profile.themes and profile.regions and profile.species_groups, email
    affiliated = demo_user(session, "reviewer4@ibf.example")
    organisations = {
        a.organisation_id for a in review_operations.profile_of(session, affiliated).affiliations
    }
    assert organisations
    for proposal in session.scalars(select(Proposal).where(Proposal.organisation_id.in_(organisations))):
        assert affiliated.id not in {a.reviewer_id for a in assignments_of(session, proposal)}


def test_the_closed_calls_proposals_were_assigned_automatically_and_match_expertise(session):
    call = closed_call(session)
    rubric = review_operations.rubric_of(session, call)
    created = session.scalars(select(AuditEvent).where(AuditEvent.action == "assignment.created")).all()

    assert created and all(event.after["reason"] == "automatic" for event in created)
    assert sum(event.after["expertise_match"] > 0 for event in created) > len(created) / 2
    for proposal in session.scalars(select(Proposal).where(Proposal.call_id == call.id)):
        active = review_operations.active_assignments(session, proposal)
        assert len(active) == rubric.reviewers_per_proposal, proposal.reference


def test_one_reviewer_declared_a_conflict_and_was_replaced(session):
    conflicted = session.scalars(
        select(Assignment).where(Assignment.state == AssignmentState.CONFLICTED)
    ).all()

    assert len(conflicted) == 1
    (withdrawn,) = conflicted
    assert withdrawn.declaration_note
    later = [a for a in assignments_of(session, withdrawn.proposal) if a.assigned_at > withdrawn.assigned_at]
    assert len(later) == 1 and later[0].reviewer_id != withdrawn.reviewer_id
    assert later[0].state == AssignmentState.ACCEPTED  # the replacement is still scoring
    assert withdrawn.proposal.state == ProposalState.IN_REVIEW


def test_review_states_follow_from_the_submitted_reviews(session):
    for proposal in session.scalars(select(Proposal).where(Proposal.call_id == closed_call(session).id)):
        states = {a.state for a in review_operations.active_assignments(session, proposal)}
        if proposal.state == ProposalState.IN_REVIEW:
            assert states != {AssignmentState.SUBMITTED}, proposal.reference
        else:
            assert states == {AssignmentState.SUBMITTED}, proposal.reference
        for assignment in review_operations.active_assignments(session, proposal):
            review = assignment.review
            if assignment.state == AssignmentState.SUBMITTED:
                assert review.comments and review.recommendation and review.weighted_score is not None
                assert closed_call(session).closes_at < review.submitted_at < utcnow()


def test_the_closed_calls_ranking_shows_means_normalised_scores_and_a_disagreement(session):
    ranked = ranking(session, closed_call(session))

    assert len(ranked) == len([project for project in PROJECTS if project["call"] == "leopard"])
    assert all(row.count and row.mean is not None and row.normalised is not None for row in ranked)
    assert len({round(row.mean, 2) for row in ranked}) > 3
    assert any(abs(row.normalised) > 0.1 for row in ranked)
    flagged = [row for row in ranked if row.disagreement]
    assert 1 <= len(flagged) < len(ranked)
    assert all(row.disagreement_reasons for row in flagged)


# -- the board ----------------------------------------------------------------------------------------------


def meetings_by_state(session):
    return {meeting.state: meeting for meeting in session.scalars(select(Meeting))}


def test_the_board_is_chaired_with_the_officer_as_its_secretary(session):
    settings = board_operations.board_settings(session)

    assert settings.chair.email == "chair@ibf.example"
    assert settings.secretary.email == OFFICER_EMAIL
    assert len(board_operations.board_members(session)) == 5


def test_last_months_meeting_is_closed_with_minutes_matching_their_sha256(session):
    meeting = meetings_by_state(session)[MeetingState.CLOSED]
    today = utcnow().astimezone(fund_timezone()).date()
    last_month = today.replace(day=1) - timedelta(days=1)
    held = meeting.scheduled_at.astimezone(fund_timezone()).date()

    assert (held.year, held.month) == (last_month.year, last_month.month)
    assert meeting.opened_at == meeting.scheduled_at < meeting.closed_at
    data = stored_bytes(meeting.minutes_file)
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == meeting.minutes_sha256 == meeting.minutes_file.sha256


def test_last_months_meeting_recorded_attendance_a_recusal_votes_and_every_kind_of_decision(session):
    meeting = meetings_by_state(session)[MeetingState.CLOSED]
    items = {item.outcome: item for item in meeting.items}

    assert sorted(a.present for a in meeting.attendance) == [False, True, True, True, True]
    assert sum(len(item.conflicts) for item in meeting.items) == 1
    assert set(items) == set(DecisionOutcome)
    approved = items[DecisionOutcome.APPROVED]
    assert approved.approved_amount < approved.proposal.requested  # approved for less than requested
    assert len(approved.votes) == 4
    assert items[DecisionOutcome.APPROVED_WITH_CONDITIONS].conditions
    rejected = items[DecisionOutcome.REJECTED]
    assert rejected.reason and rejected.conflicts
    assert rejected.participating_count == rejected.eligible_count - 1  # one absent, one recused
    assert all(item.reason for item in meeting.items if item.outcome == DecisionOutcome.DEFERRED)
    assert all(meeting.opened_at <= item.decided_at <= meeting.closed_at for item in meeting.items)
    committed = board_budget.committed(session, closed_call(session))
    assert committed.minor == sum(item.approved_minor or 0 for item in meeting.items)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs pdftotext (poppler-utils)")
def test_the_minutes_show_each_decision(session, tmp_path):
    meeting = meetings_by_state(session)[MeetingState.CLOSED]
    path = tmp_path / "minutes.pdf"
    path.write_bytes(stored_bytes(meeting.minutes_file))

    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout.decode().split()
    )

    assert "Absent: Askar Mukhamediyarov" in text
    for item in meeting.items:
        assert item.proposal.reference in text
    assert "Decision: approved, KZT 25,000,000.00." in text
    assert "Decision: approved with conditions" in text
    assert "Decision: rejected." in text and "no record of snow leopards in the Ulytau mountains" in text
    assert "Decision: deferred" in text


def test_next_months_meeting_is_scheduled_with_an_agenda_of_reviewed_and_deferred_proposals(session):
    meeting = meetings_by_state(session)[MeetingState.SCHEDULED]
    today = utcnow().astimezone(fund_timezone()).date()
    first_of_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    day = meeting.scheduled_at.astimezone(fund_timezone()).date()
    deferred_before = {
        item.proposal_id
        for item in meetings_by_state(session)[MeetingState.CLOSED].items
        if item.outcome == DecisionOutcome.DEFERRED
    }

    assert (day.year, day.month) == (first_of_next.year, first_of_next.month)
    assert len(meeting.items) == 2
    assert all(item.proposal.state == ProposalState.ON_AGENDA for item in meeting.items)
    assert all(0 < item.recommended_minor <= item.proposal.requested_minor for item in meeting.items)
    assert len({item.proposal_id for item in meeting.items} & deferred_before) == 1
    assert any(item.recommended_minor < item.proposal.requested_minor for item in meeting.items)


def test_proposal_states_agree_with_the_board_decisions(session):
    outcome_states = {
        DecisionOutcome.APPROVED: ProposalState.APPROVED,
        DecisionOutcome.APPROVED_WITH_CONDITIONS: ProposalState.APPROVED_WITH_CONDITIONS,
        DecisionOutcome.REJECTED: ProposalState.REJECTED,
        DecisionOutcome.DEFERRED: ProposalState.DEFERRED,
    }
    on_later_agenda = {item.proposal_id for item in meetings_by_state(session)[MeetingState.SCHEDULED].items}
    decided = session.scalars(select(AgendaItem).where(AgendaItem.outcome.is_not(None))).all()

    assert decided
    for item in decided:
        if item.proposal_id in on_later_agenda:
            assert item.outcome == DecisionOutcome.DEFERRED
            assert item.proposal.state == ProposalState.ON_AGENDA
        else:
            assert item.proposal.state == outcome_states[item.outcome], item.proposal.reference
    for state in (ProposalState.APPROVED, ProposalState.REJECTED, ProposalState.ON_AGENDA):
        for proposal in session.scalars(select(Proposal).where(Proposal.state == state)):
            assert session.scalar(select(AgendaItem.id).where(AgendaItem.proposal_id == proposal.id))


def test_applicants_were_told_the_decisions(session):
    meeting = meetings_by_state(session)[MeetingState.CLOSED]
    told = set(session.execute(select(OutboxMessage.to_address, OutboxMessage.subject)))

    for item in meeting.items:
        for membership in item.proposal.organisation.memberships:
            assert any(
                address == membership.user.email and item.proposal.reference in subject
                for address, subject in told
            ), item.proposal.reference


def test_the_secretary_and_a_board_member_open_the_board_pages(app, session):
    meetings = meetings_by_state(session)
    ranked_call = closed_call(session)
    for email in (OFFICER_EMAIL, "chair@ibf.example"):
        limiter.reset()
        browser = app.test_client()
        login(browser, demo_user(session, email), DEMO_PASSWORD)
        assert browser.get("/board/").status_code == 200
        for meeting in meetings.values():
            page = browser.get(f"/board/meetings/{meeting.reference}")
            assert page.status_code == 200
            assert meeting.reference in page.get_data(as_text=True)
        with browser.get(f"/board/meetings/{meetings[MeetingState.CLOSED].reference}/minutes.pdf") as minutes:
            assert minutes.status_code == 200
    page = browser.get(f"/officer/calls/{ranked_call.reference}/ranking")
    assert page.status_code == 403  # the chair is no programme officer


def test_the_officer_sees_the_ranking_with_its_disagreement_flag(app, session):
    limiter.reset()
    browser = app.test_client()
    login(browser, demo_user(session, OFFICER_EMAIL), DEMO_PASSWORD)

    page = browser.get(f"/officer/calls/{closed_call(session).reference}/ranking").get_data(as_text=True)

    assert "Scores spread over" in page
    assert browser.get(f"/officer/reviews/calls/{closed_call(session).id}").status_code == 200


def test_a_demo_reviewer_sees_their_assignments(app, session):
    limiter.reset()
    reviewer = session.scalar(
        select(User)
        .join(Assignment, Assignment.reviewer_id == User.id)
        .where(Assignment.state == AssignmentState.ACCEPTED)
    )
    browser = app.test_client()
    login(browser, reviewer, DEMO_PASSWORD)

    page = browser.get("/reviews")

    assert page.status_code == 200
    for assignment in session.scalars(select(Assignment).where(Assignment.reviewer_id == reviewer.id)):
        if assignment.state in (AssignmentState.ACCEPTED, AssignmentState.SUBMITTED):
            assert assignment.proposal.reference in page.get_data(as_text=True)
            assert browser.get(f"/reviews/{assignment.id}").status_code == 200
