"""The reviewer's pages over HTTP: who may open what, declaring, scoring with and without autosave,
submitting, blind calls, others' reviews, an officer's reopening, and the proposal's own routes."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fundapp.applications import sections
from fundapp.applications.models import ProposalState, ProposalVersion
from fundapp.applications.submission import add_attachment
from fundapp.core.audit import AuditEvent
from fundapp.core.permissions import Role
from fundapp.core.storage import save_upload
from fundapp.reviews.models import Assignment, AssignmentState, Review
from tests.applications.factories import make_call, make_member_proposal, make_officer
from tests.applications.test_attachments import upload
from tests.conftest import csrf_token, login, post_form
from tests.core.sample_files import MINIMAL_PDF
from tests.factories import make_user
from tests.reviews.factories import make_assignment, make_review, make_reviewer, make_rubric

ORG_EN = "Caspian Seal Guardians"
ORG_RU = "Хранители каспийского тюленя"
ORG_KK = "Каспий итбалығын қорғаушылар"
PARTNER = "Mangystau Rangers Trust"
TEAM_LEAD = "Aigerim Sadykova"


def proposal_in_review(*, blind=False, see_others=False, criteria=None):
    """A proposal in review with a submitted version 1 and an attachment, in a call with a rubric."""
    call = make_call()
    make_rubric(call, criteria=criteria, blind=blind, reviewers_see_others=see_others)
    proposal, member = make_member_proposal(call=call, complete=True, title="Seal haul-outs of the shelf")
    organisation = proposal.organisation
    organisation.name_en, organisation.name_ru, organisation.name_kk = ORG_EN, ORG_RU, ORG_KK
    proposal.section("team").content = {
        "members": [{"name": TEAM_LEAD, "role": "Project lead", "organisation": PARTNER, "time_share": 50}]
    }
    attachment = add_attachment(
        _db().session, member, proposal, "registration_certificate", upload(MINIMAL_PDF, "guardians-reg.pdf")
    )
    pdf = save_upload(_db().session, upload(MINIMAL_PDF, "v1.pdf"), allowed_kinds=["pdf"], uploaded_by=member)
    snapshot = sections.snapshot(proposal)
    snapshot["attachments"] = [
        {"id": attachment.id, "kind": "registration_certificate", "name": "guardians-reg.pdf"}
    ]
    _db().session.add(
        ProposalVersion(
            proposal=proposal,
            number=1,
            snapshot=snapshot,
            pdf_file_id=pdf.id,
            pdf_sha256=pdf.sha256,
            submitted_by_id=member.id,
        )
    )
    proposal.state = ProposalState.IN_REVIEW
    _db().session.flush()
    return proposal, attachment


def _db():
    from fundapp.extensions import db

    return db


@pytest.fixture
def assigned(db):
    """A reviewer assigned (not yet declared) to a proposal in review: ``(assignment, attachment)``."""
    proposal, attachment = proposal_in_review()
    assignment = make_assignment(proposal=proposal, state=AssignmentState.ASSIGNED)
    db.session.commit()
    return assignment, attachment


@pytest.fixture
def accepted(db):
    proposal, _attachment = proposal_in_review()
    assignment = make_assignment(proposal=proposal, state=AssignmentState.ACCEPTED)
    db.session.commit()
    return assignment


def criteria_of(assignment):
    return list(make_rubric(assignment.proposal.call).criteria)


def page_text(response):
    return response.get_data(as_text=True)


def form_values(assignment, scores, recommendation="fund", comments="Clear and feasible.", base_version=0):
    data = {f"score_{c.id}": v for c, v in zip(criteria_of(assignment), scores, strict=True) if v is not None}
    data.update(recommendation=recommendation, comments=comments, base_version=base_version)
    return data


def autosave(client, assignment, payload, token=None):
    return client.post(
        f"/reviews/{assignment.id}/autosave",
        json=payload,
        headers={"X-CSRFToken": token if token is not None else csrf_token(client)},
    )


def fresh(db, model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


# -- who may open what --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/reviews/{a}", "/reviews/{a}/declare"])
def test_nobody_but_the_assigned_reviewer_can_open_an_assignment(client, db, assigned, url):
    assignment, _ = assigned
    people = [
        make_reviewer(),
        make_user(roles=[Role.APPLICANT]),
        make_officer(),
        make_user(roles=[Role.ADMIN]),
    ]
    db.session.commit()
    for person in people:
        login(client, person)
        assert client.get(url.format(a=assignment.id)).status_code == 404, person.roles
        client.post("/logout", data={"csrf_token": csrf_token(client)})


def test_an_assignment_not_yet_declared_answers_404_on_the_review_page(client, db, assigned):
    assignment, _ = assigned
    login(client, assignment.reviewer)

    assert client.get(f"/reviews/{assignment.id}").status_code == 404
    assert client.get("/reviews/999999").status_code == 404
    assert client.get(f"/reviews/{assignment.id}/declare").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client, db, accepted):
    response = client.get(f"/reviews/{accepted.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "state", [AssignmentState.DECLINED, AssignmentState.CONFLICTED, AssignmentState.REMOVED]
)
def test_a_withdrawn_assignment_answers_404_to_its_reviewer(client, db, state):
    proposal, _ = proposal_in_review()
    assignment = make_assignment(proposal=proposal, state=state)
    db.session.commit()
    login(client, assignment.reviewer)

    assert client.get(f"/reviews/{assignment.id}").status_code == 404
    assert client.get(f"/reviews/{assignment.id}/declare").status_code == 404


def test_an_unassigned_reviewer_cannot_open_the_proposal_its_files_or_the_export(client, db, assigned):
    assignment, attachment = assigned
    proposal_id = assignment.proposal_id
    outsider = make_reviewer()
    db.session.commit()

    for reviewer in (outsider, assignment.reviewer):  # the second has not declared yet
        login(client, reviewer)
        assert client.get(f"/proposals/{proposal_id}").status_code == 404
        assert client.get(f"/proposals/{proposal_id}/attachments/{attachment.id}").status_code == 404
        assert client.get(f"/proposals/{proposal_id}/versions/1.pdf").status_code == 404
        assert client.get("/officer/proposals.csv").status_code == 403
        assert client.get("/officer/proposals.xlsx").status_code == 403
        client.post("/logout", data={"csrf_token": csrf_token(client)})


def test_the_reviewer_opens_the_attachment_after_declaring_no_conflict(client, db, assigned):
    assignment, attachment = assigned
    login(client, assignment.reviewer)
    post_form(client, f"/reviews/{assignment.id}/declare", {"has_conflict": "none"})

    page = page_text(client.get(f"/reviews/{assignment.id}"))
    link = f"/proposals/{assignment.proposal_id}/attachments/{attachment.id}"
    assert link in page
    with client.get(link) as download:
        assert download.status_code == 200
    assert f"/proposals/{assignment.proposal_id}/versions/1.pdf" in page


# -- the list and the home page -----------------------------------------------------------------------------


def test_the_list_groups_the_reviewers_own_assignments_with_due_dates_in_the_funds_time_zone(client, db):
    reviewer = make_reviewer()
    due = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # 17:00 in Almaty (UTC+5)
    to_declare = make_assignment(reviewer=reviewer, state=AssignmentState.ASSIGNED, due_at=due)
    in_progress = make_assignment(reviewer=reviewer, state=AssignmentState.ACCEPTED)
    done = make_review(reviewer=reviewer).assignment
    someone_elses = make_assignment(state=AssignmentState.ACCEPTED)
    db.session.commit()
    login(client, reviewer)

    page = page_text(client.get("/reviews"))

    sections_ = re.split(r'<h2 class="h5" id="', page)
    assert to_declare.proposal.reference in sections_[1] and sections_[1].startswith("to-declare")
    assert in_progress.proposal.reference in sections_[2] and sections_[2].startswith("in-progress")
    assert done.proposal.reference in sections_[3] and sections_[3].startswith("submitted")
    assert someone_elses.proposal.reference not in page
    assert re.search(r"5:00\sPM", sections_[1])


def test_the_reviewers_home_page_lists_declarations_and_reviews_due(client, db):
    reviewer = make_reviewer()
    make_assignment(reviewer=reviewer, state=AssignmentState.ASSIGNED)
    due = make_assignment(reviewer=reviewer, state=AssignmentState.ACCEPTED)
    db.session.commit()
    login(client, reviewer)

    page = page_text(client.get("/"))

    assert "Declare any conflict of interest for 1 proposal" in page
    assert f"Review {due.proposal.reference}" in page
    assert f'href="/reviews/{due.id}"' in page
    assert 'href="/reviews">My reviews</a>' in page


# -- declaring ----------------------------------------------------------------------------------------------


def test_the_declaration_page_shows_the_title_summary_and_organisations_but_no_more(client, db, assigned):
    assignment, _ = assigned
    login(client, assignment.reviewer)

    page = page_text(client.get(f"/reviews/{assignment.id}/declare"))

    assert "Seal haul-outs of the shelf" in page
    assert "Protect Caspian seal haul-out sites" in page  # the summary
    assert ORG_EN in page and PARTNER in page
    assert "Caspian seals drown in illegal fishing nets" not in page  # the problem section: not yet


def test_declaring_no_conflict_opens_the_review(client, db, assigned):
    assignment, _ = assigned
    login(client, assignment.reviewer)

    response = post_form(client, f"/reviews/{assignment.id}/declare", {"has_conflict": "none"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/reviews/{assignment.id}")
    assert fresh(db, Assignment, assignment.id).state == AssignmentState.ACCEPTED
    assert client.get(f"/reviews/{assignment.id}").status_code == 200


def test_declaring_a_conflict_withdraws_the_assignment(client, db, assigned):
    assignment, _ = assigned
    login(client, assignment.reviewer)

    response = post_form(
        client, f"/reviews/{assignment.id}/declare", {"has_conflict": "conflict", "note": "I advise them."}
    )

    assert response.status_code == 302
    stored = fresh(db, Assignment, assignment.id)
    assert (stored.state, stored.declaration_note) == (AssignmentState.CONFLICTED, "I advise them.")
    assert client.get(f"/reviews/{assignment.id}").status_code == 404


def test_a_declaration_without_an_answer_is_refused_next_to_the_question(client, db, assigned):
    assignment, _ = assigned
    login(client, assignment.reviewer)

    response = post_form(client, f"/reviews/{assignment.id}/declare", {})

    assert response.status_code == 400
    assert "Say whether you have a conflict of interest." in page_text(response)
    assert fresh(db, Assignment, assignment.id).state == AssignmentState.ASSIGNED


def test_declining_needs_a_reason(client, db, assigned):
    assignment, _ = assigned
    login(client, assignment.reviewer)

    refused = post_form(client, f"/reviews/{assignment.id}/decline", {"reason": " "})
    assert refused.status_code == 400
    assert "Give a reason for declining." in page_text(refused)

    declined = post_form(client, f"/reviews/{assignment.id}/decline", {"reason": "Away until June."})
    assert declined.status_code == 302
    stored = fresh(db, Assignment, assignment.id)
    assert (stored.state, stored.declaration_note) == (AssignmentState.DECLINED, "Away until June.")


def test_a_conflict_found_while_reviewing_can_still_be_declared(client, db, accepted):
    login(client, accepted.reviewer)

    response = post_form(
        client,
        f"/reviews/{accepted.id}/declare",
        {"has_conflict": "conflict", "note": "The lead is my cousin."},
    )

    assert response.status_code == 302
    assert fresh(db, Assignment, accepted.id).state == AssignmentState.CONFLICTED


# -- the review form ----------------------------------------------------------------------------------------


def test_the_form_offers_each_level_with_its_descriptor_and_na_only_where_allowed(client, db, accepted):
    login(client, accepted.reviewer)
    relevance, feasibility = criteria_of(accepted)

    page = page_text(client.get(f"/reviews/{accepted.id}"))

    for level in range(1, 6):
        assert f'name="score_{relevance.id}" type="radio" value="{level}"' in page
    assert "Level 3" in page
    assert f'name="score_{feasibility.id}" type="radio" value="na"' in page
    assert f'name="score_{relevance.id}" type="radio" value="na"' not in page
    assert "Fund with changes" in page
    assert "data-autosave-url" in page


def test_saving_without_javascript_stores_the_draft(client, db, accepted):
    login(client, accepted.reviewer)

    response = post_form(client, f"/reviews/{accepted.id}", form_values(accepted, [4, "na"]))

    assert response.status_code == 302
    review = fresh(db, Assignment, accepted.id).review
    assert (review.version, review.comments) == (1, "Clear and feasible.")
    assert sorted((s.is_na, s.score or 0) for s in review.scores) == [(False, 4), (True, 0)]
    page = page_text(client.get(f"/reviews/{accepted.id}"))
    assert re.search(r'checked[^>]*value="4"|value="4"[^>]*checked', page)


def test_a_stale_form_is_shown_again_with_its_values_and_saves_on_the_second_try(client, db, accepted):
    login(client, accepted.reviewer)
    post_form(client, f"/reviews/{accepted.id}", form_values(accepted, [4, 4]))

    stale = post_form(client, f"/reviews/{accepted.id}", form_values(accepted, [2, 2], comments="Mine"))

    assert stale.status_code == 409
    page = page_text(stale)
    assert "saved in another window or tab" in page
    assert re.search(r">\s*Mine</textarea>", page)
    assert 'name="base_version" type="hidden" value="1"' in page
    assert fresh(db, Assignment, accepted.id).review.comments == "Clear and feasible."


def test_submitting_a_complete_review_locks_it_and_shows_it_read_only(client, db, accepted):
    login(client, accepted.reviewer)

    response = post_form(client, f"/reviews/{accepted.id}/submit", form_values(accepted, [5, 3]))

    assert response.status_code == 302
    stored = fresh(db, Assignment, accepted.id)
    assert stored.state == AssignmentState.SUBMITTED
    # (2 * 1 + 1 * 0.5) / 3 * 100 = 83.3333
    assert str(stored.review.weighted_score) == "83.3333"
    page = page_text(client.get(f"/reviews/{accepted.id}"))
    assert "The review is locked" in page
    assert "83.3 / 100" in page
    assert "<textarea" not in page.split('id="review-heading"')[1]
    again = post_form(client, f"/reviews/{accepted.id}/submit", form_values(accepted, [1, 1], base_version=1))
    assert again.status_code == 409
    assert "is submitted and locked" in page_text(again)
    assert fresh(db, Review, stored.review.id).weighted_score == stored.review.weighted_score


def test_an_incomplete_submission_is_refused_but_the_draft_is_kept(client, db, accepted):
    login(client, accepted.reviewer)

    response = post_form(
        client, f"/reviews/{accepted.id}/submit", form_values(accepted, [5, None], recommendation="")
    )

    assert response.status_code == 400
    page = page_text(response)
    assert "Score “Feasibility” from 1 to 5, or mark it not applicable." in page
    assert "Choose a recommendation" in page
    stored = fresh(db, Assignment, accepted.id)
    assert stored.state == AssignmentState.ACCEPTED
    assert [s.score for s in stored.review.scores] == [5]
    assert 'name="base_version" type="hidden" value="1"' in page


def test_na_on_a_criterion_that_does_not_allow_it_is_refused_next_to_it(client, db, accepted):
    login(client, accepted.reviewer)
    _relevance, _feasibility = criteria_of(accepted)

    response = post_form(client, f"/reviews/{accepted.id}/submit", form_values(accepted, ["na", 3]))

    assert response.status_code == 400
    assert "“Conservation relevance” cannot be marked not applicable" in page_text(response)
    assert fresh(db, Assignment, accepted.id).review is None


def test_submission_is_audited_and_the_last_review_makes_the_proposal_reviewed(client, db, accepted):
    login(client, accepted.reviewer)

    post_form(client, f"/reviews/{accepted.id}/submit", form_values(accepted, [5, 3]))

    db.session.expire_all()
    assert accepted.proposal.state == ProposalState.REVIEWED
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "Review")).all()
    assert actions == ["review.submitted"]


# -- autosave -----------------------------------------------------------------------------------------------


def test_autosave_stores_the_draft_and_returns_the_new_version(client, db, accepted):
    login(client, accepted.reviewer)
    relevance, feasibility = criteria_of(accepted)

    response = autosave(
        client,
        accepted,
        {
            "scores": {f"score_{relevance.id}": "4", f"score_{feasibility.id}": "na"},
            "recommendation": "fund",
            "comments": "Draft",
            "base_version": 0,
        },
    )

    assert response.status_code == 200
    assert response.json["version"] == 1
    assert response.json["saved_at_label"].startswith("Saved at ")
    review = fresh(db, Assignment, accepted.id).review
    assert (review.comments, review.version) == ("Draft", 1)


def test_autosave_on_a_stale_version_is_409_and_changes_nothing(client, db, accepted):
    login(client, accepted.reviewer)
    autosave(client, accepted, {"scores": {}, "comments": "First", "base_version": 0})
    autosave(client, accepted, {"scores": {}, "comments": "Second", "base_version": 1})

    response = autosave(client, accepted, {"scores": {}, "comments": "Old tab", "base_version": 1})

    assert response.status_code == 409
    assert response.json["version"] == 2
    assert "another window or tab" in response.json["error"]
    assert fresh(db, Assignment, accepted.id).review.comments == "Second"


def test_autosave_when_logged_out_is_401_json_with_the_login_url(client, db, accepted):
    response = client.post(f"/reviews/{accepted.id}/autosave", json={"scores": {}, "base_version": 0})

    assert response.status_code == 401
    assert response.json["login_url"] == "/login"
    assert "kept in this browser" in response.json["error"]


@pytest.mark.parametrize(
    "payload",
    [
        None,
        ["not", "an", "object"],
        {"scores": {}},
        {"scores": {}, "base_version": "1"},
        {"base_version": True},
    ],
)
def test_autosave_with_a_malformed_request_is_400(client, db, accepted, payload):
    login(client, accepted.reviewer)
    token = csrf_token(client)

    if payload is None:
        response = client.post(
            f"/reviews/{accepted.id}/autosave",
            data="{nope",
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )
    else:
        response = autosave(client, accepted, payload, token)

    assert response.status_code == 400
    assert fresh(db, Assignment, accepted.id).review is None


def test_autosave_without_the_csrf_token_is_400_with_a_way_to_renew_it(client, db, accepted):
    login(client, accepted.reviewer)

    response = autosave(client, accepted, {"scores": {}, "base_version": 0}, token="")

    assert response.status_code == 400
    assert response.json["csrf_url"] == "/csrf-token"


def test_autosave_of_a_score_outside_the_scale_is_422_with_the_field(client, db, accepted):
    login(client, accepted.reviewer)
    relevance, _ = criteria_of(accepted)

    response = autosave(client, accepted, {"scores": {str(relevance.id): 9}, "base_version": 0})

    assert response.status_code == 422
    assert "from 1 to 5" in response.json["errors"][f"score_{relevance.id}"]


def test_autosave_by_someone_else_or_after_submission_is_refused(client, db, accepted):
    stranger = make_reviewer()
    db.session.commit()
    login(client, stranger)
    assert autosave(client, accepted, {"scores": {}, "base_version": 0}).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    login(client, accepted.reviewer)
    post_form(client, f"/reviews/{accepted.id}/submit", form_values(accepted, [5, 3]))
    locked = autosave(client, accepted, {"scores": {}, "base_version": 1})
    assert locked.status_code == 409
    assert locked.json["locked"] is True
    assert "submitted and locked" in locked.json["error"]


# -- blind calls --------------------------------------------------------------------------------------------


def test_a_blind_call_hides_the_organisation_on_the_review_page_but_not_on_the_declaration(client, db):
    proposal, attachment = proposal_in_review(blind=True)
    assignment = make_assignment(proposal=proposal, state=AssignmentState.ASSIGNED)
    db.session.commit()
    login(client, assignment.reviewer)

    declaration = page_text(client.get(f"/reviews/{assignment.id}/declare"))
    assert ORG_EN in declaration and PARTNER in declaration
    post_form(client, f"/reviews/{assignment.id}/declare", {"has_conflict": "none"})

    page = page_text(client.get(f"/reviews/{assignment.id}"))
    for name in (ORG_EN, ORG_RU, ORG_KK, PARTNER, TEAM_LEAD, "guardians-reg.pdf"):
        assert name not in page, name
    assert "Withheld (blind review)" in page
    assert f"/attachments/{attachment.id}" not in page
    assert "/versions/1.pdf" not in page
    assert "Seal haul-outs of the shelf" in page
    listing = page_text(client.get("/reviews"))
    assert ORG_EN not in listing


def test_an_open_call_shows_the_organisation_on_the_review_page(client, db, accepted):
    login(client, accepted.reviewer)

    page = page_text(client.get(f"/reviews/{accepted.id}"))

    assert ORG_EN in page and TEAM_LEAD in page and PARTNER in page


# -- others' reviews ----------------------------------------------------------------------------------------


def _with_another_review(see_others):
    proposal, _ = proposal_in_review(see_others=see_others)
    mine = make_assignment(proposal=proposal, state=AssignmentState.ACCEPTED)
    other_reviewer = make_reviewer(full_name="Dr Other Expert")
    make_review(proposal=proposal, reviewer=other_reviewer, comments="The budget is thin.")
    _db().session.commit()
    return mine


def test_others_reviews_appear_without_names_after_submitting_when_the_call_allows(client, db):
    mine = _with_another_review(see_others=True)
    login(client, mine.reviewer)
    assert "The budget is thin." not in page_text(client.get(f"/reviews/{mine.id}"))

    post_form(client, f"/reviews/{mine.id}/submit", form_values(mine, [5, 3]))
    page = page_text(client.get(f"/reviews/{mine.id}"))

    assert "Reviewer A" in page
    assert "The budget is thin." in page
    assert "Dr Other Expert" not in page


def test_others_reviews_never_appear_when_the_call_does_not_allow(client, db):
    mine = _with_another_review(see_others=False)
    login(client, mine.reviewer)

    post_form(client, f"/reviews/{mine.id}/submit", form_values(mine, [5, 3]))
    page = page_text(client.get(f"/reviews/{mine.id}"))

    assert "The budget is thin." not in page
    assert "Reviewer A" not in page


# -- an officer reopens a review ----------------------------------------------------------------------------


@pytest.fixture
def submitted(db):
    proposal, _ = proposal_in_review()
    review = make_review(proposal=proposal)
    officer = make_officer()
    db.session.commit()
    return review, officer


def test_an_officer_reopens_a_review_with_a_reason(client, db, submitted, mail):
    review, officer = submitted
    login(client, officer)
    assert client.get(f"/reviews/{review.assignment_id}/reopen").status_code == 200

    response = post_form(
        client, f"/reviews/{review.assignment_id}/reopen", {"reason": "Comments are missing."}
    )

    assert response.status_code == 302
    stored = fresh(db, Review, review.id)
    assert stored.assignment.state == AssignmentState.ACCEPTED
    assert stored.weighted_score is None
    assert any("Comments are missing." in message["body_text"] for message in mail)


def test_reopening_without_a_reason_is_refused_next_to_the_field(client, db, submitted):
    review, officer = submitted
    login(client, officer)

    response = post_form(client, f"/reviews/{review.assignment_id}/reopen", {"reason": "  "})

    assert response.status_code == 400
    assert "Give a reason for reopening the review." in page_text(response)
    assert fresh(db, Review, review.id).assignment.state == AssignmentState.SUBMITTED


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPLICANT, Role.ADMIN])
def test_only_programme_officers_reach_the_reopen_page(client, db, submitted, role):
    review, _officer = submitted
    person = make_user(roles=[role])
    db.session.commit()
    login(client, person)

    assert client.get(f"/reviews/{review.assignment_id}/reopen").status_code == 403
    response = post_form(client, f"/reviews/{review.assignment_id}/reopen", {"reason": "x"})
    assert response.status_code == 403
    assert fresh(db, Review, review.id).assignment.state == AssignmentState.SUBMITTED


def test_the_reopen_page_of_an_assignment_without_a_review_is_404(client, db, accepted):
    officer = make_officer()
    db.session.commit()
    login(client, officer)

    assert client.get(f"/reviews/{accepted.id}/reopen").status_code == 404
    assert client.get("/reviews/999999/reopen").status_code == 404
