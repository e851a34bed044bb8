"""The audit log: a hash chain that names the first event changed or deleted behind the ORM's back."""

import pytest
from sqlalchemy import delete, select, update

from fundapp.core.audit import GENESIS_HASH, AuditEvent, record_event, verify_chain
from fundapp.core.permissions import Role
from tests.factories import make_user


def record_three(db, actor=None):
    return [
        record_event(db.session, actor, ("Proposal", 1), "proposal.submitted", after={"state": "submitted"}),
        record_event(
            db.session,
            actor,
            ("Proposal", 1),
            "proposal.eligible",
            before={"state": "submitted"},
            after={"state": "eligible"},
        ),
        record_event(
            db.session, actor, ("Tranche", 4), "tranche.released", after={"amount": "4000000.00 KZT"}
        ),
    ]


def tamper(db, statement):
    """Change stored events with SQL, as someone with database access could, then read afresh."""
    db.session.execute(statement, execution_options={"synchronize_session": False})
    db.session.expire_all()


def test_each_event_carries_the_hash_of_the_one_before(db):
    first, second, third = record_three(db)

    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


def test_the_first_event_of_the_log_chains_onto_64_zeros(db):
    record_three(db)

    earliest = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id).limit(1))

    assert earliest.prev_hash == GENESIS_HASH == "0" * 64


def test_an_event_records_actor_entity_and_summary(db):
    officer = make_user(roles=[Role.PROGRAMME_OFFICER])

    event = record_event(
        db.session, officer, ("Proposal", 12), "proposal.eligible", before={"state": "submitted"}
    )

    db.session.expire_all()
    stored = db.session.get(AuditEvent, event.id)
    assert (stored.actor_id, stored.actor_label) == (officer.id, officer.email)
    assert (stored.entity_type, stored.entity_id, stored.action) == ("Proposal", "12", "proposal.eligible")
    assert (stored.before, stored.after) == ({"state": "submitted"}, None)
    assert stored.occurred_at.tzinfo is not None
    assert stored.compute_hash() == stored.hash


def test_verify_chain_finds_an_intact_chain_intact(db):
    record_three(db, make_user())

    assert verify_chain(db.session) is None


def test_verify_chain_finds_an_intact_chain_intact_after_reading_it_back(db):
    """What the JSON column and the time column give back hashes the same as what was written."""
    record_three(db, make_user())
    db.session.commit()
    db.session.expire_all()

    assert verify_chain(db.session) is None


def test_changing_a_stored_summary_is_detected_at_that_event(db):
    _, second, _ = record_three(db)

    tamper(db, update(AuditEvent).where(AuditEvent.id == second.id).values(after={"state": "approved"}))

    bad_event, problem = verify_chain(db.session)
    assert bad_event.id == second.id
    assert "no longer matches its hash" in problem


def test_changing_a_stored_action_is_detected(db):
    _, _, third = record_three(db)

    tamper(db, update(AuditEvent).where(AuditEvent.id == third.id).values(action="tranche.cancelled"))

    bad_event, _problem = verify_chain(db.session)
    assert bad_event.id == third.id


def test_deleting_a_middle_event_is_detected_at_the_next_one(db):
    _, second, third = record_three(db)

    tamper(db, delete(AuditEvent).where(AuditEvent.id == second.id))

    bad_event, problem = verify_chain(db.session)
    assert bad_event.id == third.id
    assert "previous-hash does not match" in problem


def test_rehashing_a_changed_event_still_breaks_the_chain_at_the_next(db):
    """Recomputing the tampered event's own hash does not help: the next event holds the old one."""
    _, second, third = record_three(db)
    second.after = {"state": "approved"}
    new_hash = second.compute_hash()
    db.session.expunge(second)

    tamper(
        db,
        update(AuditEvent)
        .where(AuditEvent.id == second.id)
        .values(after={"state": "approved"}, hash=new_hash),
    )

    bad_event, _problem = verify_chain(db.session)
    assert bad_event.id == third.id


def test_the_orm_refuses_to_change_an_event(db):
    event = record_event(
        db.session, None, ("Proposal", 1), "proposal.submitted", after={"state": "submitted"}
    )

    event.after = {"state": "approved"}
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()


def test_the_orm_refuses_to_delete_an_event(db):
    event = record_event(db.session, None, ("Proposal", 1), "proposal.submitted")

    db.session.delete(event)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()


def test_cli_reports_an_intact_chain(db, runner):
    record_three(db)
    db.session.commit()

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 0, result.output
    assert "Audit chain intact: 3 events." in result.output


def test_cli_exits_1_naming_the_tampered_event(db, runner):
    _, second, _ = record_three(db)
    tamper(db, update(AuditEvent).where(AuditEvent.id == second.id).values(entity_id="2"))
    db.session.commit()

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 1
    assert f"Audit chain broken at event {second.id} " in result.stderr
    assert "no longer matches its hash" in result.stderr
