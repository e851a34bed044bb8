"""The pages that list many rows send as many queries for 200 rows as for 10 (issue 8).

Each test builds 10 rows behind a page, counts the statements of one request after a warm-up request, builds
up to 200 rows and counts again: the two counts are equal and at most ``MAX_QUERIES`` (the count includes
loading the signed-in user). Rows are inserted in bulk where the factories would be slow, but they are what
the operations would have stored.
"""

import itertools
import re
from datetime import timedelta

from sqlalchemy import func, insert, select

from fundapp.accounts.models import Organisation, OrganisationType
from fundapp.applications import sections
from fundapp.applications.models import (
    AttachmentKind,
    Proposal,
    ProposalAttachment,
    ProposalStage,
    ProposalState,
    ProposalTag,
    ProposalVersion,
    Screening,
    ScreeningOutcome,
)
from fundapp.board.models import AgendaItem, BoardConflict, MeetingState, Vote, VoteChoice
from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.core.storage import StoredFile
from fundapp.disbursements import ledger
from fundapp.disbursements import operations as grant_operations
from fundapp.disbursements.models import (
    AccountKind,
    EntryKind,
    Grant,
    GrantReport,
    GrantState,
    LedgerAccount,
    ReportKind,
    ReportState,
    Tranche,
    TrancheGate,
)
from fundapp.disbursements.pools import create_pool, receive_funds
from fundapp.donors import queries
from fundapp.donors.allocation import attribute_commitment
from fundapp.extensions import db
from fundapp.reviews.models import Assignment, AssignmentState, CriterionScore, Recommendation, Review
from tests import factories
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.board.factories import make_board, make_meeting
from tests.disbursements.factories import activate, make_finance_officer, make_grant
from tests.donors.factories import make_contribution, make_donor, make_donor_user, make_pool
from tests.performance.counting import counted_queries, describe, page_queries
from tests.reviews.factories import make_reviewer, make_rubric, weighted_score

MAX_QUERIES = 15
FEW, MANY = 10, 200

_serial = itertools.count(1)


def assert_same_and_few(few, many):
    """The request with many rows behind it sends the same queries, and no more than ``MAX_QUERIES``."""
    assert len(many) == len(few), f"{len(few)} queries with {FEW} rows:\n{describe(few)}\n" + (
        f"{len(many)} with {MANY}:\n{describe(many)}"
    )
    assert len(many) <= MAX_QUERIES, f"{len(many)} queries with {MANY} rows:\n{describe(many)}"


def text_of(response):
    assert response.status_code == 200
    return response.get_data(as_text=True)


# -- rows in bulk ------------------------------------------------------------------------------------------


def bulk_organisations(count):
    now = utcnow()
    region_id = factories.region("KZ-47").id
    rows = []
    for _ in range(count):
        n = next(_serial)
        rows.append(
            {
                "name_en": f"Ustyurt Steppe Society {n}",
                "name_ru": f"Общество степи Устюрта {n}",
                "name_kk": f"Үстірт даласы қоғамы {n}",
                "bin": factories.valid_bin(),
                "org_type": OrganisationType.NGO,
                "region_id": region_id,
                "legal_address": "Aktau, 14 microdistrict, 5",
                "created_at": now,
            }
        )
    return db.session.scalars(
        insert(Organisation).returning(Organisation.id, sort_by_parameter_order=True), rows
    ).all()


def bulk_proposals(call, count, state, *, creator):
    """``count`` proposals of new organisations in ``call``, submitted one minute apart (the last one most
    recently), each tagged with a region and a Red List category: ``[(id, reference)]``."""
    now = utcnow()
    organisations = bulk_organisations(count)
    rows = []
    for index, organisation_id in enumerate(organisations):
        n = next(_serial)
        submitted = now - timedelta(minutes=count - index)
        rows.append(
            {
                "reference": f"PRP-PERF-{n:06d}",
                "call_id": call.id,
                "organisation_id": organisation_id,
                "stage": ProposalStage.FULL,
                "state": state,
                "title": f"Saiga calving grounds {n}",
                "theme": call.themes[0],
                "eligibility_answers": {},
                "currency": call.currency,
                "requested_minor": 5_000_000_00 + n * 100,
                "cofinancing_minor": 500_000_00,
                "created_at": submitted - timedelta(days=10),
                "created_by_id": creator.id,
                "updated_at": submitted,
                "submitted_at": submitted,
            }
        )
    created = db.session.execute(
        insert(Proposal).returning(Proposal.id, Proposal.reference, sort_by_parameter_order=True), rows
    ).all()
    db.session.execute(
        insert(ProposalTag),
        [{"proposal_id": id_, "kind": kind, "code": code} for id_, _ in created for kind, code in _TAGS],
    )
    return created


_TAGS = (("region", "KZ-47"), ("red_list", "NT"), ("species", "Saiga tatarica"))


def bulk_reviews(rubric, proposal_ids, reviewers):
    """A submitted review by each of ``reviewers`` of each proposal, scores varying by proposal."""
    now = utcnow()
    criteria = sorted(rubric.criteria, key=lambda criterion: criterion.position)
    pairs = [(proposal_id, reviewer) for proposal_id in proposal_ids for reviewer in reviewers]
    assignment_ids = db.session.scalars(
        insert(Assignment).returning(Assignment.id, sort_by_parameter_order=True),
        [
            {
                "proposal_id": proposal_id,
                "reviewer_id": reviewer.id,
                "state": AssignmentState.SUBMITTED,
                "assigned_at": now - timedelta(days=20),
                "due_at": now + timedelta(days=1),
                "declared_at": now - timedelta(days=19),
            }
            for proposal_id, reviewer in pairs
        ],
    ).all()
    reviews, scores = [], []
    for index, ((proposal_id, _reviewer), assignment_id) in enumerate(
        zip(pairs, assignment_ids, strict=True)
    ):
        chosen = [
            (criterion, criterion.scale_min + (proposal_id + index + position) % 5)
            for position, criterion in enumerate(criteria)
        ]
        reviews.append(
            {
                "assignment_id": assignment_id,
                "recommendation": list(Recommendation)[(proposal_id + index) % len(Recommendation)],
                "comments": "Credible plan; the monitoring budget is thin.",
                "version": 1,
                "updated_at": now,
                "submitted_at": now,
                "weighted_score": weighted_score(chosen),
            }
        )
        scores.append(chosen)
    review_ids = db.session.scalars(
        insert(Review).returning(Review.id, sort_by_parameter_order=True), reviews
    ).all()
    db.session.execute(
        insert(CriterionScore),
        [
            {"review_id": review_id, "criterion_id": criterion.id, "score": score, "is_na": False}
            for review_id, chosen in zip(review_ids, scores, strict=True)
            for criterion, score in chosen
        ],
    )


def bulk_stored_files(count, name, uploaded_by):
    now = utcnow()
    rows = []
    for _ in range(count):
        n = next(_serial)
        rows.append(
            {
                "key": f"perf{n:028d}",
                "original_name": f"{name}-{n}.pdf",
                "content_type": "application/pdf",
                "size_bytes": 1024 + n,
                "sha256": f"{n:064x}",
                "created_at": now,
                "uploaded_by_id": uploaded_by.id,
            }
        )
    return db.session.scalars(
        insert(StoredFile).returning(StoredFile.id, sort_by_parameter_order=True), rows
    ).all()


def bulk_grants(call, pool, count, *, creator):
    """``count`` grants awaiting signature (one tranche and the final report each) in ``call``, drawing
    from ``pool``, for approved proposals of new organisations: ``[Grant]``."""
    proposals = bulk_proposals(call, count, ProposalState.APPROVED, creator=creator)
    references = [f"IBF-PERF-{next(_serial):06d}" for _ in proposals]
    account_ids = db.session.scalars(
        insert(LedgerAccount).returning(LedgerAccount.id, sort_by_parameter_order=True),
        [
            {
                "code": f"GRANT-{reference}",
                "name": reference,
                "kind": AccountKind.COMMITMENT,
                "currency": "KZT",
            }
            for reference in references
        ],
    ).all()
    start = fund_today()
    end = start + timedelta(days=365)
    rows = []
    organisation_of = dict(
        db.session.execute(
            select(Proposal.id, Proposal.organisation_id).where(
                Proposal.id.in_([id_ for id_, _ in proposals])
            )
        ).all()
    )
    for (proposal_id, _), reference, account_id in zip(proposals, references, account_ids, strict=True):
        rows.append(
            {
                "reference": reference,
                "proposal_id": proposal_id,
                "organisation_id": organisation_of[proposal_id],
                "call_id": call.id,
                "pool_id": pool.id,
                "title": f"Saiga calving grounds ({reference})",
                "state": GrantState.AGREEMENT,
                "amount_minor": 2_000_000_00,
                "currency": "KZT",
                "start_date": start,
                "end_date": end,
                "account_id": account_id,
                "created_by_id": creator.id,
            }
        )
    grant_ids = db.session.scalars(
        insert(Grant).returning(Grant.id, sort_by_parameter_order=True), rows
    ).all()
    final_due = end + timedelta(days=60)
    report_ids = db.session.scalars(
        insert(GrantReport).returning(GrantReport.id, sort_by_parameter_order=True),
        [
            {
                "grant_id": grant_id,
                "number": 1,
                "kind": ReportKind.FINAL,
                "period_start": start,
                "period_end": end,
                "due_date": final_due,
            }
            for grant_id in grant_ids
        ],
    ).all()
    db.session.execute(
        insert(Tranche),
        [
            {
                "grant_id": grant_id,
                "number": 1,
                "amount_minor": 2_000_000_00,
                "currency": "KZT",
                "planned_date": final_due,
                "gate": TrancheGate.FINAL_REPORT,
                "report_id": report_id,
            }
            for grant_id, report_id in zip(grant_ids, report_ids, strict=True)
        ],
    )
    return db.session.scalars(select(Grant).where(Grant.id.in_(grant_ids)).order_by(Grant.id)).all()


# -- 1. the programme officer's proposal list ----------------------------------------------------------------


def test_the_officer_list_needs_the_same_queries_for_10_or_200_proposals(db, client, login_as):
    officer = make_officer()
    call = make_call()
    few_rows = bulk_proposals(call, FEW, ProposalState.SUBMITTED, creator=officer)
    db.session.commit()
    login_as(officer)

    response, few = page_queries(client, "/officer/proposals?region=KZ-47")
    page = text_of(response)
    assert "10 proposals" in page and few_rows[-1][1] in page

    many_rows = bulk_proposals(call, MANY - FEW, ProposalState.SUBMITTED, creator=officer)
    db.session.commit()
    response, many = page_queries(client, "/officer/proposals?region=KZ-47")
    page = text_of(response)

    assert "200 proposals" in page and many_rows[-1][1] in page
    assert page.count('href="/officer/proposals/') == 50
    assert_same_and_few(few, many)


# -- 2. a proposal page for the officer ----------------------------------------------------------------------


def _grow_proposal(proposal, officer, count):
    """``count`` more attachments, submitted versions, screenings and history events of ``proposal``, and
    ``count`` other proposals in its call."""
    first_number = max((version.number for version in proposal.versions), default=0) + 1
    snapshot = sections.snapshot(proposal)
    files = bulk_stored_files(count, "letter-of-support", officer)
    pdfs = bulk_stored_files(count, "proposal-version", officer)
    now = utcnow()
    db.session.execute(
        insert(ProposalAttachment),
        [
            {
                "proposal_id": proposal.id,
                "kind": AttachmentKind.LETTER_OF_SUPPORT,
                "stored_file_id": file_id,
                "uploaded_by_id": proposal.created_by_id,
                "uploaded_at": now,
            }
            for file_id in files
        ],
    )
    db.session.execute(
        insert(ProposalVersion),
        [
            {
                "proposal_id": proposal.id,
                "number": first_number + index,
                "snapshot": snapshot,
                "pdf_file_id": pdf_id,
                "pdf_sha256": "a" * 64,
                "submitted_at": now - timedelta(hours=count - index),
                "submitted_by_id": proposal.created_by_id,
            }
            for index, pdf_id in enumerate(pdfs)
        ],
    )
    officers = [make_officer() for _ in range(3)]
    db.session.execute(
        insert(Screening),
        [
            {
                "proposal_id": proposal.id,
                "officer_id": officers[index % 3].id,
                "checklist": {"eligible_org_type": True, "attachments_present": False},
                "outcome": ScreeningOutcome.MORE_INFO,
                "reason": f"Attach the letter of support number {index}.",
                "screened_at": now - timedelta(hours=count - index),
            }
            for index in range(count)
        ],
    )
    for index in range(count):
        record_event(
            db.session,
            officers[index % 3],
            proposal,
            "proposal.more_info_requested",
            before={"state": "submitted"},
            after={"state": "more_info_requested", "reason": f"Question {index}"},
        )
    bulk_proposals(proposal.call, count, ProposalState.SUBMITTED, creator=officer)
    db.session.expire(proposal)
    return first_number + count - 1


def test_a_proposal_page_needs_the_same_queries_for_10_or_200_versions_files_and_events(db, client, login_as):
    officer = make_officer()
    proposal = make_proposal(complete=True, state=ProposalState.SUBMITTED, submitted_at=utcnow())
    _grow_proposal(proposal, officer, FEW)
    db.session.commit()
    login_as(officer)
    url = f"/officer/proposals/{proposal.id}"

    response, few = page_queries(client, url)
    assert "Version 10 as submitted" in text_of(response)

    last = _grow_proposal(proposal, officer, MANY - FEW)
    db.session.commit()
    response, many = page_queries(client, url)
    page = text_of(response)

    assert f"Version {last} as submitted" in page and last == MANY
    assert page.count("letter-of-support-") == MANY and page.count("Question ") == MANY
    assert_same_and_few(few, many)


# -- 3. the ranking ------------------------------------------------------------------------------------------


def test_the_ranking_needs_the_same_queries_for_10_or_200_reviewed_proposals(db, client, login_as):
    officer = make_officer()
    call = make_call()
    rubric = make_rubric(call)
    reviewers = [make_reviewer() for _ in range(3)]
    proposals = bulk_proposals(call, FEW, ProposalState.IN_REVIEW, creator=officer)
    bulk_reviews(rubric, [id_ for id_, _ in proposals], reviewers)
    db.session.commit()
    login_as(officer)
    url = f"/officer/calls/{call.reference}/ranking"

    response, few = page_queries(client, url)
    assert "10 proposals reviewed" in text_of(response)

    proposals = bulk_proposals(call, MANY - FEW, ProposalState.IN_REVIEW, creator=officer)
    bulk_reviews(rubric, [id_ for id_, _ in proposals], reviewers)
    db.session.commit()
    response, many = page_queries(client, url)
    page = text_of(response)

    # A page shows 100 ranks; the 200th proposal is on one of the two.
    assert "200 proposals reviewed" in page and "Ranks 1–100 of 200" in page
    second, second_queries = page_queries(client, url + "?page=2")
    assert proposals[-1][1] in page + text_of(second)
    assert_same_and_few(few, many)
    assert len(second_queries) == len(many)


# -- 4. a board meeting and its agenda -----------------------------------------------------------------------


def _add_agenda_items(meeting, board, call, rubric, count):
    """``count`` reviewed proposals on the agenda, with votes of some members and a conflict on some."""
    proposals = bulk_proposals(call, count, ProposalState.ON_AGENDA, creator=board.secretary)
    bulk_reviews(rubric, [id_ for id_, _ in proposals], board.extra["reviewers"])
    position = len(meeting.items)
    members = board.members
    for index, (proposal_id, _reference) in enumerate(proposals):
        item = AgendaItem(
            proposal_id=proposal_id,
            position=position + index + 1,
            recommended_minor=4_000_000_00,
            motion_amount_minor=4_000_000_00,
        )
        # The chair and two members vote on every item; another member is recused from every third.
        choices = (VoteChoice.APPROVE, VoteChoice.APPROVE, VoteChoice.REJECT)
        for member, choice in zip(members[:3], choices, strict=True):
            item.votes.append(Vote(user_id=member.id, choice=choice, recorded_by_id=board.secretary.id))
        if index % 3 == 0:
            item.conflicts.append(BoardConflict(user_id=members[4].id, note="Advises the applicant."))
        meeting.items.append(item)
    db.session.flush()
    return proposals


def test_a_board_agenda_needs_the_same_queries_for_10_or_200_items(db, client, login_as):
    board = make_board()
    board.extra["reviewers"] = [make_reviewer() for _ in range(2)]
    meeting = make_meeting(board, state=MeetingState.OPEN, present=board.members[:4])
    call = make_call()
    rubric = make_rubric(call)
    # Two proposals waiting for an agenda: the secretary's page offers them.
    waiting = bulk_proposals(call, 2, ProposalState.REVIEWED, creator=board.secretary)
    bulk_reviews(rubric, [id_ for id_, _ in waiting], board.extra["reviewers"])
    _add_agenda_items(meeting, board, call, rubric, FEW)
    db.session.commit()
    url = f"/board/meetings/{meeting.reference}"

    login_as(board.secretary)
    response, few_secretary = page_queries(client, url)
    assert waiting[-1][1] in text_of(response)
    login_as(board.members[1])
    response, few_member = page_queries(client, url)
    text_of(response)

    proposals = _add_agenda_items(meeting, board, call, rubric, MANY - FEW)
    db.session.commit()
    response, many_member = page_queries(client, url)
    assert proposals[-1][1] in text_of(response)
    login_as(board.secretary)
    response, many_secretary = page_queries(client, url)
    page = text_of(response)

    assert proposals[-1][1] in page and waiting[-1][1] in page
    assert_same_and_few(few_secretary, many_secretary)
    assert_same_and_few(few_member, many_member)


# -- 5. a grant page -----------------------------------------------------------------------------------------


def _scheduled_grant(officer, tranches):
    """An active grant of ``tranches`` tranches, each but the first waiting for a progress report: the first
    third released, the next third approved, and every report accepted, each by another finance officer."""
    grant = make_grant(officer=officer, amount_minor=tranches * 1_000_000_00)
    start = grant.start_date
    rows = [
        {
            "amount": Money(1_000_000_00, grant.currency),
            "planned_date": start + timedelta(days=20 * number),
            "gate": TrancheGate.NONE if number == 0 else TrancheGate.PROGRESS_REPORT,
        }
        for number in range(tranches)
    ]
    grant_operations.update_schedule(db.session, officer, grant, rows)
    activate(grant, officer, signed_on=start)
    today = fund_today()
    for report in grant.reports:
        if report.kind == ReportKind.PROGRESS:
            report.state = ReportState.ACCEPTED
            report.submitted_at = report.reviewed_at = utcnow()
            report.reviewed_by_id = officer.id
    for tranche in grant.tranches:
        tranche.planned_date = min(tranche.planned_date, today)
    grant_operations.refresh_due(db.session, grant, today)
    third = tranches // 3
    for tranche in grant.tranches[: 2 * third]:
        grant_operations.approve_tranche(
            db.session, make_finance_officer(), tranche, bank_details_checked=True
        )
    for tranche in grant.tranches[:third]:
        grant_operations.release_tranche(
            db.session,
            make_finance_officer(),
            tranche,
            paid_on=today,
            bank_reference=f"PAY-{next(_serial)}",
            idempotency_key=None,
        )
    db.session.flush()
    return grant


def test_a_grant_page_needs_the_same_queries_for_few_or_many_tranches_and_grants(db, client, login_as):
    officer = make_officer()
    finance_officer = make_finance_officer()
    small = _scheduled_grant(officer, 3)
    bulk_grants(small.call, small.pool, FEW, creator=officer)
    db.session.commit()

    login_as(finance_officer)
    response, few_finance = page_queries(client, f"/grants/{small.reference}")
    assert "Tranche 3 planned" in text_of(response)
    login_as(officer)
    response, few_officer = page_queries(client, f"/grants/{small.reference}")
    text_of(response)

    # A grant has at most 12 tranches (operations.MAX_TRANCHES): the big one has them all.
    large = _scheduled_grant(officer, grant_operations.MAX_TRANCHES)
    bulk_grants(small.call, small.pool, MANY - FEW, creator=officer)
    db.session.commit()
    response, many_officer = page_queries(client, f"/grants/{large.reference}")
    page = text_of(response)
    assert "Tranche 12 planned" in page and "Progress report 11" in page
    login_as(finance_officer)
    response, many_finance = page_queries(client, f"/grants/{large.reference}")
    page = text_of(response)

    assert page.count("Released by ") == 4
    assert page.count("Approved by ") == 8 + 1  # and "Approved by the board" on the timeline
    assert db.session.scalar(select(func.count(Grant.id))) >= MANY
    assert_same_and_few(few_finance, many_finance)
    assert_same_and_few(few_officer, many_officer)


# -- 6. the pool balances ------------------------------------------------------------------------------------


def _add_pools(count, currency="KZT"):
    codes = []
    for _ in range(count):
        code = f"PERF-{next(_serial):05d}"
        pool = create_pool(db.session, None, code=code, name=f"Pool {code}", currency=currency)
        receive_funds(db.session, None, pool, Money(10_000_000_00, currency), bank_reference=f"IN-{code}")
        receive_funds(db.session, None, pool, Money(2_500_000_00, currency), bank_reference=f"IN2-{code}")
        codes.append(code)
    return codes


def test_the_pools_page_needs_the_same_queries_for_10_or_200_pools(db, client, login_as):
    finance_officer = make_finance_officer()
    make_grant(active=True)  # a call's pool with a commitment
    make_grant()  # another, reserving
    codes = _add_pools(FEW)
    db.session.commit()
    login_as(finance_officer)

    response, few = page_queries(client, "/finance/pools")
    assert f'id="pool-{codes[-1]}"' in text_of(response)

    codes = _add_pools(MANY - FEW)
    db.session.commit()
    response, many = page_queries(client, "/finance/pools")
    page = text_of(response)

    assert len(re.findall(r'<tr id="pool-', page)) >= MANY and f'id="pool-{codes[-1]}"' in page
    assert_same_and_few(few, many)


# -- 7. the donor portal -------------------------------------------------------------------------------------


def _fund_projects(donor, pool, call, officer, count):
    """``count`` contributions of ``donor`` into ``pool`` and ``count`` signed grants drawing on them."""
    for _ in range(count):
        make_contribution(donor, pool, "4000.00", currency="EUR", rate="540.25")
    grants = bulk_grants(call, pool, count, creator=officer)
    for grant in grants:
        entry = ledger.post_entry(
            db.session,
            officer,
            EntryKind.COMMITMENT,
            [(pool.account, grant.amount), (grant.account, -grant.amount)],
            value_date=fund_today(),
            pool=pool,
            grant=grant,
            description=f"Commitment of {grant.reference}",
        )
        attribute_commitment(db.session, grant, entry, grant.amount)
        grant.state = GrantState.ACTIVE
        grant.activated_at = utcnow()
    db.session.flush()
    return grants


def test_the_donor_portal_needs_the_same_queries_for_10_or_200_contributions_and_projects(
    db, client, login_as
):
    officer = make_officer()
    donor = make_donor(preferred_currency="EUR")
    user = make_donor_user(donor)
    pool = make_pool()
    call = make_call(funded=False)
    _fund_projects(donor, pool, call, officer, FEW)
    db.session.commit()
    login_as(user)

    response, few = page_queries(client, "/portal/")
    assert text_of(response).count('href="/portal/projects/') >= FEW

    grants = _fund_projects(donor, pool, call, officer, MANY - FEW)
    db.session.commit()
    response, many = page_queries(client, "/portal/")
    page = text_of(response)

    assert page.count('href="/portal/projects/') >= MANY and grants[-1].reference in page
    assert_same_and_few(few, many)


def test_the_portal_overview_reads_the_donor_money_once_and_gives_the_same_figures(db):
    officer = make_officer()
    donor = make_donor(preferred_currency="EUR")
    pool = make_pool()
    _fund_projects(donor, pool, make_call(funded=False), officer, 3)
    make_contribution(donor, pool, "100.00", currency="KZT", value_date=fund_today() - timedelta(days=40))

    for period in ({}, {"date_from": fund_today() - timedelta(days=30), "date_to": fund_today()}):
        with counted_queries() as together:
            overview = queries.donor_overview(db.session, donor, **period)
        with counted_queries() as apart:
            figures = queries.donor_figures(db.session, donor, **period)
            contributions = queries.contributions_of(db.session, donor, **period)
            projects = queries.funded_projects(db.session, donor, **period)

        assert overview.figures == figures and figures.projects == len(projects) == 3
        assert overview.contributions == contributions and len(contributions) == 4 - bool(period)
        assert overview.projects == projects
        assert len(together) < len(apart)
