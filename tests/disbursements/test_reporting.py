"""Grantee reports, as operations: drafts, submission, review, files.

The grants here run a year and a day (2026-01-01 to 2027-01-01), so the progress report's period ends
exactly half-way and it is compared with half of each budget line. The proposal's budget (tests'
complete content) gives the grant 5 000 000.00 KZT on line 1 (6 000 000.00 less 1 000 000.00
co-financing) and 3 500 000.50 KZT on line 2; its logframe has two indicators (targets 1500 and 300).
"""

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from fundapp.core.audit import AuditEvent
from fundapp.core.errors import DomainError
from fundapp.core.mail import OutboxMessage
from fundapp.core.money import Money
from fundapp.core.storage import stored_bytes
from fundapp.disbursements import reporting
from fundapp.disbursements.models import (
    GrantState,
    ReportFile,
    ReportFileKind,
    ReportIndicatorValue,
    ReportKind,
    ReportSpendLine,
    ReportState,
    TrancheState,
)
from fundapp.extensions import db as _db
from tests.applications.factories import make_officer, make_outsider
from tests.core.sample_files import MINIMAL_PDF, png_bytes
from tests.disbursements.factories import days_ago, kzt, make_finance_officer, make_grant

START = date(2026, 1, 1)
END = date(2027, 1, 1)


def running_grant(**fields):
    return make_grant(active=True, start=START, end=END, **fields)


def grantee_of(grant):
    return grant.organisation.memberships[0].user


def progress_report(grant):
    return next(r for r in grant.reports if r.kind == ReportKind.PROGRESS)


def final_report(grant):
    return next(r for r in grant.reports if r.kind == ReportKind.FINAL)


def fill(report, user, *, spent=("2500000", "1750000.25"), explanations=("", ""), narrative="Patrols ran."):
    """Save a complete draft of ``report`` (on budget unless ``spent`` says otherwise)."""
    return reporting.save_report(
        _db.session,
        user,
        report,
        narrative=narrative,
        indicator_values={0: ("40", "Aerial count in May"), 1: ("120", "")},
        spend={i: (amount, explanations[i]) for i, amount in enumerate(spent)},
    )


def submitted(report, user):
    fill(report, user)
    return reporting.submit_report(_db.session, user, report)


def outbox_to(address):
    return _db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == address)).all()


# -- the rows -------------------------------------------------------------------------------------------


def test_rows_follow_the_logframe_and_the_budget(db):
    report = progress_report(running_grant())
    rows = reporting.report_form_rows(report)
    assert [(r.target, r.unit) for r in rows.indicators] == [("1500", "individuals"), ("300", "nets")]
    assert "Nets removed" in rows.indicators[1].label
    assert [r.budget for r in rows.spend] == [kzt(5_000_000_00), kzt(3_500_000_50)]
    assert rows.share == Decimal("0.5")
    assert [r.expected for r in rows.spend] == [kzt(2_500_000_00), kzt(1_750_000_25)]
    assert all(r.spent is None for r in rows.spend)


def test_final_report_is_compared_with_the_whole_budget(db):
    report = final_report(running_grant())
    rows = reporting.report_form_rows(report)
    assert [r.expected for r in rows.spend] == [r.budget for r in rows.spend]


def test_rows_show_earlier_accepted_reports(db):
    grant = running_grant()
    officer = make_officer()
    submitted(progress_report(grant), grantee_of(grant))
    reporting.accept_report(_db.session, officer, progress_report(grant))
    rows = reporting.report_form_rows(final_report(grant))
    assert rows.indicators[1].earlier == Decimal(120)
    assert rows.spend[0].previous_spent == kzt(2_500_000_00)


# -- drafts ---------------------------------------------------------------------------------------------


def test_a_draft_stores_the_values_and_copies_the_proposal(db):
    grant = running_grant()
    report = progress_report(grant)
    fill(report, grantee_of(grant), spent=("1 250 000,50", kzt(0)))
    values = _db.session.scalars(
        select(ReportIndicatorValue).where(ReportIndicatorValue.report_id == report.id)
    )
    assert [(v.position, v.code, v.target, v.value, v.comment) for v in values] == [
        (0, "individuals_counted", "1500", "40", "Aerial count in May"),
        (1, None, "300", "120", ""),
    ]
    lines = _db.session.scalars(select(ReportSpendLine).where(ReportSpendLine.report_id == report.id)).all()
    assert [(line.category, line.budget_minor, line.spent_minor) for line in lines] == [
        ("staff", 5_000_000_00, 1_250_000_50),
        ("equipment", 3_500_000_50, 0),
    ]
    assert report.narrative == "Patrols ran."
    assert report.state == ReportState.DUE


def test_blank_values_are_saved_as_blank(db):
    grant = running_grant()
    report = progress_report(grant)
    user = grantee_of(grant)
    fill(report, user)
    reporting.save_report(
        _db.session, user, report, narrative="", indicator_values={0: ("", "")}, spend={1: ("", "")}
    )
    assert [v.position for v in report.indicator_values] == [1]
    assert [s.position for s in report.spend_lines] == [0]
    assert report.narrative == ""


def test_malformed_values_are_refused_field_by_field_and_nothing_is_stored(db):
    grant = running_grant()
    report = progress_report(grant)
    with pytest.raises(reporting.ReportInvalid) as refused:
        reporting.save_report(
            _db.session,
            grantee_of(grant),
            report,
            narrative="Something typed",
            indicator_values={0: ("forty", ""), 1: ("-3", "")},
            spend={0: ("12.345", ""), 1: ("-1", "")},
        )
    errors = refused.value.errors
    assert set(errors) == {"indicator-0-value", "indicator-1-value", "spend-0-spent", "spend-1-spent"}
    assert "number" in errors["indicator-0-value"]
    assert "negative" in errors["indicator-1-value"]
    assert "decimal places" in errors["spend-0-spent"]
    assert "negative" in errors["spend-1-spent"]
    _db.session.refresh(report)
    assert report.narrative == ""
    assert report.indicator_values == [] and report.spend_lines == []


def test_an_overlong_narrative_is_refused_on_its_field(db):
    grant = running_grant()
    report = progress_report(grant)
    with pytest.raises(reporting.ReportInvalid) as refused:
        reporting.save_report(
            _db.session, grantee_of(grant), report, narrative="x" * (reporting.MAX_NARRATIVE_LENGTH + 1)
        )
    assert set(refused.value.errors) == {"narrative"}
    assert report.narrative == ""


def test_an_explanation_needs_an_amount(db):
    grant = running_grant()
    report = progress_report(grant)
    with pytest.raises(reporting.ReportInvalid) as refused:
        reporting.save_report(
            _db.session, grantee_of(grant), report, narrative="", spend={0: ("", "Boat bought early")}
        )
    assert "amount spent" in refused.value.errors["spend-0-spent"]


def test_an_amount_in_another_currency_is_refused(db):
    grant = running_grant()
    report = progress_report(grant)
    with pytest.raises(reporting.ReportInvalid) as refused:
        reporting.save_report(
            _db.session,
            grantee_of(grant),
            report,
            narrative="",
            spend={0: (Money(100, "USD"), "")},
        )
    assert "KZT" in refused.value.errors["spend-0-spent"]


def test_another_organisation_cannot_write_the_report(db):
    report = progress_report(running_grant())
    with pytest.raises(DomainError, match="Only members"):
        fill(report, make_outsider())
    assert report.indicator_values == []


def test_a_programme_officer_cannot_edit_the_report(db):
    report = progress_report(running_grant())
    with pytest.raises(DomainError, match="Only members"):
        fill(report, make_officer())
    assert report.narrative == ""


def test_a_grant_not_yet_signed_has_no_reports_to_write(db):
    grant = make_grant(start=START, end=END)
    assert grant.state == GrantState.AGREEMENT
    with pytest.raises(DomainError, match="agreement"):
        fill(progress_report(grant), grantee_of(grant))


# -- submission -----------------------------------------------------------------------------------------


def test_submission_lists_everything_missing(db):
    grant = running_grant()
    report = progress_report(grant)
    with pytest.raises(reporting.ReportIncomplete) as refused:
        reporting.submit_report(_db.session, grantee_of(grant), report)
    problems = [str(p) for p in refused.value.problems]
    assert len(problems) == 3
    assert "narrative" in problems[0]
    assert "Nets removed" in problems[1]
    assert "Rangers' salaries" in problems[2] and "Boat and engine" in problems[2]
    assert report.state == ReportState.DUE
    assert report.submitted_at is None


def test_a_variance_over_the_threshold_needs_an_explanation(db):
    grant = running_grant()
    report = progress_report(grant)
    user = grantee_of(grant)
    # 2 800 000.00 against 2 500 000.00 expected: 12% over the 10% threshold; line 2 is 10% under: fine.
    fill(report, user, spent=("2800000", "1575000.23"))
    rows = reporting.report_form_rows(report)
    assert rows.spend[0].variance_percent == Decimal("12.0")
    assert [r.needs_explanation for r in rows.spend] == [True, False]
    with pytest.raises(reporting.ReportIncomplete) as refused:
        reporting.submit_report(_db.session, user, report)
    assert len(refused.value.problems) == 1
    assert "more than 10%" in str(refused.value.problems[0])
    assert "Rangers' salaries" in str(refused.value.problems[0])
    assert report.state == ReportState.DUE


def test_a_variance_with_its_explanation_is_submitted(db):
    grant = running_grant()
    report = progress_report(grant)
    user = grantee_of(grant)
    fill(report, user, spent=("2800000", "1575000.23"), explanations=("Two more rangers hired early.", ""))
    reporting.submit_report(_db.session, user, report)
    assert report.state == ReportState.SUBMITTED
    assert report.submitted_by_id == user.id and report.submitted_at is not None


def test_the_threshold_is_a_setting(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_VARIANCE_PERCENT", 15)
    grant = running_grant()
    report = progress_report(grant)
    fill(report, grantee_of(grant), spent=("2800000", "1750000.25"))
    reporting.submit_report(_db.session, grantee_of(grant), report)
    assert report.state == ReportState.SUBMITTED


def test_submission_tells_the_programme_officers(db):
    officer = make_officer()
    grant = running_grant()
    submitted(progress_report(grant), grantee_of(grant))
    messages = outbox_to(officer.email)
    assert len(messages) == 1
    assert grant.reference in messages[0].subject
    event = _db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "grant_report.submitted").order_by(AuditEvent.id.desc())
    )
    assert event.entity_id == str(progress_report(grant).id)


def test_a_submitted_report_cannot_be_changed(db):
    grant = running_grant()
    report = progress_report(grant)
    submitted(report, grantee_of(grant))
    with pytest.raises(DomainError, match="submitted"):
        fill(report, grantee_of(grant), narrative="Changed afterwards")
    assert report.narrative == "Patrols ran."


# -- review ---------------------------------------------------------------------------------------------


def test_accepting_a_progress_report_makes_its_tranche_due(db):
    grant = running_grant()
    report = progress_report(grant)
    tranche = next(t for t in grant.tranches if t.report_id == report.id)
    tranche.planned_date = days_ago(3)
    submitted(report, grantee_of(grant))
    assert tranche.state == TrancheState.SCHEDULED
    officer = make_officer()
    reporting.accept_report(_db.session, officer, report, "Clear and complete.")
    assert report.state == ReportState.ACCEPTED
    assert report.reviewed_by_id == officer.id and report.review_comment == "Clear and complete."
    assert tranche.state == TrancheState.DUE
    messages = outbox_to(grantee_of(grant).email)
    assert any("accepted" in m.subject and "Clear and complete." in m.body_text for m in messages)


def test_an_accepted_report_does_not_advance_a_tranche_before_its_date(db):
    grant = running_grant()
    report = progress_report(grant)
    tranche = next(t for t in grant.tranches if t.report_id == report.id)
    tranche.planned_date = days_ago(-30)
    submitted(report, grantee_of(grant))
    reporting.accept_report(_db.session, make_officer(), report)
    assert tranche.state == TrancheState.SCHEDULED


def test_accepting_the_final_report_completes_the_grant(db):
    grant = running_grant()
    report = final_report(grant)
    fill(report, grantee_of(grant), spent=("5000000", "3500000.50"))
    reporting.submit_report(_db.session, grantee_of(grant), report)
    reporting.accept_report(_db.session, make_officer(), report)
    assert grant.state == GrantState.COMPLETED


def test_the_grantee_cannot_accept(db):
    grant = running_grant()
    report = progress_report(grant)
    submitted(report, grantee_of(grant))
    with pytest.raises(DomainError, match="programme officer"):
        reporting.accept_report(_db.session, grantee_of(grant), report)
    assert report.state == ReportState.SUBMITTED


def test_a_finance_officer_cannot_accept(db):
    grant = running_grant()
    report = progress_report(grant)
    submitted(report, grantee_of(grant))
    with pytest.raises(DomainError):
        reporting.accept_report(_db.session, make_finance_officer(), report)
    assert report.state == ReportState.SUBMITTED


def test_a_report_is_accepted_only_once_submitted(db):
    report = progress_report(running_grant())
    with pytest.raises(DomainError, match="Due"):
        reporting.accept_report(_db.session, make_officer(), report)
    assert report.state == ReportState.DUE


def test_asking_for_changes_needs_a_reason(db):
    grant = running_grant()
    report = progress_report(grant)
    submitted(report, grantee_of(grant))
    with pytest.raises(DomainError) as refused:
        reporting.request_changes(_db.session, make_officer(), report, "   ")
    assert refused.value.field == "reason"
    assert report.state == ReportState.SUBMITTED


def test_changes_requested_go_back_to_the_grantee(db):
    grant = running_grant()
    report = progress_report(grant)
    user = grantee_of(grant)
    submitted(report, user)
    reporting.request_changes(_db.session, make_officer(), report, "Add the survey photos.")
    assert report.state == ReportState.CHANGES_REQUESTED
    assert report.review_comment == "Add the survey photos."
    assert any("Add the survey photos." in m.body_text for m in outbox_to(user.email))
    fill(report, user, narrative="Patrols ran; photos added.")
    reporting.submit_report(_db.session, user, report)
    assert report.state == ReportState.SUBMITTED


# -- files ----------------------------------------------------------------------------------------------


def upload(data, name):
    return FileStorage(stream=io.BytesIO(data), filename=name)


def test_a_photo_is_added(db):
    grant = running_grant()
    report = progress_report(grant)
    report_file = reporting.add_report_file(
        _db.session,
        grantee_of(grant),
        report,
        upload(png_bytes(), "haul-out.png"),
        kind="photo",
        caption="May",
    )
    assert report_file.kind == ReportFileKind.PHOTO
    assert report_file.stored_file.content_type == "image/png"
    assert stored_bytes(report_file.stored_file) == png_bytes()
    assert report.files == [report_file]


def test_pdf_bytes_named_png_are_not_a_photo(db):
    grant = running_grant()
    report = progress_report(grant)
    with pytest.raises(DomainError, match="PDF") as refused:
        reporting.add_report_file(
            _db.session, grantee_of(grant), report, upload(MINIMAL_PDF, "photo.png"), kind="photo"
        )
    assert refused.value.field == "file"
    assert _db.session.scalars(select(ReportFile).where(ReportFile.report_id == report.id)).all() == []


def test_without_a_kind_the_content_decides(db):
    grant = running_grant()
    report = progress_report(grant)
    report_file = reporting.add_report_file(
        _db.session, grantee_of(grant), report, upload(MINIMAL_PDF, "photo.png")
    )
    assert report_file.kind == ReportFileKind.DOCUMENT
    assert report_file.stored_file.original_name == "photo.pdf"


def test_a_removed_file_disappears(db):
    grant = running_grant()
    report = progress_report(grant)
    user = grantee_of(grant)
    report_file = reporting.add_report_file(_db.session, user, report, upload(MINIMAL_PDF, "budget.pdf"))
    reporting.remove_report_file(_db.session, user, report_file)
    _db.session.flush()
    assert report.files == []
    assert _db.session.scalars(select(ReportFile).where(ReportFile.report_id == report.id)).all() == []


def test_files_are_frozen_after_submission(db):
    grant = running_grant()
    report = progress_report(grant)
    user = grantee_of(grant)
    report_file = reporting.add_report_file(_db.session, user, report, upload(MINIMAL_PDF, "budget.pdf"))
    submitted(report, user)
    with pytest.raises(DomainError, match="submitted"):
        reporting.add_report_file(_db.session, user, report, upload(png_bytes(), "late.png"))
    with pytest.raises(DomainError, match="submitted"):
        reporting.remove_report_file(_db.session, user, report_file)
    assert report.files == [report_file]
