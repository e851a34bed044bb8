"""An applicant registers their organisation, logs out and logs in again, in a real browser."""

import itertools
import re

import pytest
from playwright.sync_api import expect

from fundapp.accounts.identifiers import bin_check_digit

pytestmark = pytest.mark.browser

PASSWORD = "saiga-steppe-spring-2026"
_serial = itertools.count(1)


def valid_bin(serial):
    """A BIN with a correct check digit, different for each serial number."""
    for prefix in itertools.count(1503400):
        first_eleven = f"{prefix:07d}{serial:04d}"
        check = bin_check_digit(first_eleven)
        if check is not None:
            return first_eleven + str(check)
    raise AssertionError("unreachable")


def wrong_bin(serial):
    """A BIN of 12 digits whose check digit is wrong."""
    good = valid_bin(serial)
    return good[:11] + str((int(good[11]) + 1) % 10)


def applicant(serial):
    return {
        "full_name": f"Aigerim Nurlanovna {serial}",
        "email": f"aigerim.{serial}@caspian-seal.example",
        "name_kk": f"Каспий итбалығын қорғау қоры {serial}",
        "name_ru": f"Фонд защиты каспийского тюленя {serial}",
        "name_en": f"Caspian Seal Conservation Foundation {serial}",
    }


def fill_registration(page, person, bin_number):
    page.get_by_label("Your full name").fill(person["full_name"])
    page.get_by_label("Your email").fill(person["email"])
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_label("Name in Kazakh").fill(person["name_kk"])
    page.get_by_label("Name in Russian").fill(person["name_ru"])
    page.get_by_label("Name in English").fill(person["name_en"])
    page.get_by_label("BIN (business identification number)").fill(bin_number)
    page.get_by_label("Type of organisation").select_option(label="Non-governmental organisation")
    page.get_by_label("Region", exact=True).select_option(label="Mangystau Region")
    page.get_by_label("Legal address").fill("Aktau, 14th microdistrict, building 5, office 12")
    page.get_by_label("Bank", exact=True).fill("Halyk Bank of Kazakhstan")
    page.get_by_label("Bank BIC (SWIFT)").fill("HSBKKZKX")
    page.get_by_label("Account (IBAN)").fill("KZ86125KZT5004100100")
    page.get_by_label("Beneficiary code (Kbe)").fill("18")


def test_applicant_registers_logs_out_and_logs_in_again(page, screenshot):
    serial = next(_serial)
    person = applicant(serial)

    page.goto("/register")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register your organisation")
    fill_registration(page, person, valid_bin(serial))
    screenshot("register")
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(person["name_en"])
    expect(page.get_by_role("status")).to_contain_text(f"{person['name_en']} is registered. Welcome!")
    expect(page.get_by_role("cell", name="Mangystau Region")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You have logged out.")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)

    page.goto("/login")
    page.get_by_label("Email").fill(person["email"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {person['full_name']}")
    screenshot("home")


def test_wrong_bin_is_shown_next_to_the_field_and_nothing_is_registered(page, screenshot):
    serial = next(_serial)
    person = applicant(serial)

    page.goto("/register")
    fill_registration(page, person, wrong_bin(serial))
    page.get_by_role("button", name="Register").click()

    bin_field = page.get_by_label("BIN (business identification number)")
    expect(bin_field).to_have_attribute("aria-invalid", "true")
    expect(bin_field).to_have_accessible_description(re.compile("check digit is wrong"))
    expect(page.locator("#bin-error")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register your organisation")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    expect(page.get_by_label("Name in English")).to_have_value(person["name_en"])
    screenshot("register-wrong-bin")
