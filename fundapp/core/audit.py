"""The audit log: append-only, each event carrying the hash of the one before it.

Changing or deleting a stored event breaks the chain, and ``verify_chain`` (``fundapp audit verify``)
names the first event whose hash no longer matches.
"""

import hashlib
import json
from contextlib import closing
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from fundapp.core.db import Base, UTCDateTime, utcnow

GENESIS_HASH = "0" * 64
#: Key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_300_001


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: The actor's email at the time, kept so the log reads without joins and survives renames.
    actor_label: Mapped[str] = mapped_column(String(255), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)

    __table_args__ = ({"comment": "append-only; each row hashes the previous one"},)

    def compute_hash(self):
        return event_hash(
            prev_hash=self.prev_hash,
            occurred_at=self.occurred_at,
            actor_id=self.actor_id,
            actor_label=self.actor_label,
            entity_type=self.entity_type,
            entity_id=self.entity_id,
            action=self.action,
            before=self.before,
            after=self.after,
        )

    def __repr__(self):
        return f"<AuditEvent {self.id} {self.entity_type}:{self.entity_id} {self.action}>"


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _plain(value):
    """What a JSON column gives back for ``value``, so the stored and the hashed data are the same."""
    return None if value is None else json.loads(_canonical(value))


def event_hash(
    *, prev_hash, occurred_at, actor_id, actor_label, entity_type, entity_id, action, before, after
):
    payload = _canonical(
        {
            "prev": prev_hash,
            "at": occurred_at.isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor": actor_label,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "action": action,
            "before": before,
            "after": after,
        }
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _entity_ref(entity):
    if isinstance(entity, tuple):
        entity_type, entity_id = entity
        return entity_type, None if entity_id is None else str(entity_id)
    return type(entity).__name__, None if getattr(entity, "id", None) is None else str(entity.id)


def record_event(session, actor, entity, action, *, before=None, after=None):
    """Append one event to the audit log in ``session`` (never commits).

    ``entity`` is a model instance or an ``(entity_type, entity_id)`` pair; ``actor`` is a user or
    ``None`` for the system itself. The session is flushed first so the entity has its id.
    """
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Two transactions appending at once would otherwise both chain onto the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    prev_hash = (
        session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS_HASH
    )
    entity_type, entity_id = _entity_ref(entity)
    audit_event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or "system",
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        before=_plain(before),
        after=_plain(after),
        prev_hash=prev_hash,
    )
    audit_event.hash = audit_event.compute_hash()
    session.add(audit_event)
    session.flush()
    return audit_event


def verify_chain(session, batch_size=1000):
    """Walk the whole log in order.

    Returns ``None`` if the chain is intact, else ``(event, problem)`` for the first bad event.
    """
    expected_prev = GENESIS_HASH
    result = session.execute(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch_size)
    )
    # Close the (server-side, on PostgreSQL) cursor when stopping early at a bad event.
    with closing(result):
        for audit_event in result.scalars():
            if audit_event.prev_hash != expected_prev:
                return audit_event, "its previous-hash does not match the event before it"
            if audit_event.compute_hash() != audit_event.hash:
                return audit_event, "its content no longer matches its hash"
            expected_prev = audit_event.hash
    return None


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("the audit log is append-only: events cannot be changed or deleted")
