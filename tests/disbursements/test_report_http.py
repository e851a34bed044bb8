"""The grantee report page: who may open it, the grantee's draft and submission, the officer's review,
files, and bad input answered with the unchanged page (never a 500)."""

import io

import pytest
from sqlalchemy import select

from fundapp.core.permissions import Role
from fundapp.disbursements.models import GrantReport, GrantState, ReportFile, ReportState, TrancheState
from fundapp.extensions import db as _db
from tests.applications.factories import make_officer, make_outsider
from tests.conftest import login, post_form
from tests.core.sample_files import MINIMAL_PDF, png_bytes
from tests.disbursements.factories import days_ago, make_finance_officer
from tests.disbursements.test_reporting import (
    fill,
    final_report,
    grantee_of,
    progress_report,
    running_grant,
)
from tests.factories import make_user

COMPLETE = {
    "narrative": "Patrols ran weekly.",
    "indicator-0-value": "40",
    "indicator-0-comment": "Aerial count",
    "indicator-1-value": "120",
    "indicator-1-comment": "",
    "spend-0-spent": "2500000",
    "spend-0-explanation": "",
    "spend-1-spent": "1750000.25",
    "spend-1-explanation": "",
}


@pytest.fixture
def grant(db):
    grant = running_grant()
    _db.session.commit()
    return grant


@pytest.fixture
def officer(db):
    officer = make_officer()
    _db.session.commit()
    return officer


def url(grant, number=1, suffix=""):
    return f"/grants/{grant.reference}/reports/{number}{suffix}"


def switch_to(client, user):
    """Log out whoever is logged in on ``client`` and log ``user`` in."""
    post_form(client, "/logout")
    login(client, user)


def fresh(report_id):
    _db.session.expire_all()
    return _db.session.get(GrantReport, report_id)


# -- who may open the page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("anon", 302),
        ("grantee", 200),
        ("outsider", 404),
        ("reviewer", 404),
        ("board_member", 404),
        ("programme_officer", 200),
        ("finance_officer", 200),
        ("admin", 200),
    ],
)
def test_who_may_open_a_report(client, login_as, grant, person, status):
    people = {
        "grantee": grantee_of(grant),
        "outsider": make_outsider(),
        "reviewer": make_user(roles=[Role.REVIEWER]),
        "board_member": make_user(roles=[Role.BOARD_MEMBER]),
        "programme_officer": make_officer(),
        "finance_officer": make_finance_officer(),
        "admin": make_user(roles=[Role.ADMIN]),
    }
    _db.session.commit()
    if person != "anon":
        login_as(people[person])
    response = client.get(url(grant))
    assert response.status_code == status
    if person == "anon":
        assert "/login" in response.headers["Location"]


def test_a_missing_grant_or_report_is_404(client, login_as, grant):
    login_as(grantee_of(grant))
    assert client.get("/grants/IBF-1999-9999/reports/1").status_code == 404
    assert client.get(url(grant, 99)).status_code == 404


def test_a_get_of_an_action_is_405(client, login_as, grant):
    login_as(grantee_of(grant))
    for suffix in ("/submit", "/accept", "/request-changes", "/files"):
        assert client.get(url(grant, suffix=suffix)).status_code == 405


# -- the grantee's draft ------------------------------------------------------------------------------


def test_the_grantee_sees_the_form_with_targets_and_budget(client, login_as, grant):
    login_as(grantee_of(grant))
    html = client.get(url(grant)).get_data(as_text=True)
    assert 'id="report-form"' in html
    assert 'name="indicator-1-value"' in html and 'name="spend-1-spent"' in html
    assert "Nets removed" in html and "Boat and engine" in html
    assert "Submit the report" in html


def test_saving_stores_the_draft(client, login_as, grant):
    login_as(grantee_of(grant))
    response = post_form(client, url(grant), COMPLETE)
    assert response.status_code == 302
    report = fresh(progress_report(grant).id)
    assert report.narrative == "Patrols ran weekly."
    assert [v.value for v in report.indicator_values] == ["40", "120"]
    assert [s.spent_minor for s in report.spend_lines] == [2_500_000_00, 1_750_000_25]
    assert report.state == ReportState.DUE
    html = client.get(url(grant)).get_data(as_text=True)
    assert 'value="1750000.25"' in html


def test_malformed_values_keep_what_was_typed(client, login_as, grant):
    login_as(grantee_of(grant))
    data = dict(COMPLETE, **{"indicator-0-value": "forty", "spend-1-spent": "1750000.255"})
    response = post_form(client, url(grant), data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'value="forty"' in html and 'value="1750000.255"' in html
    assert 'id="indicator-0-value-error"' in html and 'id="spend-1-spent-error"' in html
    assert "Patrols ran weekly." in html
    report = fresh(progress_report(grant).id)
    assert report.narrative == "" and report.indicator_values == [] and report.spend_lines == []


def test_submitting_an_incomplete_report_keeps_the_draft_and_lists_what_is_missing(client, login_as, grant):
    login_as(grantee_of(grant))
    data = dict(COMPLETE, **{"indicator-1-value": "", "spend-0-spent": "2800000"})
    response = post_form(client, url(grant, suffix="/submit"), data)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Before you can submit" in html
    assert "Nets removed" in html and "more than 10%" in html
    report = fresh(progress_report(grant).id)
    assert report.state == ReportState.DUE
    assert report.narrative == "Patrols ran weekly."
    assert report.spend_lines[0].spent_minor == 2_800_000_00


def test_submitting_a_complete_report_tells_the_officers(client, login_as, grant, officer, mail):
    login_as(grantee_of(grant))
    response = post_form(client, url(grant, suffix="/submit"), COMPLETE)
    assert response.status_code == 302
    report = fresh(progress_report(grant).id)
    assert report.state == ReportState.SUBMITTED
    recipients = [m["to_address"] for m in mail if m["subject"].startswith("Report waiting")]
    assert officer.email in recipients
    assert grantee_of(grant).email not in recipients
    html = client.get(url(grant)).get_data(as_text=True)
    assert 'id="report-form"' not in html
    assert "Patrols ran weekly." in html


def test_a_programme_officer_cannot_edit(client, login_as, grant, officer):
    login_as(officer)
    assert post_form(client, url(grant), COMPLETE).status_code == 403
    assert post_form(client, url(grant, suffix="/submit"), COMPLETE).status_code == 403
    assert fresh(progress_report(grant).id).narrative == ""


def test_another_organisation_gets_404_for_every_action(client, login_as, grant):
    login_as(make_outsider())
    _db.session.commit()
    for suffix in ("", "/submit", "/accept", "/request-changes", "/files"):
        assert post_form(client, url(grant, suffix=suffix), COMPLETE).status_code == 404


def test_a_narrative_with_markup_is_shown_as_text(client, login_as, grant, officer):
    login_as(grantee_of(grant))
    post_form(client, url(grant), dict(COMPLETE, narrative="<script>alert(1)</script> & more"))
    for page in (client.get(url(grant)),):
        html = page.get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    post_form(client, url(grant, suffix="/submit"), dict(COMPLETE, narrative="<script>alert(1)</script>"))
    switch_to(client, officer)
    html = client.get(url(grant)).get_data(as_text=True)
    assert 'id="report-form"' not in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- the officer's review -----------------------------------------------------------------------------


@pytest.fixture
def submitted_grant(grant):
    report = progress_report(grant)
    fill(report, grantee_of(grant))
    from fundapp.disbursements import reporting

    reporting.submit_report(_db.session, grantee_of(grant), report)
    _db.session.commit()
    return grant


def test_the_officer_reads_the_figures_and_can_review(client, login_as, submitted_grant, officer):
    login_as(officer)
    html = client.get(url(submitted_grant)).get_data(as_text=True)
    assert 'id="report-form"' not in html
    assert "Accept the report" in html and "Ask for changes" in html
    assert "Patrols ran." in html


def test_accepting_makes_the_gating_tranche_due(client, login_as, submitted_grant, officer, mail):
    report = progress_report(submitted_grant)
    tranche = next(t for t in submitted_grant.tranches if t.report_id == report.id)
    tranche.planned_date = days_ago(1)
    _db.session.commit()
    login_as(officer)
    response = post_form(client, url(submitted_grant, suffix="/accept"), {"comment": "Thank you."})
    assert response.status_code == 302
    report = fresh(report.id)
    assert report.state == ReportState.ACCEPTED
    assert _db.session.get(type(tranche), tranche.id).state == TrancheState.DUE
    assert any(m["to_address"] == grantee_of(submitted_grant).email for m in mail)


def test_accepting_the_final_report_completes_the_grant(client, login_as, grant, officer):
    report = final_report(grant)
    fill(report, grantee_of(grant), spent=("5000000", "3500000.50"))
    from fundapp.disbursements import reporting

    reporting.submit_report(_db.session, grantee_of(grant), report)
    _db.session.commit()
    login_as(officer)
    assert post_form(client, url(grant, report.number, "/accept")).status_code == 302
    _db.session.expire_all()
    assert grant.state == GrantState.COMPLETED


def test_the_grantee_cannot_accept(client, login_as, submitted_grant):
    login_as(grantee_of(submitted_grant))
    assert post_form(client, url(submitted_grant, suffix="/accept")).status_code == 403
    assert (
        post_form(client, url(submitted_grant, suffix="/request-changes"), {"reason": "x"}).status_code == 403
    )
    assert fresh(progress_report(submitted_grant).id).state == ReportState.SUBMITTED


def test_asking_for_changes_without_a_reason_is_refused(client, login_as, submitted_grant, officer):
    login_as(officer)
    response = post_form(client, url(submitted_grant, suffix="/request-changes"), {"reason": "  "})
    assert response.status_code == 400
    assert "Say what the grantee should change." in response.get_data(as_text=True)
    assert fresh(progress_report(submitted_grant).id).state == ReportState.SUBMITTED


def test_asking_for_changes_reopens_the_report(client, login_as, submitted_grant, officer, mail):
    login_as(officer)
    response = post_form(
        client, url(submitted_grant, suffix="/request-changes"), {"reason": "Add the <b>survey</b> photos."}
    )
    assert response.status_code == 302
    assert fresh(progress_report(submitted_grant).id).state == ReportState.CHANGES_REQUESTED
    assert any("Add the <b>survey</b> photos." in m["body_text"] for m in mail)
    switch_to(client, grantee_of(submitted_grant))
    html = client.get(url(submitted_grant)).get_data(as_text=True)
    assert 'id="report-form"' in html
    assert "Add the &lt;b&gt;survey&lt;/b&gt; photos." in html


def test_accepting_twice_is_refused_on_the_page(client, login_as, submitted_grant, officer):
    login_as(officer)
    assert post_form(client, url(submitted_grant, suffix="/accept")).status_code == 302
    response = post_form(client, url(submitted_grant, suffix="/accept"))
    assert response.status_code == 409
    assert "Accepted" in response.get_data(as_text=True)


# -- files ----------------------------------------------------------------------------------------------


def upload(client, grant, data, name, **fields):
    form = {"file": (io.BytesIO(data), name), "kind": "", "caption": "", **fields}
    return post_form(client, url(grant, suffix="/files"), form, content_type="multipart/form-data")


def report_files(grant):
    _db.session.expire_all()
    report = progress_report(grant)
    return _db.session.scalars(select(ReportFile).where(ReportFile.report_id == report.id)).all()


def test_a_photo_is_uploaded_shown_and_downloaded(client, login_as, grant):
    login_as(grantee_of(grant))
    response = upload(client, grant, png_bytes(), "seals.png", kind="photo", caption="Kenderli, May")
    assert response.status_code == 302
    (report_file,) = report_files(grant)
    html = client.get(url(grant)).get_data(as_text=True)
    file_url = url(grant, suffix=f"/files/{report_file.id}")
    assert f'<img src="{file_url}"' in html and "Kenderli, May" in html
    download = client.get(file_url)
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "image/png"
    assert download.data == png_bytes()
    download.close()


def test_pdf_bytes_named_png_are_refused_as_a_photo(client, login_as, grant):
    login_as(grantee_of(grant))
    response = upload(client, grant, MINIMAL_PDF, "seals.png", kind="photo")
    assert response.status_code == 400
    assert "PDF" in response.get_data(as_text=True)
    assert report_files(grant) == []


def test_a_file_over_the_limit_is_refused(client, login_as, grant, app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_FILE_MAX_BYTES", 100)
    login_as(grantee_of(grant))
    response = upload(client, grant, png_bytes(64, 64), "big.png")
    assert response.status_code == 413
    assert report_files(grant) == []


def test_a_removed_file_disappears(client, login_as, grant):
    login_as(grantee_of(grant))
    upload(client, grant, MINIMAL_PDF, "budget.pdf")
    (report_file,) = report_files(grant)
    file_id = report_file.id
    response = post_form(client, url(grant, suffix=f"/files/{file_id}/remove"))
    assert response.status_code == 302
    assert report_files(grant) == []
    assert client.get(url(grant, suffix=f"/files/{file_id}")).status_code == 404
    assert "budget.pdf" not in client.get(url(grant)).get_data(as_text=True)


def test_files_of_a_report_are_hidden_from_other_organisations(client, login_as, grant):
    login_as(grantee_of(grant))
    upload(client, grant, MINIMAL_PDF, "budget.pdf")
    (report_file,) = report_files(grant)
    outsider = make_outsider()
    _db.session.commit()
    switch_to(client, outsider)
    assert client.get(url(grant, suffix=f"/files/{report_file.id}")).status_code == 404
    assert post_form(client, url(grant, suffix=f"/files/{report_file.id}/remove")).status_code == 404


def test_a_file_of_another_report_is_404(client, login_as, grant):
    login_as(grantee_of(grant))
    upload(client, grant, MINIMAL_PDF, "budget.pdf")
    (report_file,) = report_files(grant)
    assert client.get(url(grant, 2, f"/files/{report_file.id}")).status_code == 404


def test_a_request_over_the_upload_limit_is_answered_on_the_page(client, login_as, grant, app, monkeypatch):
    login_as(grantee_of(grant))
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    response = upload(client, grant, png_bytes(128, 128) + b"\0" * 4000, "huge.png")
    assert response.status_code == 413
    assert "larger than the limit" in response.get_data(as_text=True)
    assert report_files(grant) == []


def test_a_variance_over_the_threshold_is_flagged_for_the_officer(client, login_as, grant, officer):
    report = progress_report(grant)
    fill(report, grantee_of(grant), spent=("2800000", "1750000.25"), explanations=("Two rangers more.", ""))
    from fundapp.disbursements import reporting

    reporting.submit_report(_db.session, grantee_of(grant), report)
    _db.session.commit()
    login_as(officer)
    html = client.get(url(grant)).get_data(as_text=True)
    assert '<tr class="table-warning">' in html
    assert '<span class="badge text-bg-warning">+12.0%</span>' in html
    assert "Two rangers more." in html
