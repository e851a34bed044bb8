"""``fundapp seed-demo``: calls in each state, proposals in every state of the workflow, the closed calls'
reviews and the board meetings that decide them, funding pools, grants in every state with their tranches,
reports and ledger, all made through the operations (versions and minutes with their PDFs, an intact audit
chain, a ledger that holds), counted by ``fundapp summary``.

Seeding renders a PDF per submission, so it runs once for the module, in a transaction rolled back at the
end (as the ``db`` fixture does for one test).
"""

import hashlib
import json
import shutil
import subprocess
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

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
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.core.storage import stored_bytes
from fundapp.demo import (
    APPROVER_EMAIL,
    DEMO_PASSWORD,
    DONORS,
    GRANT_STORIES,
    OFFICER_EMAIL,
    POOLS,
    PROJECTS,
    RELEASER_EMAIL,
    REPORTS,
    REVIEWER_PROFILES,
)
from fundapp.disbursements import ledger
from fundapp.disbursements import reporting as grant_reporting
from fundapp.disbursements.models import (
    EntryKind,
    FundingPool,
    Grant,
    GrantReport,
    GrantState,
    JournalEntry,
    ReportFileKind,
    ReportState,
    Restriction,
    Tranche,
    TrancheState,
)
from fundapp.donors import allocation as donor_allocation
from fundapp.donors import queries as donor_queries
from fundapp.donors.models import Allocation, Contribution, Donor, DonorKind, Pledge, PledgeState
from fundapp.extensions import db as _db
from fundapp.extensions import limiter
from fundapp.reviews import operations as review_operations
from fundapp.reviews.models import Assignment, AssignmentState
from fundapp.reviews.ranking import ranking
from tests.conftest import login, rolled_back


@pytest.fixture(scope="module")
def seeded(app):
    """The output of ``fundapp seed-demo`` run once on an empty database, rolled back after the module."""
    with rolled_back(app):
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        yield result.output


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
    assert calls["Steppe ungulates and wetlands: small grants"].state == CallState.CLOSED
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


def test_submissions_of_the_closed_calls_were_made_before_their_deadlines(session):
    closed = session.scalars(select(Call).where(Call.state == CallState.CLOSED)).all()

    assert len(closed) == 2
    for call in closed:
        proposals = session.scalars(select(Proposal).where(Proposal.call_id == call.id)).all()
        titles = {project["title"] for project in PROJECTS}
        assert proposals and {proposal.title for proposal in proposals} <= titles
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
    assert summary["calls_by_state"] == {"published": 2, "closed": 2, "draft": 1, "total": 5}


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
        "pool.created",
        "ledger.receipt",
        "grant.created",
        "grant.agreement_stored",
        "ledger.commitment",
        "ledger.release",
        "ledger.refund",
        "ledger.decommitment",
        "grant_report.saved",
        "grant_report.file_added",
        "grant.demo_dated_back",
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
    """The leopard call, which closed last month (the steppe and wetlands call closed long before)."""
    return session.scalar(select(Call).where(Call.title == "Snow leopard corridors"))


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
    """The meetings by state; of the closed ones, last month's (the latest)."""
    meetings = session.scalars(select(Meeting).order_by(Meeting.scheduled_at)).all()
    return {meeting.state: meeting for meeting in meetings}


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
        for meeting in session.scalars(select(Meeting)):
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


# -- funding pools, grants and the ledger --------------------------------------------------------------------


def grant_of(session, key):
    title = next(project["title"] for project in PROJECTS if project["key"] == key)
    return session.scalar(
        select(Grant).join(Proposal, Proposal.id == Grant.proposal_id).where(Proposal.title == title)
    )


def today():
    return utcnow().astimezone(fund_timezone()).date()


def test_the_earlier_meeting_was_held_more_than_a_year_ago_and_approved_a_grant_per_proposal(session):
    earliest = session.scalars(select(Meeting).order_by(Meeting.scheduled_at)).first()
    held = earliest.scheduled_at.astimezone(fund_timezone()).date()

    assert earliest.state == MeetingState.CLOSED and earliest.minutes_sha256
    assert (today() - held).days > 365
    assert earliest.items and all(item.outcome in board_budget.APPROVING for item in earliest.items)
    for item in earliest.items:
        grant = session.scalar(select(Grant).where(Grant.agenda_item_id == item.id))
        assert grant.amount_minor == item.approved_minor
        assert grant.created_at == item.decided_at


def test_every_approval_has_a_grant_drawing_from_the_most_specific_pool(session):
    approved = session.scalars(select(AgendaItem).where(AgendaItem.outcome.in_(board_budget.APPROVING))).all()
    grants = session.scalars(select(Grant)).all()

    assert len(grants) == len(approved) == 10
    for grant in grants:
        pool = grant.pool
        if grant.call.title == "Snow leopard corridors":
            assert pool.code == "LEOPARD"
        elif grant.proposal.theme == "steppe_ungulates":
            assert pool.code == "STEPPE"
        else:
            assert pool.code == "GENERAL"  # wetlands have no pool of their own


def test_there_is_a_grant_in_every_state(session):
    states = Counter(grant.state for grant in session.scalars(select(Grant)))

    assert set(states) == set(GrantState)
    assert states[GrantState.ACTIVE] == 4
    assert grant_of(session, "leopard-community-rangers").state == GrantState.AGREEMENT
    assert grant_of(session, "leopard-camera-traps").state == GrantState.ACTIVE
    expected = {
        "steppe-ustyurt": GrantState.ACTIVE,
        "steppe-gazelle": GrantState.ACTIVE,
        "steppe-kulan": GrantState.ACTIVE,
        "wetland-ural": GrantState.SUSPENDED,
        "wetland-tengiz": GrantState.COMPLETED,
        "wetland-biylikol": GrantState.CLOSED,
        "steppe-mangyshlak": GrantState.TERMINATED,
        "wetland-chu": GrantState.CANCELLED,
    }
    assert set(expected) | {"leopard-camera-traps"} == set(GRANT_STORIES)
    for key, state in expected.items():
        assert grant_of(session, key).state == state, key


def test_signed_grants_were_signed_after_the_decision_and_before_today(session):
    for grant in session.scalars(select(Grant)):
        if grant.state in (GrantState.AGREEMENT, GrantState.CANCELLED):
            assert grant.grantee_signed_on is None and grant.signed_copy_file_id is None
            continue
        decided_on = grant.agenda_item.decided_at.astimezone(fund_timezone()).date()
        assert decided_on <= grant.grantee_signed_on <= grant.fund_signed_on <= today(), grant.reference
        assert stored_bytes(grant.signed_copy_file).startswith(b"%PDF-")
        assert stored_bytes(grant.agreement_file).startswith(b"%PDF-")
        assert grant.bank_iban and grant.activated_at <= utcnow()


def test_released_tranches_were_approved_and_released_by_two_finance_officers(session):
    released = session.scalars(select(Tranche).where(Tranche.state == TrancheState.RELEASED)).all()
    approver, releaser = demo_user(session, APPROVER_EMAIL), demo_user(session, RELEASER_EMAIL)

    assert len(released) == 10
    for tranche in released:
        assert tranche.approved_by_id == approver.id and tranche.released_by_id == releaser.id
        assert tranche.approved_by_id != tranche.released_by_id
        assert tranche.bank_reference.startswith("KZ-OUT-")
        assert tranche.planned_date <= tranche.paid_on <= today()
        assert tranche.approved_at <= tranche.released_at <= utcnow()
        assert tranche.approved_at.astimezone(fund_timezone()).date() <= tranche.paid_on
        entry = session.scalar(select(JournalEntry).where(JournalEntry.tranche_id == tranche.id))
        assert entry.kind == EntryKind.RELEASE and entry.value_date == tranche.paid_on
    assert len({tranche.bank_reference for tranche in released}) == len(released)


def test_tranches_wait_to_be_approved_and_released(session):
    states = Counter(tranche.state for tranche in session.scalars(select(Tranche)))

    assert set(states) == set(TrancheState)
    approved = session.scalars(select(Tranche).where(Tranche.state == TrancheState.APPROVED)).all()
    assert [tranche.grant.state for tranche in approved] == [GrantState.ACTIVE]
    assert approved[0].approved_by.email == APPROVER_EMAIL and approved[0].released_by_id is None
    assert approved[0].report.state == ReportState.ACCEPTED
    due = session.scalars(select(Tranche).where(Tranche.state == TrancheState.DUE)).all()
    assert [tranche.grant.state for tranche in due] == [GrantState.COMPLETED]
    assert due[0].report.state == ReportState.ACCEPTED


def test_reports_are_accepted_submitted_sent_back_and_overdue(session):
    reports = session.scalars(select(GrantReport)).all()
    states = Counter(report.state for report in reports)

    assert set(states) == set(ReportState)
    assert states[ReportState.SUBMITTED] == 1 and states[ReportState.CHANGES_REQUESTED] == 1
    written = {(key, number) for key, number in REPORTS if REPORTS[(key, number)].get("photo")}
    for report in reports:
        if report.state in (ReportState.ACCEPTED, ReportState.SUBMITTED, ReportState.CHANGES_REQUESTED):
            assert report.submitted_at < utcnow() and report.narrative
            assert report.indicator_values and all(value.value for value in report.indicator_values)
            assert len(report.spend_lines) == len(report.grant.proposal.section("budget").content["lines"])
            (photo,) = report.files
            assert photo.kind == ReportFileKind.PHOTO
            assert stored_bytes(photo.stored_file).startswith(b"\x89PNG\r\n\x1a\n")
            assert not grant_reporting.submission_problems(report)
        if report.state in (ReportState.ACCEPTED, ReportState.CHANGES_REQUESTED):
            assert report.submitted_at < report.reviewed_at < utcnow()
            assert report.reviewed_by.email == OFFICER_EMAIL
    assert len(written) == sum(1 for report in reports if report.state != ReportState.DUE)
    sent_back = next(report for report in reports if report.state == ReportState.CHANGES_REQUESTED)
    assert sent_back.review_comment and sent_back.grant.state == GrantState.SUSPENDED
    overdue = grant_reporting.overdue_reports(session)
    assert overdue and {report.grant.state for report in overdue} <= {GrantState.ACTIVE, GrantState.SUSPENDED}
    assert any(report.state == ReportState.DUE and report.narrative for report in overdue)  # a draft begun


def test_the_closed_grant_gave_back_what_it_did_not_spend_and_the_terminated_one_refunded(session):
    closed = grant_of(session, "wetland-biylikol")
    figures = ledger.grant_figures(session, closed)
    cancelled = [tranche for tranche in closed.tranches if tranche.state == TrancheState.CANCELLED]

    assert closed.closed_at is not None and figures.outstanding.minor == 0
    assert figures.released.minor == closed.amount_minor - sum(tranche.amount_minor for tranche in cancelled)
    decommitment = session.scalar(
        select(JournalEntry).where(
            JournalEntry.grant_id == closed.id, JournalEntry.kind == EntryKind.DECOMMITMENT
        )
    )
    assert decommitment is not None and decommitment.pool_id == closed.pool_id
    terminated = grant_of(session, "steppe-mangyshlak")
    terminated_figures = ledger.grant_figures(session, terminated)
    assert 0 < terminated_figures.refunded.minor < terminated_figures.released.minor
    assert all(t.state in (TrancheState.RELEASED, TrancheState.CANCELLED) for t in terminated.tranches)


def test_the_ledger_holds(app, session):
    assert ledger.check_ledger(session) == []

    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output


def expected_received(code):
    """What POOLS and DONORS say pool ``code`` received, in tiyn: its receipts from no donor and the
    donors' contributions at their rates."""
    total = sum(int(amount) * 100 for _m, _d, amount, *_rest in POOLS[code]["receipts"])
    for donor in DONORS:
        for pool, _months, _day, amount, rate, *_rest in donor["contributions"]:
            if pool == code:
                total += Money.from_decimal(amount, donor["currency"]).convert(Decimal(rate), "KZT").minor
    return total


def test_pools_received_their_money_in_the_past_before_the_board_committed_it(session):
    for code, spec in POOLS.items():
        pool = session.scalar(select(FundingPool).where(FundingPool.code == code))
        receipts = session.scalars(
            select(JournalEntry)
            .where(JournalEntry.pool_id == pool.id, JournalEntry.kind == EntryKind.RECEIPT)
            .order_by(JournalEntry.value_date)
        ).all()
        from_donors = [row for donor in DONORS for row in donor["contributions"] if row[0] == code]
        assert len(receipts) == len(spec["receipts"]) + len(from_donors)
        assert all(
            entry.value_date <= today() and entry.bank_reference.startswith("KZ-IN-") for entry in receipts
        )
        figures = ledger.pool_figures(session, pool)
        assert figures.received.minor == expected_received(code)
        assert figures.available.minor >= 0
        for grant in session.scalars(select(Grant).where(Grant.pool_id == pool.id)):
            decided_on = grant.agenda_item.decided_at.astimezone(fund_timezone()).date()
            assert receipts[0].value_date < decided_on, grant.reference


def test_summary_counts_grants_tranches_reports_and_pool_balances(app, session):
    import fundapp.disbursements.dashboard  # noqa: F401 - registers the counters (until the app imports it)

    result = app.test_cli_runner().invoke(args=["summary", "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["grants_by_state"] == {
        "agreement": 1,
        "active": 4,
        "suspended": 1,
        "completed": 1,
        "terminated": 1,
        "closed": 1,
        "cancelled": 1,
        "total": 10,
    }
    tranches = Counter(tranche.state.value for tranche in session.scalars(select(Tranche)))
    assert summary["tranches_by_state"] == dict(tranches) | {"total": 30}
    assert summary["tranches_by_state"]["released"] == 10
    assert summary["tranches_by_state"]["approved"] == 1 and summary["tranches_by_state"]["due"] == 1
    assert summary["grant_reports_by_state"]["accepted"] == 6
    balances = summary["pool_balances"]
    assert set(balances) == set(POOLS)
    million = 1_000_000 * 100
    general = expected_received("GENERAL")
    assert balances["GENERAL"] | {"currency": "KZT"} == {
        "currency": "KZT",
        "restriction": "unrestricted",
        "received_minor": general,
        "refunded_minor": 0,
        # Tengiz, Ural and Biylikol signed; Biylikol's cancelled last tranche went back at closure.
        "committed_minor": (14 + 18 + 8) * million - 1_600_000 * 100,
        "reserved_minor": 0,
        "available_minor": general - (14 + 18 + 8) * million + 1_600_000 * 100,
        "released_minor": (11_200_000 + 7_200_000 + 6_400_000) * 100,
    }
    steppe = balances["STEPPE"]
    assert steppe["received_minor"] == expected_received("STEPPE")
    assert steppe["refunded_minor"] == 1_150_000 * 100
    assert steppe["committed_minor"] == (24 + 16 + 12 + 6) * million
    assert steppe["available_minor"] == expected_received("STEPPE") - 58 * million + 1_150_000 * 100
    leopard = balances["LEOPARD"]
    assert leopard["committed_minor"] == 25 * million
    assert leopard["reserved_minor"] == grant_of(session, "leopard-community-rangers").amount_minor
    assert leopard["available_minor"] == expected_received("LEOPARD") - 25 * million
    assert balances["SEAL"]["available_minor"] == balances["SEAL"]["received_minor"] == 60 * million
    for figures in balances.values():
        assert figures["available_minor"] == (
            figures["received_minor"] + figures["refunded_minor"] - figures["committed_minor"]
        )


def test_staff_and_grantees_open_the_grant_pages(app, session):
    grants = session.scalars(select(Grant).order_by(Grant.reference)).all()
    for email in (OFFICER_EMAIL, APPROVER_EMAIL):
        limiter.reset()
        browser = app.test_client()
        login(browser, demo_user(session, email), DEMO_PASSWORD)
        assert browser.get("/grants").status_code == 200
        for grant in grants:
            page = browser.get(f"/grants/{grant.reference}")
            assert page.status_code == 200, grant.reference
            assert grant.reference in page.get_data(as_text=True)
        if email == APPROVER_EMAIL:
            assert browser.get("/finance/pools").status_code == 200
            assert browser.get("/finance/payments").status_code == 200
    limiter.reset()
    grant = grant_of(session, "steppe-ustyurt")
    browser = app.test_client()
    login(browser, grant.organisation.memberships[0].user, DEMO_PASSWORD)
    assert browser.get(f"/grants/{grant.reference}").status_code == 200
    for report in grant.reports:
        assert browser.get(f"/grants/{grant.reference}/reports/{report.number}").status_code == 200
    assert browser.get(f"/grants/{grant_of(session, 'wetland-tengiz').reference}").status_code in (403, 404)


# -- donors ---------------------------------------------------------------------------------------------


def donor_named(session, key):
    name = next(donor["name"] for donor in DONORS if donor["key"] == key)
    return session.scalar(select(Donor).where(Donor.name == name))


def test_several_donors_give_in_three_currencies_restricted_and_unrestricted(session):
    donors = session.scalars(select(Donor).order_by(Donor.reference)).all()
    contributions = session.scalars(select(Contribution)).all()

    assert [donor.name for donor in donors] == [donor["name"] for donor in DONORS]
    assert {donor.kind for donor in donors} == set(DonorKind)
    assert {donor.preferred_language for donor in donors} == {"en", "ru", "kk"}
    assert {c.currency for c in contributions} >= {"EUR", "USD", "KZT"}
    restrictions = {c.pool.restriction for c in contributions}
    assert Restriction.UNRESTRICTED in restrictions and {Restriction.THEME, Restriction.CALL} <= restrictions
    assert all(donor.contacts and donor.contributions for donor in donors)
    # Rates with decimals, as the bank gave them; same-currency gifts at 1.
    assert any(Decimal(c.rate) != Decimal(c.rate).to_integral_value() for c in contributions)
    assert all(Decimal(c.rate) == 1 for c in contributions if c.currency == "KZT")
    # Some money came from no donor: "other funds".
    from_donors = {c.entry_id for c in contributions}
    receipts = session.scalars(select(JournalEntry).where(JournalEntry.kind == EntryKind.RECEIPT)).all()
    assert [entry for entry in receipts if entry.id not in from_donors]


def test_every_contribution_is_a_ledger_receipt_of_its_amount_at_its_rate(session):
    for contribution in session.scalars(select(Contribution)):
        entry = session.get(JournalEntry, contribution.entry_id)
        assert entry.kind == EntryKind.RECEIPT and entry.pool_id == contribution.pool_id
        assert entry.value_date == contribution.value_date < today()
        assert entry.bank_reference == contribution.bank_reference
        assert contribution.bank_reference.startswith("KZ-IN-")
        into_pool = [p for p in entry.postings if p.account_id == contribution.pool.account_id]
        assert [-p.amount_minor for p in into_pool] == [contribution.base_amount_minor]
        assert sum(p.amount_minor for p in entry.postings) == 0
        expected = contribution.amount.convert(Decimal(contribution.rate), "KZT")
        assert contribution.base_amount == expected


def test_one_pledge_was_paid_in_full_and_one_is_still_open(session):
    pledges = {pledge.donor.name: pledge for pledge in session.scalars(select(Pledge))}
    states = Counter(pledge.state for pledge in pledges.values())

    assert states[PledgeState.FULFILLED] >= 1 and states[PledgeState.OPEN] >= 1
    for pledge in pledges.values():
        received = sum(c.amount_minor for c in pledge.contributions)
        assert len(pledge.instalments) >= 2
        assert sum(i.amount_minor for i in pledge.instalments) == pledge.amount_minor
        if pledge.state == PledgeState.FULFILLED:
            assert received == pledge.amount_minor
        else:
            assert 0 < received < pledge.amount_minor
            assert any(i.due_on > today() for i in pledge.instalments)


def test_allocations_never_exceed_the_contributions(session):
    allocated = defaultdict(int)
    for row in session.scalars(select(Allocation).where(Allocation.contribution_id.is_not(None))):
        allocated[row.contribution_id] += row.amount_minor
    for contribution in session.scalars(select(Contribution)):
        assert 0 <= allocated[contribution.id] <= contribution.base_amount_minor
    for pool in session.scalars(select(FundingPool)):
        assert all(free >= 0 for _c, free in donor_allocation.unallocated(session, pool))


def test_every_signed_grant_is_attributed_in_full_to_money_received_before_its_signing(session):
    signed = 0
    for grant in session.scalars(select(Grant)):
        allocations = session.scalars(select(Allocation).where(Allocation.grant_id == grant.id)).all()
        if grant.fund_signed_on is None:
            assert allocations == []
            continue
        signed += 1
        assert (
            sum(a.amount_minor for a in allocations) == ledger.grant_figures(session, grant).committed.minor
        )
        for entry in session.scalars(
            select(JournalEntry).where(
                JournalEntry.grant_id == grant.id,
                JournalEntry.kind.in_([EntryKind.COMMITMENT, EntryKind.DECOMMITMENT]),
            )
        ):
            parts = sum(a.amount_minor for a in allocations if a.entry_id == entry.id)
            sign = 1 if entry.kind == EntryKind.COMMITMENT else -1
            assert parts == sign * abs(sum(p.amount_minor for p in entry.postings if p.amount_minor > 0))
        for allocation in allocations:
            if allocation.contribution is not None:
                assert allocation.contribution.pool_id == grant.pool_id
                assert allocation.contribution.value_date < grant.fund_signed_on, grant.reference
    assert signed == 8
    # The steppe pool's donor ran out before the last steppe grant: the rest is "other funds".
    assert session.scalar(
        select(func.count()).select_from(Allocation).where(Allocation.contribution_id.is_(None))
    )


def test_the_closed_grants_decommitment_unwinds_the_latest_donors_share(session):
    closed = grant_of(session, "wetland-biylikol")
    decommitment = session.scalar(
        select(JournalEntry).where(
            JournalEntry.grant_id == closed.id, JournalEntry.kind == EntryKind.DECOMMITMENT
        )
    )
    unwound = session.scalars(select(Allocation).where(Allocation.entry_id == decommitment.id)).all()

    assert unwound and all(a.amount_minor < 0 and a.contribution is not None for a in unwound)
    assert -sum(a.amount_minor for a in unwound) == 1_600_000 * 100
    net = donor_allocation.net_by_contribution(session, closed)
    assert sum(net.values()) == ledger.grant_figures(session, closed).released.minor
    assert all(minor > 0 for minor in net.values())


def test_donors_fund_released_grants_and_the_seal_partner_awaits_its_call(session):
    for key in ("bmz", "fzs", "private"):
        donor = donor_named(session, key)
        figures = donor_queries.donor_figures(session, donor)
        assert figures.released.base.minor > 0, key
        assert figures.allocated.base.minor <= figures.contributed.base.minor
        assert figures.balance.base == figures.contributed.base - figures.allocated.base
        assert donor_queries.funded_projects(session, donor)
    bmz = donor_queries.donor_figures(session, donor_named(session, "bmz"))
    assert bmz.donor_currency == "EUR" and bmz.contributed.donor == Money.from_decimal("135000", "EUR")
    sgp = donor_queries.funded_projects(session, donor_named(session, "sgp"))
    assert [project.reference for project in sgp] == [grant_of(session, "leopard-camera-traps").reference]
    kmg = donor_named(session, "kmg")
    assert donor_queries.funded_projects(session, kmg) == []
    assert donor_queries.donor_figures(session, kmg).balance.base == Money.from_decimal("60000000", "KZT")


def test_the_demo_donors_sign_in_to_the_portal(app, seeded, session):
    portal_logins = [
        (email, donor["name"])
        for donor in DONORS
        for _name, _position, email, _phone, portal in donor["contacts"]
        if portal
    ]
    assert {email for email, _name in portal_logins} == {"donor@bmz.example", "donor@kmg.example"}
    for email, name in portal_logins:
        user = demo_user(session, email)
        assert user.roles == {Role.DONOR} and email in seeded
        limiter.reset()
        browser = app.test_client()
        login(browser, user, DEMO_PASSWORD)
        page = browser.get("/portal/")
        assert page.status_code == 200, email
        html = page.get_data(as_text=True)
        assert name in html
        if email == "donor@bmz.example":
            assert grant_of(session, "steppe-ustyurt").title in html
            project = browser.get(f"/portal/projects/{grant_of(session, 'steppe-ustyurt').reference}")
            assert project.status_code == 200
            other = browser.get(f"/portal/projects/{grant_of(session, 'wetland-tengiz').reference}")
            assert other.status_code == 404
