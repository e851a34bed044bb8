"""Registering an organisation through the web form."""

from sqlalchemy import func, select

from fundapp.accounts.models import Organisation, User
from fundapp.core.audit import AuditEvent
from tests.conftest import post_form
from tests.factories import make_organisation, region, valid_bin


def registration_data(**overrides):
    data = {
        "full_name": "Aliya Dzhaksybekova",
        "email": "aliya@caspianseal.org",
        "password": "seals-of-the-caspian",
        "confirm": "seals-of-the-caspian",
        "name_en": "Caspian Seal Society",
        "name_ru": "Общество каспийского тюленя",
        "name_kk": "Каспий итбалығы қоғамы",
        "bin": valid_bin(),
        "org_type": "ngo",
        "region_id": str(region("KZ-47").id),
        "legal_address": "Aktau, 9th microdistrict, 12",
        "bank_iban": "KZ86 125K ZT50 0410 0100",
        "bank_bic": "HSBKKZKX",
        "bank_kbe": "18",
    }
    data.update(overrides)
    return data


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def field_error(html, field_id):
    """The text of the error shown next to a field."""
    marker = f'id="{field_id}-error">'
    assert marker in html, f"no error shown next to {field_id}"
    return html.split(marker, 1)[1].split("<", 1)[0]


def test_registration_creates_organisation_with_its_first_manager(client, db):
    data = registration_data()
    response = post_form(client, "/register", data)

    assert response.status_code == 302
    organisation = db.session.scalar(select(Organisation).where(Organisation.bin == data["bin"]))
    assert organisation.name_kk == "Каспий итбалығы қоғамы"
    assert organisation.bank_iban == "KZ86125KZT5004100100"
    [membership] = organisation.memberships
    assert membership.user.email == "aliya@caspianseal.org" and membership.is_manager
    assert {r.value for r in membership.user.roles} == {"applicant"}
    assert membership.user.password_hash.startswith("$argon2id$")
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "organisation.registered" in actions
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Caspian Seal Society" in page


def test_bad_bin_check_digit_is_refused_at_the_field(client, db):
    good = valid_bin()
    bad = good[:11] + str((int(good[11]) + 1) % 10)
    response = post_form(client, "/register", registration_data(bin=bad))

    assert response.status_code == 200
    assert "check digit is wrong" in field_error(response.get_data(as_text=True), "bin")
    assert count(db, Organisation) == 0
    assert count(db, User) == 0


def test_bin_must_have_twelve_digits(client, db):
    response = post_form(client, "/register", registration_data(bin="12345"))

    assert "exactly 12 digits" in field_error(response.get_data(as_text=True), "bin")
    assert count(db, Organisation) == 0


def test_duplicate_bin_is_refused_at_the_field(client, db):
    existing = make_organisation()
    db.session.commit()
    response = post_form(client, "/register", registration_data(bin=existing.bin, email="new@x.org"))

    assert "already registered" in field_error(response.get_data(as_text=True), "bin")
    assert count(db, Organisation) == 1
    assert count(db, User) == 0


def test_bad_email_is_refused_at_the_field(client, db):
    response = post_form(client, "/register", registration_data(email="not-an-email"))

    assert "valid email" in field_error(response.get_data(as_text=True), "email")
    assert count(db, Organisation) == 0
    assert count(db, User) == 0


def test_bad_iban_is_refused_at_the_field(client, db):
    response = post_form(client, "/register", registration_data(bank_iban="KZ00125KZT5004100100"))

    assert "check digits are wrong" in field_error(response.get_data(as_text=True), "bank_iban")
    assert count(db, Organisation) == 0


def test_unknown_region_is_refused(client, db):
    response = post_form(client, "/register", registration_data(region_id="999999"))

    assert "Not a valid choice" in field_error(response.get_data(as_text=True), "region_id")
    assert count(db, Organisation) == 0


def test_mismatched_passwords_are_refused(client, db):
    response = post_form(client, "/register", registration_data(confirm="something-else-entirely"))

    assert "differ" in field_error(response.get_data(as_text=True), "confirm")
    assert count(db, User) == 0


def test_registration_without_csrf_token_is_refused(client, db):
    response = client.post("/register", data=registration_data())

    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    assert count(db, Organisation) == 0
