"""The IATI 2.03 activity file: valid against the official schema, one activity per signed grant, its
transactions adding up to the ledger's figures."""

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from fundapp.core.formatting import fund_today
from fundapp.disbursements import ledger
from fundapp.reports import opendata
from tests.reports import make_portfolio, standards_dir

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(scope="module")
def schema():
    folder = standards_dir("iati-2.03")
    return etree.XMLSchema(etree.parse(str(folder / "iati-activities-schema.xsd")))


@pytest.fixture
def portfolio(db):
    return make_portfolio()


@pytest.fixture
def document(db, portfolio):
    return etree.fromstring(opendata.iati_xml(db.session))


def activity_of(document, grant):
    identifier = opendata.iati_identifier(grant.reference)
    (activity,) = document.xpath("iati-activity[iati-identifier=$id]", id=identifier)
    return activity


def transactions(activity, code):
    return [
        Decimal(t.findtext("value"))
        for t in activity.findall("transaction")
        if t.find("transaction-type").get("code") == code
    ]


def test_the_file_is_valid_against_the_iati_schema(schema, document):
    schema.assertValid(document)
    assert document.get("version") == "2.03"
    assert document.get("generated-datetime")


def test_the_schema_check_catches_a_broken_file(schema, document):
    activity = document.find("iati-activity")
    activity.remove(activity.find("reporting-org"))
    assert not schema.validate(document)
    assert "reporting-org" in str(schema.error_log)


def test_only_signed_grants_are_published(document, portfolio):
    identifiers = document.xpath("iati-activity/iati-identifier/text()")
    assert identifiers == [opendata.iati_identifier(g.reference) for g in portfolio.published]
    for grant in (portfolio.unsigned, portfolio.cancelled):
        assert opendata.iati_identifier(grant.reference) not in identifiers


def test_identifiers_are_the_fund_identifier_then_the_grant_reference(app, document, portfolio):
    fund = f"{app.config['FUND_ORG_ID_PREFIX']}-{app.config['FUND_BIN']}"
    activity = activity_of(document, portfolio.paid)
    assert activity.findtext("iati-identifier") == f"{fund}-{portfolio.paid.reference}"
    reporting = activity.find("reporting-org")
    assert (reporting.get("ref"), reporting.get("type")) == (fund, app.config["FUND_IATI_ORG_TYPE"])
    assert reporting.findtext("narrative") == app.config["FUND_NAME"]


def test_participating_organisations_have_their_roles(app, document, portfolio):
    activity = activity_of(document, portfolio.paid)
    roles = [
        (o.get("role"), o.get("ref"), o.findtext("narrative")) for o in activity.findall("participating-org")
    ]
    fund = opendata.fund_identifier()
    grantee = portfolio.paid.organisation
    assert roles == [
        ("1", fund, app.config["FUND_NAME"]),
        ("1", "GB-CHC-1234567", "Caspian Seal Trust"),  # the donor whose contribution the grant spends
        ("3", fund, app.config["FUND_NAME"]),
        ("4", f"{app.config['FUND_ORG_ID_PREFIX']}-{grantee.bin}", grantee.name_en),
    ]
    implementing = activity.find("participating-org[@role='4']")
    assert implementing.get("type") == "24"  # a Kazakh NGO: partner country based NGO


def test_activity_status_follows_the_grant(document, portfolio):
    status = {
        grant.reference: activity_of(document, grant).find("activity-status").get("code")
        for grant in portfolio.published
    }
    assert status == {
        portfolio.paid.reference: "2",
        portfolio.closed.reference: "4",
        portfolio.suspended.reference: "6",
    }


def test_dates_sector_marker_and_country(document, portfolio):
    grant = portfolio.closed
    activity = activity_of(document, grant)
    dates = {d.get("type"): d.get("iso-date") for d in activity.findall("activity-date")}
    assert dates["1"] == grant.start_date.isoformat()
    assert dates["3"] == grant.end_date.isoformat()
    assert dates["2"] == fund_today(grant.activated_at).isoformat()
    assert dates["4"] == fund_today(grant.closed_at).isoformat()
    assert activity.find("sector").attrib == {"vocabulary": "1", "code": "41030", "percentage": "100"}
    assert activity.find("policy-marker").attrib == {"vocabulary": "1", "code": "5", "significance": "2"}
    assert activity.find("recipient-country").get("code") == "KZ"
    assert activity.find("recipient-region") is None


def test_the_region_is_a_location_not_a_recipient_region(document, portfolio):
    location = activity_of(document, portfolio.paid).find("location")
    assert location.findtext("name/narrative") == "Kenderli haul-out"
    descriptions = {n.get(XML_LANG, "en"): n.text for n in location.findall("description/narrative")}
    assert descriptions["en"] == "Mangystau Region (ISO 3166-2: KZ-47)"
    assert descriptions["ru"] == "Мангистауская область (ISO 3166-2: KZ-47)"
    assert location.findtext("point/pos") == "43.65 51.17"


def test_transactions_equal_the_ledger_figures(db, document, portfolio):
    for grant in portfolio.published:
        figures = ledger.grant_figures(db.session, grant)
        activity = activity_of(document, grant)
        assert sum(transactions(activity, "2")) == figures.committed.amount
        assert sum(transactions(activity, "3")) == (figures.released - figures.refunded).amount


def test_a_commitment_a_release_and_a_refund_as_iati_transactions(document, portfolio):
    grant = portfolio.paid
    activity = activity_of(document, grant)
    first = grant.tranches[0]
    assert transactions(activity, "2") == [Decimal("10000000.00")]
    assert transactions(activity, "3") == [first.amount.amount, Decimal("-250000.50")]
    paid = activity.findall("transaction")[1]
    assert paid.find("transaction-date").get("iso-date") == first.paid_on.isoformat()
    assert paid.find("value").attrib == {"currency": "KZT", "value-date": first.paid_on.isoformat()}
    assert paid.find("receiver-org").get("ref") == opendata.org_identifier(grant.organisation.bin)


def test_closure_is_a_negative_commitment_of_what_was_not_paid(document, portfolio):
    grant = portfolio.closed
    unpaid = grant.amount - grant.tranches[0].amount
    assert transactions(activity_of(document, grant), "2") == [grant.amount.amount, -unpaid.amount]


def test_budgets_split_the_grant_by_project_year(document, portfolio):
    grant = portfolio.paid
    budgets = activity_of(document, grant).findall("budget")
    assert len(budgets) >= 2  # the project runs over two years
    assert sum(Decimal(b.findtext("value")) for b in budgets) == grant.amount.amount
    for budget in budgets:
        assert (budget.get("type"), budget.get("status")) == ("1", "2")
        first = date.fromisoformat(budget.find("period-start").get("iso-date"))
        last = date.fromisoformat(budget.find("period-end").get("iso-date"))
        assert first < last < first.replace(year=first.year + 1)  # IATI: a year at most


def test_project_years_cut_the_last_year_at_the_end():
    assert opendata.project_years(date(2024, 2, 29), date(2025, 6, 30)) == [
        (date(2024, 2, 29), date(2025, 2, 27)),
        (date(2025, 2, 28), date(2025, 6, 30)),
    ]


def test_the_command_writes_the_file(runner, portfolio, schema, tmp_path):
    out = tmp_path / "iati.xml"
    result = runner.invoke(args=["export", "iati", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 activities" in result.output
    schema.assertValid(etree.parse(str(out)))
