"""What grants add to home pages and to ``fundapp summary``: each role's next step, and the counts."""

import json

from fundapp.disbursements import operations
from fundapp.disbursements.models import ReportState
from tests.applications.factories import make_officer
from tests.conftest import post_form
from tests.disbursements.factories import days_ago, make_finance_officer, make_grant


def home(client):
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_officer_is_asked_to_sign_agreements_and_review_reports(client, db, login_as):
    officer = make_officer()
    unsigned = make_grant()
    active = make_grant(active=True, start=days_ago(400), end=days_ago(10))
    active.reports[0].state = ReportState.SUBMITTED
    db.session.commit()
    login_as(officer)

    page = home(client)

    assert f"Prepare and sign the agreement of {unsigned.reference}" in page
    assert f"Review progress report 1 of {active.reference}" in page
    assert f"/grants/{active.reference}/reports/1" in page


def test_a_finance_officer_sees_tranches_to_approve_and_to_release_but_not_their_own(client, db, login_as):
    approver, other = make_finance_officer(), make_finance_officer()
    grant = make_grant(active=True, start=days_ago(40), end=days_ago(-300))
    operations.refresh_due(db.session, grant)
    db.session.commit()
    login_as(approver)
    assert "1 tranche is due for approval" in home(client)

    operations.approve_tranche(db.session, approver, grant.tranches[0], bank_details_checked=True)
    db.session.commit()
    assert "waits for your release" not in home(client)  # approved by them: another must release

    post_form(client, "/logout", {})
    login_as(other)
    assert "1 approved tranche waits for your release" in home(client)


def test_a_grantee_is_asked_for_the_reports_it_owes(client, db, login_as):
    grant = make_grant(active=True, start=days_ago(400), end=days_ago(10))
    member = grant.organisation.memberships[0].user
    grant.reports[0].state = ReportState.CHANGES_REQUESTED
    db.session.commit()
    login_as(member)

    page = home(client)

    assert f"Revise progress report 1 of {grant.reference}: the fund asked for changes" in page
    assert f"Write the final report of {grant.reference}, due" in page


def test_summary_counts_grants_tranches_reports_and_pool_balances(runner, db):
    grant = make_grant(active=True, amount_minor=10_000_000_00, start=days_ago(30), end=days_ago(-300))
    make_grant()
    db.session.commit()

    result = runner.invoke(args=["summary", "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["grants_by_state"] == {"active": 1, "agreement": 1, "total": 2}
    assert summary["tranches_by_state"]["total"] == 6
    assert summary["grant_reports_by_state"] == {"due": 4, "total": 4}
    pool = summary["pool_balances"][grant.pool.code]
    assert pool["committed_minor"] == 10_000_000_00
    assert pool["available_minor"] == pool["received_minor"] - 10_000_000_00
