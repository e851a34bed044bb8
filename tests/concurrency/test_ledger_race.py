"""Twenty requests at once on PostgreSQL: money leaves the fund once, and never beyond what it holds.

Twenty threads, each with its own connection, wait on a barrier and then all try to release the same
tranche, or to sign (and so commit) grants that together need more than their pool holds. Exactly one
wins; the others get a refusal a person can read; ``check_ledger`` holds afterwards.
"""

import io
import threading
import uuid

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today
from fundapp.disbursements import ledger
from fundapp.disbursements.models import (
    EntryKind,
    Grant,
    GrantState,
    JournalEntry,
    Tranche,
    TrancheState,
)
from fundapp.extensions import db as _db
from tests.core.sample_files import MINIMAL_PDF

pytestmark = pytest.mark.postgres

THREADS = 20


def _run_at_once(app, count, work):
    """Run ``work(index, session)`` in ``count`` threads released together; returns ``{index: result}``
    where the result is what ``work`` returned (after a commit) or the refusal's message (rolled back)."""
    barrier = threading.Barrier(count)
    results = {}
    errors = []

    def run(index):
        with app.app_context():
            session = _db.session
            try:
                prepared = work(index, session, None)  # load what the request needs
                session.commit()
                barrier.wait(timeout=60)
                try:
                    results[index] = work(index, session, prepared)
                    session.commit()
                except DomainError as error:
                    session.rollback()
                    results[index] = ("refused", str(error.message))
            except Exception as error:  # surfaced in the main thread
                errors.append(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return results


def _active_grant_with_an_approved_tranche():
    """An active grant whose first tranche is approved by one finance officer, and twenty others."""
    from fundapp.disbursements import operations
    from tests.disbursements.factories import days_ago, make_finance_officer, make_grant

    grant = make_grant(active=True, start=days_ago(30), end=days_ago(-335))
    approver = make_finance_officer()
    tranche = grant.tranches[0]
    operations.approve_tranche(_db.session, approver, tranche, bank_details_checked=True)
    officers = [make_finance_officer() for _ in range(THREADS)]
    _db.session.commit()
    return grant.id, tranche.id, [officer.id for officer in officers]


def _release_work(tranche_id, officer_ids, key_of):
    from fundapp.accounts.models import User
    from fundapp.disbursements import operations

    def work(index, session, prepared):
        if prepared is None:
            officer = session.get(User, officer_ids[index])
            tranche = session.get(Tranche, tranche_id)
            _ = (tranche.grant.pool.account, tranche.grant.account, tranche.grant.organisation)
            return True
        officer = session.get(User, officer_ids[index])
        tranche = session.get(Tranche, tranche_id)
        entry = operations.release_tranche(
            session,
            officer,
            tranche,
            paid_on=fund_today(),
            bank_reference="KZ-OUT-2026-0001",
            idempotency_key=key_of(index),
        )
        return ("released", entry.id)

    return work


def _releases(session, tranche_id):
    return session.scalar(
        select(func.count())
        .select_from(JournalEntry)
        .where(JournalEntry.tranche_id == tranche_id, JournalEntry.kind == EntryKind.RELEASE)
    )


def test_twenty_officers_releasing_one_tranche_at_once_release_it_once(race_app):
    with race_app.app_context():
        grant_id, tranche_id, officer_ids = _active_grant_with_an_approved_tranche()
        _db.session.remove()

    results = _run_at_once(
        race_app, THREADS, _release_work(tranche_id, officer_ids, lambda index: uuid.uuid4().hex)
    )

    wins = [result for result in results.values() if result[0] == "released"]
    refusals = [result[1] for result in results.values() if result[0] == "refused"]
    assert len(wins) == 1, results
    assert len(refusals) == THREADS - 1
    assert all("released" in message.lower() for message in refusals), refusals
    with race_app.app_context():
        session = _db.session
        tranche = session.get(Tranche, tranche_id)
        assert tranche.state == TrancheState.RELEASED
        assert _releases(session, tranche_id) == 1
        figures = ledger.grant_figures(session, session.get(Grant, grant_id))
        assert figures.released == tranche.amount
        assert ledger.check_ledger(session) == []
        _db.session.remove()


def test_twenty_retries_with_one_idempotency_key_release_once_and_all_get_the_first_result(race_app):
    with race_app.app_context():
        _grant_id, tranche_id, officer_ids = _active_grant_with_an_approved_tranche()
        _db.session.remove()
    key = uuid.uuid4().hex
    # One officer's double (twenty-fold) click: the same person, the same key, the same details.
    same_officer = [officer_ids[0]] * THREADS

    results = _run_at_once(race_app, THREADS, _release_work(tranche_id, same_officer, lambda index: key))

    assert {result[0] for result in results.values()} == {"released"}, results
    assert len({result[1] for result in results.values()}) == 1
    with race_app.app_context():
        assert _releases(_db.session, tranche_id) == 1
        assert ledger.check_ledger(_db.session) == []
        _db.session.remove()


def _grants_competing_for_one_pool():
    """Twenty approved grants awaiting signature whose pool holds enough for exactly one of them."""
    from fundapp.core.money import Money
    from fundapp.disbursements.pools import receive_funds
    from tests.applications.factories import make_call
    from tests.disbursements.factories import make_grant

    call = make_call(funded=False)
    grants = [make_grant(call=call, amount_minor=5_000_000_00) for _ in range(THREADS)]
    receive_funds(_db.session, None, grants[0].pool, Money(5_000_000_00, "KZT"), bank_reference="IN-RACE")
    _db.session.commit()
    return grants[0].pool_id, [grant.id for grant in grants], grants[0].created_by_id


def test_twenty_signatures_competing_for_one_pool_commit_it_once(race_app):
    from fundapp.accounts.models import User
    from fundapp.disbursements import operations
    from fundapp.disbursements.models import FundingPool

    with race_app.app_context():
        pool_id, grant_ids, officer_id = _grants_competing_for_one_pool()
        _db.session.remove()

    def work(index, session, prepared):
        grant = session.get(Grant, grant_ids[index])
        if prepared is None:
            _ = (grant.pool.account, grant.account, grant.organisation.memberships, grant.agenda_item)
            return True
        officer = session.get(User, officer_id)
        today = fund_today()
        operations.sign_grant(
            session,
            officer,
            grant,
            grantee_signatory="Director of the grantee",
            grantee_signed_on=today,
            fund_signatory="Executive director",
            fund_signed_on=today,
            signed_copy=FileStorage(
                io.BytesIO(MINIMAL_PDF), filename="signed.pdf", content_type="application/pdf"
            ),
        )
        return ("signed", grant.id)

    results = _run_at_once(race_app, THREADS, work)

    wins = [result for result in results.values() if result[0] == "signed"]
    refusals = [result[1] for result in results.values() if result[0] == "refused"]
    assert len(wins) == 1, results
    assert len(refusals) == THREADS - 1
    assert all("available" in message for message in refusals), refusals
    with race_app.app_context():
        session = _db.session
        pool = session.get(FundingPool, pool_id)
        assert ledger.pool_available(session, pool).minor == 0
        states = [session.get(Grant, grant_id).state for grant_id in grant_ids]
        assert states.count(GrantState.ACTIVE) == 1
        assert states.count(GrantState.AGREEMENT) == THREADS - 1
        assert ledger.check_ledger(session) == []
        _db.session.remove()
