"""Calls and screening through HTTP: public pages, officer pages, bad input, access by role, query counts."""

import csv
import io
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from fundapp.applications.models import Call, CallState, ProposalState, ProposalTag, Screening
from fundapp.core.db import utcnow
from fundapp.core.permissions import Role
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.applications.test_screening import ALL_TICKED, make_version, submitted_proposal
from tests.conftest import login, post_form
from tests.factories import make_applicant, make_organisation, make_user

PEOPLE = ["anon", "applicant", "reviewer", "board_member", "programme_officer", "finance_officer", "admin"]
PUBLIC = [200] * 7
OFFICERS = [302, 403, 403, 403, 200, 403, 403]
OFFICERS_404 = [302, 403, 403, 403, 404, 403, 403]

ROUTES = {
    "/calls": PUBLIC,
    "/calls/{call_ref}": PUBLIC,
    "/calls/{draft_ref}": [404] * 7,
    "/calls/CALL-1999-99": [404] * 7,
    "/officer/calls": OFFICERS,
    "/officer/calls/new": OFFICERS,
    "/officer/calls/{call}": OFFICERS,
    "/officer/calls/{draft}": OFFICERS,
    "/officer/calls/{draft}/edit": OFFICERS,
    "/officer/calls/{call}/edit": OFFICERS,
    "/officer/calls/999999": OFFICERS_404,
    "/officer/proposals": OFFICERS,
    "/officer/proposals?call={call}&state=submitted&region=KZ-47&theme=x&red_list=EN&page=2": OFFICERS,
    "/officer/proposals.csv": OFFICERS,
    "/officer/proposals.xlsx": OFFICERS,
    "/officer/proposals/{proposal}": OFFICERS,
    "/officer/proposals/{proposal}/diff": OFFICERS,
    "/officer/proposals/{proposal}/diff?from=7": OFFICERS_404,
    "/officer/proposals/999999": OFFICERS_404,
}

POSTS = {
    "/officer/calls/{draft}/publish": [302, 403, 403, 403, 302, 403, 403],
    "/officer/calls/{call}/close": [302, 403, 403, 403, 302, 403, 403],
    "/officer/calls/{call}/cancel": [302, 403, 403, 403, 302, 403, 403],
    "/officer/calls/999999/publish": [302, 403, 403, 403, 404, 403, 403],
    "/officer/proposals/{proposal}": [302, 403, 403, 403, 200, 403, 403],
}


@pytest.fixture
def people(db):
    everyone = {"applicant": make_applicant()}
    for role in ("reviewer", "board_member", "programme_officer", "finance_officer", "admin"):
        everyone[role] = make_user(roles=[Role(role)])
    return everyone


@pytest.fixture
def things(db, people):
    call = make_call()
    draft = make_call(state=CallState.DRAFT, reference="CALL-2030-77")
    proposal = submitted_proposal(call=call, organisation=people["applicant"].primary_organisation)
    db.session.commit()
    return {
        "call": call.id,
        "call_ref": call.reference,
        "draft": draft.id,
        "draft_ref": draft.reference,
        "proposal": proposal.id,
    }


def browser_for(app, people, person):
    browser = app.test_client()
    if person != "anon":
        login(browser, people[person])
    return browser


@pytest.mark.parametrize("url", list(ROUTES))
def test_every_call_and_screening_page_answers_each_role_as_expected(app, db, people, things, url):
    target = url.format(**things)
    # buffered: read a streamed body inside the request, as a server does (see test_csv_export_...).
    seen = [browser_for(app, people, person).get(target, buffered=True).status_code for person in PEOPLE]

    assert dict(zip(PEOPLE, seen, strict=True)) == dict(zip(PEOPLE, ROUTES[url], strict=True))


@pytest.mark.parametrize("url", list(POSTS))
def test_every_officer_action_answers_each_role_as_expected(app, db, people, url):
    seen = []
    for person in PEOPLE:
        # Fresh objects for each person: the officer's action changes them.
        call = make_call()
        draft = make_call(state=CallState.DRAFT)
        proposal = submitted_proposal(call=call)
        db.session.commit()
        target = url.format(call=call.id, draft=draft.id, proposal=proposal.id)
        seen.append(post_form(browser_for(app, people, person), target).status_code)

    assert dict(zip(PEOPLE, seen, strict=True)) == dict(zip(PEOPLE, POSTS[url], strict=True))


def sign_in_officer(client, db):
    officer = make_officer()
    db.session.commit()
    login(client, officer)
    return officer


def call_form(**overrides):
    """A valid new-call form as a browser posts it: dates typed in Almaty time."""
    form = {
        "title": "Saiga and steppe 2031",
        "description_html": "<p>Grants for the saiga.</p>",
        "themes": ["steppe_ungulates", "protected_areas"],
        "eligible_org_types": ["ngo"],
        "currency": "KZT",
        "grant_min": "5 000 000",
        "grant_max": "25000000.50",
        "envelope": "200000000",
        "opens_at": "2030-10-01T09:00",
        "closes_at": "2030-12-01T18:00",
        "stages": "1",
        "full_proposal_closes_at": "",
        "cofinancing_min_percent": "10",
        "required_attachments": ["registration_certificate"],
        "questions-0-text": "Is your organisation registered in Kazakhstan?",
        "questions-0-disqualifying_answer": "no",
        "questions-0-explanation": "Only organisations registered in Kazakhstan can apply.",
        "questions-1-text": "",
        "questions-1-disqualifying_answer": "",
        "questions-1-explanation": "",
    }
    form.update(overrides)
    return form


def call_count(db):
    return db.session.scalar(select(func.count(Call.id)))


# -- officers create, edit and publish calls ----------------------------------------------------------------


def test_officer_creates_a_draft_call_typed_in_almaty_time(client, db):
    sign_in_officer(client, db)

    response = post_form(client, "/officer/calls/new", call_form())

    assert response.status_code == 302
    call = db.session.scalar(select(Call))
    assert response.headers["Location"] == f"/officer/calls/{call.id}"
    assert call.state == CallState.DRAFT
    assert call.opens_at == datetime(2030, 10, 1, 4, 0, tzinfo=UTC)
    assert call.closes_at == datetime(2030, 12, 1, 13, 0, tzinfo=UTC)  # Almaty is UTC+5
    assert (call.grant_min_minor, call.grant_max_minor, call.envelope_minor) == (
        500_000_000,
        2_500_000_050,
        20_000_000_000,
    )
    assert call.themes == ["steppe_ungulates", "protected_areas"]
    assert [(q.text, q.disqualifying_answer) for q in call.questions] == [
        ("Is your organisation registered in Kazakhstan?", False)
    ]


def test_new_call_form_names_the_time_zone_next_to_the_dates(client, db):
    sign_in_officer(client, db)

    page = client.get("/officer/calls/new").get_data(as_text=True)

    assert "Time in Asia/Almaty" in page
    assert 'type="datetime-local"' in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"grant_min": "five million"}, "grant_min", "is not an amount"),
        ({"grant_max": "-25000000"}, "grant_max", "cannot be negative"),
        ({"envelope": "100.001"}, "envelope", "more than 2 decimal places"),
        ({"grant_min": "30000000", "grant_max": "20000000"}, "grant_max", "cannot be below the smallest"),
        ({"closes_at": "2030-09-30T18:00"}, "closes_at", "must close after it opens"),
        ({"opens_at": "next tuesday"}, "opens_at", "Enter a date and time"),
        ({"title": ""}, "title", ""),
        ({"stages": "2"}, "full_proposal_closes_at", "needs a deadline for the full proposals"),
        ({"cofinancing_min_percent": "120"}, "cofinancing_min_percent", "from 0 to 100"),
        ({"themes": ["unicorns"]}, "themes", "is not a valid choice"),
    ],
)
def test_bad_call_input_is_shown_next_to_its_field_and_stores_nothing(client, db, changes, field, message):
    sign_in_officer(client, db)

    response = post_form(client, "/officer/calls/new", call_form(**changes))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-error"' in page
    assert message in page
    assert call_count(db) == 0


def test_every_bad_amount_is_reported_at_once(client, db):
    sign_in_officer(client, db)

    page = post_form(
        client, "/officer/calls/new", call_form(grant_min="x", grant_max="-1", envelope="y")
    ).get_data(as_text=True)

    assert all(f'id="{name}-error"' in page for name in ("grant_min", "grant_max", "envelope"))


def test_script_in_the_description_never_reaches_the_public(client, db):
    officer = sign_in_officer(client, db)
    post_form(
        client,
        "/officer/calls/new",
        call_form(description_html='<p onclick="steal()">Saiga<script>alert("x")</script></p>'),
    )
    call = db.session.scalar(select(Call))
    from fundapp.applications.calls import publish_call

    publish_call(db.session, officer, call)
    call.opens_at = utcnow() - timedelta(days=1)
    db.session.commit()

    page = client.get(f"/calls/{call.reference}").get_data(as_text=True)

    assert "<p>Saiga</p>" in page
    assert "alert(" not in page and "onclick" not in page


def test_title_with_html_is_shown_escaped(client, db):
    sign_in_officer(client, db)
    post_form(client, "/officer/calls/new", call_form(title="<b>Saiga</b>"))
    call = db.session.scalar(select(Call))

    page = client.get(f"/officer/calls/{call.id}").get_data(as_text=True)

    assert "&lt;b&gt;Saiga&lt;/b&gt;" in page


def test_draft_is_edited_through_its_form(client, db):
    sign_in_officer(client, db)
    post_form(client, "/officer/calls/new", call_form())
    call = db.session.scalar(select(Call))

    form_page = client.get(f"/officer/calls/{call.id}/edit").get_data(as_text=True)
    response = post_form(client, f"/officer/calls/{call.id}/edit", call_form(title="Saiga 2031, revised"))

    assert 'value="2030-12-01T18:00"' in form_page  # shown back in Almaty time
    assert 'value="25000000.50"' in form_page
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Call, call.id).title == "Saiga 2031, revised"


def test_publishing_a_draft_with_problems_is_refused_with_the_reason(client, db):
    sign_in_officer(client, db)
    post_form(client, "/officer/calls/new", call_form(themes=[]))
    call = db.session.scalar(select(Call))

    page = client.get(f"/officer/calls/{call.id}").get_data(as_text=True)
    response = post_form(client, f"/officer/calls/{call.id}/publish", follow_redirects=True)

    assert "Choose at least one theme." in page
    assert "Choose at least one theme." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Call, call.id).state == CallState.DRAFT


def test_ready_draft_is_published(client, db):
    sign_in_officer(client, db)
    post_form(client, "/officer/calls/new", call_form())
    call = db.session.scalar(select(Call))

    response = post_form(client, f"/officer/calls/{call.id}/publish", follow_redirects=True)

    assert f"{call.reference} is published." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Call, call.id).state == CallState.PUBLISHED


def test_published_call_offers_only_a_later_deadline(client, db):
    sign_in_officer(client, db)
    call = make_call(closes_at=datetime(2030, 12, 1, 13, 0, tzinfo=UTC))
    db.session.commit()

    page = client.get(f"/officer/calls/{call.id}/edit").get_data(as_text=True)
    earlier = post_form(client, f"/officer/calls/{call.id}/edit", {"closes_at": "2030-11-20T18:00"})
    later = post_form(client, f"/officer/calls/{call.id}/edit", {"closes_at": "2030-12-15T18:00"})

    assert "Extend the deadline" in page and 'name="grant_min"' not in page
    assert "only move later" in earlier.get_data(as_text=True)
    assert later.status_code == 302
    db.session.expire_all()
    assert db.session.get(Call, call.id).closes_at == datetime(2030, 12, 15, 13, 0, tzinfo=UTC)


def test_published_call_is_not_cancelled_without_a_reason(client, db):
    sign_in_officer(client, db)
    call = make_call()
    db.session.commit()

    response = post_form(client, f"/officer/calls/{call.id}/cancel", {"reason": ""}, follow_redirects=True)

    assert "Give a reason" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Call, call.id).state == CallState.PUBLISHED


def test_action_without_csrf_token_is_refused(client, db):
    sign_in_officer(client, db)
    call = make_call(state=CallState.DRAFT)
    db.session.commit()

    response = client.post(f"/officer/calls/{call.id}/publish")

    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Call, call.id).state == CallState.DRAFT


# -- the public pages ---------------------------------------------------------------------------------------


def test_public_list_shows_open_calls_with_their_deadline_and_days_left(client, db):
    now = utcnow()
    open_call = make_call(title="Snow leopard corridors", closes_at=now + timedelta(days=12, hours=1))
    make_call(
        title="Old wetlands call",
        state=CallState.CLOSED,
        opens_at=now - timedelta(days=90),
        closes_at=now - timedelta(days=3),
    )
    make_call(title="Secret draft", state=CallState.DRAFT)
    db.session.commit()

    page = client.get("/calls").get_data(as_text=True)

    assert "Snow leopard corridors" in page
    assert f"/calls/{open_call.reference}" in page
    assert "closes in 12 days" in page or "closes in 13 days" in page
    assert "Recently closed" in page and "Old wetlands call" in page
    assert "Secret draft" not in page
    assert "Steppe ungulates (saiga, goitered gazelle)" in page
    assert "Asia/Almaty" in page


def test_public_call_page_shows_terms_questions_and_the_apply_button(client, db):
    call = make_call(required_attachments=["registration_certificate", "letter_of_support"])
    db.session.commit()

    page = client.get(f"/calls/{call.reference}").get_data(as_text=True)

    assert "Grants for the Caspian seal and the saiga." in page
    assert "Is your organisation registered in Kazakhstan?" in page
    assert "Letter of support" in page and "Registration certificate" in page
    assert f'href="/calls/{call.reference}/apply"' in page


def test_closed_call_page_has_no_apply_button(client, db):
    now = utcnow()
    call = make_call(
        state=CallState.CLOSED, opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=1)
    )
    db.session.commit()

    page = client.get(f"/calls/{call.reference}").get_data(as_text=True)

    assert "Closed" in page
    assert "/apply" not in page


# -- the officer's list -------------------------------------------------------------------------------------


@contextmanager
def counted_queries():
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def add_submitted(call, how_many):
    for _ in range(how_many):
        proposal = make_proposal(call=call, state=ProposalState.SUBMITTED, submitted_at=utcnow())
        proposal.tags.append(ProposalTag(kind="region", code="KZ-47"))


def test_list_query_count_does_not_grow_with_rows_shown_or_stored(client, db):
    sign_in_officer(client, db)
    call = make_call()
    add_submitted(call, 3)
    db.session.commit()
    client.get("/officer/proposals")  # warm up: whatever is loaded once per process

    with counted_queries() as few:
        small = client.get("/officer/proposals?region=KZ-47")
    add_submitted(call, 57)
    db.session.commit()
    with counted_queries() as many:
        large = client.get("/officer/proposals?region=KZ-47")

    assert small.get_data(as_text=True).count('href="/officer/proposals/') == 3
    assert large.get_data(as_text=True).count('href="/officer/proposals/') == 50
    assert len(few) == len(many)
    assert len(many) <= 10, many  # login (2), count, page, menus (4), test savepoint (2)


def test_list_shows_the_columns_and_filters_by_region_and_red_list(client, db):
    sign_in_officer(client, db)
    call = make_call()
    caspian = submitted_proposal(call=call, title="Seal haul-outs")
    caspian.tags.append(ProposalTag(kind="region", code="KZ-47"))
    steppe = submitted_proposal(call=call, title="Saiga calving grounds", requested_minor=1_500_000_00)
    steppe.tags.append(ProposalTag(kind="red_list", code="NT"))
    db.session.commit()

    everything = client.get("/officer/proposals").get_data(as_text=True)
    by_region = client.get("/officer/proposals?region=KZ-47").get_data(as_text=True)
    by_red_list = client.get("/officer/proposals?red_list=NT").get_data(as_text=True)

    assert "Seal haul-outs" in everything and "Saiga calving grounds" in everything
    assert steppe.organisation.name_en in everything and call.reference in everything
    assert "1,500,000.00" in everything
    assert "Seal haul-outs" in by_region and "Saiga calving grounds" not in by_region
    assert "Saiga calving grounds" in by_red_list and "Seal haul-outs" not in by_red_list


def test_list_pages_keep_the_filters(client, db):
    sign_in_officer(client, db)
    call = make_call()
    add_submitted(call, 51)
    db.session.commit()

    first = client.get(f"/officer/proposals?call={call.id}").get_data(as_text=True)
    second = client.get(f"/officer/proposals?call={call.id}&page=2").get_data(as_text=True)

    assert f"/officer/proposals?page=2&amp;call={call.id}" in first
    assert second.count('href="/officer/proposals/') == 1


def test_csv_export_has_every_matching_row_neutralised(client, db):
    sign_in_officer(client, db)
    call = make_call()
    submitted_proposal(call=call, title='=HYPERLINK("http://evil")')
    submitted_proposal(call=call, title="-2+3")
    submitted_proposal(title="Other call")
    db.session.commit()

    # The CSV is streamed with stream_with_context; the test client runs each request in its own context,
    # so the body must be read inside the request (buffered), as a WSGI server does.
    response = client.get(f"/officer/proposals.csv?call={call.id}", buffered=True)

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3
    assert sorted(row[1] for row in rows[1:]) == ["'-2+3", '\'=HYPERLINK("http://evil")']


def test_xlsx_export_opens_with_neutralised_text(client, db):
    sign_in_officer(client, db)
    submitted_proposal(title="@SUM(1+1)")
    db.session.commit()

    response = client.get("/officer/proposals.xlsx")

    assert response.headers["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet["B2"].value == "'@SUM(1+1)"
    assert sheet["B2"].data_type == "s"


# -- screening through the page -----------------------------------------------------------------------------


def screening_form(outcome, reason="", checklist=ALL_TICKED):
    return {
        "outcome": outcome,
        "reason": reason,
        "checklist": [key for key, value in checklist.items() if value],
    }


def test_officer_sees_the_submitted_version_attachments_and_history(client, db):
    sign_in_officer(client, db)
    proposal = submitted_proposal(title="Seal <haul-outs>")
    proposal.versions[0].snapshot = {"title": "Seal <haul-outs>", "sections": []}
    db.session.commit()

    page = client.get(f"/officer/proposals/{proposal.id}").get_data(as_text=True)

    assert "Seal &lt;haul-outs&gt;" in page
    assert "Version 1 as submitted" in page
    assert "Record the screening" in page
    assert "Invite a full proposal" not in page  # a full proposal is eligible or not


def test_screening_eligible_through_the_page(client, db, mail):
    sign_in_officer(client, db)
    proposal = submitted_proposal()
    db.session.commit()

    response = post_form(client, f"/officer/proposals/{proposal.id}", screening_form("eligible"))

    assert response.status_code == 302
    db.session.expire_all()
    assert proposal.state == ProposalState.ELIGIBLE
    assert db.session.scalar(select(func.count(Screening.id))) == 1
    assert [message["to_address"] for message in mail] == [proposal.organisation.memberships[0].user.email]


def test_ineligible_without_a_reason_is_refused_next_to_the_field(client, db, mail):
    sign_in_officer(client, db)
    proposal = submitted_proposal()
    db.session.commit()

    response = post_form(client, f"/officer/proposals/{proposal.id}", screening_form("ineligible"))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="reason-error"' in page and "Give the reason" in page
    db.session.expire_all()
    assert proposal.state == ProposalState.SUBMITTED
    assert db.session.scalar(select(func.count(Screening.id))) == 0
    assert mail == []


def test_outcome_outside_the_offered_ones_is_refused(client, db):
    sign_in_officer(client, db)
    proposal = submitted_proposal()
    db.session.commit()

    response = post_form(client, f"/officer/proposals/{proposal.id}", screening_form("invited"))

    assert 'id="outcome-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert proposal.state == ProposalState.SUBMITTED


def test_proposal_already_screened_is_not_screened_again(client, db):
    sign_in_officer(client, db)
    proposal = submitted_proposal(state=ProposalState.ELIGIBLE)
    db.session.commit()

    page = client.get(f"/officer/proposals/{proposal.id}").get_data(as_text=True)
    response = post_form(
        client,
        f"/officer/proposals/{proposal.id}",
        screening_form("ineligible", "No."),
        follow_redirects=True,
    )

    assert "Record the screening" not in page
    assert "not waiting for screening" in response.get_data(as_text=True)
    db.session.expire_all()
    assert proposal.state == ProposalState.ELIGIBLE


def test_diff_between_versions_is_readable_and_escaped(client, db):
    sign_in_officer(client, db)
    proposal = submitted_proposal()
    proposal.versions[0].snapshot = {"title": "Seals", "summary": {"text": "Count seals."}}
    make_version(proposal, 2, {"title": "Seals", "summary": {"text": "Count <script>seals</script> twice."}})
    db.session.commit()

    page = client.get(f"/officer/proposals/{proposal.id}/diff?from=1&to=2").get_data(as_text=True)

    assert "<del>Summary › Text: Count seals.</del>" in page
    assert "<ins>Summary › Text: Count &lt;script&gt;seals&lt;/script&gt; twice.</ins>" in page
    assert "<script>seals" not in page


def test_officer_home_lists_proposals_to_screen_and_drafts_to_publish(client, db):
    sign_in_officer(client, db)
    call = make_call()
    submitted_proposal(call=call)
    submitted_proposal(call=call)
    draft = make_call(state=CallState.DRAFT, themes=[])
    db.session.commit()

    page = client.get("/").get_data(as_text=True)

    assert f"Screen 2 proposals in {call.reference}" in page
    assert f"Publish the draft call {draft.reference}" in page
    assert "things to settle first" in page or "thing to settle first" in page
    assert 'href="/officer/proposals"' in page  # navigation


def test_organisation_outside_the_fund_cannot_see_the_officer_pages(app, db):
    outsider = make_user(roles=[Role.APPLICANT])
    make_organisation(managers=[outsider])
    proposal = submitted_proposal()
    db.session.commit()
    browser = app.test_client()
    login(browser, outsider)

    assert browser.get(f"/officer/proposals/{proposal.id}").status_code == 403


def test_officer_sees_a_complete_version_through_the_editors_snapshot(client, db):
    sign_in_officer(client, db)
    proposal = make_proposal(state=ProposalState.SUBMITTED, complete=True, submitted_at=utcnow())
    make_version(proposal)
    db.session.commit()

    page = client.get(f"/officer/proposals/{proposal.id}").get_data(as_text=True)

    assert 'class="proposal-snapshot"' in page
    assert "Pusa caspica" in page and "Kenderli haul-out" in page


def test_history_and_screening_read_as_people_write(client, db):
    sign_in_officer(client, db)
    proposal = submitted_proposal()
    db.session.commit()
    post_form(
        client, f"/officer/proposals/{proposal.id}", screening_form("more_info_requested", "Add the map.")
    )

    page = client.get(f"/officer/proposals/{proposal.id}").get_data(as_text=True)

    assert "Submitted → More information requested" in page
    assert "Ask the applicant for more information" in page  # the screening's outcome
    assert "Add the map." in page


def test_description_stored_by_another_route_is_sanitised_on_the_page(client, db):
    call = make_call(description_html='<p>Seals</p><img src=x onerror="alert(1)"><script>alert(2)</script>')
    db.session.commit()

    page = client.get(f"/calls/{call.reference}").get_data(as_text=True)

    assert "<p>Seals</p>" in page
    assert "onerror" not in page and "alert(" not in page
