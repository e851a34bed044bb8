"""The officer's review pages and the reviewer's own profile, through HTTP: access by role, bad input,
what each page shows and changes."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fundapp.applications.models import ProposalState
from fundapp.core.permissions import Role
from fundapp.reviews import operations
from fundapp.reviews.models import Assignment, AssignmentState, Rubric
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.conftest import login, post_form
from tests.factories import make_applicant, make_organisation, make_user
from tests.reviews.factories import make_assignment, make_review, make_reviewer, make_rubric, profile_of

PEOPLE = ["anon", "applicant", "reviewer", "programme_officer", "finance_officer", "admin"]
OFFICERS = [302, 403, 403, 200, 403, 403]
OFFICERS_404 = [302, 403, 403, 404, 403, 403]
POOL = [302, 403, 403, 200, 403, 200]
POOL_404 = [302, 403, 403, 404, 403, 404]
REVIEWERS = [302, 403, 200, 403, 403, 403]

ROUTES = {
    "/officer/reviews/": OFFICERS,
    "/officer/reviews/calls/{call}": OFFICERS,
    "/officer/reviews/calls/999999": OFFICERS_404,
    "/officer/reviews/calls/{call}/rubric": OFFICERS,
    "/officer/reviews/calls/{bare_call}/rubric": OFFICERS,
    "/officer/reviews/calls/{call}/rubric/criteria/new": OFFICERS,
    "/officer/reviews/calls/{call}/rubric/criteria/{criterion}": OFFICERS,
    "/officer/reviews/calls/{bare_call}/rubric/criteria/{criterion}": OFFICERS_404,
    "/officer/reviews/proposals/{proposal}": OFFICERS,
    "/officer/reviews/proposals/999999": OFFICERS_404,
    "/officer/reviews/pool": POOL,
    "/officer/reviews/pool/{reviewer}": POOL,
    "/officer/reviews/pool/{applicant}": POOL_404,
    "/reviewer/profile": REVIEWERS,
}

#: Each POST with a valid reason/body; the officer is redirected after acting.
POSTS = {
    "/officer/reviews/calls/{call}/assign": [302, 403, 403, 302, 403, 403],
    "/officer/reviews/calls/{bare_call}/rubric/start": [302, 403, 403, 302, 403, 403],
    "/officer/reviews/proposals/{proposal}/close": [302, 403, 403, 302, 403, 403],
    "/officer/reviews/assignments/{assignment}/remove": [302, 403, 403, 302, 403, 403],
    "/officer/reviews/calls/{call}/rubric/criteria/{criterion}/remove": [302, 403, 403, 302, 403, 403],
    "/reviewer/profile/affiliations": [302, 403, 302, 403, 403, 403],
}


@pytest.fixture
def people(db):
    everyone = {"applicant": make_applicant(), "reviewer": make_reviewer()}
    for role in ("programme_officer", "finance_officer", "admin"):
        everyone[role] = make_user(roles=[Role(role)])
    db.session.commit()
    return everyone


def browser_for(app, people, person):
    browser = app.test_client()
    if person != "anon":
        login(browser, people[person])
    return browser


def review_things(db):
    call = make_call()
    rubric = make_rubric(call)
    bare_call = make_call()
    proposal = make_proposal(call=call, state=ProposalState.IN_REVIEW)
    assignment = make_assignment(proposal)
    organisation = make_organisation()
    applicant = make_applicant()
    db.session.commit()
    return {
        "call": call.id,
        "bare_call": bare_call.id,
        "criterion": rubric.criteria[0].id,
        "proposal": proposal.id,
        "assignment": assignment.id,
        "reviewer": assignment.reviewer_id,
        "applicant": applicant.id,
        "organisation": organisation.id,
    }


@pytest.mark.parametrize("url", list(ROUTES))
def test_every_review_page_answers_each_role_as_expected(app, db, people, url):
    target = url.format(**review_things(db))

    seen = [browser_for(app, people, person).get(target).status_code for person in PEOPLE]

    assert dict(zip(PEOPLE, seen, strict=True)) == dict(zip(PEOPLE, ROUTES[url], strict=True))


@pytest.mark.parametrize("url", list(POSTS))
def test_every_review_action_answers_each_role_as_expected(app, db, people, url):
    seen = []
    for person in PEOPLE:
        things = review_things(db)  # fresh objects: the action changes them
        data = {
            "reason": "Checked with the team",
            "start": "default",
            "organisation_id": things["organisation"],
        }
        seen.append(post_form(browser_for(app, people, person), url.format(**things), data).status_code)

    assert dict(zip(PEOPLE, seen, strict=True)) == dict(zip(PEOPLE, POSTS[url], strict=True))


@pytest.fixture
def officer_client(app, db, client):
    officer = make_officer()
    db.session.commit()
    login(client, officer)
    client.officer = officer
    return client


def page(response):
    return response.get_data(as_text=True)


def no_inline_code(html):
    """The strict CSP allows no inline script or style: none in the page."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)


# -- the board -----------------------------------------------------------------------------------------------


def test_the_board_lists_proposals_with_their_reviewers_and_what_is_missing(officer_client, db):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=2)
    proposal = make_proposal(call=call, state=ProposalState.IN_REVIEW, title="Saiga calving grounds")
    make_assignment(proposal, make_reviewer(full_name="Dana Reviewer"), state=AssignmentState.ACCEPTED)
    db.session.commit()

    html = page(officer_client.get(f"/officer/reviews/calls/{call.id}"))

    assert "Saiga calving grounds" in html
    assert "Dana Reviewer" in html
    assert "needs 1 more reviewer" in html
    assert "Assign automatically" in html
    no_inline_code(html)


def test_assign_automatically_fills_the_board_and_says_so(officer_client, db):
    call = make_call()
    make_rubric(call, reviewers_per_proposal=2)
    proposal = make_proposal(call=call, state=ProposalState.ELIGIBLE)
    make_reviewer()
    make_reviewer()
    db.session.commit()

    response = post_form(officer_client, f"/officer/reviews/calls/{call.id}/assign", follow_redirects=True)

    assert "2 assignments made" in page(response)
    db.session.expire_all()
    assert proposal.state == ProposalState.IN_REVIEW
    assert len(operations.active_assignments(db.session, proposal)) == 2


def test_assign_automatically_warns_about_proposals_still_short(officer_client, db):
    call = make_call()
    make_proposal(call=call, state=ProposalState.ELIGIBLE)
    db.session.commit()

    response = post_form(officer_client, f"/officer/reviews/calls/{call.id}/assign", follow_redirects=True)

    assert "still short of reviewers" in page(response)


# -- one proposal --------------------------------------------------------------------------------------------


def test_an_officer_assigns_a_reviewer_by_hand_with_a_reason(officer_client, db):
    proposal = make_proposal(state=ProposalState.ELIGIBLE)
    reviewer = make_reviewer(full_name="Erlan Reviewer")
    db.session.commit()

    response = post_form(
        officer_client,
        f"/officer/reviews/proposals/{proposal.id}/assign",
        {"reviewer_id": reviewer.id, "reason": "Knows the site"},
        follow_redirects=True,
    )

    assert "Erlan Reviewer is assigned" in page(response)
    assignment = db.session.scalar(select(Assignment).where(Assignment.proposal_id == proposal.id))
    assert assignment.override_reason == "Knows the site"


@pytest.mark.parametrize(
    "data",
    [
        {"reason": ""},
        {"reason": "   "},
        {"reviewer_id": ""},
        {"reviewer_id": "abc"},
        {"reviewer_id": "999999"},
    ],
)
def test_assigning_by_hand_with_bad_input_shows_the_error_and_changes_nothing(officer_client, db, data):
    proposal = make_proposal(state=ProposalState.ELIGIBLE)
    reviewer = make_reviewer()
    db.session.commit()
    form = {"reviewer_id": reviewer.id, "reason": "Because"}
    form.update(data)

    response = post_form(officer_client, f"/officer/reviews/proposals/{proposal.id}/assign", form)

    assert response.status_code == 200
    assert "invalid-feedback" in page(response)
    assert db.session.scalar(select(Assignment).where(Assignment.proposal_id == proposal.id)) is None


def test_assigning_a_conflicted_reviewer_by_hand_is_refused_on_the_page(officer_client, db):
    proposal = make_proposal(state=ProposalState.ELIGIBLE)
    reviewer = make_reviewer(affiliations=[proposal.organisation])
    db.session.commit()

    response = post_form(
        officer_client,
        f"/officer/reviews/proposals/{proposal.id}/assign",
        {"reviewer_id": reviewer.id, "reason": "I insist"},
    )

    assert response.status_code == 200
    assert "conflict of interest" in page(response)
    assert db.session.scalar(select(Assignment).where(Assignment.proposal_id == proposal.id)) is None


def test_the_reviewer_list_marks_conflicted_reviewers_unselectable(officer_client, db):
    proposal = make_proposal(state=ProposalState.ELIGIBLE)
    make_reviewer(full_name="Conflicted Person", affiliations=[proposal.organisation])
    db.session.commit()

    html = page(officer_client.get(f"/officer/reviews/proposals/{proposal.id}"))

    option = re.search(r"<option[^>]*>Conflicted Person[^<]*</option>", html).group(0)
    assert "disabled" in option
    assert "conflict of interest" in option
    no_inline_code(html)


def test_removing_without_a_reason_shows_the_error_and_keeps_the_reviewer(officer_client, db):
    assignment = make_assignment()
    db.session.commit()

    response = post_form(
        officer_client, f"/officer/reviews/assignments/{assignment.id}/remove", {"reason": ""}
    )

    assert response.status_code == 200
    assert "Give a reason" in page(response)
    db.session.expire_all()
    assert assignment.state == AssignmentState.ASSIGNED


def test_removing_with_a_reason_withdraws_the_assignment(officer_client, db):
    assignment = make_assignment()
    db.session.commit()

    post_form(officer_client, f"/officer/reviews/assignments/{assignment.id}/remove", {"reason": "No answer"})

    db.session.expire_all()
    assert assignment.state == AssignmentState.REMOVED


def test_closing_a_review_without_a_reason_is_refused(officer_client, db):
    proposal = make_proposal(state=ProposalState.IN_REVIEW)
    db.session.commit()

    response = post_form(officer_client, f"/officer/reviews/proposals/{proposal.id}/close", {"reason": ""})

    assert response.status_code == 200
    assert "Give a reason" in page(response)
    db.session.expire_all()
    assert proposal.state == ProposalState.IN_REVIEW


def test_closing_a_review_with_a_reason_makes_the_proposal_reviewed(officer_client, db):
    proposal = make_proposal(state=ProposalState.IN_REVIEW)
    make_review(proposal=proposal)
    db.session.commit()

    response = post_form(
        officer_client,
        f"/officer/reviews/proposals/{proposal.id}/close",
        {"reason": "Enough reviews"},
        follow_redirects=True,
    )

    assert "is closed" in page(response)
    db.session.expire_all()
    assert proposal.state == ProposalState.REVIEWED


def test_closing_a_proposal_not_in_review_is_refused_with_a_message(officer_client, db):
    proposal = make_proposal(state=ProposalState.ELIGIBLE)
    db.session.commit()

    response = post_form(officer_client, f"/officer/reviews/proposals/{proposal.id}/close", {"reason": "x"})

    assert response.status_code == 200
    assert "not in review" in page(response)


def test_the_officers_proposal_page_links_to_its_reviewers(officer_client, db):
    proposal = make_proposal(state=ProposalState.IN_REVIEW)
    db.session.commit()

    html = page(officer_client.get(f"/officer/proposals/{proposal.id}"))

    assert f"/officer/reviews/proposals/{proposal.id}" in html


# -- the rubric ----------------------------------------------------------------------------------------------


def criterion_form(**overrides):
    form = {
        "title": "Community involvement",
        "description": "Are local people part of the work?",
        "weight": "10",
        "scale_min": "1",
        "scale_max": "3",
        "level_descriptors": "None\nConsulted\nLeading",
        "allow_na": "y",
    }
    form.update(overrides)
    return form


def test_an_officer_starts_from_the_default_rubric(officer_client, db):
    call = make_call()
    db.session.commit()

    response = post_form(
        officer_client,
        f"/officer/reviews/calls/{call.id}/rubric/start",
        {"start": "default"},
        follow_redirects=True,
    )

    html = page(response)
    assert "Conservation relevance" in html
    assert "Sustainability and safeguards" in html
    no_inline_code(html)


def test_an_officer_adds_a_criterion(officer_client, db):
    rubric = make_rubric()
    db.session.commit()

    response = post_form(
        officer_client, f"/officer/reviews/calls/{rubric.call_id}/rubric/criteria/new", criterion_form()
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert [c.title for c in rubric.criteria][-1] == "Community involvement"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"weight": "0"}, "above 0"),
        ({"weight": "heavy"}, "above 0"),
        ({"weight": ""}, "above 0"),
        ({"scale_min": "3", "scale_max": "3"}, "above its bottom"),
        ({"scale_min": "5", "scale_max": "1"}, "above its bottom"),
        ({"scale_max": "five"}, "whole number"),
        ({"level_descriptors": "Only one"}, "Describe each of the 3 levels"),
        ({"title": ""}, "title"),
    ],
)
def test_a_criterion_with_bad_input_shows_the_error_and_changes_nothing(
    officer_client, db, overrides, message
):
    rubric = make_rubric()
    db.session.commit()

    response = post_form(
        officer_client,
        f"/officer/reviews/calls/{rubric.call_id}/rubric/criteria/new",
        criterion_form(**overrides),
    )

    assert response.status_code == 200
    assert message in page(response)
    db.session.expire_all()
    assert len(rubric.criteria) == 2


def test_an_officer_edits_a_criterion(officer_client, db):
    rubric = make_rubric()
    first = rubric.criteria[0]
    db.session.commit()

    form_page = page(
        officer_client.get(f"/officer/reviews/calls/{rubric.call_id}/rubric/criteria/{first.id}")
    )
    response = post_form(
        officer_client,
        f"/officer/reviews/calls/{rubric.call_id}/rubric/criteria/{first.id}",
        criterion_form(title="Relevance to the seal", weight="40"),
    )

    assert first.title in form_page
    assert response.status_code == 302
    db.session.expire_all()
    assert (first.title, first.weight, first.scale_max) == ("Relevance to the seal", 40, 3)


def test_criteria_are_locked_once_a_review_is_submitted(officer_client, db):
    rubric = make_rubric()
    make_review(call=rubric.call)
    first = rubric.criteria[0]
    db.session.commit()

    rubric_page = page(officer_client.get(f"/officer/reviews/calls/{rubric.call_id}/rubric"))
    response = post_form(
        officer_client,
        f"/officer/reviews/calls/{rubric.call_id}/rubric/criteria/{first.id}",
        criterion_form(title="Changed"),
        follow_redirects=True,
    )
    removal = post_form(
        officer_client,
        f"/officer/reviews/calls/{rubric.call_id}/rubric/criteria/{first.id}/remove",
        follow_redirects=True,
    )

    assert "can no longer be changed" in rubric_page
    assert "Add a criterion" not in rubric_page
    assert "can no longer be changed" in page(response)
    assert "can no longer be changed" in page(removal)
    db.session.expire_all()
    assert first.title == "Conservation relevance"
    assert len(rubric.criteria) == 2


def test_the_settings_take_the_due_date_in_the_funds_time_zone(officer_client, db):
    rubric = make_rubric()
    db.session.commit()

    response = post_form(
        officer_client,
        f"/officer/reviews/calls/{rubric.call_id}/rubric",
        {
            "reviewers_per_proposal": "2",
            "blind": "y",
            "disagreement_spread": "20",
            "recommendation_split_percent": "35",
            "due_at": "2026-11-30T18:00",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Rubric, rubric.id)
    assert saved.reviewers_per_proposal == 2
    assert saved.blind
    assert not saved.reviewers_see_others
    assert saved.due_at == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # Asia/Almaty is UTC+5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reviewers_per_proposal", "0"),
        ("reviewers_per_proposal", "three"),
        ("disagreement_spread", "101"),
        ("recommendation_split_percent", "60"),
        ("due_at", "next Friday"),
    ],
)
def test_bad_settings_show_the_error_and_change_nothing(officer_client, db, field, value):
    rubric = make_rubric()
    db.session.commit()
    form = {"reviewers_per_proposal": "2", "disagreement_spread": "20", "recommendation_split_percent": "35"}
    form[field] = value

    response = post_form(officer_client, f"/officer/reviews/calls/{rubric.call_id}/rubric", form)

    assert response.status_code == 200
    assert "invalid-feedback" in page(response)
    db.session.expire_all()
    assert db.session.get(Rubric, rubric.id).reviewers_per_proposal == 3


# -- the pool ------------------------------------------------------------------------------------------------


def test_the_pool_shows_reviewers_with_their_loads(officer_client, db):
    call = make_call(reference="CALL-T-POOL")
    reviewer = make_reviewer(full_name="Gulnara Pool", themes=["marine_mammals"], max_load=6)
    make_assignment(make_proposal(call=call, state=ProposalState.IN_REVIEW), reviewer)
    db.session.commit()

    html = page(officer_client.get("/officer/reviews/pool"))

    assert "Gulnara Pool" in html
    assert "CALL-T-POOL: 1 / 6" in html
    no_inline_code(html)


def test_an_officer_edits_a_reviewers_profile_and_affiliations(officer_client, db):
    reviewer = make_reviewer()
    organisation = make_organisation()
    db.session.commit()

    response = post_form(
        officer_client,
        f"/officer/reviews/pool/{reviewer.id}",
        {
            "themes": ["marine_mammals"],
            "regions": ["KZ-47"],
            "species_groups": "Pinnipeds, waterbirds",
            "languages": ["ru"],
            "max_load_per_call": "4",
            "affiliations": [str(organisation.id)],
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    profile = profile_of(reviewer)
    assert profile.themes == ["marine_mammals"]
    assert profile.species_groups == ["pinnipeds", "waterbirds"]
    assert profile.max_load_per_call == 4
    assert [a.organisation_id for a in profile.affiliations] == [organisation.id]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_load_per_call", "-1"),
        ("max_load_per_call", "lots"),
        ("themes", "no-such-theme"),
        ("affiliations", "x"),
    ],
)
def test_a_profile_with_bad_input_shows_the_error(officer_client, db, field, value):
    reviewer = make_reviewer(max_load=8)
    db.session.commit()
    form = {"max_load_per_call": "5", field: value}

    response = post_form(officer_client, f"/officer/reviews/pool/{reviewer.id}", form)

    assert response.status_code == 200
    db.session.expire_all()
    assert profile_of(reviewer).max_load_per_call == 8


def test_an_admin_can_edit_a_reviewers_profile(app, db, client):
    admin = make_user(roles=[Role.ADMIN])
    reviewer = make_reviewer()
    db.session.commit()
    login(client, admin)

    response = post_form(client, f"/officer/reviews/pool/{reviewer.id}", {"max_load_per_call": "3"})

    assert response.status_code == 302
    db.session.expire_all()
    assert profile_of(reviewer).max_load_per_call == 3


# -- the reviewer's own profile ------------------------------------------------------------------------------


@pytest.fixture
def reviewer_client(app, db, client):
    reviewer = make_reviewer(max_load=5)
    db.session.commit()
    login(client, reviewer)
    client.reviewer = reviewer
    return client


def test_a_reviewer_edits_their_expertise_but_cannot_change_their_load(reviewer_client, db):
    response = post_form(
        reviewer_client,
        "/reviewer/profile",
        {
            "themes": ["forests"],
            "languages": ["kk"],
            "species_groups": "ungulates",
            "max_load_per_call": "50",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    profile = profile_of(reviewer_client.reviewer)
    assert profile.themes == ["forests"]
    assert profile.languages == ["kk"]
    assert profile.max_load_per_call == 5


def test_a_reviewer_adds_an_affiliation_but_the_page_offers_no_removal(reviewer_client, db):
    organisation = make_organisation(name_en="Altai Snow Leopard Trust")
    db.session.commit()

    post_form(
        reviewer_client,
        "/reviewer/profile/affiliations",
        {"organisation_id": organisation.id, "description": "Adviser 2021-2023"},
    )
    html = page(reviewer_client.get("/reviewer/profile"))

    assert "Altai Snow Leopard Trust" in html
    assert "Remove" not in html
    assert [a.organisation_id for a in profile_of(reviewer_client.reviewer).affiliations] == [organisation.id]
    no_inline_code(html)


def test_adding_an_affiliation_without_choosing_one_shows_the_error(reviewer_client, db):
    response = post_form(reviewer_client, "/reviewer/profile/affiliations", {"organisation_id": ""})

    assert response.status_code == 200
    assert "Choose an organisation" in page(response)


# -- navigation and home page --------------------------------------------------------------------------------


def test_officers_see_reviews_in_the_menu_and_proposals_short_of_reviewers_on_their_home_page(
    officer_client, db
):
    call = make_call(reference="CALL-T-HOME")
    make_proposal(call=call, state=ProposalState.ELIGIBLE)
    db.session.commit()

    html = page(officer_client.get("/"))

    assert 'href="/officer/reviews/"' in html
    assert "Assign reviewers to 1 proposal in CALL-T-HOME" in html


def test_the_summary_counts_assignments_by_state(db, runner):
    make_assignment()
    make_assignment(state=AssignmentState.SUBMITTED)
    db.session.commit()

    result = runner.invoke(args=["summary", "--json"])

    assert '"review_assignments_by_state"' in result.output
    assert '"submitted": 1' in result.output
