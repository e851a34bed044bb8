"""The proposal pages through HTTP: applying, the overview, the section editor, autosave and merging."""

import re

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from fundapp.accounts.models import Membership
from fundapp.applications.models import Proposal, ProposalState, SectionConflict
from fundapp.core.permissions import Role
from tests.applications.factories import (
    complete_content,
    make_call,
    make_member_proposal,
    make_outsider,
    make_proposal,
    passing_answers,
)
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_applicant, make_user


def autosave(client, proposal, key, content, base_version, *, token=None):
    headers = {"Accept": "application/json"}
    if token is not False:
        headers["X-CSRFToken"] = token or csrf_token(client)
    return client.post(
        f"/proposals/{proposal.id}/sections/{key}/autosave",
        json={"content": content, "base_version": base_version},
        headers=headers,
    )


@pytest.fixture
def member(db):
    proposal, user = make_member_proposal()
    db.session.commit()
    return proposal, user


# -- access by role ------------------------------------------------------------------------------------

PEOPLE = ["anon", "member", "outsider", "reviewer", "programme_officer", "admin"]

# url template -> expected status per person (same order as PEOPLE); 302 for anon is "sent to log in".
ROUTES = {
    "/calls/{call}/apply": [302, 200, 200, 403, 403, 403],
    "/calls/NO-SUCH-CALL/apply": [302, 404, 404, 403, 403, 403],
    "/proposals": [302, 200, 200, 403, 403, 403],
    "/proposals/{proposal}": [302, 200, 404, 404, 200, 200],
    "/proposals/999999": [302, 404, 404, 404, 404, 404],
    "/proposals/{proposal}/details": [302, 200, 404, 404, 403, 403],
    "/proposals/{proposal}/sections/summary": [302, 200, 404, 404, 200, 200],
    "/proposals/{proposal}/sections/budget": [302, 200, 404, 404, 200, 200],
    "/proposals/{proposal}/sections/no_such_section": [302, 404, 404, 404, 404, 404],
    "/proposals/{proposal}/sections/summary/conflicts/{conflict}": [302, 200, 404, 404, 403, 403],
    "/proposals/{proposal}/sections/summary/conflicts/999999": [302, 404, 404, 404, 404, 404],
    "/csrf-token": [200, 200, 200, 200, 200, 200],
}


@pytest.fixture
def people(db):
    proposal, member_user = make_member_proposal(complete=True)
    section = proposal.section("summary")
    conflict = SectionConflict(
        section=section, content={"summary": "Mine"}, base_version=0, author_id=member_user.id
    )
    db.session.add(conflict)
    everyone = {"member": member_user, "outsider": make_outsider()}
    for role in ("reviewer", "programme_officer", "admin"):
        everyone[role] = make_user(roles=[Role(role)])
    db.session.commit()
    return everyone, {"call": proposal.call.reference, "proposal": proposal.id, "conflict": conflict.id}


def _as(app, people, person):
    browser = app.test_client()
    if person != "anon":
        login(browser, people[person])
    return browser


@pytest.mark.parametrize("url", list(ROUTES))
def test_every_proposal_route_answers_each_role_as_expected(app, db, people, url):
    everyone, ids = people
    target = url.format(**ids)
    seen = [_as(app, everyone, person).get(target).status_code for person in PEOPLE]
    assert seen == ROUTES[url], dict(zip(PEOPLE, seen, strict=True))


def test_autosave_answers_each_role_as_expected(app, db, people):
    everyone, ids = people
    proposal = db.session.get(Proposal, ids["proposal"])
    seen = []
    for person in PEOPLE:
        browser = _as(app, everyone, person)
        token = csrf_token(browser)
        seen.append(autosave(browser, proposal, "team", complete_content("team"), 1, token=token).status_code)
    assert seen == [401, 200, 404, 404, 403, 403]


def test_posting_a_section_answers_each_role_as_expected(app, db, people):
    everyone, ids = people
    seen = []
    for person in PEOPLE:
        browser = _as(app, everyone, person)
        response = post_form(
            browser,
            f"/proposals/{ids['proposal']}/sections/summary",
            {"summary": "Text", "base_version": "1"},
        )
        seen.append(response.status_code)
    assert seen == [302, 302, 404, 404, 403, 403]


# -- autosave ------------------------------------------------------------------------------------------


def test_autosave_saves_and_answers_with_the_new_version(client, db, member):
    proposal, user = member
    login(client, user)
    response = autosave(client, proposal, "summary", {"summary": "Seals of the Caspian"}, 0)
    assert response.status_code == 200
    data = response.get_json()
    assert data["version"] == 1
    assert data["saved_at"]
    assert re.fullmatch(r"Saved at \d{2}:\d{2}", data["saved_at_label"])
    assert data["missing"] == []
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).section("summary").content == {
        "summary": "Seals of the Caspian"
    }


def test_autosave_of_the_budget_answers_with_the_totals(client, db, member):
    proposal, user = member
    login(client, user)
    data = autosave(client, proposal, "budget", complete_content("budget"), 0).get_json()
    assert data["totals"]["requested"] == {"minor": 850_000_050, "text": "8500000.50 KZT"}


def test_autosave_of_a_stale_version_answers_409_with_both_versions(client, db, member):
    proposal, user = member
    login(client, user)
    assert autosave(client, proposal, "summary", {"summary": "First"}, 0).status_code == 200
    response = autosave(client, proposal, "summary", {"summary": "Second"}, 0)
    assert response.status_code == 409
    data = response.get_json()
    assert data["theirs"] == {"version": 1, "content": {"summary": "First"}}
    assert data["yours"] == {"base_version": 0, "content": {"summary": "Second"}}
    conflict = db.session.scalar(select(SectionConflict))
    assert data["merge_url"] == f"/proposals/{proposal.id}/sections/summary/conflicts/{conflict.id}"
    db.session.expire_all()
    section = db.session.get(Proposal, proposal.id).section("summary")
    assert (section.version, section.content) == (1, {"summary": "First"})


def test_autosave_after_the_login_expired_answers_401_json_not_a_redirect(app, db, member):
    proposal, _user = member
    browser = app.test_client()
    response = autosave(browser, proposal, "summary", {"summary": "Typed while logged out"}, 0)
    assert response.status_code == 401
    assert response.is_json
    assert "Your login has expired" in response.get_json()["error"]
    assert response.get_json()["login_url"] == "/login"


def test_after_logging_in_again_a_fresh_token_lets_the_kept_text_be_saved(app, db, member):
    proposal, user = member
    browser = app.test_client()
    assert autosave(browser, proposal, "summary", {"summary": "Kept"}, 0, token="stale").status_code == 401
    login(browser, user)  # in another tab
    token = browser.get("/csrf-token").get_json()["token"]
    assert autosave(browser, proposal, "summary", {"summary": "Kept"}, 0, token=token).status_code == 200


def test_autosave_without_a_csrf_token_answers_400(client, db, member):
    proposal, user = member
    login(client, user)
    response = autosave(client, proposal, "summary", {"summary": "x"}, 0, token=False)
    assert response.status_code == 400
    assert response.get_json()["csrf_url"] == "/csrf-token"
    response = autosave(client, proposal, "summary", {"summary": "x"}, 0, token="forged")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).section("summary").version == 0


def test_autosave_of_malformed_values_answers_422_with_field_errors(client, db, member):
    proposal, user = member
    login(client, user)
    budget = complete_content("budget")
    budget["lines"][2:] = [dict(budget["lines"][0], unit_cost="a lot")]
    response = autosave(client, proposal, "budget", budget, 0)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "lines-2-unit_cost": "Budget line 3: unit cost must be a number like 1500.50."
    }
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).section("budget").version == 0


@pytest.mark.parametrize("payload", [None, {"content": "text", "base_version": 0}, {"content": {}}])
def test_autosave_of_a_malformed_request_answers_400(client, db, member, payload):
    proposal, user = member
    login(client, user)
    response = client.post(
        f"/proposals/{proposal.id}/sections/summary/autosave",
        json=payload,
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 400
    assert response.is_json


def test_autosave_of_another_organisations_proposal_answers_404(client, db, member):
    proposal, _user = member
    outsider = make_outsider()
    db.session.commit()
    login(client, outsider)
    assert autosave(client, proposal, "summary", {"summary": "x"}, 0).status_code == 404


def test_autosave_of_a_submitted_proposal_is_refused(client, db):
    proposal, user = make_member_proposal(complete=True, state=ProposalState.SUBMITTED)
    db.session.commit()
    login(client, user)
    response = autosave(client, proposal, "summary", {"summary": "Late"}, 1)
    assert response.status_code == 409
    assert response.get_json()["error"] == "This proposal has been submitted; it can no longer be edited."


# -- the editor without JavaScript ---------------------------------------------------------------------


def test_a_section_posted_without_javascript_is_saved(client, db, member):
    proposal, user = member
    login(client, user)
    response = post_form(
        client,
        f"/proposals/{proposal.id}/sections/budget",
        {
            "base_version": "0",
            "lines-0-category": "travel",
            "lines-0-description": "Flights to Aktau",
            "lines-0-unit": "trip",
            "lines-0-unit_cost": "85000",
            "lines-0-quantity": "4",
            "lines-0-year": "1",
            "lines-0-cofinancing": "",
            "lines-1-category": "",  # the blank spare row the page offers
            "lines-1-description": "",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposals/{proposal.id}/sections/budget"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Budget saved." in page
    # line totals are shown without the script too
    assert re.search(r"<output data-line-total>[^<]*340,000\.00[^<]*</output>", page)
    db.session.expire_all()
    saved = db.session.get(Proposal, proposal.id)
    assert saved.section("budget").content["lines"] == [
        {
            "category": "travel",
            "description": "Flights to Aktau",
            "unit": "trip",
            "unit_cost_minor": 8_500_000,
            "quantity": "4",
            "year": 1,
            "cofinancing_minor": None,
        }
    ]
    assert saved.requested_minor == 34_000_000


def test_checkbox_sections_post_lists(client, db, member):
    proposal, user = member
    login(client, user)
    response = post_form(
        client,
        f"/proposals/{proposal.id}/sections/threats",
        {"base_version": "0", "threats": ["5.4", "2.3"], "actions": ["1.1"]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).section("threats").content == {
        "threats": ["5.4", "2.3"],
        "actions": ["1.1"],
    }


def test_a_malformed_value_posted_without_javascript_is_shown_again_with_the_message(client, db, member):
    proposal, user = member
    login(client, user)
    response = post_form(
        client,
        f"/proposals/{proposal.id}/sections/budget",
        {"base_version": "0", "lines-0-description": "Fuel", "lines-0-unit_cost": "-12,5"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Budget line 1: unit cost cannot be negative." in page
    assert 'value="-12,5"' in page  # the typing is kept on the page
    assert 'value="Fuel"' in page
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).section("budget").version == 0


def test_a_stale_post_leads_to_the_merge_page_and_the_merge_saves(client, db, member):
    proposal, user = member
    login(client, user)
    autosave(client, proposal, "summary", {"summary": "Colleague's text"}, 0)
    response = post_form(
        client, f"/proposals/{proposal.id}/sections/summary", {"base_version": "0", "summary": "My text"}
    )
    conflict = db.session.scalar(select(SectionConflict))
    assert (
        response.headers["Location"] == f"/proposals/{proposal.id}/sections/summary/conflicts/{conflict.id}"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Colleague&#39;s text" in page
    assert "My text" in page
    response = post_form(
        client, response.headers["Location"], {"base_version": "1", "summary": "Colleague's text. My text."}
    )
    assert response.status_code == 302
    db.session.expire_all()
    section = db.session.get(Proposal, proposal.id).section("summary")
    assert (section.version, section.content) == (2, {"summary": "Colleague's text. My text."})
    assert db.session.get(SectionConflict, conflict.id).resolved_at is not None


def test_html_typed_by_an_applicant_is_shown_escaped(client, db):
    proposal, user = make_member_proposal(title="<script>alert('title')</script>")
    db.session.commit()
    login(client, user)
    post_form(
        client,
        f"/proposals/{proposal.id}/sections/summary",
        {"base_version": "0", "summary": "<script>alert('summary')</script><img src=x onerror=alert(1)>"},
    )
    for url in (f"/proposals/{proposal.id}", f"/proposals/{proposal.id}/sections/summary", "/proposals"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page, url
        assert "<img src=x" not in page, url
    page = client.get(f"/proposals/{proposal.id}/sections/summary").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;summary&#39;)&lt;/script&gt;" in page


def test_editor_pages_have_no_inline_scripts_styles_or_handlers(client, db, member):
    proposal, user = member
    login(client, user)
    for key in ("summary", "logframe", "budget", "risks", "threats"):
        page = client.get(f"/proposals/{proposal.id}/sections/{key}").get_data(as_text=True)
        assert re.findall(r"<script(?![^>]*\bsrc=)", page) == [], key
        assert " style=" not in page, key
        assert re.findall(r"\son[a-z]+=", page) == [], key
        assert "/static/js/proposal-editor.js" in page


def test_every_editor_field_has_a_label(client, db, member):
    proposal, user = member
    login(client, user)
    keys = ("logframe", "sites", "budget", "risks", "timeline", "team", "species", "threats", "gbf_targets")
    for key in keys:
        page = client.get(f"/proposals/{proposal.id}/sections/{key}").get_data(as_text=True)
        form = page.split("data-section-editor", 1)[1].split("</form>", 1)[0]
        controls = re.findall(r"<(?:input|select|textarea)[^>]*>", form)
        ids = [re.search(r'\bid="([^"]+)"', c).group(1) for c in controls if 'type="hidden"' not in c]
        assert ids, key
        labels = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', form))
        assert [i for i in ids if i not in labels] == [], key


def test_the_word_count_is_shown_against_the_limit(client, db, member):
    proposal, user = member
    login(client, user)
    autosave(client, proposal, "summary", {"summary": "one two three"}, 0)
    page = client.get(f"/proposals/{proposal.id}/sections/summary").get_data(as_text=True)
    assert 'data-word-limit="300"' in page
    assert "3 of 300 words" in page


def test_an_officer_reads_a_section_without_a_form(client, db):
    proposal = make_proposal(complete=True)
    officer = make_user(roles=[Role.PROGRAMME_OFFICER])
    db.session.commit()
    login(client, officer)
    page = client.get(f"/proposals/{proposal.id}/sections/sites").get_data(as_text=True)
    assert "data-section-editor" not in page
    assert "Kenderli haul-out" in page
    assert "Mangystau Region" in page


# -- overview, list and home ---------------------------------------------------------------------------


def test_the_overview_lists_what_is_missing(client, db, member):
    proposal, user = member
    login(client, user)
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "Summary: write the summary." in page
    assert "Not started" in page


def test_the_overview_shows_when_a_section_was_saved_in_the_fund_time_zone(client, db, member):
    proposal, user = member
    login(client, user)
    autosave(client, proposal, "summary", {"summary": "Seals"}, 0)
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "(Asia/Almaty)" in page
    assert user.full_name in page


def _queries(client, url):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


def test_the_overview_runs_as_many_queries_however_much_the_proposal_holds(app, db):
    small, owner = make_member_proposal()
    small.section("summary").version = 1
    small.section("summary").updated_by_id = owner.id
    full, other_owner = make_member_proposal(complete=True)
    for section in full.sections:  # every section last saved by someone else
        colleague = make_user()
        full.organisation.memberships.append(Membership(user=colleague))
        db.session.flush()
        section.updated_by_id = colleague.id
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    login(first, owner)
    login(second, other_owner)
    small_url, full_url = f"/proposals/{small.id}", f"/proposals/{full.id}"
    assert _queries(first, small_url) == _queries(second, full_url)


def test_my_proposals_lists_only_my_organisations_proposals(client, db, member):
    proposal, user = member
    other = make_proposal()
    db.session.commit()
    login(client, user)
    page = client.get("/proposals").get_data(as_text=True)
    assert proposal.reference in page
    assert other.reference not in page


def test_the_home_page_lists_drafts_to_finish(client, db, member):
    proposal, user = member
    login(client, user)
    page = client.get("/").get_data(as_text=True)
    assert f"Finish {proposal.reference}" in page
    assert "items still missing" in page


# -- applying ------------------------------------------------------------------------------------------


def _apply_data(call, **overrides):
    data = {f"question_{qid}": "yes" if answer else "no" for qid, answer in passing_answers(call).items()}
    data.update({"title": "Saiga calving grounds", "theme": "steppe_ungulates"})
    data.update(overrides)
    return data


def test_applying_starts_a_proposal_and_opens_its_overview(client, db):
    user = make_applicant()
    call = make_call()
    db.session.commit()
    login(client, user)
    data = _apply_data(call, organisation=str(user.primary_organisation.id))
    response = post_form(client, f"/calls/{call.reference}/apply", data)
    assert response.status_code == 302
    proposal = db.session.scalar(select(Proposal).where(Proposal.call_id == call.id))
    assert response.headers["Location"] == f"/proposals/{proposal.id}"
    assert proposal.title == "Saiga calving grounds"
    assert proposal.theme == "steppe_ungulates"


def test_a_disqualifying_answer_is_shown_and_nothing_is_started(client, db):
    user = make_applicant()
    call = make_call()
    db.session.commit()
    login(client, user)
    question = call.questions[0]
    data = _apply_data(
        call, organisation=str(user.primary_organisation.id), **{f"question_{question.id}": "no"}
    )
    response = post_form(client, f"/calls/{call.reference}/apply", data)
    assert response.status_code == 200
    assert "Only organisations registered in Kazakhstan can apply to this call." in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(Proposal).where(Proposal.call_id == call.id)) is None


def test_the_apply_page_points_to_the_existing_proposal(client, db, member):
    proposal, user = member
    login(client, user)
    page = client.get(f"/calls/{proposal.call.reference}/apply").get_data(as_text=True)
    assert "Your organisation already has a proposal in this call:" in page
    assert proposal.reference in page
    response = post_form(
        client,
        f"/calls/{proposal.call.reference}/apply",
        _apply_data(proposal.call, organisation=str(proposal.organisation_id)),
    )
    assert response.status_code == 200
    assert (
        f"Your organisation already has a proposal in this call: {proposal.reference}."
        in response.get_data(as_text=True)
    )
