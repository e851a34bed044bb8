"""The reports pages: staff list and ask for reports; a donor's contacts download their own donor's reports
and nothing else (404); other roles 403; anonymous visitors the login page."""

import pytest

from fundapp.core.permissions import Role
from fundapp.donors.models import GeneratedReport, ReportJobState, ReportKind
from fundapp.reports import generation
from tests.applications.factories import make_officer
from tests.conftest import post_form
from tests.disbursements.factories import make_finance_officer
from tests.donors.factories import make_donor, make_donor_user
from tests.factories import make_user
from tests.reports.test_report_data import donor_scenario


@pytest.fixture
def done_report(db):
    scenario = donor_scenario()
    report_id = generation.request_report(db.session, make_officer(), ReportKind.DONOR, scenario.donor, {}).id
    db.session.commit()
    generation.start_report(report_id)
    db.session.expire_all()
    return db.session.get(GeneratedReport, report_id)


@pytest.mark.parametrize("roles", [(Role.FINANCE_OFFICER,), (Role.PROGRAMME_OFFICER,), (Role.ADMIN,)])
def test_staff_see_the_list_and_download(client, login_as, done_report, roles):
    login_as(make_user(roles=roles))
    page = client.get("/reports/")
    assert page.status_code == 200 and done_report.sha256 in page.get_data(as_text=True)
    with client.get(f"/reports/{done_report.id}/download") as download:
        assert download.status_code == 200 and download.mimetype == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.get_data().startswith(b"%PDF")


def test_staff_generate_a_donor_report_from_the_form(client, login_as, db):
    scenario = donor_scenario()
    login_as(make_finance_officer())
    response = post_form(
        client,
        "/reports/donor",
        {"donor-donor": scenario.donor.id, "donor-date_from": "", "donor-date_to": ""},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Ready" in text and "Refresh" not in page.headers
    report = db.session.scalars(db.select(GeneratedReport).order_by(GeneratedReport.id.desc())).first()
    assert report.state == ReportJobState.DONE and report.requested_by.roles == {Role.FINANCE_OFFICER}


def test_a_period_ending_in_the_future_is_refused_next_to_the_field(client, login_as, db):
    scenario = donor_scenario()
    login_as(make_finance_officer())
    response = post_form(
        client, "/reports/donor", {"donor-donor": scenario.donor.id, "donor-date_to": "2999-01-01"}
    )
    assert response.status_code == 400
    assert "cannot cover days that have not come yet" in response.get_data(as_text=True)


def test_a_running_report_refreshes_itself(client, login_as, db):
    report = generation.request_report(db.session, make_officer(), ReportKind.PORTFOLIO, None, {"year": 2026})
    db.session.commit()
    login_as(make_finance_officer())
    page = client.get(f"/reports/{report.id}")
    assert page.headers["Refresh"] == "2"
    assert '<meta http-equiv="refresh" content="2">' in page.get_data(as_text=True)
    assert client.get(f"/reports/{report.id}/download").status_code == 404


def test_a_donor_contact_downloads_their_own_report(client, login_as, db, done_report):
    login_as(make_donor_user(done_report.donor))
    with client.get(f"/reports/{done_report.id}/download") as download:
        assert download.status_code == 200 and download.get_data().startswith(b"%PDF")
    assert client.get(f"/reports/{done_report.id}").status_code == 200
    assert client.get("/reports/").status_code == 403


def test_another_donors_contact_gets_404(client, login_as, db, done_report):
    login_as(make_donor_user(make_donor()))
    assert client.get(f"/reports/{done_report.id}/download").status_code == 404
    assert client.get(f"/reports/{done_report.id}").status_code == 404


def test_other_roles_get_403(client, login_as, done_report):
    login_as(make_user(roles=(Role.APPLICANT,)))
    assert client.get(f"/reports/{done_report.id}/download").status_code == 403
    assert client.get("/reports/").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, done_report):
    response = client.get(f"/reports/{done_report.id}/download")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_unknown_report_is_404(client, login_as, db):
    login_as(make_finance_officer())
    assert client.get("/reports/999999/download").status_code == 404
