"""Overdue report reminders: a mail to the grantee's members once a report is REPORT_REMINDER_DAYS days
late, then at most one a week, never for a report already submitted or accepted."""

from datetime import timedelta

from sqlalchemy import select

from fundapp.accounts.models import Membership
from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from fundapp.core.mail import OutboxMessage
from fundapp.disbursements import reporting
from fundapp.disbursements.models import ReportState
from fundapp.extensions import db as _db
from tests.applications.factories import make_officer
from tests.disbursements.factories import days_ago, make_grant
from tests.disbursements.test_reporting import END, START, fill, grantee_of, progress_report, running_grant
from tests.factories import make_user


def overdue_grant(days=10):
    grant = running_grant()
    progress_report(grant).due_date = days_ago(days)
    # Only the progress report is late in these tests.
    for report in grant.reports:
        if report is not progress_report(grant):
            report.due_date = days_ago(-60)
    _db.session.flush()
    return grant


def reminders_to(address):
    return _db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.to_address == address, OutboxMessage.subject.like("Overdue%")
        )
    ).all()


def test_an_overdue_report_is_reminded_to_every_member(db):
    grant = overdue_grant()
    colleague = make_user()
    grant.organisation.memberships.append(Membership(user=colleague))
    _db.session.flush()
    report = progress_report(grant)
    reminded = reporting.send_overdue_reminders(_db.session)
    assert reminded == [report]
    for person in (grantee_of(grant), colleague):
        messages = reminders_to(person.email)
        assert len(messages) == 1
        assert grant.reference in messages[0].subject
        assert "10 days ago" in messages[0].body_text
    assert report.reminded_at is not None
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "grant_report.reminded"))
    assert event.entity_id == str(report.id) and event.actor_id is None


def test_a_report_is_reminded_at_most_once_a_week(db):
    grant = overdue_grant()
    now = utcnow()
    assert reporting.send_overdue_reminders(_db.session, now=now) == [progress_report(grant)]
    assert reporting.send_overdue_reminders(_db.session, now=now + timedelta(days=1)) == []
    assert reporting.send_overdue_reminders(_db.session, now=now + timedelta(days=6, hours=23)) == []
    assert len(reminders_to(grantee_of(grant).email)) == 1
    assert reporting.send_overdue_reminders(_db.session, now=now + timedelta(days=7)) == [
        progress_report(grant)
    ]
    assert len(reminders_to(grantee_of(grant).email)) == 2


def test_a_report_only_a_little_late_is_not_reminded_yet(db):
    grant = overdue_grant(days=3)
    assert reporting.overdue_reports(_db.session) == []
    assert reporting.send_overdue_reminders(_db.session) == []
    assert reminders_to(grantee_of(grant).email) == []


def test_the_reminder_delay_is_a_setting(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_REMINDER_DAYS", 2)
    grant = overdue_grant(days=3)
    assert reporting.overdue_reports(_db.session) == [progress_report(grant)]


def test_submitted_and_accepted_reports_are_not_reminded(db):
    submitted_grant = overdue_grant()
    accepted_grant = overdue_grant()
    for grant in (submitted_grant, accepted_grant):
        fill(progress_report(grant), grantee_of(grant))
        reporting.submit_report(_db.session, grantee_of(grant), progress_report(grant))
    reporting.accept_report(_db.session, make_officer(), progress_report(accepted_grant))
    assert progress_report(accepted_grant).state == ReportState.ACCEPTED
    assert reporting.send_overdue_reminders(_db.session) == []
    assert reminders_to(grantee_of(accepted_grant).email) == []


def test_changes_requested_and_overdue_is_reminded(db):
    grant = overdue_grant()
    report = progress_report(grant)
    fill(report, grantee_of(grant))
    reporting.submit_report(_db.session, grantee_of(grant), report)
    reporting.request_changes(_db.session, make_officer(), report, "Add the photos.")
    assert reporting.send_overdue_reminders(_db.session) == [report]


def test_a_grant_not_signed_yet_is_not_reminded(db):
    grant = make_grant(start=START, end=END)
    progress_report(grant).due_date = days_ago(30)
    _db.session.flush()
    assert reporting.overdue_reports(_db.session) == []


def test_reminded_mail_leaves_after_commit(db, mail):
    grant = overdue_grant()
    reporting.send_overdue_reminders(_db.session)
    assert mail == []
    _db.session.commit()
    assert [m["to_address"] for m in mail if m["subject"].startswith("Overdue")] == [grantee_of(grant).email]
