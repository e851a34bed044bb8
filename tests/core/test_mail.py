"""The mail outbox: messages leave only after the transaction commits, and failures are kept to retry."""

import smtplib
from pathlib import Path

from sqlalchemy import select

from fundapp.core.mail import OutboxMessage, queue_mail


def test_message_is_sent_after_commit_and_marked_sent(db, mail):
    queue_mail(db.session, "aliya@example.org", "Hello", "Body text")
    db.session.flush()
    assert mail == []  # not before the commit

    db.session.commit()

    assert [m["to_address"] for m in mail] == ["aliya@example.org"]
    message = db.session.scalar(select(OutboxMessage))
    assert message.sent_at is not None and message.status == "sent"


def test_rolled_back_message_is_never_sent(db, mail):
    queue_mail(db.session, "aliya@example.org", "Hello", "Body text")
    db.session.flush()
    db.session.rollback()

    assert mail == []
    assert db.session.scalar(select(OutboxMessage)) is None


def test_file_backend_writes_eml_into_the_instance_outbox(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    message = queue_mail(db.session, "board@example.org", "Board pack", "See attached.")
    db.session.commit()

    written = Path(app.instance_path, "outbox", f"{message.id:08d}.eml").read_text()
    assert "To: board@example.org" in written and "Subject: Board pack" in written
    assert "See attached." in written


def test_failed_send_is_kept_with_its_error_and_retried_by_the_command(db, app, runner, monkeypatch, mail):
    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("server went away")

    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setattr(smtplib, "SMTP", refuse)
    queue_mail(db.session, "aliya@example.org", "Hello", "Body")
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage))
    db.session.refresh(message)
    assert message.status == "failed" and "server went away" in message.error

    monkeypatch.setitem(app.config, "MAIL_BACKEND", "memory")
    result = runner.invoke(args=["mail", "send-pending"])

    assert "Sent 1 message(s)." in result.output
    db.session.refresh(message)
    assert message.status == "sent"
    assert [m["subject"] for m in mail] == ["Hello"]


def test_admin_sees_the_outbox(client, db):
    from fundapp.core.permissions import Role
    from tests.conftest import login
    from tests.factories import make_user

    admin = make_user(roles=[Role.ADMIN])
    queue_mail(db.session, "aliya@example.org", "Your proposal was received", "Body")
    db.session.commit()
    login(client, admin)

    html = client.get("/admin/outbox").get_data(as_text=True)

    assert "Your proposal was received" in html and "aliya@example.org" in html
