"""``fundapp report donor`` and ``fundapp report portfolio``."""

from fundapp.core.formatting import fund_today
from tests.reports.test_report_data import donor_scenario


def test_without_a_reference_the_donors_are_listed_reference_first(runner, db):
    scenario = donor_scenario()
    result = runner.invoke(args=["report", "donor"])
    assert result.exit_code == 0, result.output
    assert any(line.split()[0] == scenario.donor.reference for line in result.output.splitlines())


def test_a_donor_report_is_written(runner, db, tmp_path):
    scenario = donor_scenario()
    out = tmp_path / "donor.pdf"
    result = runner.invoke(
        args=[
            "report",
            "donor",
            scenario.donor.reference,
            "--from",
            "2026-01-01",
            "--to",
            str(fund_today()),
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and "SHA-256" in result.output


def test_an_unknown_reference_is_a_clear_error(runner, db, tmp_path):
    result = runner.invoke(args=["report", "donor", "DNR-9999", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0
    assert "no donor has the reference 'DNR-9999'" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_a_period_in_the_future_is_refused(runner, db, tmp_path):
    scenario = donor_scenario()
    result = runner.invoke(
        args=[
            "report",
            "donor",
            scenario.donor.reference,
            "--to",
            "2999-01-01",
            "--out",
            str(tmp_path / "x.pdf"),
        ]
    )
    assert result.exit_code != 0 and "have not come yet" in result.output


def test_the_portfolio_report_is_written(runner, db, tmp_path):
    donor_scenario()
    out = tmp_path / "portfolio.pdf"
    result = runner.invoke(args=["report", "portfolio", "--year", str(fund_today().year), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


def test_a_bad_year_is_refused(runner, db, tmp_path):
    result = runner.invoke(args=["report", "portfolio", "--year", "soon", "--out", str(tmp_path / "p.pdf")])
    assert result.exit_code != 0 and "four digits" in result.output
