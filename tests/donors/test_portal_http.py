"""The donor portal: a donor's contact sees their figures, contributions, funded projects (with results and
photos of accepted reports) and reports; nothing of any other donor, whatever id they type."""

import io
from datetime import date

import pytest
from flask import render_template_string

from fundapp.core.formatting import date_cell, local_date, money, money_cell
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.core.storage import save_upload
from fundapp.disbursements.models import (
    GrantReport,
    GrantState,
    ReportFile,
    ReportFileKind,
    ReportIndicatorValue,
    ReportState,
)
from fundapp.donors.models import GeneratedReport, ReportJobState, ReportKind
from fundapp.extensions import db as _db
from tests.applications.factories import make_officer
from tests.conftest import login
from tests.disbursements.factories import make_finance_officer
from tests.donors.factories import (
    make_contribution,
    make_donor,
    make_donor_user,
    make_funded_grant,
    make_pool,
)
from tests.factories import make_applicant, make_user

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _accepted_report_with_photo(grant):
    report = grant.reports[0]
    report.state = ReportState.ACCEPTED
    report.indicator_values.append(
        ReportIndicatorValue(position=0, name="Seals counted", unit="individuals", target="1200", value="340")
    )
    stored = save_upload(_db.session, io.BytesIO(PNG), allowed_kinds=["png"], filename="seal.png")
    report.files.append(
        ReportFile(kind=ReportFileKind.PHOTO, stored_file_id=stored.id, caption="Seal pup on ice")
    )
    _db.session.flush()
    return report.files[-1]


@pytest.fixture
def world(db):
    pool = make_pool("GENERAL")
    ours = make_donor(name="Caspian Seal Trust", preferred_currency="EUR")
    theirs = make_donor(name="Steppe Foundation", preferred_currency="USD")
    make_contribution(ours, pool, "1000.00", currency="EUR", rate="500", value_date=date(2026, 2, 1))
    make_contribution(theirs, pool, "2000.00", currency="USD", rate="480", value_date=date(2026, 3, 1))
    funded = make_funded_grant(pool, 400_000_00)  # all ours (first in)
    other = make_funded_grant(pool, 500_000_00)  # 100 000 ours, then theirs
    only_theirs = make_funded_grant(pool, 400_000_00)
    photo = _accepted_report_with_photo(funded)
    their_photo = _accepted_report_with_photo(only_theirs)
    _db.session.add_all(
        [
            GeneratedReport(
                kind=ReportKind.DONOR,
                donor_id=ours.id,
                state=ReportJobState.DONE,
                parameters={"from": "2026-01-01"},
            ),
            GeneratedReport(
                kind=ReportKind.DONOR, donor_id=theirs.id, state=ReportJobState.DONE, parameters={}
            ),
        ]
    )
    people = {
        "ours": make_donor_user(ours),
        "theirs": make_donor_user(theirs),
        "applicant": make_applicant(),
        "reviewer": make_user(roles=[Role.REVIEWER]),
        "board_member": make_user(roles=[Role.BOARD_MEMBER]),
        "programme_officer": make_officer(),
        "finance_officer": make_finance_officer(),
        "admin": make_user(roles=[Role.ADMIN]),
        "donor_without_donor": make_user(roles=[Role.DONOR]),
    }
    db.session.commit()
    return {
        "people": people,
        "ours": ours,
        "theirs": theirs,
        "funded": funded,
        "other": other,
        "only_theirs": only_theirs,
        "photo": photo,
        "their_photo": their_photo,
    }


def browser(app, world, person):
    client = app.test_client()
    if person != "anon":
        login(client, world["people"][person])
    return client


def text(response):
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("anon", 302),
        ("applicant", 403),
        ("reviewer", 403),
        ("board_member", 403),
        ("programme_officer", 403),
        ("finance_officer", 403),
        ("admin", 403),
        ("donor_without_donor", 403),
        ("ours", 200),
    ],
)
def test_who_may_open_the_portal(app, world, person, expected):
    client = browser(app, world, person)
    assert client.get("/portal/").status_code == expected
    project = client.get(f"/portal/projects/{world['funded'].reference}")
    assert project.status_code == expected


@pytest.mark.parametrize("route", ["/donors/", "/donors/{donor}", "/finance/pools", "/grants/{grant}"])
def test_a_donor_user_gets_no_staff_page(app, world, route):
    url = route.format(donor=world["ours"].reference, grant=world["funded"].reference)
    assert browser(app, world, "ours").get(url).status_code in (403, 404)


def test_home_shows_figures_contributions_projects_and_reports(app, world):
    page = text(browser(app, world, "ours").get("/portal/"))
    assert "Caspian Seal Trust" in page
    assert "1,000.00" in page and "500,000.00" in page
    assert world["funded"].reference in page and world["other"].reference in page
    assert world["only_theirs"].reference not in page
    assert "Steppe Foundation" not in page
    assert page.count("Donor report") == 1


def test_a_funded_project_shows_results_photos_and_the_donors_share(app, world):
    client = browser(app, world, "ours")
    page = text(client.get(f"/portal/projects/{world['funded'].reference}"))
    assert "Seals counted" in page and "1200" in page and "340" in page
    assert "Seal pup on ice" in page
    assert "800.00" in page  # 400 000.00 KZT at 500 KZT per euro

    with client.get(f"/portal/projects/{world['funded'].reference}/photos/{world['photo'].id}") as photo:
        assert photo.status_code == 200 and photo.data == PNG


@pytest.mark.parametrize(
    "route",
    [
        "/portal/projects/{only_theirs}",
        "/portal/projects/NOPE-0000",
        "/portal/projects/{only_theirs}/photos/{their_photo}",
        "/portal/projects/{funded}/photos/{their_photo}",
        "/portal/projects/{funded}/photos/999999",
    ],
)
def test_another_donors_things_do_not_exist(app, world, route):
    url = route.format(
        only_theirs=world["only_theirs"].reference,
        funded=world["funded"].reference,
        their_photo=world["their_photo"].id,
    )
    assert browser(app, world, "ours").get(url).status_code == 404


def test_the_other_donor_sees_only_their_own(app, world):
    client = browser(app, world, "theirs")
    page = text(client.get("/portal/"))
    assert "Steppe Foundation" in page and "Caspian Seal Trust" not in page
    assert client.get(f"/portal/projects/{world['funded'].reference}").status_code == 404
    assert client.get(f"/portal/projects/{world['only_theirs'].reference}").status_code == 200


def test_a_photo_of_a_report_not_accepted_is_not_served(app, db, world):
    report = db.session.get(GrantReport, world["photo"].report_id)
    report.state = ReportState.SUBMITTED
    db.session.commit()
    url = f"/portal/projects/{world['funded'].reference}/photos/{world['photo'].id}"
    assert browser(app, world, "ours").get(url).status_code == 404


def test_the_home_page_points_a_donor_to_the_portal(app, world):
    page = text(browser(app, world, "ours").get("/"))
    assert "See what your contributions fund" in page and 'href="/portal/"' in page


def test_a_finance_officer_is_told_of_pledge_instalments_not_received(app, db, world):
    from tests.donors.factories import make_pledge

    make_pledge(world["ours"], db.session.get(type(world["funded"].pool), world["funded"].pool_id), "50.00")
    db.session.commit()
    page = text(browser(app, world, "finance_officer").get("/"))
    assert "1 pledge has instalments due and not received" in page


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_the_cells_of_long_tables_read_as_everywhere_else(app, language):
    amounts = [
        Money(minor, currency)
        for currency in ("KZT", "EUR", "USD", "JPY", "KWD")
        for minor in (0, 5, -5, 99, 100, 123_456, -1_234_567, 1_000_000_000_01, 10**17 + 3, -(10**19))
    ]
    days = [date(2026, 1, 1), date(2025, 5, 9), date(2024, 12, 31)]
    states = list(GrantState)
    as_template = "{% for s in states %}{{ s.label }}|{% endfor %}"
    with_cells = "{% for s in states %}{{ s|label_cell(locale) }}|{% endfor %}"
    for _twice in range(2):  # the second time from what the cells keep
        with app.test_request_context(headers={"Accept-Language": language}):
            assert [money_cell(amount) for amount in amounts] == [money(amount) for amount in amounts]
            assert [money_cell(amount, language) for amount in amounts] == [
                money(amount) for amount in amounts
            ]
            assert [date_cell(day, language) for day in days] == [local_date(day) for day in days]
            assert render_template_string(
                with_cells, states=states, locale=language
            ) == render_template_string(as_template, states=states)
    assert money_cell(None) == "" and date_cell(None) == ""
