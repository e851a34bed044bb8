"""The donor report as a PDF: its text (pdftotext) shows the ledger's figures; it has metadata, bookmarks
and page numbers; an empty period says so; text from applicants is escaped and fetches nothing; it is
written in the donor's language."""

import re
import subprocess
import zlib

import pytest

from fundapp.core import pdf
from fundapp.core.formatting import fund_today
from fundapp.disbursements import ledger
from fundapp.reports.documents import render_donor_report
from tests.disbursements.factories import days_ago
from tests.reports.test_report_data import donor_scenario, ledger_totals


def text_of(data, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True).stdout
    return re.sub(r"\s+", " ", text.decode().replace("\xa0", " "))


def info_of(data, tmp_path):
    path = tmp_path / "info.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True).stdout.decode()
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def pdf_objects(data):
    """The PDF's bytes with every compressed stream inflated (WeasyPrint packs objects into object
    streams, where /Outlines and /Lang would not be visible)."""
    parts = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.DOTALL):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def shown(money, locale="en"):
    return re.sub(r"\s+", " ", money.format(locale).replace("\xa0", " "))


@pytest.fixture
def scenario(db):
    return donor_scenario()


def test_the_figures_in_the_text_are_the_ledgers(db, scenario, tmp_path):
    rendered = render_donor_report(db.session, scenario.donor, days_ago(365), fund_today())
    text = text_of(rendered.data, tmp_path)
    totals = ledger_totals(scenario)
    row = {
        "Contributed": totals["received"],
        "Allocated to projects": totals["committed"],
        "Released to projects": totals["released"],
    }
    for label, amount in row.items():
        assert f"{label} {shown(amount)}" in text, label
    assert shown(totals["available"]) in text
    assert "€20,000.00" in text and "$15,000.00" in text


def test_the_document_has_metadata_bookmarks_contents_and_page_numbers(db, scenario, tmp_path):
    rendered = render_donor_report(db.session, scenario.donor, days_ago(365), fund_today())
    info = info_of(rendered.data, tmp_path)
    assert scenario.donor.name in info["Title"]
    assert scenario.donor.reference in info["Keywords"]
    assert info["Subject"].strip()
    assert b"/Outlines" in pdf_objects(rendered.data)
    assert rendered.page_count >= 8 and int(info["Pages"]) == rendered.page_count
    text = text_of(rendered.data, tmp_path)
    assert f"Page 2 of {rendered.page_count}" in text
    assert re.search(r"Financial annex \.*\s?\d+", text), "the contents give the annex's page"
    assert "Contents" in text and scenario.grant_a.reference in text


def test_the_author_is_the_fund(app, db, scenario, tmp_path):
    rendered = render_donor_report(db.session, scenario.donor)
    assert info_of(rendered.data, tmp_path)["Author"].strip() == app.config["FUND_NAME"]


def test_an_empty_period_says_so(db, scenario, tmp_path):
    rendered = render_donor_report(db.session, scenario.donor, days_ago(300), days_ago(200))
    text = text_of(rendered.data, tmp_path)
    assert "No contributions, allocations or releases in this period" in text
    assert "No project was funded yet" in text


def test_applicant_text_is_escaped_and_nothing_is_fetched(db, tmp_path, monkeypatch):
    narrative = 'Counted <img src="file:///etc/passwd"> and <img src="http://example.com/x.png"> <b>seals</b>'
    scenario = donor_scenario(narrative=narrative)
    asked = []
    original = pdf.StaticOnlyURLFetcher.fetch

    def recording(self, url, headers=None):
        asked.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(pdf.StaticOnlyURLFetcher, "fetch", recording)
    rendered = render_donor_report(db.session, scenario.donor)
    text = text_of(rendered.data, tmp_path)
    assert '<img src="file:///etc/passwd">' in text and '<img src="http://example.com/x.png">' in text
    assert "<b>seals</b>" in text
    assert not [url for url in asked if "passwd" in url or "example.com" in url]
    assert all(url.startswith("data:") or url.endswith("css/pdf.css") for url in asked)


def test_a_russian_donor_gets_a_russian_document(db, tmp_path):
    scenario = donor_scenario(language="ru")
    rendered = render_donor_report(db.session, scenario.donor)
    assert b"/Lang (ru)" in pdf_objects(rendered.data)
    text = text_of(rendered.data, tmp_path)
    assert "Мангистауская область" in text
    assert "Общество природы Каспия" in text


def test_a_kazakh_donor_gets_a_kazakh_document(db, tmp_path):
    scenario = donor_scenario(language="kk")
    rendered = render_donor_report(db.session, scenario.donor)
    assert b"/Lang (kk)" in pdf_objects(rendered.data)
    text = text_of(rendered.data, tmp_path)
    assert "Маңғыстау облысы" in text
    assert "Каспий табиғаты қоғамы" in text


def test_the_pools_in_the_ledger_are_untouched(db, scenario):
    before = ledger_totals(scenario)
    render_donor_report(db.session, scenario.donor)
    assert ledger_totals(scenario) == before and ledger.check_ledger(db.session) == []
