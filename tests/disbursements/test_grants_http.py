"""The grant pages: who may open each one, what each person sees, the forms and bad input."""

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundapp.accounts.models import Membership
from fundapp.core.db import utcnow
from fundapp.core.formatting import fund_today
from fundapp.core.permissions import Role
from fundapp.disbursements import ledger, operations
from fundapp.disbursements.models import GrantState, JournalEntry, Tranche, TrancheState
from tests.applications.factories import make_officer
from tests.conftest import login, post_form
from tests.core.sample_files import MINIMAL_PDF
from tests.disbursements.factories import days_ago, make_finance_officer, make_grant
from tests.factories import make_applicant, make_user

PEOPLE = ["anon", "grantee", "outsider", "reviewer", "programme_officer", "finance_officer", "admin"]
#: Pages of a grant: its organisation's members and fund staff; to other applicants it does not exist.
READERS = [302, 200, 404, 404, 200, 200, 200]
OFFICER_PAGES = [302, 403, 403, 403, 200, 403, 403]
FINANCE_PAGES = [302, 403, 403, 403, 403, 200, 403]
LIST = [302, 200, 200, 403, 200, 200, 200]
MISSING = [302, 404, 404, 404, 404, 404, 404]

GET_ROUTES = {
    "/grants": LIST,
    "/grants/{active}": READERS,
    "/grants/{agreement}": READERS,
    "/grants/IBF-1999-9999": MISSING,
    "/grants/{agreement}/agreement.pdf": READERS,
    "/grants/{active}/signed-copy": READERS,
    "/grants/{agreement}/signed-copy": MISSING,
    "/grants/{agreement}/schedule": OFFICER_PAGES,
    "/grants/{agreement}/sign": OFFICER_PAGES,
    "/grants/{active}/schedule": OFFICER_PAGES,
    "/grants/{active}/tranches/1/release": FINANCE_PAGES,
    "/grants/{active}/refund": FINANCE_PAGES,
}
POSTS = {
    "/grants/{active}/tranches/1/approve": "finance_officer",
    "/grants/{active}/tranches/1/withdraw-approval": "finance_officer",
    "/grants/{active}/tranches/1/release": "finance_officer",
    "/grants/{active}/refund": "finance_officer",
    "/grants/{active}/tranches/1/cancel": "programme_officer",
    "/grants/{agreement}/schedule": "programme_officer",
    "/grants/{agreement}/sign": "programme_officer",
    "/grants/{active}/suspend": "programme_officer",
    "/grants/{active}/resume": "programme_officer",
    "/grants/{active}/terminate": "programme_officer",
    "/grants/{active}/complete": "programme_officer",
    "/grants/{active}/close": "programme_officer",
    "/grants/{agreement}/cancel": "programme_officer",
}


def read(response):
    return response.get_data(as_text=True)


def text_of(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", read(response)))


@pytest.fixture
def people(db):
    officer = make_officer(full_name="Programme Officer")
    active = make_grant(active=True, officer=officer, start=days_ago(100), end=days_ago(-265))
    active.agenda_item.decided_at = utcnow() - timedelta(days=120)
    agreement = make_grant(officer=officer)
    agreement.agenda_item.decided_at = utcnow() - timedelta(days=5)
    grantee = make_user(roles=[Role.APPLICANT], full_name="Grantee Member")
    active.organisation.memberships.append(Membership(user=grantee, is_manager=True))
    agreement.organisation.memberships.append(Membership(user=grantee, is_manager=False))
    everyone = {
        "grantee": grantee,
        "outsider": make_applicant(),
        "reviewer": make_user(roles=[Role.REVIEWER]),
        "programme_officer": officer,
        "finance_officer": make_finance_officer(full_name="Finance Officer A"),
        "finance_b": make_finance_officer(full_name="Finance Officer B"),
        "admin": make_user(roles=[Role.ADMIN]),
        "active": active,
        "agreement": agreement,
    }
    db.session.commit()
    return everyone


@pytest.fixture
def places(people):
    return {"active": people["active"].reference, "agreement": people["agreement"].reference}


def browser_for(app, people, person):
    browser = app.test_client()
    if person != "anon":
        login(browser, people[person])
    return browser


@pytest.mark.parametrize(
    ("route", "person", "expected"),
    [(route, person, codes[i]) for route, codes in GET_ROUTES.items() for i, person in enumerate(PEOPLE)],
)
def test_who_may_open_each_page(app, people, places, route, person, expected):
    response = browser_for(app, people, person).get(route.format(**places))
    body = response.get_data()
    response.close()
    assert response.status_code == expected, body[:500]


@pytest.mark.parametrize(("route", "allowed"), POSTS.items())
@pytest.mark.parametrize("person", ["anon", "grantee", "outsider", "reviewer", "admin"])
def test_posts_are_refused_to_people_without_the_role(app, people, places, route, allowed, person):
    browser = browser_for(app, people, person)
    response = post_form(browser, route.format(**places), {})
    assert response.status_code == (302 if person == "anon" else 403)


@pytest.mark.parametrize(("route", "allowed"), POSTS.items())
def test_posts_by_the_right_role_never_fail_on_an_empty_form(app, people, places, route, allowed):
    response = post_form(browser_for(app, people, allowed), route.format(**places), {})
    assert response.status_code in (302, 400), read(response)[:500]


def test_the_other_staff_role_is_refused(app, people, places):
    finance = browser_for(app, people, "finance_officer")
    assert post_form(finance, f"/grants/{places['active']}/suspend", {"reason": "x"}).status_code == 403
    officer = browser_for(app, people, "programme_officer")
    assert post_form(officer, f"/grants/{places['active']}/tranches/1/approve", {}).status_code == 403


def test_unknown_tranche_is_404(app, people, places):
    finance = browser_for(app, people, "finance_officer")
    assert finance.get(f"/grants/{places['active']}/tranches/9/release").status_code == 404
    assert post_form(finance, f"/grants/{places['active']}/tranches/9/approve", {}).status_code == 404


def test_post_only_routes_answer_405_to_a_get(app, people, places):
    finance = browser_for(app, people, "finance_officer")
    assert finance.get(f"/grants/{places['active']}/tranches/1/approve").status_code == 405


# -- what each person sees -----------------------------------------------------------------------------------


def test_bank_details_are_shown_to_finance_and_members_only(app, people, places):
    iban = people["active"].bank_iban
    for person, shown in [
        ("finance_officer", True),
        ("grantee", True),
        ("programme_officer", False),
        ("admin", False),
    ]:
        page = read(browser_for(app, people, person).get(f"/grants/{places['active']}"))
        assert (iban in page) is shown, person


def test_the_grant_page_shows_figures_timeline_tranches_and_reports(app, people, places):
    page = text_of(browser_for(app, people, "finance_officer").get(f"/grants/{places['active']}"))
    grant = people["active"]
    assert grant.title in page
    assert "Committed" in page and "Outstanding" in page
    assert "Timeline" in page and "Overdue" in page  # tranche 1 due since the start
    assert "Approve tranche 1" in page
    assert "Progress report 1" in page and "Final report 2" in page


def test_the_grantee_sees_no_staff_actions(app, people, places):
    page = text_of(browser_for(app, people, "grantee").get(f"/grants/{places['active']}"))
    assert "Approve tranche" not in page and "Suspend" not in page and "Edit the schedule" not in page
    assert people["active"].title in page


def test_the_list_shows_an_applicant_only_their_grants(app, people, places):
    page = read(browser_for(app, people, "grantee").get("/grants"))
    assert places["active"] in page and places["agreement"] in page
    outsider = read(browser_for(app, people, "outsider").get("/grants"))
    assert places["active"] not in outsider
    staff = read(browser_for(app, people, "admin").get("/grants?state=agreement"))
    assert places["agreement"] in staff and places["active"] not in staff
    assert browser_for(app, people, "admin").get("/grants?state=nonsense&page=abc").status_code == 200


def test_the_list_takes_a_constant_number_of_queries(app, db, people):
    from sqlalchemy import event

    browser = browser_for(app, people, "admin")

    def count():
        statements = []

        def listen(*args):
            statements.append(args)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", listen)
        try:
            assert browser.get("/grants").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        return len(statements)

    few = count()
    for _ in range(3):
        make_grant()
    db.session.commit()
    assert count() == few


def test_the_agreement_pdf_is_stored_on_first_download(app, db, people, places):
    response = browser_for(app, people, "grantee").get(f"/grants/{places['agreement']}/agreement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF")
    response.close()
    db.session.expire_all()
    assert people["agreement"].agreement_sha256 is not None


# -- the schedule --------------------------------------------------------------------------------------------


def schedule_data(grant, **changes):
    data = {}
    for index, tranche in enumerate(grant.tranches):
        data[f"rows-{index}-amount"] = f"{tranche.amount.amount:f}"
        data[f"rows-{index}-planned_date"] = tranche.planned_date.isoformat()
        data[f"rows-{index}-gate"] = tranche.gate.value
    data.update(changes)
    return data


def test_a_schedule_that_does_not_add_up_keeps_the_typed_values(app, db, people, places):
    officer = browser_for(app, people, "programme_officer")
    grant = people["agreement"]
    response = post_form(
        officer,
        f"/grants/{places['agreement']}/schedule",
        schedule_data(grant, **{"rows-0-amount": "123456789"}),
    )
    assert response.status_code == 400
    assert "more than the grant" in text_of(response)
    assert 'value="123456789"' in read(response)
    db.session.expire_all()
    assert grant.tranches[0].amount_minor != 123456789_00


@pytest.mark.parametrize(
    "changes",
    [
        {"rows-0-amount": "lots"},
        {"rows-0-amount": "1,000"},
        {"rows-0-amount": "1.001"},
        {"rows-0-planned_date": "2026-13-45"},
        {"rows-0-gate": "whenever"},
        {"rows-0-amount": "9" * 40},
    ],
)
def test_bad_schedule_input_is_a_400(app, people, places, changes):
    officer = browser_for(app, people, "programme_officer")
    response = post_form(
        officer, f"/grants/{places['agreement']}/schedule", schedule_data(people["agreement"], **changes)
    )
    assert response.status_code == 400


def test_the_schedule_is_saved(app, db, people, places):
    officer = browser_for(app, people, "programme_officer")
    grant = people["agreement"]
    amounts = [t.amount for t in grant.tranches]
    data = schedule_data(
        grant,
        **{
            "rows-0-amount": f"{(amounts[0] + amounts[2]).amount:f}",
            "rows-2-amount": "",
            "rows-2-planned_date": "",
        },
    )
    response = post_form(officer, f"/grants/{places['agreement']}/schedule", data)
    assert response.status_code == 302, text_of(response)
    db.session.expire_all()
    assert len(grant.tranches) == 2


# -- signing -------------------------------------------------------------------------------------------------


def sign_data(**changes):
    data = {
        "grantee_signatory": "Director",
        "grantee_signed_on": days_ago(1).isoformat(),
        "fund_signatory": "Executive director",
        "fund_signed_on": fund_today().isoformat(),
        "signed_copy": (io.BytesIO(MINIMAL_PDF), "signed.pdf"),
    }
    data.update(changes)
    return data


def test_signing_through_the_page_activates_the_grant(app, db, people, places, mail):
    officer = browser_for(app, people, "programme_officer")
    response = post_form(
        officer, f"/grants/{places['agreement']}/sign", sign_data(), content_type="multipart/form-data"
    )
    assert response.status_code == 302, text_of(response)
    db.session.expire_all()
    grant = people["agreement"]
    assert grant.state == GrantState.ACTIVE
    assert ledger.grant_figures(db.session, grant).committed == grant.amount
    assert any("is active" in message["subject"] for message in mail)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"signed_copy": (io.BytesIO(b"hello, not a pdf"), "signed.pdf")}, "cannot be uploaded here"),
        ({"fund_signed_on": "yesterday-ish"}, ""),
        ({"fund_signed_on": lambda: days_ago(-3).isoformat()}, "future"),
        ({"grantee_signed_on": lambda: days_ago(40).isoformat()}, "cannot have been signed before"),
        ({"signed_copy": (io.BytesIO(b""), "")}, "signed copy"),
    ],
)
def test_bad_signatures_are_refused_on_the_page(app, db, people, places, changes, message):
    officer = browser_for(app, people, "programme_officer")
    changes = {key: value() if callable(value) else value for key, value in changes.items()}
    response = post_form(
        officer,
        f"/grants/{places['agreement']}/sign",
        sign_data(**changes),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert message in text_of(response)
    db.session.expire_all()
    assert people["agreement"].state == GrantState.AGREEMENT


# -- approve and release -------------------------------------------------------------------------------------


def release_key(page):
    return re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', read(page)).group(1)


def test_two_finance_officers_approve_and_release(app, db, people, places, mail):
    a = browser_for(app, people, "finance_officer")
    b = browser_for(app, people, "finance_b")
    reference = places["active"]
    refused = post_form(a, f"/grants/{reference}/tranches/1/approve", {})
    assert refused.status_code == 400 and "checked the bank details" in text_of(refused)
    assert (
        post_form(a, f"/grants/{reference}/tranches/1/approve", {"bank_details_checked": "y"}).status_code
        == 302
    )
    page = text_of(a.get(f"/grants/{reference}"))
    assert "another finance officer must release it" in page
    own = a.get(f"/grants/{reference}/tranches/1/release")
    response = post_form(
        a,
        f"/grants/{reference}/tranches/1/release",
        {"paid_on": fund_today().isoformat(), "bank_reference": "PAY-1", "idempotency_key": release_key(own)},
    )
    assert response.status_code == 400 and "four eyes" in text_of(response)

    form = b.get(f"/grants/{reference}/tranches/1/release")
    key = release_key(form)
    data = {"paid_on": fund_today().isoformat(), "bank_reference": "PAY-1", "idempotency_key": key}
    assert post_form(b, f"/grants/{reference}/tranches/1/release", data).status_code == 302
    entries = db.session.scalar(select(func.count(JournalEntry.id)))
    again = post_form(b, f"/grants/{reference}/tranches/1/release", data, follow_redirects=True)
    assert again.status_code == 200 and "already released" in text_of(again)
    assert db.session.scalar(select(func.count(JournalEntry.id))) == entries
    conflict = post_form(b, f"/grants/{reference}/tranches/1/release", {**data, "bank_reference": "PAY-2"})
    assert conflict.status_code == 409 and "other details" in text_of(conflict)
    tranche = db.session.scalar(
        select(Tranche).where(Tranche.grant_id == people["active"].id, Tranche.number == 1)
    )
    assert tranche.state == TrancheState.RELEASED and tranche.bank_reference == "PAY-1"
    assert ledger.check_ledger(db.session) == []
    assert any("tranche 1 paid" in message["subject"] for message in mail)


@pytest.mark.parametrize("paid_on", ["", "31/12/2026", "2026-02-30"])
def test_bad_release_dates_are_a_400(app, people, places, paid_on):
    b = browser_for(app, people, "finance_b")
    response = post_form(
        b,
        f"/grants/{places['active']}/tranches/1/release",
        {"paid_on": paid_on, "bank_reference": "P", "idempotency_key": "k"},
    )
    assert response.status_code == 400


def test_release_before_approval_is_refused_on_the_page(app, people, places):
    b = browser_for(app, people, "finance_b")
    response = post_form(
        b,
        f"/grants/{places['active']}/tranches/2/release",
        {"paid_on": fund_today().isoformat(), "bank_reference": "P", "idempotency_key": "k"},
    )
    assert response.status_code == 400 and "not approved yet" in text_of(response)


# -- refunds and the grant's life ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-5", "positive amount"), ("0", "positive amount"), ("abc", "not an amount"), ("999999999", "at most")],
)
def test_bad_refunds_are_refused(app, people, places, amount, message):
    a = browser_for(app, people, "finance_officer")
    response = post_form(
        a,
        f"/grants/{places['active']}/refund",
        {"amount": amount, "value_date": fund_today().isoformat(), "bank_reference": "R"},
    )
    assert response.status_code == 400
    assert message in text_of(response)


def test_terminate_then_close_through_the_pages(app, db, people, places):
    officer = browser_for(app, people, "programme_officer")
    reference = places["active"]
    refused = post_form(officer, f"/grants/{reference}/terminate", {"reason": ""})
    assert refused.status_code == 400
    assert post_form(officer, f"/grants/{reference}/terminate", {"reason": "Stopped."}).status_code == 302
    assert post_form(officer, f"/grants/{reference}/close", {}).status_code == 302
    db.session.expire_all()
    grant = people["active"]
    assert grant.state == GrantState.CLOSED
    assert ledger.grant_figures(db.session, grant).outstanding.minor == 0
    assert ledger.check_ledger(db.session) == []


def test_a_refused_action_shows_the_unchanged_page(app, db, people, places):
    officer = browser_for(app, people, "programme_officer")
    response = post_form(officer, f"/grants/{places['active']}/close", {})
    assert response.status_code == 400
    assert "so it cannot become Closed" in text_of(response)
    db.session.expire_all()
    assert people["active"].state == GrantState.ACTIVE


def test_operations_module_is_what_the_views_call(app, people):
    assert operations.grant_actions(people["active"], people["programme_officer"]) >= {"suspend", "terminate"}
