"""The ranking page, its CSV and XLSX exports, and ``fundapp export ranking``."""

import csv
import html as html_module
import io
import re

import pytest
from openpyxl import load_workbook

from fundapp.applications.models import CallState
from fundapp.core.permissions import Role
from fundapp.reviews.models import Recommendation
from tests.applications.factories import make_call, make_officer
from tests.conftest import login
from tests.factories import make_applicant, make_organisation, make_user
from tests.reviews.factories import make_reviewer, make_rubric
from tests.reviews.test_ranking import in_review, scored

F, FC, DNF = Recommendation.FUND, Recommendation.FUND_WITH_CHANGES, Recommendation.DO_NOT_FUND

PEOPLE = ["anon", "applicant", "reviewer", "board_member", "programme_officer", "finance_officer", "admin"]
OFFICERS = [302, 403, 403, 403, 200, 403, 403]
OFFICERS_404 = [302, 403, 403, 403, 404, 403, 403]

ROUTES = {
    "/officer/calls/{call}/ranking": OFFICERS,
    "/officer/calls/{call}/ranking?order=normalised": OFFICERS,
    "/officer/calls/{call}/ranking?order=nonsense": OFFICERS,
    "/officer/calls/{call}/ranking.csv": OFFICERS,
    "/officer/calls/{call}/ranking.xlsx?order=normalised": OFFICERS,
    "/officer/calls/CALL-1999-99/ranking": OFFICERS_404,
    "/officer/calls/CALL-1999-99/ranking.csv": OFFICERS_404,
    "/officer/calls/CALL-1999-99/ranking.xlsx": OFFICERS_404,
}

HEADER = [
    "Rank",
    "Reference",
    "Title",
    "Organisation",
    "State",
    "Requested",
    "Currency",
    "Reviews",
    "Mean",
    "Median",
    "Standard deviation",
    "Spread",
    "Normalised score",
    "Fund",
    "Fund with changes",
    "Do not fund",
    "Disagreement",
]


@pytest.fixture
def ranked_call(db):
    """A call with three reviewed proposals and one waiting for its reviews.

    A scores 40 and 60 (mean 50, sd 10), B 70 and 90 (mean 80, sd 10), C gives one review only (z = 0).

    ==========  ====  ====  ====  =====  ==========
    proposal     A     B     C    mean   normalised
    ==========  ====  ====  ====  =====  ==========
    harsh        40    .     .     40     -1
    seals        60    70    .     65     (+1 - 1) / 2 = 0
    saiga        .     90    20    55     (+1 + 0) / 2 = +0.5
    waiting      .     .     .     -      -
    ==========  ====  ====  ====  =====  ==========
    """
    call = make_call(reference="CALL-2026-07", title="Caspian seal and saiga")
    make_rubric(call, disagreement_spread=25, recommendation_split_percent=30)
    a, b, c = make_reviewer(), make_reviewer(), make_reviewer()
    organisation = make_organisation(name_en='=HYPERLINK("http://evil.example")')
    harsh = in_review(call, title="Ili delta wetlands", requested_minor=5_000_000_00)
    seals = in_review(call, title="Caspian seal haul-outs", requested_minor=12_345_678_90)
    saiga = in_review(
        call, title="+Saiga calving grounds", organisation=organisation, requested_minor=1_000_000_00
    )
    waiting = in_review(call, title="Snow leopard camera traps")
    scored(db, harsh, a, 40, F)
    scored(db, seals, a, 60, F)
    scored(db, seals, b, 70, FC)
    scored(db, saiga, b, 90, F)
    scored(db, saiga, c, 20, DNF)
    db.session.commit()
    return {"call": call, "harsh": harsh, "seals": seals, "saiga": saiga, "waiting": waiting}


@pytest.fixture
def people(db):
    everyone = {"applicant": make_applicant()}
    for role in ("reviewer", "board_member", "programme_officer", "finance_officer", "admin"):
        everyone[role] = make_user(roles=[Role(role)])
    db.session.commit()
    return everyone


def browser_for(app, people, person):
    browser = app.test_client()
    if person != "anon":
        login(browser, people[person])
    return browser


@pytest.fixture
def officer_client(client, db):
    officer = make_officer()
    db.session.commit()
    login(client, officer)
    return client


def table_rows(html):
    """The ranking table's body rows as lists of cell texts (tags stripped, spaces collapsed)."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        rows.append([" ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells])
    return rows


def csv_rows(data):
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# -- access -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", list(ROUTES))
def test_the_ranking_and_its_exports_answer_each_role_as_expected(app, db, people, ranked_call, url):
    target = url.format(call=ranked_call["call"].reference)

    seen = [browser_for(app, people, person).get(target).status_code for person in PEOPLE]

    assert dict(zip(PEOPLE, seen, strict=True)) == dict(zip(PEOPLE, ROUTES[url], strict=True))


def test_a_reviewer_cannot_export_the_ranking_of_a_call_they_review(app, db, ranked_call):
    reviewer = make_reviewer()
    scored(db, ranked_call["waiting"], reviewer, 50)
    db.session.commit()
    browser = app.test_client()
    login(browser, reviewer)

    for suffix in ("", ".csv", ".xlsx"):
        response = browser.get(f"/officer/calls/{ranked_call['call'].reference}/ranking{suffix}")
        assert response.status_code == 403
        assert b"Caspian seal haul-outs" not in response.data


# -- the page -----------------------------------------------------------------------------------------------


def test_the_page_ranks_by_mean_with_the_normalised_score_beside_it(officer_client, ranked_call):
    response = officer_client.get(f"/officer/calls/{ranked_call['call'].reference}/ranking")

    assert response.status_code == 200
    rows = table_rows(response.get_data(as_text=True))
    refs = {name: ranked_call[name].reference for name in ("harsh", "seals", "saiga", "waiting")}
    # rank, reference, title and organisation, requested, reviews, mean, normalised, median, SD, spread,
    # F/FC/DNF, disagreement
    assert [row[:2] for row in rows] == [
        ["1", refs["seals"]],
        ["2", refs["saiga"]],
        ["3", refs["harsh"]],
        ["—", refs["waiting"]],
    ]
    seals = rows[0]
    assert seals[2].startswith("Caspian seal haul-outs Caspian Nature Society")
    assert seals[3] == "KZT 12,345,678.90"
    assert seals[4:11] == ["2", "65.00", "+0.00", "65.00", "7.07", "10.00", "1 / 1 / 0"]
    assert rows[1][2] == '+Saiga calving grounds =HYPERLINK("http://evil.example")'
    assert rows[1][4:11] == ["2", "55.00", "+0.50", "55.00", "49.50", "70.00", "1 / 0 / 1"]
    assert rows[2][4:11] == ["1", "40.00", "-1.00", "40.00", "—", "0.00", "1 / 0 / 0"]
    assert rows[3][4:11] == ["0", "—", "—", "—", "—", "—", "—"]
    assert [row[11] for row in rows] == [
        "",
        "Disagreement Scores spread over 70.0 points (more than 25). Recommendations split: 1 to fund, "
        "1 not to fund.",
        "",
        "",
    ]


def test_the_page_ranks_by_the_normalised_score_when_asked(officer_client, ranked_call):
    url = f"/officer/calls/{ranked_call['call'].reference}/ranking?order=normalised"

    html = officer_client.get(url).get_data(as_text=True)

    assert [row[1] for row in table_rows(html)] == [
        ranked_call["saiga"].reference,
        ranked_call["seals"].reference,
        ranked_call["harsh"].reference,
        ranked_call["waiting"].reference,
    ]
    assert 'aria-current="true">Normalised score</a>' in html


def test_an_unknown_order_ranks_by_the_mean(officer_client, ranked_call):
    url = f"/officer/calls/{ranked_call['call'].reference}/ranking?order=%27%3Bdrop"

    html = officer_client.get(url).get_data(as_text=True)

    assert table_rows(html)[0][1] == ranked_call["seals"].reference
    assert 'aria-current="true">Mean score</a>' in html


def test_the_disagreement_flag_shows_its_reasons(officer_client, ranked_call):
    html = officer_client.get(f"/officer/calls/{ranked_call['call'].reference}/ranking").get_data(
        as_text=True
    )

    assert (
        'title="Scores spread over 70.0 points (more than 25). '
        'Recommendations split: 1 to fund, 1 not to fund."' in html
    )
    assert html.count(">Disagreement</span>") == 1


def test_a_call_without_reviews_says_so(officer_client, db):
    call = make_call(state=CallState.CLOSED)
    in_review(call)
    db.session.commit()

    html = officer_client.get(f"/officer/calls/{call.reference}/ranking").get_data(as_text=True)

    assert "No reviewed proposals yet" in html
    assert "<tbody>" not in html


def test_the_officers_call_page_links_to_the_ranking(officer_client, ranked_call):
    call = ranked_call["call"]

    html = officer_client.get(f"/officer/calls/{call.id}").get_data(as_text=True)

    assert f'href="/officer/calls/{call.reference}/ranking"' in html


# -- exports ------------------------------------------------------------------------------------------------


def test_csv_export_has_the_table_with_neutralised_cells(officer_client, ranked_call):
    response = officer_client.get(
        f"/officer/calls/{ranked_call['call'].reference}/ranking.csv?order=normalised"
    )

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="ranking-CALL-2026-07.csv"' in response.headers["Content-Disposition"]
    rows = csv_rows(response.data)
    assert rows[0] == HEADER
    saiga = rows[1]
    assert saiga[:8] == [
        "1",
        ranked_call["saiga"].reference,
        "'+Saiga calving grounds",
        '\'=HYPERLINK("http://evil.example")',
        "In review",
        "1000000.00",
        "KZT",
        "2",
    ]
    assert saiga[8:16] == ["55.0000", "55.0000", "49.4975", "70.0000", "0.5000", "1", "0", "1"]
    assert saiga[16].startswith("Scores spread over 70.0 points")
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", ""]
    assert rows[4][7:13] == ["0", "", "", "", "", ""]


def test_xlsx_export_has_the_same_cells_as_the_csv(officer_client, ranked_call):
    base = f"/officer/calls/{ranked_call['call'].reference}/ranking"

    workbook = load_workbook(io.BytesIO(officer_client.get(base + ".xlsx").data))
    csv_export = csv_rows(officer_client.get(base + ".csv").data)

    sheet = workbook.active
    cells = [
        ["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert cells[0] == HEADER
    assert [row[:5] for row in cells] == [row[:5] for row in csv_export]
    assert cells[1][2] == "Caspian seal haul-outs"
    assert cells[2][3] == '\'=HYPERLINK("http://evil.example")'
    assert sheet.cell(row=2, column=9).value == 65  # a number, not text
    assert [row[8] for row in cells[1:]] == ["65", "55", "40", ""]


# -- the command line ---------------------------------------------------------------------------------------


def test_export_ranking_writes_the_csv_export(runner, officer_client, ranked_call, tmp_path):
    out = tmp_path / "ranking.csv"
    reference = ranked_call["call"].reference

    result = runner.invoke(args=["export", "ranking", reference, "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert out.read_bytes() == officer_client.get(f"/officer/calls/{reference}/ranking.csv").data
    assert "4 proposal(s), 3 reviewed" in result.output


def test_export_ranking_by_normalised_score_matches_that_export(
    runner, officer_client, ranked_call, tmp_path
):
    out = tmp_path / "ranking.csv"
    reference = ranked_call["call"].reference

    result = runner.invoke(args=["export", "ranking", reference, "--order", "normalised", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert (
        out.read_bytes()
        == officer_client.get(f"/officer/calls/{reference}/ranking.csv?order=normalised").data
    )


def test_export_ranking_writes_xlsx_when_the_file_name_says_so(runner, ranked_call, tmp_path):
    out = tmp_path / "ranking.xlsx"

    result = runner.invoke(args=["export", "ranking", ranked_call["call"].reference, "--out", str(out)])

    assert result.exit_code == 0, result.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert rows[1][1] == ranked_call["seals"].reference


def test_export_ranking_without_a_reference_lists_the_calls(runner, db, ranked_call):
    make_call(reference="CALL-2025-03", title="Tien Shan snow leopard", state=CallState.CLOSED)
    db.session.commit()

    result = runner.invoke(args=["export", "ranking"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "CALL-2025-03  Tien Shan snow leopard (closed)" in lines
    assert "CALL-2026-07  Caspian seal and saiga (published)" in lines
    assert all(line.startswith("CALL-") for line in lines)


def test_export_ranking_of_an_unknown_call_exits_2(runner, db, tmp_path):
    out = tmp_path / "ranking.csv"

    result = runner.invoke(args=["export", "ranking", "CALL-1999-99", "--out", str(out)])

    assert result.exit_code == 2
    assert "no call has the reference 'CALL-1999-99'" in result.output
    assert not out.exists()


# -- pages --------------------------------------------------------------------------------------------------


def test_the_page_shows_a_hundred_ranks_at_a_time_with_links_to_the_others(
    officer_client, ranked_call, monkeypatch
):
    from fundapp.reviews import ranking_views

    monkeypatch.setattr(ranking_views, "PER_PAGE", 2)
    call = ranked_call["call"].reference
    first = officer_client.get(f"/officer/calls/{call}/ranking?order=normalised").get_data(as_text=True)
    assert [row[1] for row in table_rows(first)] == [
        ranked_call["saiga"].reference,
        ranked_call["seals"].reference,
    ]
    assert "Ranks 1–2 of 4; the exports hold them all." in first
    assert f'href="/officer/calls/{call}/ranking?order=normalised&amp;page=2"' in first
    assert ">Previous<" not in first
    second = officer_client.get(f"/officer/calls/{call}/ranking?order=normalised&page=2").get_data(
        as_text=True
    )
    rows = table_rows(second)
    assert [row[0] for row in rows] == ["3", "—"]
    assert [row[1] for row in rows] == [ranked_call["harsh"].reference, ranked_call["waiting"].reference]
    assert "Ranks 3–4 of 4" in second and ">Next<" not in second
    assert f'href="/officer/calls/{call}/ranking?order=normalised&amp;page=1"' in second
    # The counts above the table are the whole call's, on every page.
    assert "3 proposals reviewed · 1 still waiting for a review" in second


@pytest.mark.parametrize("page", ["0", "-1", "abc", "2.5", ""])
def test_a_page_that_is_not_a_positive_number_shows_the_first(officer_client, ranked_call, page):
    call = ranked_call["call"].reference
    response = officer_client.get(f"/officer/calls/{call}/ranking?page={page}")
    assert response.status_code == 200
    assert table_rows(response.get_data(as_text=True))[0][1] == ranked_call["seals"].reference


def test_a_page_past_the_last_says_so_and_links_back(officer_client, ranked_call, monkeypatch):
    from fundapp.reviews import ranking_views

    monkeypatch.setattr(ranking_views, "PER_PAGE", 2)
    call = ranked_call["call"].reference
    page = officer_client.get(f"/officer/calls/{call}/ranking?page=9").get_data(as_text=True)
    assert "There is no page 9: the ranking holds 4 proposals." in page
    assert f'href="/officer/calls/{call}/ranking?order=mean&amp;page=2"' in page
