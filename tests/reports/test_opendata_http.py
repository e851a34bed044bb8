"""The open-data downloads answer anyone, signed in or not; the XLSX exports answer fund staff only."""

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from fundapp.core.permissions import Role
from fundapp.reports import opendata
from tests.factories import make_applicant, make_user
from tests.reports import make_portfolio

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def portfolio(db):
    return make_portfolio()


@pytest.fixture
def people(db):
    return {
        "applicant": make_applicant(),
        "reviewer": make_user(roles=(Role.REVIEWER,)),
        "board_member": make_user(roles=(Role.BOARD_MEMBER,)),
        "donor": make_user(roles=(Role.DONOR,)),
        "programme_officer": make_user(roles=(Role.PROGRAMME_OFFICER,)),
        "finance_officer": make_user(roles=(Role.FINANCE_OFFICER,)),
        "admin": make_user(roles=(Role.ADMIN,)),
    }


def test_the_open_data_page_links_to_the_files(client, portfolio):
    response = client.get("/open-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for url in ("/open-data/iati.xml", "/open-data/360giving.json", "/open-data/360giving.csv"):
        assert f'href="{url}"' in page
    assert "Grants published: 3." in page
    assert "/exports/" not in page  # staff spreadsheets are not offered to visitors


@pytest.mark.parametrize(
    ("url", "mimetype"),
    [
        ("/open-data/iati.xml", "application/xml"),
        ("/open-data/360giving.json", "application/json"),
        ("/open-data/360giving.csv", "text/csv"),
    ],
)
def test_anonymous_visitors_download_the_open_data(client, portfolio, url, mimetype):
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert portfolio.paid.reference in response.get_data(as_text=True)
    assert portfolio.unsigned.reference not in response.get_data(as_text=True)


def test_the_downloaded_files_are_the_exports(client, db, portfolio):
    package = json.loads(client.get("/open-data/360giving.json").get_data(as_text=True))
    assert [g["id"] for g in package["grants"]] == [
        opendata.giving_identifier(g.reference) for g in portfolio.published
    ]
    rows = list(csv.DictReader(io.StringIO(client.get("/open-data/360giving.csv").get_data(as_text=True))))
    assert [r["Identifier"] for r in rows] == [g["id"] for g in package["grants"]]
    assert client.get("/open-data/iati.xml").data.startswith(b"<?xml")


def test_with_nothing_published_the_files_are_empty_not_errors(client, db):
    assert "Grants published: 0." in client.get("/open-data").get_data(as_text=True)
    assert json.loads(client.get("/open-data/360giving.json").data)["grants"] == []
    assert b"<iati-activity>" not in client.get("/open-data/iati.xml").data
    assert client.get("/open-data/360giving.csv").get_data(as_text=True).startswith("Identifier,")


EXPORTS = {
    "/exports/grants.xlsx": {"programme_officer", "finance_officer", "admin"},
    "/exports/tranches.xlsx": {"programme_officer", "finance_officer", "admin"},
    "/exports/contributions.xlsx": {"finance_officer", "admin"},
}


@pytest.mark.parametrize("url", sorted(EXPORTS))
def test_anonymous_visitors_are_sent_to_log_in_for_exports(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("url", sorted(EXPORTS))
@pytest.mark.parametrize(
    "who", ["applicant", "reviewer", "board_member", "donor", "programme_officer", "finance_officer", "admin"]
)
def test_exports_answer_each_role(client, login_as, people, portfolio, url, who):
    login_as(people[who])
    response = client.get(url)
    if who in EXPORTS[url]:
        assert response.status_code == 200
        assert response.mimetype == XLSX
        assert response.headers["Content-Disposition"].startswith("attachment;")
        sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
        assert sheet.max_row > 1
    else:
        assert response.status_code == 403


def test_staff_see_the_spreadsheets_they_may_download(client, login_as, people, portfolio):
    login_as(people["programme_officer"])
    page = client.get("/open-data").get_data(as_text=True)
    assert 'href="/exports/grants.xlsx"' in page
    assert 'href="/exports/contributions.xlsx"' not in page


def test_every_page_links_to_the_open_data_in_its_footer(client, db):
    page = client.get("/").get_data(as_text=True)
    footer = page[page.index("<footer") :]
    assert 'href="/open-data"' in footer
    assert "Open data" in footer
