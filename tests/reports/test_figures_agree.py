"""The donor portal (``fundapp.donors.queries``) and the donor report (``fundapp.reports.data``) compute a
donor's key figures each from the ledger and the stored attribution: they must say the same."""

import pytest

from fundapp.donors import queries
from fundapp.reports.data import donor_report_data
from tests.disbursements.factories import days_ago
from tests.reports.test_report_data import donor_scenario

PERIODS = {"all time": (None, None), "last 90 days": (90, 0), "up to 55 days ago": (400, 55)}


@pytest.mark.parametrize("period", list(PERIODS))
def test_the_portal_and_the_report_give_the_same_key_figures(db, period):
    scenario = donor_scenario()
    days = PERIODS[period]
    date_from, date_to = (None, None) if days[0] is None else (days_ago(days[0]), days_ago(days[1]))

    portal = queries.donor_figures(db.session, scenario.donor, date_from, date_to)
    report = donor_report_data(db.session, scenario.donor, date_from, date_to)["figures"]["base"]

    assert portal.contributed.base == report["contributed"]
    assert portal.allocated.base == report["allocated"]
    assert portal.released.base == report["released"]
    assert portal.balance.base == report["balance"]
