"""Generating reports as jobs: inline without Redis, progress recorded, the PDF kept with its SHA-256."""

import hashlib

import pytest

from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today
from fundapp.core.storage import stored_bytes
from fundapp.donors.models import GeneratedReport, ReportJobState, ReportKind
from fundapp.reports import documents, generation
from tests.applications.factories import make_officer
from tests.core.test_jobs import redis_queue  # noqa: F401 (a fixture)
from tests.disbursements.factories import days_ago
from tests.reports.test_report_data import donor_scenario


def requested(db, kind, donor=None, **parameters):
    report = generation.request_report(db.session, make_officer(), kind, donor, parameters)
    report_id = report.id
    db.session.commit()
    return db.session.get(GeneratedReport, report_id)


def reloaded(db, report):
    db.session.expire_all()
    return db.session.get(GeneratedReport, report.id)


def test_a_donor_report_runs_inline_and_is_kept_with_its_sha256(db):
    scenario = donor_scenario()
    report = requested(db, ReportKind.DONOR, scenario.donor, **{"from": days_ago(90), "to": fund_today()})
    assert report.state == ReportJobState.QUEUED
    job = generation.start_report(report.id)
    assert job.is_finished
    report = reloaded(db, report)
    assert report.state == ReportJobState.DONE and report.progress == 100
    assert report.job_id == job.id and report.finished_at is not None
    data = stored_bytes(report.file)
    assert (
        data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == report.sha256 == report.file.sha256
    )
    assert report.file.original_name == f"{scenario.donor.reference}-report-{days_ago(90)}-{fund_today()}.pdf"
    assert report.parameters == {
        "from": days_ago(90).isoformat(),
        "to": fund_today().isoformat(),
        "language": "en",
    }


def test_a_portfolio_report_runs_inline(db):
    donor_scenario()
    report = requested(db, ReportKind.PORTFOLIO, year=fund_today().year)
    generation.start_report(report.id)
    report = reloaded(db, report)
    assert report.state == ReportJobState.DONE
    assert report.file.original_name == f"portfolio-report-{fund_today().year}.pdf"


def test_progress_is_recorded_step_by_step(db, monkeypatch):
    scenario = donor_scenario()
    report = requested(db, ReportKind.DONOR, scenario.donor)
    seen = []
    original = generation._write

    def spy(report_id, **values):
        if "progress" in values:
            seen.append(values["progress"])
        original(report_id, **values)

    monkeypatch.setattr(generation, "_write", spy)
    generation.start_report(report.id)
    if db.engine.dialect.name == "sqlite":
        # One writer at a time: the running job's reads hold it, so only the end is recorded.
        assert seen == []
        db.session.refresh(report)
        assert report.progress == 100
    else:
        assert seen[:3] == [10, 15, 30] and 80 in seen and 90 in seen
        assert seen == sorted(seen)


def test_a_failure_is_recorded_with_its_reason(db, monkeypatch):
    scenario = donor_scenario()
    report = requested(db, ReportKind.DONOR, scenario.donor)

    def broken(*args, **kwargs):
        raise RuntimeError("the renderer ran out of paper")

    monkeypatch.setattr(documents, "render_donor_report", broken)
    job = generation.start_report(report.id)
    assert job.result == "failed"
    report = reloaded(db, report)
    assert report.state == ReportJobState.FAILED and report.file_id is None
    assert "ran out of paper" in report.message and report.finished_at is not None


def test_a_report_already_done_is_not_run_again(db):
    scenario = donor_scenario()
    report = requested(db, ReportKind.DONOR, scenario.donor)
    generation.start_report(report.id)
    sha = reloaded(db, report).sha256
    assert generation.generate_report(report.id) == "done"
    assert reloaded(db, report).sha256 == sha


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"from": "2026-13-01"}, "date_from"),
        ({"to": "2999-01-01"}, "date_to"),
        ({"from": "2026-06-01", "to": "2026-05-01"}, "date_from"),
    ],
)
def test_a_bad_period_is_refused_and_nothing_is_queued(db, parameters, field):
    scenario = donor_scenario()
    before = db.session.query(GeneratedReport).count()
    with pytest.raises(DomainError) as refusal:
        generation.request_report(db.session, make_officer(), ReportKind.DONOR, scenario.donor, parameters)
    assert refusal.value.field == field
    assert db.session.query(GeneratedReport).count() == before


def test_a_bad_year_is_refused(db):
    with pytest.raises(DomainError) as refusal:
        generation.request_report(db.session, make_officer(), ReportKind.PORTFOLIO, None, {"year": "next"})
    assert refusal.value.field == "year"


def test_with_redis_the_report_waits_for_a_worker_and_the_page_shows_its_progress(
    db,
    client,
    login_as,
    redis_queue,  # noqa: F811 (the fixture imported above)
):
    """FUNDAPP_REDIS_URL set: the request only queues the job; the status page says it is waiting and
    refreshes itself; an RQ worker then generates the report, and the page offers the download."""
    from tests.core.test_jobs import work_burst

    officer = make_officer()
    scenario = donor_scenario()
    report = requested(db, ReportKind.DONOR, scenario.donor)
    job = generation.start_report(report.id)

    assert job.id in redis_queue.job_ids
    report = reloaded(db, report)
    assert report.state == ReportJobState.QUEUED and report.job_id == job.id
    login_as(officer)
    waiting = client.get(f"/reports/{report.id}")
    page = waiting.get_data(as_text=True)
    assert waiting.status_code == 200
    assert 'http-equiv="refresh"' in page and "<progress" in page
    assert "Download the PDF" not in page

    work_burst(redis_queue)

    report = reloaded(db, report)
    assert report.state == ReportJobState.DONE and report.progress == 100
    done = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Download the PDF" in done and 'http-equiv="refresh"' not in done
    with client.get(f"/reports/{report.id}/download", buffered=True) as download:
        assert download.status_code == 200
        assert hashlib.sha256(download.data).hexdigest() == report.sha256
