"""The report's figures, read from the ledger and the stored attribution, equal the ledger's own.

``donor_scenario()`` (used by the other report tests too) builds a donor who gave twice, in two
currencies, into two pools restricted to two calls that nobody else put money in: 20,000.00 EUR at 540.25
(10,805,000.00 KZT) 60 days ago and 15,000.00 USD at 500 (7,500,000.00 KZT) 50 days ago. Each pool funds a
grant signed today: grant A (8,500,000.50 KZT; its progress report accepted with indicator values, a photo
and a narrative; tranche 1 released) and grant B (6,000,000.00 KZT; tranche 1 released, then terminated and
closed, so 60% goes back to the pool).
"""

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from werkzeug.datastructures import FileStorage

from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.disbursements import ledger, operations, reporting
from fundapp.disbursements.models import ReportKind
from fundapp.donors.allocation import donor_shares, net_by_contribution
from fundapp.extensions import db
from fundapp.reports.data import donor_report_data, portfolio_report_data
from tests.applications.factories import fund_call, make_call, make_officer
from tests.core.sample_files import png_bytes
from tests.disbursements.factories import days_ago, make_finance_officer, make_grant
from tests.donors.factories import make_contribution, make_donor

START = date(2026, 1, 1)
END = date(2027, 1, 1)


@dataclass
class Scenario:
    donor: object
    grant_a: object
    grant_b: object
    pools: list
    contributions: list


def release_first_tranche(grant, finance_a, finance_b, reference):
    tranche = grant.tranches[0]
    operations.approve_tranche(db.session, finance_a, tranche, bank_details_checked=True)
    operations.release_tranche(
        db.session, finance_b, tranche, paid_on=fund_today(), bank_reference=reference, idempotency_key=None
    )


def accept_progress_report(grant, narrative):
    report = next(r for r in grant.reports if r.kind == ReportKind.PROGRESS)
    grantee = grant.organisation.memberships[0].user
    reporting.save_report(
        db.session,
        grantee,
        report,
        narrative=narrative,
        indicator_values={0: ("40", "Aerial count in May"), 1: ("120", "")},
        spend={0: ("2500000", ""), 1: ("1750000.25", "")},
    )
    reporting.add_report_file(
        db.session,
        grantee,
        report,
        FileStorage(stream=io.BytesIO(png_bytes(8, 6)), filename="haul-out.png"),
        kind="photo",
        caption="Seals at the Kenderli haul-out",
    )
    reporting.submit_report(db.session, grantee, report)
    reporting.accept_report(db.session, make_officer(), report)
    return report


def donor_scenario(*, language="en", narrative="Patrols ran weekly; 40 seals counted in May."):
    donor = make_donor(
        preferred_language=language, preferred_currency="EUR", salutation="Dear friends at the Foundation"
    )
    call_a, call_b = make_call(funded=False), make_call(funded=False)
    pools = [fund_call(call_a, 0), fund_call(call_b, 0)]
    contributions = [
        make_contribution(
            donor, pools[0], "20000.00", currency="EUR", rate=Decimal("540.25"), value_date=days_ago(60)
        ),
        make_contribution(
            donor, pools[1], "15000.00", currency="USD", rate=Decimal("500"), value_date=days_ago(50)
        ),
    ]
    officer = make_officer()
    grant_a = make_grant(active=True, call=call_a, officer=officer, start=START, end=END)
    grant_b = make_grant(
        active=True, call=call_b, officer=officer, start=START, end=END, amount_minor=6_000_000_00
    )
    finance_a, finance_b = make_finance_officer(), make_finance_officer()
    release_first_tranche(grant_a, finance_a, finance_b, "PAY-A1")
    release_first_tranche(grant_b, finance_a, finance_b, "PAY-B1")
    accept_progress_report(grant_a, narrative)
    operations.terminate_grant(db.session, officer, grant_b, "The partner withdrew.")
    operations.close_grant(db.session, officer, grant_b)
    db.session.flush()
    return Scenario(donor, grant_a, grant_b, pools, contributions)


def kzt(minor):
    return Money(minor, "KZT")


def ledger_totals(scenario):
    """What the ledger says of the two pools (the donor's money is all they hold)."""
    figures = [ledger.pool_figures(db.session, pool) for pool in scenario.pools]
    return {
        "received": Money.sum((f.received for f in figures), "KZT"),
        "committed": Money.sum((f.committed for f in figures), "KZT"),
        "released": Money.sum((f.released for f in figures), "KZT"),
        "available": Money.sum((f.available for f in figures), "KZT"),
    }


def test_the_figures_over_the_whole_time_equal_the_ledgers(db):
    scenario = donor_scenario()
    data = donor_report_data(db.session, scenario.donor, days_ago(365), fund_today())
    figures, totals = data["figures"]["base"], ledger_totals(scenario)
    assert figures["contributed"] == totals["received"] == kzt(18_305_000_00)
    assert figures["allocated"] == totals["committed"] == kzt(8_500_000_50 + 2_400_000_00)
    assert figures["released"] == totals["released"] == kzt(3_400_000_20 + 2_400_000_00)
    assert figures["balance"] == totals["available"] == kzt(18_305_000_00 - 10_900_000_50)
    assert ledger.check_ledger(db.session) == []


def test_the_projects_carry_the_stored_attribution(db):
    scenario = donor_scenario()
    data = donor_report_data(db.session, scenario.donor, days_ago(365), fund_today())
    shares = donor_shares(db.session, [scenario.grant_a, scenario.grant_b])
    by_reference = {row["reference"]: row for row in data["projects"]}
    for grant in (scenario.grant_a, scenario.grant_b):
        row = by_reference[grant.reference]
        assert row["amount"].minor == sum(net_by_contribution(db.session, grant).values())
        assert row["released"] == Money.sum(
            (released for _minor, released in shares[grant.id].values()), "KZT"
        )
    assert data["totals"]["amount"] == data["figures"]["base"]["allocated"]
    assert sum(a["allocated"].minor for a in data["allocations"]) == data["totals"]["amount"].minor


def test_the_donors_currencies_are_worked_out_at_each_contributions_rate(db):
    scenario = donor_scenario()
    data = donor_report_data(db.session, scenario.donor, days_ago(365), fund_today())
    by_currency = {row["currency"]: row for row in data["figures"]["by_currency"]}
    assert list(by_currency) == ["EUR", "USD"]
    assert by_currency["EUR"]["contributed"] == Money(20_000_00, "EUR")
    # 8,500,000.50 of 10,805,000.00 KZT is that share of 20,000.00 EUR: 15,733.4567... -> 15,733.46
    assert by_currency["EUR"]["allocated"] == Money(15_733_46, "EUR")
    assert by_currency["USD"]["allocated"] == Money(4_800_00, "USD")
    assert by_currency["USD"]["balance"] == Money(10_200_00, "USD")


def test_consecutive_periods_add_up_to_the_whole(db):
    scenario = donor_scenario()
    before = donor_report_data(db.session, scenario.donor, days_ago(365), days_ago(1))["figures"]["base"]
    today = donor_report_data(db.session, scenario.donor, fund_today(), fund_today())["figures"]["base"]
    assert before["contributed"] == kzt(18_305_000_00) and before["allocated"].minor == 0
    assert before["released"].minor == 0 and before["balance"] == kzt(18_305_000_00)
    assert today["contributed"].minor == 0
    assert today["allocated"] == kzt(10_900_000_50) and today["released"] == kzt(5_800_000_20)


def test_a_period_without_activity_is_said_to_be_empty(db):
    scenario = donor_scenario()
    data = donor_report_data(db.session, scenario.donor, days_ago(300), days_ago(200))
    assert data["has_activity"] is False
    assert data["contributions"] == [] and data["projects"] == []
    assert data["figures"]["base"]["balance"].minor == 0


def test_regions_indicators_and_photo_come_from_accepted_reports(db):
    scenario = donor_scenario()
    data = donor_report_data(db.session, scenario.donor, days_ago(365), fund_today())
    assert [(r["code"], r["projects"]) for r in data["regions"]] == [("KZ-47", 2)]
    assert data["regions"][0]["amount"] == data["totals"]["amount"]
    page = next(p for p in data["project_pages"] if p["reference"] == scenario.grant_a.reference)
    assert [(i["target"], i["achieved"], i["percent"]) for i in page["indicators"]] == [
        ("1,500", "40", 3),
        ("300", "120", 40),
    ]
    assert page["photo"]["uri"].startswith("data:image/png;base64,")
    assert page["species"] == ["Caspian seal (Pusa caspica)"]
    other = next(p for p in data["project_pages"] if p["reference"] == scenario.grant_b.reference)
    assert other["indicators"] == [] and other["photo"] is None


def test_the_portfolio_figures_equal_the_ledgers(db):
    scenario = donor_scenario()
    data = portfolio_report_data(db.session, fund_today().year)
    mine = next(row for row in data["received_by_donor"] if row["reference"] == scenario.donor.reference)
    assert mine["amount"] == kzt(18_305_000_00) and mine["count"] == 2
    pools = ledger.pools_in_order(db.session)
    figures = ledger.pool_figures_many(db.session, pools)
    year = fund_today().year
    received = Money.sum((f.received for f in figures.values()), "KZT")
    if all(c.value_date.year == year for c in scenario.contributions):
        assert data["figures"]["received"] == received
    assert data["figures"]["committed"] == Money.sum((f.committed for f in figures.values()), "KZT")
    assert data["figures"]["released"] == Money.sum((f.released for f in figures.values()), "KZT")
