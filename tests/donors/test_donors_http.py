"""The staff donor pages: who may open each one, the forms with good and bad input, double submissions."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fundapp.core.formatting import fund_today
from fundapp.core.permissions import Role
from fundapp.donors.models import Contribution, Donor, DonorContact, Pledge, PledgeState
from tests.applications.factories import make_officer
from tests.conftest import login, post_form
from tests.disbursements.factories import make_finance_officer
from tests.donors.factories import make_contribution, make_donor, make_donor_user, make_pledge, make_pool
from tests.factories import make_applicant, make_user

PEOPLE = [
    "anon",
    "applicant",
    "reviewer",
    "board_member",
    "donor",
    "programme_officer",
    "finance_officer",
    "admin",
]
READ = [302, 403, 403, 403, 403, 200, 200, 200]
MANAGE = [302, 403, 403, 403, 403, 403, 200, 200]
MISSING = [302, 403, 403, 403, 403, 404, 404, 404]

GET_ROUTES = {
    "/donors/": READ,
    "/donors/new": MANAGE,
    "/donors/{donor}": READ,
    "/donors/{donor}/edit": MANAGE,
    "/donors/{donor}/contacts/new": MANAGE,
    "/donors/{donor}/pledges/new": MANAGE,
    "/donors/{donor}/contributions/new": MANAGE,
    "/donors/DNR-9999": MISSING,
}


@pytest.fixture
def world(db):
    pool = make_pool("GENERAL")
    donor = make_donor(name="Caspian Seal Trust", preferred_currency="EUR")
    make_contribution(donor, pool, "1000.00", currency="EUR", rate="500", value_date=date(2026, 2, 1))
    people = {
        "applicant": make_applicant(),
        "reviewer": make_user(roles=[Role.REVIEWER]),
        "board_member": make_user(roles=[Role.BOARD_MEMBER]),
        "donor": make_donor_user(donor),
        "programme_officer": make_officer(),
        "finance_officer": make_finance_officer(),
        "admin": make_user(roles=[Role.ADMIN]),
    }
    db.session.commit()
    return {"pool": pool, "donor": donor, "people": people}


def browser(app, world, person):
    client = app.test_client()
    if person != "anon":
        login(client, world["people"][person])
    return client


def text(response):
    return response.get_data(as_text=True)


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("route", "person", "expected"),
    [(route, person, codes[i]) for route, codes in GET_ROUTES.items() for i, person in enumerate(PEOPLE)],
)
def test_who_may_open_each_page(app, world, route, person, expected):
    response = browser(app, world, person).get(route.format(donor=world["donor"].reference))
    assert response.status_code == expected
    if person == "anon":
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("person", ["anon", "applicant", "donor", "programme_officer"])
def test_people_who_may_not_manage_change_nothing(app, db, world, person):
    client = browser(app, world, person)
    reference = world["donor"].reference
    before = count(db, Donor), count(db, Contribution), count(db, Pledge), count(db, DonorContact)
    data = {
        "name": "X",
        "kind": "company",
        "country": "DE",
        "preferred_currency": "EUR",
        "preferred_language": "en",
    }
    data |= {"email": "x@example.org", "amount": "5", "rate": "500", "value_date": fund_today().isoformat()}
    data |= {"pool": "GENERAL", "idempotency_key": "k", "pledged_on": fund_today().isoformat()}
    for route in ("/donors/new", f"/donors/{reference}/edit", f"/donors/{reference}/contacts/new"):
        assert post_form(client, route, data).status_code in (302, 403)
    for route in (f"/donors/{reference}/pledges/new", f"/donors/{reference}/contributions/new"):
        assert post_form(client, route, data).status_code in (302, 403)
    assert (count(db, Donor), count(db, Contribution), count(db, Pledge), count(db, DonorContact)) == before


def test_programme_officer_reads_without_buttons(app, world):
    page = text(browser(app, world, "programme_officer").get(f"/donors/{world['donor'].reference}"))
    assert "Caspian Seal Trust" in page and "1,000.00" in page
    assert "Record a contribution" not in page


def test_the_list_shows_totals_per_donor(app, world):
    page = text(browser(app, world, "finance_officer").get("/donors/"))
    assert "Caspian Seal Trust" in page and "500,000.00" in page


def test_a_finance_officer_records_a_donor(app, db, world):
    client = browser(app, world, "finance_officer")
    data = {"name": "Steppe Fund", "kind": "foundation", "country": "us", "preferred_language": "ru"}
    response = post_form(client, "/donors/new", data | {"preferred_currency": "usd"})
    assert response.status_code == 302
    donor = db.session.scalar(select(Donor).where(Donor.name == "Steppe Fund"))
    assert (donor.country, donor.preferred_currency, donor.preferred_language) == ("US", "USD", "ru")


@pytest.mark.parametrize(
    ("field", "value"),
    [("country", "Germany"), ("preferred_currency", "E1"), ("kind", "alien"), ("preferred_language", "fr")],
)
def test_bad_donor_details_are_refused_next_to_the_field(app, db, world, field, value):
    client = browser(app, world, "admin")
    data = {
        "name": "Bad",
        "kind": "company",
        "country": "DE",
        "preferred_language": "en",
        "preferred_currency": "EUR",
    }
    response = post_form(client, "/donors/new", data | {field: value})
    assert response.status_code == 400
    assert "is-invalid" in text(response)
    assert db.session.scalar(select(Donor).where(Donor.name == "Bad")) is None


def test_editing_a_donor(app, db, world):
    client = browser(app, world, "finance_officer")
    reference = world["donor"].reference
    data = {
        "name": "Caspian Seal Trust II",
        "kind": "foundation",
        "country": "GB",
        "preferred_language": "en",
    }
    response = post_form(client, f"/donors/{reference}/edit", data | {"preferred_currency": "EUR"})
    assert response.status_code == 302
    response = post_form(client, f"/donors/{reference}/edit", data | {"preferred_currency": "USD"})
    assert response.status_code == 400 and "stays EUR" in text(response)
    db.session.expire_all()
    assert (
        db.session.scalar(select(Donor.name).where(Donor.reference == reference)) == "Caspian Seal Trust II"
    )


def test_a_contact_with_portal_access_is_mailed(app, db, world, mail):
    client = browser(app, world, "finance_officer")
    reference = world["donor"].reference
    data = {"name": "Lena", "email": "lena@example.org", "position": "Programme lead", "portal_access": "y"}
    assert post_form(client, f"/donors/{reference}/contacts/new", data).status_code == 302
    contact = db.session.scalar(select(DonorContact).where(DonorContact.email == "lena@example.org"))
    assert contact.user_id is not None
    assert any(m["to_address"] == "lena@example.org" for m in mail)

    response = post_form(client, f"/donors/{reference}/contacts/{contact.id}/portal", {"action": "remove"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(DonorContact, contact.id).user_id is None


def test_a_bad_contact_email_is_refused(app, db, world):
    client = browser(app, world, "finance_officer")
    response = post_form(
        client, f"/donors/{world['donor'].reference}/contacts/new", {"name": "X", "email": "nope"}
    )
    assert response.status_code == 400
    assert count(db, DonorContact) == 1


def test_a_pledge_with_instalments(app, db, world):
    client = browser(app, world, "finance_officer")
    today = fund_today()
    data = {"pool": "GENERAL", "amount": "1000.00", "pledged_on": today.isoformat()}
    data |= {
        "instalments-0-due_on": (today + timedelta(days=30)).isoformat(),
        "instalments-0-amount": "600.00",
    }
    data |= {
        "instalments-1-due_on": (today + timedelta(days=90)).isoformat(),
        "instalments-1-amount": "300.00",
    }
    response = post_form(client, f"/donors/{world['donor'].reference}/pledges/new", data)
    assert response.status_code == 400
    assert "100.00 EUR missing" in text(response)
    assert count(db, Pledge) == 0

    data["instalments-1-amount"] = "400.00"
    assert post_form(client, f"/donors/{world['donor'].reference}/pledges/new", data).status_code == 302
    pledge = db.session.scalar(select(Pledge))
    assert [i.amount_minor for i in pledge.instalments] == [600_00, 400_00]


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": "abc"},
        {"amount": "1,000"},
        {"pledged_on": "tomorrow"},
        {"pool": "NOPE"},
        {"instalments-0-due_on": "2026-13-45", "instalments-0-amount": "1000"},
        {"instalments-0-amount": "1000"},
    ],
)
def test_bad_pledges_are_4xx(app, db, world, changes):
    client = browser(app, world, "finance_officer")
    data = {"pool": "GENERAL", "amount": "1000.00", "pledged_on": fund_today().isoformat()} | changes
    response = post_form(client, f"/donors/{world['donor'].reference}/pledges/new", data)
    assert response.status_code == 400
    assert count(db, Pledge) == 0


def test_cancelling_a_pledge(app, db, world):
    pledge = make_pledge(world["donor"], world["pool"], "100.00")
    db.session.commit()
    client = browser(app, world, "finance_officer")
    url = f"/donors/{world['donor'].reference}/pledges/{pledge.id}/cancel"
    assert post_form(client, url).status_code == 302
    db.session.expire_all()
    assert db.session.get(Pledge, pledge.id).state == PledgeState.CANCELLED
    assert post_form(client, url).status_code == 303  # already cancelled: said so on the page
    assert post_form(client, f"/donors/{world['donor'].reference}/pledges/99999/cancel").status_code == 404


def contribution_data(**changes):
    data = {
        "amount": "2500.00",
        "rate": "510.5",
        "value_date": fund_today().isoformat(),
        "pool": "GENERAL",
        "bank_reference": "SWIFT-42",
        "idempotency_key": "form-1",
    }
    return data | changes


def test_a_contribution_is_recorded_once_however_often_it_is_sent(app, db, world):
    client = browser(app, world, "finance_officer")
    url = f"/donors/{world['donor'].reference}/contributions/new"
    first = post_form(client, url, contribution_data())
    second = post_form(client, url, contribution_data())
    assert first.status_code == second.status_code == 302
    rows = db.session.scalars(select(Contribution).where(Contribution.bank_reference == "SWIFT-42")).all()
    assert len(rows) == 1 and rows[0].base_amount_minor == 1_276_250_00

    clash = post_form(client, url, contribution_data(amount="1.00"))
    assert clash.status_code == 409


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": "0"},
        {"amount": "-1"},
        {"amount": "12.345"},
        {"amount": "x"},
        {"rate": "0"},
        {"rate": ""},
        {"rate": "abc"},
        {"rate": "1e999999"},
        {"rate": "1e-999999"},
        {"amount": "1e30"},
        {"amount": "99999999999999999999"},
        {"value_date": "2999-01-01"},
        {"value_date": "31/02/2026"},
        {"pool": "NOPE"},
        {"pool": ""},
        {"pledge": "999"},
        {"idempotency_key": ""},
        {"bank_reference": "x" * 200},
    ],
)
def test_bad_contributions_are_4xx_and_record_nothing(app, db, world, changes):
    client = browser(app, world, "finance_officer")
    before = count(db, Contribution)
    response = post_form(
        client, f"/donors/{world['donor'].reference}/contributions/new", contribution_data(**changes)
    )
    assert 400 <= response.status_code < 500
    assert count(db, Contribution) == before


def test_a_contribution_into_a_pool_in_another_currency_is_not_offered(app, db, world):
    make_pool("DOLLARS", currency="USD")
    db.session.commit()
    client = browser(app, world, "finance_officer")
    page = text(client.get(f"/donors/{world['donor'].reference}/contributions/new"))
    assert "GENERAL" in page and "DOLLARS" not in page
    response = post_form(
        client, f"/donors/{world['donor'].reference}/contributions/new", contribution_data(pool="DOLLARS")
    )
    assert response.status_code == 400
