"""Every route, by every role: the status each one answers to a GET.

Later modules add their routes to ROUTES. ``anon`` is a visitor who is not logged in; a 302 for them
means "sent to the login page". ``applicant`` is a member of the organisation that owns ``{proposal}``;
``outsider`` an applicant of another organisation, to whom that proposal does not exist (404).
``reviewer`` has three assignments in a call under review (one waiting for their declaration, one being
scored, one submitted); ``board_member`` sits on the board, whose secretary is ``programme_officer`` (the
board's own tests cover a programme officer who is not the secretary). POSTs are covered by each module's
own HTTP tests; here a GET of a POST-only route must answer 405 and do nothing.
"""

import io

import pytest
from werkzeug.datastructures import FileStorage

from fundapp.applications import sections
from fundapp.applications.models import CallState, ProposalState, ProposalVersion, SectionConflict
from fundapp.applications.submission import add_attachment
from fundapp.board.models import MeetingState
from fundapp.core.db import utcnow
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.core.storage import save_upload
from fundapp.reviews.models import AssignmentState
from tests.applications.factories import make_call, make_proposal
from tests.board.factories import make_agenda_item, make_board, make_meeting
from tests.conftest import login
from tests.core.sample_files import MINIMAL_PDF
from tests.factories import make_applicant, make_organisation, make_user
from tests.reviews.factories import make_assignment, make_review, make_reviewer, make_rubric

PEOPLE = [
    "anon",
    "applicant",
    "outsider",
    "reviewer",
    "board_member",
    "programme_officer",
    "finance_officer",
    "admin",
]

EVERYONE = [200] * 8
NOBODY = [404] * 8
NOT_ALLOWED = [405] * 8
#: Applicant pages guarded by role: other roles are refused, whatever the object.
APPLICANTS = [302, 200, 200, 403, 403, 403, 403, 403]
#: Pages of a proposal anyone who may read it sees: its organisation's members and fund staff who screen.
READERS = [302, 200, 404, 404, 404, 200, 404, 200]
#: Pages of a proposal for its organisation's members only; staff who may read it are refused.
MEMBERS = [302, 200, 404, 404, 404, 403, 404, 403]
MISSING = [302, 404, 404, 404, 404, 404, 404, 404]
OFFICERS = [302, 403, 403, 403, 403, 200, 403, 403]
OFFICERS_404 = [302, 403, 403, 403, 403, 404, 403, 403]
#: The reviewer pool: programme officers and admins.
POOL = [302, 403, 403, 403, 403, 200, 403, 200]
POOL_404 = [302, 403, 403, 403, 403, 404, 403, 404]
#: Pages of the reviewer role.
REVIEWERS = [302, 403, 403, 200, 403, 403, 403, 403]
#: An assignment's pages: its reviewer only; to everyone else it does not exist.
ASSIGNED_REVIEWER = [302, 404, 404, 200, 404, 404, 404, 404]
#: The board's pages: members and programme officers.
BOARD = [302, 403, 403, 403, 200, 200, 403, 403]
BOARD_404 = [302, 403, 403, 403, 404, 404, 403, 403]
#: What only the board secretary (here the programme officer) manages, and the board's rules.
SECRETARY = [302, 403, 403, 403, 403, 200, 403, 403]
BOARD_SETTINGS = [302, 403, 403, 403, 403, 200, 403, 200]

#: A grant's pages: its organisation's members and fund staff; to everyone else it does not exist.
GRANT_READERS = [302, 200, 404, 404, 404, 200, 200, 200]
#: A grant of another organisation (awaiting signature): fund staff only.
GRANT_STAFF = [302, 404, 404, 404, 404, 200, 200, 200]
GRANT_MISSING = [302, 404, 404, 404, 404, 404, 404, 404]
#: What programme officers do to a grant (schedule, signatures).
GRANT_OFFICERS = [302, 403, 403, 403, 403, 200, 403, 403]
#: What finance officers do to a grant (release, refund).
GRANT_FINANCE = [302, 403, 403, 403, 403, 403, 200, 403]
#: The finance pages: finance officers, and admins (who record receipts until donors are recorded).
FINANCE = [302, 403, 403, 403, 403, 403, 200, 200]
FINANCE_404 = [302, 403, 403, 403, 403, 403, 404, 404]
#: Payments show bank details: finance officers only.
PAYMENTS = [302, 403, 403, 403, 403, 403, 200, 403]

#: Donor records: programme officers read them, finance officers and admins manage them.
DONOR_READERS = [302, 403, 403, 403, 403, 200, 200, 200]
DONOR_MANAGERS = [302, 403, 403, 403, 403, 403, 200, 200]
#: The donor portal: users with the donor role only (covered in the donor's own column below).
PORTAL = [302, 403, 403, 403, 403, 403, 403, 403]
#: Open data: public.
PUBLIC = EVERYONE

# url template -> expected status per person (same order as PEOPLE)
ROUTES = {
    "/": EVERYONE,
    "/login": [200, 302, 302, 302, 302, 302, 302, 302],
    "/register": [200, 302, 302, 302, 302, 302, 302, 302],
    "/password/forgot": EVERYONE,
    "/organisations/{org}": [302, 200, 403, 403, 403, 200, 200, 200],
    "/organisations/{org}/edit": [302, 200, 403, 403, 403, 403, 403, 403],
    "/organisations/999999": MISSING,
    "/admin/users": [302, 403, 403, 403, 403, 403, 403, 200],
    "/admin/users/new": [302, 403, 403, 403, 403, 403, 403, 200],
    "/admin/users/{user}": [302, 403, 403, 403, 403, 403, 403, 200],
    "/admin/users/999999": [302, 403, 403, 403, 403, 403, 403, 404],
    "/admin/outbox": [302, 403, 403, 403, 403, 403, 403, 200],
    "/admin/audit": [302, 403, 403, 403, 403, 403, 403, 200],
    "/no-such-page": NOBODY,
    # -- calls, in public ----------------------------------------------------------------------------------
    "/calls": EVERYONE,
    "/calls/{call_ref}": EVERYONE,
    "/calls/{draft_ref}": NOBODY,
    "/calls/CALL-1999-99": NOBODY,
    "/calls/{call_ref}/apply": APPLICANTS,
    "/calls/{draft_ref}/apply": [302, 404, 404, 403, 403, 403, 403, 403],
    "/csrf-token": EVERYONE,
    "/healthz": EVERYONE,
    # -- proposals, for applicants ---------------------------------------------------------------------------
    "/proposals": APPLICANTS,
    "/proposals/{proposal}": READERS,
    "/proposals/999999": MISSING,
    "/proposals/{proposal}/details": MEMBERS,
    **{f"/proposals/{{proposal}}/sections/{key}": READERS for key in sections.SECTION_KEYS},
    "/proposals/{proposal}/sections/no_such_section": MISSING,
    "/proposals/{proposal}/sections/summary/autosave": NOT_ALLOWED,
    "/proposals/{proposal}/sections/summary/conflicts/{conflict}": MEMBERS,
    "/proposals/{proposal}/sections/summary/conflicts/999999": MISSING,
    "/proposals/{proposal}/submit": MEMBERS,
    "/proposals/999999/submit": MISSING,
    "/proposals/{proposal}/attachments": READERS,
    "/proposals/{proposal}/attachments/{attachment}": READERS,
    "/proposals/{proposal}/attachments/{other_attachment}": MISSING,
    "/proposals/{proposal}/attachments/{attachment}/delete": NOT_ALLOWED,
    "/proposals/{proposal}/versions/1.pdf": READERS,
    "/proposals/{proposal}/versions/2.pdf": MISSING,
    "/proposals/{proposal}/withdraw": MEMBERS,
    # -- calls and screening, for programme officers --------------------------------------------------------
    "/officer/calls": OFFICERS,
    "/officer/calls/new": OFFICERS,
    "/officer/calls/{call}": OFFICERS,
    "/officer/calls/{draft}": OFFICERS,
    "/officer/calls/{call}/edit": OFFICERS,
    "/officer/calls/{draft}/edit": OFFICERS,
    "/officer/calls/999999": OFFICERS_404,
    "/officer/calls/{draft}/publish": NOT_ALLOWED,
    "/officer/calls/{call}/close": NOT_ALLOWED,
    "/officer/calls/{call}/cancel": NOT_ALLOWED,
    "/officer/proposals": OFFICERS,
    "/officer/proposals?call={call}&state=more_info_requested&region=KZ-47&theme=marine_mammals": OFFICERS,
    "/officer/proposals?red_list=EN&page=2": OFFICERS,
    "/officer/proposals?page=99": OFFICERS,
    "/officer/proposals.csv": OFFICERS,
    "/officer/proposals.xlsx": OFFICERS,
    "/officer/proposals/{proposal}": OFFICERS,
    "/officer/proposals/999999": OFFICERS_404,
    "/officer/proposals/{proposal}/diff": OFFICERS,
    "/officer/proposals/{proposal}/diff?from=7": OFFICERS_404,
    # -- a proposal under review, to its reviewer (once they declared no conflict) ------------------------
    "/proposals/{under_review}": [302, 404, 404, 200, 404, 200, 404, 200],
    "/proposals/{awaiting_declaration}": [302, 404, 404, 404, 404, 200, 404, 200],
    # -- reviews, for programme officers --------------------------------------------------------------------
    "/officer/reviews/": OFFICERS,
    "/officer/reviews/calls/{review_call}": OFFICERS,
    "/officer/reviews/calls/999999": OFFICERS_404,
    "/officer/reviews/calls/{review_call}/rubric": OFFICERS,
    "/officer/reviews/calls/{call}/rubric": OFFICERS,
    "/officer/reviews/calls/{review_call}/rubric/criteria/new": OFFICERS,
    "/officer/reviews/calls/{review_call}/rubric/criteria/{criterion}": OFFICERS,
    "/officer/reviews/calls/{call}/rubric/criteria/{criterion}": OFFICERS_404,
    "/officer/reviews/calls/{review_call}/rubric/criteria/{criterion}/remove": NOT_ALLOWED,
    "/officer/reviews/calls/{call}/rubric/start": NOT_ALLOWED,
    "/officer/reviews/calls/{review_call}/assign": NOT_ALLOWED,
    "/officer/reviews/proposals/{under_review}": OFFICERS,
    "/officer/reviews/proposals/999999": OFFICERS_404,
    "/officer/reviews/proposals/{under_review}/assign": NOT_ALLOWED,
    "/officer/reviews/proposals/{under_review}/close": NOT_ALLOWED,
    "/officer/reviews/assignments/{accepted}/remove": NOT_ALLOWED,
    "/officer/reviews/pool": POOL,
    "/officer/reviews/pool/{reviewer}": POOL,
    "/officer/reviews/pool/{user}": POOL_404,
    "/officer/calls/{review_call_ref}/ranking": OFFICERS,
    "/officer/calls/{review_call_ref}/ranking?order=normalised": OFFICERS,
    "/officer/calls/{review_call_ref}/ranking?order=nonsense": OFFICERS,
    "/officer/calls/{review_call_ref}/ranking.csv": OFFICERS,
    "/officer/calls/{review_call_ref}/ranking.xlsx?order=normalised": OFFICERS,
    "/officer/calls/CALL-1999-99/ranking": OFFICERS_404,
    "/officer/calls/CALL-1999-99/ranking.csv": OFFICERS_404,
    "/officer/calls/CALL-1999-99/ranking.xlsx": OFFICERS_404,
    # -- reviews, for reviewers -----------------------------------------------------------------------------
    "/reviewer/profile": REVIEWERS,
    "/reviewer/profile/affiliations": NOT_ALLOWED,
    "/reviews": REVIEWERS,
    "/reviews/{awaiting}/declare": ASSIGNED_REVIEWER,
    "/reviews/{awaiting}": MISSING,  # scored only after the declaration
    "/reviews/{accepted}": ASSIGNED_REVIEWER,
    "/reviews/{accepted}/declare": [302, 404, 404, 302, 404, 404, 404, 404],  # declared: to the review
    "/reviews/{submitted}": ASSIGNED_REVIEWER,
    "/reviews/{other_reviewers}": MISSING,
    "/reviews/999999": MISSING,
    "/reviews/999999/declare": MISSING,
    "/reviews/{accepted}/autosave": NOT_ALLOWED,
    "/reviews/{accepted}/submit": NOT_ALLOWED,
    "/reviews/{accepted}/decline": NOT_ALLOWED,
    "/reviews/{submitted}/reopen": OFFICERS,
    "/reviews/{accepted}/reopen": OFFICERS_404,  # nothing submitted to reopen
    # -- the board ------------------------------------------------------------------------------------------
    "/board/": BOARD,
    "/board/settings": BOARD_SETTINGS,
    "/board/meetings/new": SECRETARY,
    "/board/meetings/{meeting}": BOARD,
    "/board/meetings/{closed_meeting}": BOARD,
    "/board/meetings/BRD-1999-99": BOARD_404,
    "/board/meetings/{meeting}/board-pack.pdf": BOARD,
    "/board/meetings/{closed_meeting}/minutes.pdf": BOARD,
    "/board/meetings/{meeting}/minutes.pdf": BOARD_404,
    "/board/meetings/BRD-1999-99/minutes.pdf": BOARD_404,
    "/board/meetings/{meeting}/open": NOT_ALLOWED,
    "/board/meetings/{meeting}/close": NOT_ALLOWED,
    "/board/meetings/{meeting}/cancel": NOT_ALLOWED,
    "/board/meetings/{meeting}/agenda": NOT_ALLOWED,
    "/board/meetings/{meeting}/attendance": NOT_ALLOWED,
    "/board/meetings/{meeting}/items/{item}/remove": NOT_ALLOWED,
    "/board/meetings/{meeting}/items/{item}/motion": NOT_ALLOWED,
    "/board/meetings/{meeting}/items/{item}/conflict": NOT_ALLOWED,
    "/board/meetings/{meeting}/items/{item}/vote": NOT_ALLOWED,
    "/board/meetings/{meeting}/items/{item}/decide": NOT_ALLOWED,
    # -- grants, tranches and grantee reports ----------------------------------------------------------------
    "/grants": [302, 200, 200, 403, 403, 200, 200, 200],
    "/grants/{grant}": GRANT_READERS,
    "/grants/IBF-1999-9999": GRANT_MISSING,
    "/grants/{unsigned_grant}": GRANT_STAFF,
    "/grants/{grant}/agreement.pdf": GRANT_READERS,
    "/grants/{grant}/schedule": GRANT_OFFICERS,
    "/grants/{unsigned_grant}/schedule": GRANT_OFFICERS,
    "/grants/{grant}/sign": GRANT_OFFICERS,
    "/grants/{unsigned_grant}/sign": GRANT_OFFICERS,
    "/grants/{grant}/signed-copy": GRANT_READERS,
    "/grants/{unsigned_grant}/signed-copy": GRANT_MISSING,
    "/grants/{grant}/refund": GRANT_FINANCE,
    "/grants/{grant}/tranches/1/release": GRANT_FINANCE,
    "/grants/{grant}/tranches/9/release": [302, 403, 403, 403, 403, 403, 404, 403],
    "/grants/{grant}/cancel": NOT_ALLOWED,
    "/grants/{grant}/close": NOT_ALLOWED,
    "/grants/{grant}/complete": NOT_ALLOWED,
    "/grants/{grant}/resume": NOT_ALLOWED,
    "/grants/{grant}/suspend": NOT_ALLOWED,
    "/grants/{grant}/terminate": NOT_ALLOWED,
    "/grants/{grant}/tranches/1/approve": NOT_ALLOWED,
    "/grants/{grant}/tranches/1/cancel": NOT_ALLOWED,
    "/grants/{grant}/tranches/1/withdraw-approval": NOT_ALLOWED,
    "/grants/{grant}/reports/1": GRANT_READERS,
    "/grants/{grant}/reports/9": GRANT_MISSING,
    "/grants/{grant}/reports/1/accept": NOT_ALLOWED,
    "/grants/{grant}/reports/1/files": NOT_ALLOWED,
    "/grants/{grant}/reports/1/files/{report_file}": GRANT_READERS,
    "/grants/{grant}/reports/1/files/999999": GRANT_MISSING,
    "/grants/{grant}/reports/1/files/{report_file}/remove": NOT_ALLOWED,
    "/grants/{grant}/reports/1/request-changes": NOT_ALLOWED,
    "/grants/{grant}/reports/1/submit": NOT_ALLOWED,
    # -- the ledger and payments, for finance officers -------------------------------------------------------
    "/finance/pools": FINANCE,
    "/finance/pools/new": FINANCE,
    "/finance/pools/{pool}": FINANCE,
    "/finance/pools/NO-SUCH-POOL": FINANCE_404,
    "/finance/pools/{pool}/receive": FINANCE,
    "/finance/ledger": FINANCE,
    "/finance/ledger/1/reverse": NOT_ALLOWED,
    "/finance/payments": PAYMENTS,
    "/finance/payments.csv": PAYMENTS,
    "/finance/payments.xml?execution_date=2099-01-05": PAYMENTS,
    # -- donors, donor reports and open data -----------------------------------------------------------------
    "/donors/": DONOR_READERS,
    "/donors/new": DONOR_MANAGERS,
    "/donors/{donor}": DONOR_READERS,
    "/donors/DNR-9999": [302, 403, 403, 403, 403, 404, 404, 404],
    "/donors/{donor}/edit": DONOR_MANAGERS,
    "/donors/{donor}/contacts/new": DONOR_MANAGERS,
    "/donors/{donor}/contributions/new": DONOR_MANAGERS,
    "/donors/{donor}/pledges/new": DONOR_MANAGERS,
    "/donors/{donor}/contacts/{contact}/portal": NOT_ALLOWED,
    "/donors/{donor}/pledges/{pledge}/cancel": NOT_ALLOWED,
    "/portal/": PORTAL,
    "/portal/projects/{funded_grant}": PORTAL,
    "/portal/projects/{grant}": PORTAL,
    "/portal/projects/IBF-1999-9999": PORTAL,
    "/portal/projects/{funded_grant}/photos/999999": PORTAL,
    "/reports/": DONOR_READERS,
    "/reports/{generated_report}": DONOR_READERS,
    "/reports/999999": [302, 403, 403, 403, 403, 404, 404, 404],
    "/reports/{generated_report}/download": [302, 403, 403, 403, 403, 404, 404, 404],  # not ready yet
    "/reports/donor": NOT_ALLOWED,
    "/reports/portfolio": NOT_ALLOWED,
    "/open-data": PUBLIC,
    "/open-data/iati.xml": PUBLIC,
    "/open-data/360giving.json": PUBLIC,
    "/open-data/360giving.csv": PUBLIC,
    "/exports/grants.xlsx": DONOR_READERS,
    "/exports/tranches.xlsx": DONOR_READERS,
    "/exports/contributions.xlsx": DONOR_MANAGERS,
}


def _stored_version(db, proposal, member):
    """Version 1 of ``proposal`` with a real stored PDF, as a submission leaves it."""
    pdf = save_upload(
        db.session,
        io.BytesIO(MINIMAL_PDF),
        allowed_kinds=["pdf"],
        uploaded_by=member,
        filename=f"{proposal.reference}-v1.pdf",
    )
    version = ProposalVersion(
        proposal=proposal,
        number=1,
        snapshot=sections.snapshot(proposal),
        pdf_file_id=pdf.id,
        pdf_sha256=pdf.sha256,
        submitted_by_id=member.id,
    )
    db.session.add(version)
    return version


def _pdf(name):
    return FileStorage(stream=io.BytesIO(MINIMAL_PDF), filename=name, content_type="application/pdf")


@pytest.fixture
def people(db):
    """Everyone in PEOPLE, and the ids the URLs name: ``(people, ids)``.

    The applicant's organisation has a proposal in an open call, sent back for more information (so it has
    a submitted version and can be edited again), with an attachment and a conflicting save of its
    summary; the outsider's organisation has a proposal with an attachment of its own. The reviewer has
    assignments in a call under review (``_reviews``); the board has a scheduled and a closed meeting
    (``_board``).
    """
    applicant = make_applicant()
    outsider = make_applicant()
    everyone = {"applicant": applicant, "outsider": outsider, "reviewer": make_reviewer()}
    for role in ("board_member", "programme_officer", "finance_officer", "admin"):
        everyone[role] = make_user(roles=[Role(role)])
    make_organisation(managers=[make_user()])

    call = make_call(
        title="Caspian seal and the marine reserve", themes=["marine_mammals", "protected_areas"]
    )
    draft_call = make_call(state=CallState.DRAFT, reference="CALL-2031-09", published_at=None)
    proposal = make_proposal(
        call=call, organisation=applicant.primary_organisation, created_by=applicant, complete=True
    )
    attachment = add_attachment(db.session, applicant, proposal, "registration_certificate", _pdf("reg.pdf"))
    _stored_version(db, proposal, applicant)
    proposal.state = ProposalState.MORE_INFO_REQUESTED
    conflict = SectionConflict(
        section=proposal.section("summary"),
        content={"summary": "My version"},
        base_version=0,
        author_id=applicant.id,
    )
    db.session.add(conflict)
    other = make_proposal(call=call, organisation=outsider.primary_organisation, created_by=outsider)
    other_attachment = add_attachment(db.session, outsider, other, "other", _pdf("other.pdf"))
    reviews = _reviews(everyone["reviewer"])
    grants = _grants(db, applicant)  # before the board: its factories make a board of their own
    donors = _donors(db, grants)
    board = _board(db, everyone)
    db.session.commit()
    ids = {
        **reviews,
        **board,
        **grants,
        **donors,
        "reviewer": everyone["reviewer"].id,
        "org": applicant.primary_organisation.id,
        "user": applicant.id,
        "call": call.id,
        "call_ref": call.reference,
        "draft": draft_call.id,
        "draft_ref": draft_call.reference,
        "proposal": proposal.id,
        "attachment": attachment.id,
        "other_attachment": other_attachment.id,
        "conflict": conflict.id,
    }
    return everyone, ids


def _reviews(reviewer):
    """A call under review (another organisation's proposals) in which ``reviewer`` has an assignment in
    each state that has pages: waiting for the declaration, being scored, submitted."""
    review_call = make_call(state=CallState.CLOSED, title="Snow leopard corridors")
    rubric = make_rubric(review_call)

    def in_review():
        return make_proposal(call=review_call, complete=True, state=ProposalState.IN_REVIEW)

    awaiting = make_assignment(in_review(), reviewer, state=AssignmentState.ASSIGNED)
    accepted = make_assignment(in_review(), reviewer, state=AssignmentState.ACCEPTED)
    submitted = make_review(make_assignment(in_review(), reviewer, state=AssignmentState.ACCEPTED))
    someone_elses = make_review(proposal=accepted.proposal)
    return {
        "review_call": review_call.id,
        "review_call_ref": review_call.reference,
        "criterion": rubric.criteria[0].id,
        "under_review": accepted.proposal_id,
        "awaiting_declaration": awaiting.proposal_id,
        "awaiting": awaiting.id,
        "accepted": accepted.id,
        "submitted": submitted.assignment_id,
        "other_reviewers": someone_elses.assignment_id,
    }


def _board(db, everyone):
    """The board (``board_member`` among its members, ``programme_officer`` its secretary), a scheduled
    meeting with a proposal on its agenda and a closed meeting with its minutes."""
    board = make_board(members=2, secretary=everyone["programme_officer"])
    members = [everyone["board_member"], *board.members]
    meeting = make_meeting(board)
    item = make_agenda_item(meeting)
    closed = make_meeting(board, state=MeetingState.CLOSED, present=members)
    make_agenda_item(closed, votes=dict.fromkeys(members, "approve"), outcome="approved")
    minutes = save_upload(
        db.session,
        io.BytesIO(MINIMAL_PDF),
        allowed_kinds=["pdf"],
        uploaded_by=board.secretary,
        filename=f"{closed.reference}-minutes.pdf",
    )
    closed.minutes_file_id, closed.minutes_sha256 = minutes.id, minutes.sha256
    return {"meeting": meeting.reference, "item": item.id, "closed_meeting": closed.reference}


def _grants(db, applicant):
    """An active grant of the applicant's organisation (its first tranche approved, its first report with a
    photo), one awaiting signature, and a pool."""
    from fundapp.disbursements import operations, reporting
    from tests.core.sample_files import png_bytes
    from tests.disbursements.factories import days_ago, make_finance_officer, make_grant

    active = make_grant(
        active=True, start=days_ago(400), end=days_ago(10), organisation=applicant.primary_organisation
    )
    operations.approve_tranche(
        db.session, make_finance_officer(), active.tranches[0], bank_details_checked=True
    )
    photo = reporting.add_report_file(
        db.session, applicant, active.reports[0], FileStorage(io.BytesIO(png_bytes()), filename="seal.png")
    )
    unsigned = make_grant()
    return {
        "grant": active.reference,
        "unsigned_grant": unsigned.reference,
        "report_file": photo.id,
        "pool": active.pool.code,
        "entry": active.pool.account_id,
    }


def _donors(db, grants):
    """A donor whose contribution funds the active grant (recorded before a second grant is signed, so
    the commitment is attributed to it), with a pledge, a portal user and a generated report."""
    from fundapp.disbursements.models import Grant
    from fundapp.donors import operations as donor_operations
    from fundapp.donors.models import GeneratedReport, ReportJobState, ReportKind
    from tests.disbursements.factories import activate, make_grant
    from tests.donors.factories import make_contribution, make_donor, make_donor_user

    donor = make_donor()
    pool = db.session.query(Grant).filter_by(reference=grants["grant"]).one().pool
    make_contribution(donor, pool, "1000.00", currency="EUR", rate="540.25")
    funded = make_grant(call=pool.call)
    activate(funded)
    pledge = donor_operations.record_pledge(
        db.session, None, donor, pool, Money.from_decimal("5000.00", "EUR"), utcnow().date(), []
    )
    user = make_donor_user(donor)
    report = GeneratedReport(kind=ReportKind.DONOR, donor_id=donor.id, state=ReportJobState.QUEUED)
    db.session.add(report)
    db.session.flush()
    return {
        "donor": donor.reference,
        "donor_user": user.id,
        "funded_grant": funded.reference,
        "pledge": pledge.id,
        "contact": donor.contacts[0].id,
        "generated_report": report.id,
    }


@pytest.mark.parametrize("url", list(ROUTES))
def test_every_route_answers_each_role_as_expected(app, client, db, people, url):
    everyone, ids = people
    target = url.format(**ids)
    seen = []
    for person in PEOPLE:
        browser = app.test_client()
        if person != "anon":
            login(browser, everyone[person])
        # buffered: streamed exports are read inside the request; `with` closes downloaded files.
        with browser.get(target, buffered=True) as response:
            seen.append(response.status_code)
    assert dict(zip(PEOPLE, seen, strict=True)) == dict(zip(PEOPLE, ROUTES[url], strict=True))


#: Blueprints every route of which must be in ROUTES: the applications, reviews, board and disbursements
#: modules.
GUARDED_BLUEPRINTS = (
    "calls",
    "proposals",
    "submission",
    "review_admin",
    "reviewer_profile",
    "reviewing",
    "ranking",
    "board",
    "grants",
    "grant_reports",
    "finance",
    "donors",
    "portal",
    "reports",
    "opendata",
    "exports",
)


def test_every_route_of_the_guarded_modules_is_in_the_table(app):
    """A new page of calls, proposals, submission, reviews or the board must be added to ROUTES with its
    statuses."""
    rules = {
        rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in GUARDED_BLUEPRINTS
    }
    assert {rule.endpoint.split(".")[0] for rule in app.url_map.iter_rules()} >= set(GUARDED_BLUEPRINTS)
    covered = set()
    for url in ROUTES:
        path = url.split("?")[0]
        for rule in rules:
            if _matches(rule, path):
                covered.add(rule)
    assert rules - covered == set()


def _matches(rule, path):
    """Whether the URL template ``path`` ("/proposals/{proposal}") is an instance of the Flask ``rule``."""
    rule_parts, path_parts = rule.strip("/").split("/"), path.strip("/").split("/")
    if len(rule_parts) != len(path_parts):
        return False
    for rule_part, path_part in zip(rule_parts, path_parts, strict=True):
        if "<" in rule_part:
            prefix = rule_part.split("<")[0]
            suffix = rule_part.rsplit(">", 1)[1]
            if not (path_part.startswith(prefix) and path_part.endswith(suffix)):
                return False
        elif rule_part != path_part:
            return False
    return True


#: What a donor's contact (role DONOR) may open: public pages, the open data and their portal.
DONOR_USER_PAGES = {
    "/": 200,
    "/login": 302,
    "/register": 302,
    "/password/forgot": 200,
    "/calls": 200,
    "/calls/{call_ref}": 200,
    "/csrf-token": 200,
    "/healthz": 200,
    "/open-data": 200,
    "/open-data/iati.xml": 200,
    "/open-data/360giving.json": 200,
    "/open-data/360giving.csv": 200,
    "/portal/": 200,
    "/portal/projects/{funded_grant}": 200,
    "/reports/{generated_report}": 200,  # their own donor's report (its status page)
}


def test_a_donor_user_opens_only_public_pages_and_their_portal(app, db, people):
    """Every route of the table, as a donor's contact: their portal and public pages answer; everything
    else is refused (403), does not exist for them (404) or is POST only (405). Another donor's or an
    unfunded grant in the portal is 404."""
    everyone, ids = people
    browser = app.test_client()
    login(browser, db.session.get(type(everyone["admin"]), ids["donor_user"]))
    unexpected = {}
    for url in ROUTES:
        with browser.get(url.format(**ids), buffered=True) as response:
            status = response.status_code
        expected = DONOR_USER_PAGES.get(url)
        if (expected is not None and status != expected) or (
            expected is None and status not in (403, 404, 405)
        ):
            unexpected[url] = status
    assert unexpected == {}
    for url in ("/portal/projects/{grant}", "/portal/projects/IBF-1999-9999"):
        with browser.get(url.format(**ids)) as response:
            assert response.status_code == 404, url


def test_anonymous_visitor_is_sent_to_login_with_next(client, db, people):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
