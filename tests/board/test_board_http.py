"""The board's pages: who may open each one, the secretary's and members' forms, and bad input."""

import re
import shutil
import subprocess

import pytest
from sqlalchemy import select

from fundapp.applications.models import ProposalState
from fundapp.board import operations
from fundapp.board.models import DecisionOutcome, Meeting, MeetingState, VoteChoice
from fundapp.core.permissions import Role
from tests.applications.factories import make_officer, make_proposal
from tests.board.factories import make_agenda_item, make_board, make_meeting
from tests.conftest import login, post_form
from tests.factories import make_applicant, make_user

PEOPLE = [
    "anon",
    "applicant",
    "reviewer",
    "board_member",
    "secretary",
    "programme_officer",
    "finance_officer",
    "admin",
]
#: Pages for everyone on the board and the programme officers.
VIEWERS = [302, 403, 403, 200, 200, 200, 403, 403]
#: The secretary's own pages (another programme officer does not manage meetings once one is set).
SECRETARY = [302, 403, 403, 403, 200, 403, 403, 403]
SETTINGS = [302, 403, 403, 403, 200, 403, 403, 200]
VIEWERS_404 = [302, 403, 403, 404, 404, 404, 403, 403]

GET_ROUTES = {
    "/board/": VIEWERS,
    "/board/settings": SETTINGS,
    "/board/meetings/new": SECRETARY,
    "/board/meetings/{meeting}": VIEWERS,
    "/board/meetings/{meeting}/board-pack.pdf": VIEWERS,
    "/board/meetings/{closed}/minutes.pdf": VIEWERS,
    "/board/meetings/{meeting}/minutes.pdf": VIEWERS_404,
    "/board/meetings/BRD-1999-99": VIEWERS_404,
}
#: POST routes only the secretary may use (the form is empty, so the secretary's request is refused
#: with 400 or carried out with a redirect; everyone else never gets that far).
SECRETARY_POSTS = [
    "/board/meetings/{meeting}/open",
    "/board/meetings/{meeting}/close",
    "/board/meetings/{meeting}/cancel",
    "/board/meetings/{meeting}/agenda",
    "/board/meetings/{meeting}/attendance",
    "/board/meetings/{meeting}/items/{item}/remove",
    "/board/meetings/{meeting}/items/{item}/motion",
    "/board/meetings/{meeting}/items/{item}/decide",
    "/board/meetings/new",
]
#: Members act for themselves here; programme officers reach the operation (which refuses them).
MEMBER_POSTS = [
    "/board/meetings/{meeting}/items/{item}/vote",
    "/board/meetings/{meeting}/items/{item}/conflict",
]
DENIED_POST = {"anon": 302, "applicant": 403, "reviewer": 403, "finance_officer": 403}


@pytest.fixture
def people(db):
    board = make_board(members=3)
    everyone = {
        "applicant": make_applicant(),
        "reviewer": make_user(roles=[Role.REVIEWER]),
        "board_member": board.members[1],
        "secretary": board.secretary,
        "programme_officer": make_officer(),
        "finance_officer": make_user(roles=[Role.FINANCE_OFFICER]),
        "admin": make_user(roles=[Role.ADMIN]),
        "board": board,
    }
    db.session.commit()
    return everyone


@pytest.fixture
def places(db, people):
    board = people["board"]
    meeting = make_meeting(board, state=MeetingState.OPEN, present=True)
    item = make_agenda_item(meeting)
    db.session.commit()
    return {"meeting": meeting.reference, "item": item.id}


@pytest.fixture
def closed(db, people):
    """A meeting closed through the operations, so that its minutes are stored."""
    board = people["board"]
    meeting = make_meeting(board, state=MeetingState.OPEN, present=True)
    decided = make_agenda_item(meeting, votes=dict.fromkeys(board.members, "approve"))
    operations.decide_item(db.session, board.secretary, decided, outcome_request="approved")
    operations.close_meeting(db.session, board.secretary, meeting)
    db.session.commit()
    return meeting.reference


def browser_for(app, people, person):
    browser = app.test_client()
    if person != "anon":
        login(browser, people[person])
    return browser


@pytest.mark.parametrize(
    ("route", "person", "expected"),
    [(route, person, codes[i]) for route, codes in GET_ROUTES.items() for i, person in enumerate(PEOPLE)],
)
def test_who_may_open_each_page(request, app, people, places, route, person, expected):
    if "{closed}" in route:
        places = {**places, "closed": request.getfixturevalue("closed")}
    response = browser_for(app, people, person).get(route.format(**places))
    body = read(response)
    assert response.status_code == expected
    if expected == 302:
        assert "/login" in response.headers["Location"]
    if expected == 200 and route.endswith(".pdf"):
        assert response.mimetype == "application/pdf"
        assert body.startswith(b"%PDF")


def read(response):
    """The whole body of a response, closing it (a stored file is streamed from disk)."""
    try:
        return response.get_data()
    finally:
        response.close()


@pytest.mark.parametrize(
    ("route", "person"),
    [
        (route, person)
        for route in SECRETARY_POSTS
        for person in (
            "anon",
            "applicant",
            "reviewer",
            "board_member",
            "programme_officer",
            "finance_officer",
            "admin",
        )
    ],
)
def test_only_the_secretary_manages_meetings(app, db, people, places, route, person):
    before = _state(db, places)
    response = post_form(browser_for(app, people, person), route.format(**places), {})
    assert response.status_code == (302 if person == "anon" else 403)
    assert _state(db, places) == before


@pytest.mark.parametrize(
    ("route", "person"), [(route, person) for route in MEMBER_POSTS for person in DENIED_POST]
)
def test_outsiders_cannot_vote_or_declare(app, db, people, places, route, person):
    response = post_form(browser_for(app, people, person), route.format(**places), {"choice": "approve"})
    assert response.status_code == DENIED_POST[person]


def _state(db, places):
    db.session.expire_all()
    meeting = db.session.scalar(select(Meeting).where(Meeting.reference == places["meeting"]))
    return (
        meeting.state,
        [(i.id, i.outcome, i.motion_amount_minor, len(i.votes)) for i in meeting.items],
        [(a.user_id, a.present) for a in meeting.attendance],
    )


def test_anyone_without_a_board_role_is_refused_the_settings_post(app, people, places):
    response = post_form(browser_for(app, people, "board_member"), "/board/settings", {"quorum_percent": "1"})
    assert response.status_code == 403
    assert (
        operations.board_settings(__import__("fundapp.extensions").extensions.db.session).quorum_percent == 50
    )


# -- the secretary at work ---------------------------------------------------------------------------------


def page(response):
    return response.get_data(as_text=True)


def text_of(html):
    """The page's visible text, tags stripped and spaces collapsed (for messages with typographic quotes)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&amp;", "&")


@pytest.fixture
def secretary(client, people):
    login(client, people["secretary"])
    return client


def test_the_secretary_runs_a_meeting_from_scheduling_to_minutes(app, db, secretary, people):
    board = people["board"]
    proposals = [make_proposal(complete=True, state=ProposalState.REVIEWED) for _ in range(2)]
    db.session.commit()

    response = post_form(
        secretary,
        "/board/meetings/new",
        {
            "title": "Spring board",
            "kind": "meeting",
            "scheduled_at": "2031-03-12T10:00",
            "location": "Astana",
        },
    )
    assert response.status_code == 302
    reference = response.headers["Location"].rsplit("/", 1)[1]
    assert reference == "BRD-2031-01"
    url = f"/board/meetings/{reference}"
    html = page(secretary.get(url))
    assert "Add proposals to the agenda" in html and proposals[0].reference in html

    for proposal in proposals:
        response = post_form(
            secretary, f"{url}/agenda", {"proposal_id": proposal.id, "recommended": "5 000 000"}
        )
        assert response.status_code == 302, text_of(page(response))
    assert post_form(secretary, f"{url}/open", {}).status_code == 302
    for member in board.members:
        post_form(secretary, f"{url}/attendance", {"member_id": member.id, "present": "1"})

    meeting = operations.get_meeting(db.session, reference)
    first, second = meeting.items
    for member in board.members:
        response = post_form(
            secretary, f"{url}/items/{first.id}/vote", {"member_id": member.id, "choice": "approve"}
        )
        assert response.status_code == 302
        post_form(secretary, f"{url}/items/{second.id}/vote", {"member_id": member.id, "choice": "reject"})
    response = post_form(secretary, f"{url}/items/{first.id}/decide", {"outcome": "approved"})
    assert response.status_code == 302
    response = post_form(
        secretary, f"{url}/items/{second.id}/decide", {"outcome": "rejected", "reason": "No baseline survey."}
    )
    assert response.status_code == 302
    response = post_form(secretary, f"{url}/close", {})
    assert response.status_code == 302
    assert "is closed" in page(secretary.get(url))

    minutes = secretary.get(f"{url}/minutes.pdf")
    minutes_pdf = read(minutes)
    assert minutes.status_code == 200 and minutes.mimetype == "application/pdf"
    assert minutes.headers["Content-Disposition"].startswith("attachment")
    db.session.expire_all()
    meeting = operations.get_meeting(db.session, reference)
    assert meeting.state == MeetingState.CLOSED
    assert [item.outcome for item in meeting.items] == [DecisionOutcome.APPROVED, DecisionOutcome.REJECTED]
    assert meeting.items[0].approved_minor == 5_000_000_00
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=minutes_pdf, capture_output=True, check=True
        ).stdout.decode()
        for proposal in proposals:
            assert proposal.reference in text
        assert "Decision: approved, KZT 5,000,000.00." in text
        assert "Decision: rejected." in text and "No baseline survey." in text


def test_a_member_votes_for_themself_and_declares_a_conflict(app, db, people):
    board = people["board"]
    meeting = make_meeting(board, state=MeetingState.OPEN, present=True)
    item = make_agenda_item(meeting)
    other = make_agenda_item(meeting)
    db.session.commit()
    member = board.members[1]
    browser = browser_for(app, people, "board_member")
    url = f"/board/meetings/{meeting.reference}"
    html = page(browser.get(url))
    assert "Your vote:" in html and "Record a member" not in html
    assert post_form(browser, f"{url}/items/{item.id}/vote", {"choice": "approve"}).status_code == 302
    response = post_form(browser, f"{url}/items/{other.id}/conflict", {"note": "I advise the applicant."})
    assert response.status_code == 302
    db.session.expire_all()
    assert [(v.user_id, v.choice, v.recorded_by_id) for v in item.votes] == [
        (member.id, VoteChoice.APPROVE, member.id)
    ]
    assert [c.user_id for c in other.conflicts] == [member.id]
    # Voting for somebody else is refused, and changes nothing.
    response = post_form(
        browser, f"{url}/items/{item.id}/vote", {"member_id": board.members[2].id, "choice": "reject"}
    )
    assert response.status_code == 400
    assert "only vote for yourself" in text_of(page(response))
    db.session.expire_all()
    assert len(item.votes) == 1


def test_the_meetings_list_shows_what_waits_for_the_members_vote(app, db, people):
    board = people["board"]
    meeting = make_meeting(board, state=MeetingState.OPEN, present=True)
    item = make_agenda_item(meeting)
    db.session.commit()
    html = page(browser_for(app, people, "board_member").get("/board/"))
    assert "Waiting for your vote" in html and item.proposal.reference in html
    home = page(browser_for(app, people, "board_member").get("/"))
    assert f"Vote on 1 item of {meeting.reference}" in home


# -- bad input ---------------------------------------------------------------------------------------------


@pytest.fixture
def in_session(db, people):
    board = people["board"]
    meeting = make_meeting(board, state=MeetingState.OPEN, present=True)
    item = make_agenda_item(meeting)
    db.session.commit()
    return meeting, item


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("lots", "is not an amount"),
        ("-5", "cannot be negative"),
        ("0", "above zero"),
        ("1,500", "dot for decimals"),
        ("99999999999", "at most the amount requested"),
        ("", "Enter an amount"),
    ],
)
def test_a_bad_motion_amount_is_refused_next_to_the_field(db, secretary, in_session, amount, message):
    meeting, item = in_session
    before = item.motion_amount_minor
    response = post_form(
        secretary, f"/board/meetings/{meeting.reference}/items/{item.id}/motion", {"amount": amount}
    )
    assert response.status_code == 400
    html = page(response)
    assert message in text_of(html)
    assert f'id="motion-{item.id}-amount-error"' in html
    db.session.expire_all()
    assert item.motion_amount_minor == before


def test_a_bad_recommended_amount_leaves_the_proposal_where_it_was(db, secretary, people):
    meeting = make_meeting(people["board"])
    proposal = make_proposal(complete=True, state=ProposalState.REVIEWED)
    db.session.commit()
    response = post_form(
        secretary,
        f"/board/meetings/{meeting.reference}/agenda",
        {"proposal_id": proposal.id, "recommended": "12abc"},
    )
    assert response.status_code == 400
    assert f'id="add-{proposal.id}-recommended-error"' in page(response)
    db.session.expire_all()
    assert proposal.state == ProposalState.REVIEWED and not meeting.items


@pytest.mark.parametrize("outcome", ["rejected", "deferred"])
def test_an_empty_reason_is_refused(db, secretary, people, in_session, outcome):
    meeting, item = in_session
    for member in people["board"].members:
        operations.cast_vote(db.session, member, item, member, VoteChoice.REJECT)
    db.session.commit()
    response = post_form(
        secretary,
        f"/board/meetings/{meeting.reference}/items/{item.id}/decide",
        {"outcome": outcome, "reason": "   "},
    )
    assert response.status_code == 400
    assert "Give the reason for" in text_of(page(response))
    db.session.expire_all()
    assert item.outcome is None and item.proposal.state == ProposalState.ON_AGENDA


def test_an_unknown_outcome_or_choice_is_refused(db, secretary, in_session, people):
    meeting, item = in_session
    url = f"/board/meetings/{meeting.reference}/items/{item.id}"
    assert post_form(secretary, f"{url}/decide", {"outcome": "approve-everything"}).status_code == 400
    member = people["board"].members[0]
    response = post_form(secretary, f"{url}/vote", {"member_id": member.id, "choice": "maybe"})
    assert response.status_code == 400
    response = post_form(secretary, f"{url}/vote", {"member_id": "x", "choice": "approve"})
    assert response.status_code == 400
    db.session.expire_all()
    assert item.outcome is None and item.votes == []


def test_a_vote_without_quorum_shows_the_rule(db, secretary, people):
    board = people["board"]
    meeting = make_meeting(board, state=MeetingState.OPEN, present=board.members[:1])
    item = make_agenda_item(meeting)
    db.session.commit()
    response = post_form(
        secretary,
        f"/board/meetings/{meeting.reference}/items/{item.id}/vote",
        {"member_id": board.members[0].id, "choice": "approve"},
    )
    assert response.status_code == 400
    assert (
        "No quorum for this item: 1 of 3 eligible members are present; more than 50% are needed."
        in text_of(page(response))
    )


def test_an_item_of_another_meeting_is_not_found(db, secretary, people, in_session):
    meeting, _item = in_session
    elsewhere = make_agenda_item(make_meeting(people["board"]))
    db.session.commit()
    url = f"/board/meetings/{meeting.reference}/items/{elsewhere.id}/vote"
    assert post_form(secretary, url, {"choice": "approve"}).status_code == 404


def test_a_non_member_cannot_be_marked_present(db, secretary, in_session, people):
    meeting, _item = in_session
    response = post_form(
        secretary,
        f"/board/meetings/{meeting.reference}/attendance",
        {"member_id": people["programme_officer"].id, "present": "1"},
    )
    assert response.status_code == 400
    assert "is not a member of the board" in text_of(page(response))


def test_scheduling_with_a_bad_date_is_refused(db, secretary):
    response = post_form(
        secretary,
        "/board/meetings/new",
        {"title": "Board", "kind": "meeting", "scheduled_at": "next Tuesday"},
    )
    assert response.status_code == 400
    assert "Enter a date and time" in page(response)
    assert db.session.scalar(select(Meeting).where(Meeting.title == "Board")) is None


@pytest.mark.parametrize("quorum", ["abc", "100", "-3", ""])
def test_a_bad_quorum_is_refused(db, secretary, quorum):
    response = post_form(secretary, "/board/settings", {"quorum_percent": quorum, "majority_percent": "50"})
    assert response.status_code == 400
    assert "whole number from 0 to 99" in page(response)
    db.session.expire_all()
    assert operations.board_settings(db.session).quorum_percent == 50


def test_the_secretary_saves_the_rules(db, secretary, people):
    board = people["board"]
    response = post_form(
        secretary,
        "/board/settings",
        {
            "chair": str(board.members[2].id),
            "secretary": str(board.secretary.id),
            "quorum_percent": "60",
            "majority_percent": "66",
            "chair_casting_vote": "",
            "minutes_name_votes": "y",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    settings = operations.board_settings(db.session)
    assert (settings.chair_id, settings.quorum_percent, settings.majority_percent) == (
        board.members[2].id,
        60,
        66,
    )
    assert settings.chair_casting_vote is False and settings.minutes_name_votes is True


def test_the_meeting_page_has_no_inline_script_or_style(db, secretary, in_session):
    meeting, _item = in_session
    response = secretary.get(f"/board/meetings/{meeting.reference}")
    html = page(response)
    assert "<script>" not in html and " style=" not in html and "<style" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    # Every input, select and textarea has a label.
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html))
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    assert ids and ids <= labelled


def test_a_written_vote_closes_only_after_its_deadline(db, secretary, people):
    from datetime import timedelta

    from fundapp.board.models import MeetingKind
    from fundapp.core.db import utcnow

    board = people["board"]
    meeting = make_meeting(
        board,
        kind=MeetingKind.CORRESPONDENCE,
        state=MeetingState.OPEN,
        scheduled_at=utcnow() - timedelta(days=1),
        vote_deadline=utcnow() + timedelta(days=2),
    )
    make_agenda_item(meeting)
    db.session.commit()
    url = f"/board/meetings/{meeting.reference}"
    html = page(secretary.get(url))
    assert "Close the vote and decide" in html and "Attendance" not in html
    response = post_form(secretary, f"{url}/close", {})
    assert response.status_code == 400
    assert "Voting is open until" in text_of(page(response))
    db.session.expire_all()
    assert operations.get_meeting(db.session, meeting.reference).state == MeetingState.OPEN
