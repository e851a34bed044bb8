"""The submission, attachment and withdrawal pages over HTTP: who may do what, and every bad input."""

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundapp.applications.models import ProposalAttachment, ProposalState, ProposalVersion
from fundapp.applications.submission import add_attachment
from fundapp.core.permissions import Role
from fundapp.core.storage import StoredFile, save_upload
from tests.applications.factories import make_member_proposal, make_outsider
from tests.applications.test_attachments import (
    LINUX_EXECUTABLE,
    WINDOWS_EXECUTABLE,
    stored_paths,
    upload,
    xlsx_bytes,
)
from tests.conftest import login, post_form
from tests.core.sample_files import MINIMAL_PDF, png_bytes
from tests.factories import make_user

PEOPLE = ["anon", "member", "outsider", "reviewer", "programme_officer", "admin"]

# url template -> expected status per person (same order as PEOPLE); 302 for anon is the login page.
ROUTES = {
    "/proposals/{p}/submit": [302, 200, 404, 404, 403, 403],
    "/proposals/{p}/attachments": [302, 200, 404, 404, 200, 200],
    "/proposals/{p}/attachments/{a}": [302, 200, 404, 404, 200, 200],
    "/proposals/{p}/attachments/{other_a}": [302, 404, 404, 404, 404, 404],
    "/proposals/{p}/versions/1.pdf": [302, 200, 404, 404, 200, 200],
    "/proposals/{p}/versions/2.pdf": [302, 404, 404, 404, 404, 404],
    "/proposals/{p}/withdraw": [302, 200, 404, 404, 403, 403],
    "/proposals/999999/submit": [302, 404, 404, 404, 404, 404],
    "/proposals/999999/attachments": [302, 404, 404, 404, 404, 404],
}

POSTS = {
    "/proposals/{p}/submit": [302, 409, 404, 404, 403, 403],
    "/proposals/{p}/attachments": [302, 400, 404, 404, 403, 403],
    "/proposals/{p}/attachments/{a}/delete": [302, 302, 404, 404, 403, 403],
    "/proposals/{p}/attachments/{other_a}/delete": [302, 404, 404, 404, 403, 403],
    "/proposals/{p}/withdraw": [302, 302, 404, 404, 403, 403],
}


def pdf_upload(name="registration.pdf", data=MINIMAL_PDF):
    return (io.BytesIO(data), name)


def stored_file_count(db):
    return db.session.scalar(select(func.count()).select_from(StoredFile))


def attachment_count(db, proposal):
    return db.session.scalar(
        select(func.count())
        .select_from(ProposalAttachment)
        .where(ProposalAttachment.proposal_id == proposal.id)
    )


@pytest.fixture
def draft(db):
    """A complete draft in an open call, its member, and the committed state: ``(proposal, member)``."""
    proposal, member = make_member_proposal(complete=True)
    db.session.commit()
    return proposal, member


@pytest.fixture
def people(db):
    proposal, member = make_member_proposal(complete=False)
    attachment = add_attachment(db.session, member, proposal, "other", upload(MINIMAL_PDF, "plan.pdf"))
    other, other_member = make_member_proposal(complete=False)
    other_attachment = add_attachment(
        db.session, other_member, other, "other", upload(png_bytes(), "other.png")
    )
    pdf = save_upload(db.session, upload(MINIMAL_PDF, "v1.pdf"), allowed_kinds=["pdf"], uploaded_by=member)
    db.session.add(
        ProposalVersion(
            proposal=proposal,
            number=1,
            snapshot={},
            pdf_file_id=pdf.id,
            pdf_sha256=pdf.sha256,
            submitted_by_id=member.id,
        )
    )
    everyone = {
        "member": member,
        "outsider": make_outsider(),
        "reviewer": make_user(roles=[Role.REVIEWER]),
        "programme_officer": make_user(roles=[Role.PROGRAMME_OFFICER]),
        "admin": make_user(roles=[Role.ADMIN]),
    }
    db.session.commit()
    return everyone, {"p": proposal.id, "a": attachment.id, "other_a": other_attachment.id}


@pytest.mark.parametrize("url", list(ROUTES))
def test_every_submission_page_answers_each_role_as_expected(app, client, people, url):
    everyone, ids = people
    target = url.format(**ids)
    seen = []
    for person in PEOPLE:
        browser = app.test_client()
        if person != "anon":
            login(browser, everyone[person])
        with browser.get(target) as response:  # downloads hold the file open until closed
            seen.append(response.status_code)
    assert dict(zip(PEOPLE, seen, strict=True)) == dict(zip(PEOPLE, ROUTES[url], strict=True))


@pytest.mark.parametrize("url", list(POSTS))
def test_every_submission_action_answers_each_role_as_expected(app, db, client, people, url):
    everyone, ids = people
    target = url.format(**ids)
    seen = []
    for person in PEOPLE:
        browser = app.test_client()
        if person != "anon":
            login(browser, everyone[person])
        seen.append(post_form(browser, target).status_code)
        db.session.rollback()
    assert dict(zip(PEOPLE, seen, strict=True)) == dict(zip(PEOPLE, POSTS[url], strict=True))


def test_anonymous_visitor_is_sent_to_login_with_next(client, people):
    _everyone, ids = people

    response = client.get(f"/proposals/{ids['p']}/attachments/{ids['a']}")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# -- the submission page --------------------------------------------------------------------------------


def test_submission_page_lists_exactly_what_is_missing(client, db, draft):
    proposal, member = draft
    from fundapp.applications.submission import submission_problems

    login(client, member)
    html = client.get(f"/proposals/{proposal.id}/submit").get_data(as_text=True)

    problems = submission_problems(proposal)
    assert problems == ["Attach the registration certificate: the call requires it."]
    assert "What is still missing" in html
    listed = re.findall(r'<li class="list-group-item list-group-item-warning">(.*?)</li>', html)
    assert listed == problems
    assert "Submit the proposal" not in html


def test_submission_page_offers_the_button_when_nothing_is_missing(client, db, draft):
    proposal, member = draft
    add_attachment(db.session, member, proposal, "registration_certificate", upload(MINIMAL_PDF, "reg.pdf"))
    db.session.commit()

    login(client, member)
    html = client.get(f"/proposals/{proposal.id}/submit").get_data(as_text=True)

    assert "What is still missing" not in html
    assert "Submit the proposal" in html


def test_submitting_through_the_page_creates_version_1_and_mails_the_team(client, db, draft, mail):
    proposal, member = draft
    add_attachment(db.session, member, proposal, "registration_certificate", upload(MINIMAL_PDF, "reg.pdf"))
    db.session.commit()
    login(client, member)

    response = post_form(client, f"/proposals/{proposal.id}/submit")

    assert response.status_code == 302
    db.session.expire_all()
    assert proposal.state == ProposalState.SUBMITTED
    [version] = proposal.versions
    assert [m["to_address"] for m in mail] == [member.email]
    assert version.pdf_sha256 in mail[0]["body_text"]
    assert f"/proposals/{proposal.id}/versions/1.pdf" in mail[0]["body_text"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is submitted" in page
    assert version.pdf_sha256 in page
    with client.get(f"/proposals/{proposal.id}/versions/1.pdf") as pdf:
        pdf_data = pdf.get_data()
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    assert pdf_data.startswith(b"%PDF-")


def test_incomplete_submission_is_refused_with_the_list_and_changes_nothing(client, db, draft, mail):
    proposal, member = draft
    login(client, member)

    response = post_form(client, f"/proposals/{proposal.id}/submit")

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and "Attach the registration certificate" in html
    assert "What is still missing" in html
    db.session.expire_all()
    assert proposal.state == ProposalState.DRAFT
    assert proposal.versions == []
    assert mail == []


def test_late_submission_is_refused_with_a_clear_message(client, db, draft, mail):
    proposal, member = draft
    add_attachment(db.session, member, proposal, "registration_certificate", upload(MINIMAL_PDF, "reg.pdf"))
    call = proposal.call
    call.opens_at = call.opens_at - timedelta(days=60)
    call.closes_at = call.opens_at + timedelta(days=30)  # closed a month ago
    db.session.commit()
    login(client, member)

    response = post_form(client, f"/proposals/{proposal.id}/submit")

    assert response.status_code == 409
    assert "The deadline of the call" in response.get_data(as_text=True)
    db.session.expire_all()
    assert proposal.state == ProposalState.DRAFT
    assert mail == []


def test_over_budget_submission_is_refused_with_a_clear_message(client, db, draft):
    proposal, member = draft
    add_attachment(db.session, member, proposal, "registration_certificate", upload(MINIMAL_PDF, "reg.pdf"))
    proposal.call.grant_max_minor = proposal.call.grant_min_minor = 1_000_000_00
    db.session.commit()
    login(client, member)

    response = post_form(client, f"/proposals/{proposal.id}/submit")

    assert response.status_code == 409
    assert "above the call&#39;s maximum grant" in response.get_data(as_text=True)
    db.session.expire_all()
    assert proposal.state == ProposalState.DRAFT


def test_submission_without_csrf_token_is_refused(client, db, draft):
    proposal, member = draft
    login(client, member)

    response = client.post(f"/proposals/{proposal.id}/submit", data={})

    assert response.status_code == 400
    db.session.expire_all()
    assert proposal.state == ProposalState.DRAFT


def test_text_from_the_applicant_is_shown_escaped(client, db):
    proposal, member = make_member_proposal(title='<script>alert("x")</script> Saiga')
    db.session.commit()
    login(client, member)

    for page in ("submit", "attachments", "withdraw"):
        html = client.get(f"/proposals/{proposal.id}/{page}").get_data(as_text=True)
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Saiga" in html


@pytest.mark.parametrize("page", ["submit", "attachments", "withdraw"])
def test_pages_have_labelled_fields_and_nothing_inline(client, db, draft, page):
    proposal, member = draft
    login(client, member)

    response = client.get(f"/proposals/{proposal.id}/{page}")

    html = response.get_data(as_text=True)
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"\bon[a-z]+=", html), "inline event handler"
    for field_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html):
        if field_id != "csrf_token":
            assert f'for="{field_id}"' in html, f"field {field_id} has no label"


# -- attachments ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (MINIMAL_PDF, "registration.pdf", "application/pdf"),
        (png_bytes(), "map.png", "image/png"),
        (xlsx_bytes(), "budget.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_member_uploads_an_allowed_file(client, db, draft, data, name, content_type):
    proposal, member = draft
    login(client, member)

    response = post_form(
        client,
        f"/proposals/{proposal.id}/attachments",
        {"kind": "registration_certificate", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    db.session.expire_all()
    [attachment] = proposal.attachments
    assert attachment.stored_file.content_type == content_type
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"“{name}” is attached as registration certificate." in page


@pytest.mark.parametrize(
    ("data", "name"),
    [(WINDOWS_EXECUTABLE, "registration.pdf"), (LINUX_EXECUTABLE, "registration.pdf")],
    ids=["windows-exe", "elf"],
)
def test_executable_renamed_to_pdf_is_refused_and_nothing_is_stored(app, client, db, draft, data, name):
    proposal, member = draft
    login(client, member)
    files_before, rows_before = stored_paths(app), stored_file_count(db)

    response = post_form(
        client,
        f"/proposals/{proposal.id}/attachments",
        {"kind": "registration_certificate", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The file “registration.pdf” is" in html
    assert "which cannot be uploaded here. Allowed: PDF" in html
    assert stored_paths(app) == files_before
    assert stored_file_count(db) == rows_before
    assert attachment_count(db, proposal) == 0


def test_request_over_the_upload_limit_gets_the_413_page_and_nothing_is_stored(
    app, client, db, draft, monkeypatch
):
    proposal, member = draft
    login(client, member)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    files_before, rows_before = stored_paths(app), stored_file_count(db)

    response = post_form(
        client,
        f"/proposals/{proposal.id}/attachments",
        {"kind": "other", "file": (io.BytesIO(MINIMAL_PDF + b"%" * 60_000), "scan.pdf")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "The file is larger than the limit of 48.8 KB per file" in html
    assert "Attach a file" in html  # the upload form is shown again
    assert stored_paths(app) == files_before
    assert stored_file_count(db) == rows_before
    assert attachment_count(db, proposal) == 0


def test_file_over_the_per_file_limit_gets_413_and_nothing_is_stored(app, client, db, draft, monkeypatch):
    proposal, member = draft
    login(client, member)
    monkeypatch.setitem(app.config, "PROPOSAL_ATTACHMENT_MAX_BYTES", 2_000)
    files_before = stored_paths(app)

    response = post_form(
        client,
        f"/proposals/{proposal.id}/attachments",
        {"kind": "other", "file": (io.BytesIO(MINIMAL_PDF + b"%" * 3_000), "scan.pdf")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 413
    assert "The file is larger than the limit of 1.95 KB per file" in response.get_data(as_text=True)
    assert stored_paths(app) == files_before
    assert attachment_count(db, proposal) == 0


def test_upload_without_a_file_is_refused_next_to_the_field(client, db, draft):
    proposal, member = draft
    login(client, member)

    response = post_form(
        client, f"/proposals/{proposal.id}/attachments", {"kind": "other"}, content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert 'id="file-error">Choose a file to upload.' in response.get_data(as_text=True)


def test_upload_with_an_unknown_kind_is_refused(client, db, draft):
    proposal, member = draft
    login(client, member)

    response = post_form(
        client,
        f"/proposals/{proposal.id}/attachments",
        {"kind": "<script>", "file": pdf_upload()},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert attachment_count(db, proposal) == 0


def test_upload_to_another_organisations_proposal_is_404_and_stores_nothing(app, client, db, draft):
    proposal, _member = draft
    outsider = make_outsider()
    db.session.commit()
    login(client, outsider)
    files_before = stored_paths(app)

    response = post_form(
        client,
        f"/proposals/{proposal.id}/attachments",
        {"kind": "other", "file": pdf_upload()},
        content_type="multipart/form-data",
    )

    assert response.status_code == 404
    assert stored_paths(app) == files_before
    assert attachment_count(db, proposal) == 0


def test_upload_to_a_submitted_proposal_is_refused(client, db):
    proposal, member = make_member_proposal(state=ProposalState.SUBMITTED)
    db.session.commit()
    login(client, member)

    response = post_form(
        client,
        f"/proposals/{proposal.id}/attachments",
        {"kind": "other", "file": pdf_upload()},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "so its attachments can no longer be changed" in response.get_data(as_text=True)
    assert attachment_count(db, proposal) == 0


@pytest.mark.parametrize("who", ["member", "programme_officer", "admin"])
def test_attachment_is_downloaded_as_an_attachment_with_nosniff(app, db, people, who):
    everyone, ids = people
    browser = app.test_client()
    login(browser, everyone[who])

    with browser.get(f"/proposals/{ids['p']}/attachments/{ids['a']}") as response:
        data = response.get_data()

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=plan.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/pdf"
    assert data == MINIMAL_PDF


def test_member_removes_an_attachment(client, db, people):
    everyone, ids = people
    login(client, everyone["member"])

    response = post_form(client, f"/proposals/{ids['p']}/attachments/{ids['a']}/delete")

    assert response.status_code == 302
    assert db.session.get(ProposalAttachment, ids["a"]) is None
    assert "“plan.pdf” is removed." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_attachment_of_a_submitted_proposal_cannot_be_removed(client, db, people):
    everyone, ids = people
    from fundapp.applications.models import Proposal

    db.session.get(Proposal, ids["p"]).state = ProposalState.SUBMITTED
    db.session.commit()
    login(client, everyone["member"])

    response = post_form(client, f"/proposals/{ids['p']}/attachments/{ids['a']}/delete")

    assert response.status_code == 409
    assert "can no longer be changed" in response.get_data(as_text=True)
    assert db.session.get(ProposalAttachment, ids["a"]) is not None


# -- withdrawing ----------------------------------------------------------------------------------------


def test_member_withdraws_a_submitted_proposal_with_a_reason(client, db, mail):
    proposal, member = make_member_proposal(state=ProposalState.SUBMITTED)
    db.session.commit()
    login(client, member)
    assert "Withdraw " + proposal.reference in client.get(f"/proposals/{proposal.id}/withdraw").get_data(
        as_text=True
    )

    response = post_form(client, f"/proposals/{proposal.id}/withdraw", {"reason": "Funding found elsewhere."})

    assert response.status_code == 302
    db.session.expire_all()
    assert proposal.state == ProposalState.WITHDRAWN
    assert [m["to_address"] for m in mail] == [member.email]
    assert "Funding found elsewhere." in mail[0]["body_text"]


def test_withdrawal_after_a_decision_is_refused_with_a_clear_message(client, db, mail):
    proposal, member = make_member_proposal(state=ProposalState.INELIGIBLE)
    db.session.commit()
    login(client, member)

    page = client.get(f"/proposals/{proposal.id}/withdraw").get_data(as_text=True)
    response = post_form(client, f"/proposals/{proposal.id}/withdraw", {"reason": "Please"})

    assert "can no longer be withdrawn" in page
    assert "Withdraw the proposal" not in page
    assert response.status_code == 409
    assert "can no longer be withdrawn" in response.get_data(as_text=True)
    db.session.expire_all()
    assert proposal.state == ProposalState.INELIGIBLE
    assert mail == []


def test_overlong_withdrawal_reason_is_refused_next_to_the_field(client, db):
    proposal, member = make_member_proposal(state=ProposalState.SUBMITTED)
    db.session.commit()
    login(client, member)

    response = post_form(client, f"/proposals/{proposal.id}/withdraw", {"reason": "x" * 2001})

    assert response.status_code == 400
    assert 'id="reason-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert proposal.state == ProposalState.SUBMITTED
