"""``fundapp bench seed``: a fund at scale that the application's own checks accept and its pages show.

The fund is seeded once for the module, small (the sizes are options), through the command as a user runs
it, in a transaction rolled back at the end (as the ``db`` fixture does for one test).
"""

from collections import defaultdict

import pytest
from sqlalchemy import func, select

from fundapp.accounts.models import User
from fundapp.applications.models import Call, Proposal, ProposalSection, ProposalState
from fundapp.applications.sections import SECTION_KEYS
from fundapp.bench.seed import AGENDA_ITEMS, BENCH_LOGINS, BENCH_PASSWORD, Sizes
from fundapp.board.models import AgendaItem, Meeting, MeetingState
from fundapp.core.audit import verify_chain
from fundapp.disbursements import ledger
from fundapp.disbursements.models import (
    FundingPool,
    Grant,
    GrantReport,
    GrantState,
    JournalEntry,
    Posting,
    ReportState,
    Restriction,
    Tranche,
    TrancheState,
)
from fundapp.donors.models import Allocation, Contribution, Donor, DonorContact
from fundapp.extensions import db as _db
from fundapp.extensions import limiter
from fundapp.reviews.models import Review
from tests.conftest import login, rolled_back

SMALL = {
    "proposals": 400,
    "calls": 5,
    "ranking-call": 80,
    "reviews": 1200,
    "grants": 16,
    "tranches": 64,
    "donors": 12,
    "postings": 3000,
    "reviewers": 12,
}


def _options(sizes):
    return [part for name, value in sizes.items() for part in (f"--{name}", str(value))]


@pytest.fixture(scope="module")
def seeded(app):
    """The output of ``fundapp bench seed`` with SMALL sizes on the (userless) test database."""
    with rolled_back(app):
        result = app.test_cli_runner().invoke(args=["bench", "seed", *_options(SMALL)])
        assert result.exit_code == 0, result.output
        yield result.output


@pytest.fixture
def session(seeded):
    yield _db.session
    _db.session.rollback()


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_the_command_says_what_it_wrote_and_the_logins(seeded):
    assert "400 proposal, 1,200 review" in seeded
    assert "16 grant_award, 64 tranche, 48 grant_report, 12 donor" in seeded
    assert BENCH_PASSWORD in seeded
    assert BENCH_LOGINS["programme_officer"] in seeded and BENCH_LOGINS["donor"] in seeded


def test_the_fund_has_the_sizes_asked_for(session):
    assert count(session, Call) == 5
    assert count(session, Proposal) == 400
    assert count(session, Review) == 1200
    assert count(session, Grant) == 16
    assert count(session, Tranche) == 64
    assert count(session, GrantReport) == 48
    assert count(session, Donor) == 12
    # Receipts fill the postings up to the size asked; the endowment's top-ups may add a few.
    postings = count(session, Posting)
    assert 3000 <= postings <= 3000 * 105 // 100
    # Every proposal has all its sections.
    assert count(session, ProposalSection) == 400 * len(SECTION_KEYS)


def test_the_ranking_call_holds_the_proposals_in_review_each_with_three_reviews(session):
    from fundapp.reviews.ranking import ranking

    call = session.scalar(
        select(Call)
        .join(Proposal, Proposal.call_id == Call.id)
        .where(Proposal.state == ProposalState.IN_REVIEW)
        .group_by(Call.id)
    )
    ranked = ranking(session, call)
    assert len(ranked) == 80
    assert all(row.count == 3 for row in ranked)


def test_the_ledger_holds_and_the_audit_chain_is_intact(session):
    assert ledger.check_ledger(session) == []
    assert verify_chain(session) is None


def test_grants_draw_on_a_pool_of_their_theme_or_the_general_fund(session):
    for grant, pool, theme in session.execute(
        select(Grant, FundingPool, Proposal.theme)
        .join(FundingPool, FundingPool.id == Grant.pool_id)
        .join(Proposal, Proposal.id == Grant.proposal_id)
    ):
        assert pool.restriction == Restriction.UNRESTRICTED or pool.theme == theme, grant.reference


def test_signed_grants_are_committed_in_full_and_released_tranches_paid_once(session):
    for grant in session.scalars(select(Grant)):
        figures = ledger.grant_figures(session, grant)
        released = sum(t.amount_minor for t in grant.tranches if t.state == TrancheState.RELEASED)
        if grant.state == GrantState.AGREEMENT:
            assert figures.committed.minor == 0 and released == 0
        else:
            assert figures.committed.minor == grant.amount_minor
            assert figures.released.minor == released
        if grant.state == GrantState.CLOSED:
            assert all(t.state == TrancheState.RELEASED for t in grant.tranches)
    # The four eyes: who approved never released.
    assert all(
        t.approved_by_id != t.released_by_id for t in session.scalars(select(Tranche)) if t.released_by_id
    )


def test_grants_and_reports_are_in_the_states_their_dates_lead_to(session):
    grant_states = set(session.scalars(select(Grant.state)))
    assert {GrantState.ACTIVE, GrantState.CLOSED} <= grant_states
    report_states = set(session.scalars(select(GrantReport.state)))
    assert {ReportState.ACCEPTED, ReportState.DUE} <= report_states
    # A gated tranche is paid only after its report was accepted.
    for tranche in session.scalars(select(Tranche).where(Tranche.state == TrancheState.RELEASED)):
        if tranche.report_id is not None:
            report = session.get(GrantReport, tranche.report_id)
            assert report.state == ReportState.ACCEPTED
            assert report.reviewed_at.date() <= tranche.paid_on


def test_commitments_are_attributed_to_the_contributions_first_in_first_out(session):
    allocated = defaultdict(int)
    for contribution_id, amount in session.execute(
        select(Allocation.contribution_id, Allocation.amount_minor).where(
            Allocation.contribution_id.is_not(None)
        )
    ):
        allocated[contribution_id] += amount
    for pool in session.scalars(select(FundingPool)):
        contributions = session.scalars(
            select(Contribution)
            .where(Contribution.pool_id == pool.id)
            .order_by(Contribution.value_date, Contribution.id)
        ).all()
        # A prefix used up, at most one in part, and the rest untouched.
        shares = [allocated[c.id] / c.base_amount_minor for c in contributions]
        assert all(0 <= share <= 1 for share in shares)
        partial = [share for share in shares if 0 < share < 1]
        assert len(partial) <= 1
        assert shares == sorted(shares, reverse=True), pool.code
    # Each commitment's attribution adds up to the commitment.
    for entry in session.scalars(select(JournalEntry).where(JournalEntry.kind == "commitment")):
        total = session.scalar(
            select(func.sum(Allocation.amount_minor)).where(Allocation.entry_id == entry.id)
        )
        assert total == session.get(Grant, entry.grant_id).amount_minor


def test_one_meeting_waits_with_an_agenda_and_the_others_are_closed(session):
    states = {meeting.state for meeting in session.scalars(select(Meeting))}
    assert states == {MeetingState.SCHEDULED, MeetingState.CLOSED}
    scheduled = session.scalar(select(Meeting).where(Meeting.state == MeetingState.SCHEDULED))
    items = session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == scheduled.id)).all()
    assert items and all(item.proposal.state == ProposalState.ON_AGENDA for item in items)
    # A sitting decides at most AGENDA_ITEMS proposals: a call's decisions take several.
    sizes = session.execute(
        select(func.count()).select_from(AgendaItem).group_by(AgendaItem.meeting_id)
    ).scalars()
    assert max(sizes) <= AGENDA_ITEMS
    assert session.scalar(select(func.count()).select_from(Meeting)) > SMALL["calls"] - 2


@pytest.mark.parametrize(
    ("role", "url_of"),
    [
        ("programme_officer", lambda s: "/officer/proposals"),
        (
            "programme_officer",
            lambda s: f"/officer/proposals/{s.scalar(select(Grant.proposal_id).order_by(Grant.id))}",
        ),
        (
            "programme_officer",
            lambda s: (
                "/officer/calls/"
                + s.scalar(
                    select(Call.reference)
                    .join(Proposal, Proposal.call_id == Call.id)
                    .where(Proposal.state == ProposalState.IN_REVIEW)
                )
                + "/ranking"
            ),
        ),
        (
            "board_chair",
            lambda s: f"/board/meetings/{s.scalar(select(Meeting.reference).order_by(Meeting.id))}",
        ),
        ("finance_officer", lambda s: f"/grants/{s.scalar(select(Grant.reference).order_by(Grant.id))}"),
        ("finance_officer", lambda s: "/finance/pools"),
        ("donor", lambda s: "/portal/"),
    ],
)
def test_the_pages_show_the_seeded_fund(seeded, app, role, url_of):
    limiter.reset()
    url = url_of(_db.session)
    user = _db.session.scalar(select(User).where(User.email == BENCH_LOGINS[role]))
    client = app.test_client()
    login(client, user, BENCH_PASSWORD)
    response = client.get(url)
    assert response.status_code == 200, url
    _db.session.rollback()


def test_the_donor_contact_sees_the_projects_their_money_funds(seeded, app):
    limiter.reset()
    contact = _db.session.scalar(select(DonorContact).where(DonorContact.email == BENCH_LOGINS["donor"]))
    first_grant = _db.session.scalar(
        select(Grant.reference)
        .join(Allocation, Allocation.grant_id == Grant.id)
        .join(Contribution, Contribution.id == Allocation.contribution_id)
        .where(Contribution.donor_id == contact.donor_id)
        .order_by(Grant.id)
    )
    client = app.test_client()
    login(client, contact.user, BENCH_PASSWORD)
    page = client.get("/portal/").get_data(as_text=True)
    assert first_grant in page
    _db.session.rollback()


def test_sizes_that_do_not_fit_are_refused_with_the_reason():
    assert Sizes().problems() == []
    assert any("calls must be at least 4" in p for p in Sizes(calls=3).problems())
    assert any("tranches must be between 2 and 8" in p for p in Sizes(tranches=10).problems())
    assert any("grants need more proposals" in p for p in Sizes(grants=100_000).problems())
    assert any("proposals must be at least 1" in p for p in Sizes(proposals=0).problems())
