"""The mail outbox: messages are stored with the change that caused them and sent only after commit.

A rolled-back request sends nothing. In development (``MAIL_BACKEND = "file"``) each message is written
to ``instance/outbox/`` as an .eml file and listed for admins; ``"smtp"`` sends through the configured
server; ``"memory"`` (tests) keeps them in a list on the app.
"""

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import Integer, String, Text, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from fundapp.core.db import Base, UTCDateTime, utcnow

log = logging.getLogger(__name__)


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(255), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why the last attempt to send failed, if it did.
    error: Mapped[str | None] = mapped_column(String(500))

    @property
    def status(self):
        if self.sent_at:
            return "sent"
        return "failed" if self.error else "queued"


def queue_mail(session, to, subject, body):
    """Store a message in the outbox; it leaves when the surrounding transaction commits."""
    message = OutboxMessage(to_address=to, subject=str(subject), body_text=str(body))
    session.add(message)
    return message


def build_message(sender, message):
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message["to_address"]
    email["Subject"] = message["subject"]
    email["Message-ID"] = f"<outbox-{message['id']}@fundapp>"
    email.set_content(message["body_text"])
    return email


def _deliver(app, message):
    email = build_message(app.config["MAIL_DEFAULT_SENDER"], message)
    backend = app.config["MAIL_BACKEND"]
    if backend == "memory":
        app.extensions.setdefault("sent_mail", []).append(message)
    elif backend == "file":
        outbox = Path(app.instance_path) / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        (outbox / f"{message['id']:08d}.eml").write_bytes(email.as_bytes())
    elif backend == "smtp":
        with smtplib.SMTP(app.config["MAIL_SERVER"], app.config["MAIL_PORT"], timeout=30) as smtp:
            if app.config["MAIL_USE_TLS"]:
                smtp.starttls()
            if app.config["MAIL_USERNAME"]:
                smtp.login(app.config["MAIL_USERNAME"], app.config["MAIL_PASSWORD"])
            smtp.send_message(email)
    else:
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")


def sent_mail(app):
    """Messages delivered by the memory backend (tests)."""
    return app.extensions.setdefault("sent_mail", [])


@event.listens_for(Session, "after_flush")
def _collect_new_messages(session, flush_context):
    pending = session.info.setdefault("outbox_pending", [])
    pending.extend(obj.id for obj in session.new if isinstance(obj, OutboxMessage))


@event.listens_for(Session, "after_rollback")
def _forget_messages(session):
    session.info.pop("outbox_pending", None)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session):
    pending = session.info.pop("outbox_pending", None)
    if pending and has_app_context():
        from fundapp.core.jobs import enqueue

        enqueue(deliver_outbox, pending)


def deliver_outbox(message_ids=None):
    """Send the given outbox messages (all unsent ones if None) and record the outcome. A background job.

    A message that fails stays in the outbox with its error, for ``fundapp mail send-pending`` to retry.
    Returns the number sent.
    """
    from fundapp.extensions import db

    app = current_app._get_current_object()
    query = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id)
    if message_ids is not None:
        query = query.where(OutboxMessage.id.in_(message_ids))
    sent = 0
    for message in db.session.scalars(query).all():
        plain = {
            "id": message.id,
            "to_address": message.to_address,
            "subject": message.subject,
            "body_text": message.body_text,
        }
        try:
            _deliver(app, plain)
        except (OSError, smtplib.SMTPException) as exc:
            log.exception("could not send outbox message %s", message.id)
            message.error = str(exc)[:500]
        else:
            message.sent_at = utcnow()
            message.error = None
            sent += 1
        db.session.commit()
    return sent
