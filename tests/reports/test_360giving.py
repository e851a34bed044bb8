"""The 360Giving 1.4 package: valid against the official schemas (the package's, referring to the grant
schema by its web address), the awarded grants in major units, and the flattened CSV."""

import csv
import io
import json
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from fundapp.core.formatting import fund_today
from fundapp.disbursements import ledger
from fundapp.reports import opendata
from tests.reports import make_portfolio, standards_dir


@pytest.fixture(scope="module")
def validator():
    folder = standards_dir("360giving-1.4")
    package_schema = json.loads((folder / "360-giving-package-schema.json").read_text())
    grant_schema = json.loads((folder / "360-giving-schema.json").read_text())
    # The package refers to the grant schema by its web address: serve the local copy under it. The files
    # declare their dialect without https, so the resource is made as Draft 2020-12 explicitly.
    grant_address = package_schema["properties"]["grants"]["items"]["$ref"]
    resource = DRAFT202012.create_resource(grant_schema)
    registry = Registry().with_resources([(grant_address, resource), (grant_schema["$id"], resource)])
    return Draft202012Validator(
        package_schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@pytest.fixture
def portfolio(db):
    return make_portfolio()


@pytest.fixture
def package(db, portfolio):
    """The package as a consumer reads it: from the JSON text, numbers as exact Decimals."""
    return json.loads(opendata.giving_json(opendata.giving_package(db.session)), parse_float=Decimal)


def grant_of(package, grant):
    (record,) = [g for g in package["grants"] if g["id"] == opendata.giving_identifier(grant.reference)]
    return record


def errors(validator, document):
    return [error.message for error in validator.iter_errors(json.loads(json.dumps(document, default=float)))]


def test_the_package_is_valid_against_the_360giving_schema(validator, package):
    assert errors(validator, package) == []
    assert package["version"] == "1.4"


def test_the_schema_check_catches_a_broken_package(validator, package):
    del package["grants"][0]["recipientOrganization"]
    package["grants"][1]["awardDate"] = "1 March 2026"
    assert errors(validator, package)
    assert not validator.is_valid(json.loads(json.dumps(package, default=float)))


def test_the_format_checker_tells_a_date_from_a_date_time(validator, package):
    package["grants"][0]["dateModified"] = "2026-01-01"  # a date-time is required here
    assert errors(validator, package)


def test_only_awarded_grants_with_360giving_identifiers(app, package, portfolio):
    prefix = app.config["GRANT_360_PREFIX"]
    assert [g["id"] for g in package["grants"]] == [f"{prefix}-{g.reference}" for g in portfolio.published]


def test_amounts_are_major_units_equal_to_the_ledger(db, package, portfolio):
    for grant in portfolio.published:
        record = grant_of(package, grant)
        figures = ledger.grant_figures(db.session, grant)
        assert record["currency"] == "KZT"
        assert record["amountAwarded"] == Decimal("10000000.00") == grant.amount.amount
        assert record["amountDisbursed"] == (figures.released - figures.refunded).amount
    # 40% of the grant paid, 250,000.50 refunded
    assert grant_of(package, portfolio.paid)["amountDisbursed"] == Decimal("3749999.50")


def test_the_amounts_are_written_as_exact_numbers(db, portfolio):
    text = opendata.giving_json(opendata.giving_package(db.session))
    assert '"amountAwarded": 10000000.00' in text
    assert '"amountDisbursed": 3749999.50' in text


def test_organisations_dates_and_locations(app, package, portfolio):
    grant = portfolio.paid
    record = grant_of(package, grant)
    assert record["recipientOrganization"] == [
        {
            "id": f"{app.config['FUND_ORG_ID_PREFIX']}-{grant.organisation.bin}",
            "name": grant.organisation.name_en,
        }
    ]
    assert record["fundingOrganization"] == [
        {"id": opendata.fund_identifier(), "name": app.config["FUND_NAME"]}
    ]
    assert record["awardDate"] == fund_today(grant.agenda_item.decided_at).isoformat()
    assert record["plannedDates"] == [
        {"startDate": grant.start_date.isoformat(), "endDate": grant.end_date.isoformat()}
    ]
    assert record["beneficiaryLocation"] == [
        {"name": "Mangystau Region", "countryCode": "KZ", "geoCode": "KZ-47"}
    ]
    assert record["grantProgramme"] == [{"code": grant.call.reference, "title": grant.call.title}]
    assert record["dateModified"].endswith("+00:00")


def test_the_csv_has_the_standard_titles_and_one_row_per_grant(db, portfolio):
    package = opendata.giving_package(db.session)
    rows = list(csv.DictReader(io.StringIO(opendata.giving_csv(package))))
    assert [row["Identifier"] for row in rows] == [g["id"] for g in package["grants"]]
    row = rows[0]
    grant = portfolio.paid
    assert row["Title"] == grant.title
    assert row["Currency"] == "KZT"
    assert row["Amount Awarded"] == "10000000.00"
    assert row["Award Date"] == package["grants"][0]["awardDate"]
    assert row["Recipient Org:Identifier"] == opendata.org_identifier(grant.organisation.bin)
    assert row["Recipient Org:Name"] == grant.organisation.name_en
    assert row["Funding Org:Identifier"] == opendata.fund_identifier()
    assert row["Beneficiary Location:Geographic Code"] == "KZ-47"
    assert row["Planned Dates:Start Date"] == grant.start_date.isoformat()
    assert row["Last Modified"] == package["grants"][0]["dateModified"]


def _titled(schema, node):
    """``{title: sub-schema}`` of the properties of ``node`` (following ``$ref`` and array items)."""
    node = node.get("items", node)
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    titled = {}
    for prop in node.get("properties", {}).values():
        target = schema["$defs"][prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else prop
        titled[prop.get("title") or target.get("title")] = prop
    return titled


def test_csv_titles_are_the_schema_titles(db, portfolio):
    folder = standards_dir("360giving-1.4")
    schema = json.loads((folder / "360-giving-schema.json").read_text())
    header = next(csv.reader(io.StringIO(opendata.giving_csv(opendata.giving_package(db.session)))))
    for title in header:
        node = schema
        for part in title.split(":"):
            if part.isdigit():  # the number of a further item of an array
                continue
            titled = _titled(schema, node)
            assert part in titled, title
            node = titled[part]


def test_the_csv_neutralises_formulas(db, portfolio):
    portfolio.paid.title = '=HYPERLINK("http://example.org","x")'
    db.session.flush()
    rows = list(csv.DictReader(io.StringIO(opendata.giving_csv(opendata.giving_package(db.session)))))
    assert rows[0]["Title"] == '\'=HYPERLINK("http://example.org","x")'


def test_the_command_writes_json_and_csv(runner, portfolio, validator, tmp_path):
    out = tmp_path / "grants.json"
    result = runner.invoke(args=["export", "360giving", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert errors(validator, json.loads(out.read_text())) == []
    flat = tmp_path / "grants.csv"
    result = runner.invoke(args=["export", "360giving", "--out", str(flat)])
    assert result.exit_code == 0, result.output
    assert flat.read_text().startswith("Identifier,Title,Description,Currency,Amount Awarded")
