"""Donor operations: details, contacts with portal access, pledges, contributions; refusals change nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.accounts.models import get_user_by_email
from fundapp.core.audit import AuditEvent
from fundapp.core.errors import Conflict, DomainError
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.disbursements.models import JournalEntry
from fundapp.donors import operations
from fundapp.donors.models import Contribution, Pledge, PledgeState
from fundapp.extensions import db
from tests.disbursements.factories import make_finance_officer
from tests.donors.factories import make_contribution, make_donor, make_pledge, make_pool
from tests.factories import make_user


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def eur(value):
    return Money.from_decimal(value, "EUR")


@pytest.fixture
def pool(db):
    return make_pool("GENERAL")


@pytest.fixture
def in_request(app):
    """Mails carry links: build them as a request would."""
    with app.test_request_context():
        yield


@pytest.fixture
def officer(db):
    return make_finance_officer()


def test_donor_details_are_updated_and_audited(db, officer):
    donor = make_donor(name="Caspian Foundation")
    operations.update_donor(db.session, officer, donor, name="  Caspian Seal Foundation ", country="gb")

    assert (donor.name, donor.country) == ("Caspian Seal Foundation", "GB")
    assert (
        db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1))
        == "donor.updated"
    )


def test_the_donor_currency_cannot_change_once_money_is_recorded(db, officer, pool):
    donor = make_donor(preferred_currency="EUR")
    make_contribution(donor, pool, "100.00", currency="EUR", rate="500")

    with pytest.raises(DomainError) as refusal:
        operations.update_donor(db.session, officer, donor, preferred_currency="USD")
    assert refusal.value.field == "preferred_currency"
    assert donor.preferred_currency == "EUR"


def test_only_finance_officers_and_admins_change_donors(db):
    donor = make_donor()
    with pytest.raises(DomainError, match="finance officer"):
        operations.update_donor(db.session, make_user(roles=[Role.PROGRAMME_OFFICER]), donor, name="X")


def test_a_contact_with_portal_access_gets_a_donor_account_and_a_mail(db, officer, mail, in_request):
    donor = make_donor()
    contact = operations.add_contact(
        db.session, officer, donor, name="Anna Berg", email="Anna@Example.org", portal_access=True
    )
    db.session.commit()

    user = get_user_by_email("anna@example.org")
    assert contact.user_id == user.id and user.roles == {Role.DONOR}
    assert user.password_hash is None
    assert [m["to_address"] for m in mail] == ["anna@example.org"]
    assert "/password/reset/" in mail[0]["body_text"]


def test_portal_access_reuses_a_donor_account_and_is_removed_with_the_role(db, officer, in_request):
    donor = make_donor()
    contact = operations.add_contact(
        db.session, officer, donor, name="A", email="a@example.org", portal_access=True
    )
    operations.remove_portal_access(db.session, officer, contact)
    user = get_user_by_email("a@example.org")
    assert contact.user_id is None and Role.DONOR not in user.roles

    operations.grant_portal_access(db.session, officer, contact)
    assert contact.user_id == user.id and Role.DONOR in user.roles


def test_a_staff_account_is_not_given_portal_access(db, officer, in_request):
    donor = make_donor()
    with pytest.raises(DomainError) as refusal:
        operations.add_contact(
            db.session, officer, donor, name="Staff", email=officer.email, portal_access=True
        )
    assert refusal.value.field == "email"
    assert Role.DONOR not in officer.roles


def test_a_portal_account_sees_one_donor_only(db, officer, in_request):
    first, second = make_donor(), make_donor()
    operations.add_contact(db.session, officer, first, name="A", email="a@example.org", portal_access=True)
    with pytest.raises(DomainError, match="one donor"):
        operations.add_contact(
            db.session, officer, second, name="A", email="a@example.org", portal_access=True
        )


def test_a_pledge_is_paid_by_instalments_that_add_up(db, officer, pool):
    donor = make_donor(preferred_currency="EUR")
    today = fund_today()
    pledge = operations.record_pledge(
        db.session,
        officer,
        donor,
        pool,
        eur("1000.00"),
        today,
        [(today + timedelta(days=30), eur("600.00")), (today + timedelta(days=10), eur("400.00"))],
    )
    assert pledge.state == PledgeState.OPEN
    assert [(i.due_on, i.amount) for i in pledge.instalments] == [
        (today + timedelta(days=10), eur("400.00")),
        (today + timedelta(days=30), eur("600.00")),
    ]


def test_instalments_that_do_not_add_up_are_refused_with_the_difference(db, officer, pool):
    donor = make_donor(preferred_currency="EUR")
    today = fund_today()
    with pytest.raises(DomainError) as refusal:
        operations.record_pledge(
            db.session,
            officer,
            donor,
            pool,
            eur("1000.00"),
            today,
            [(today, eur("600.00")), (today, eur("399.99"))],
        )
    assert refusal.value.field == "instalments"
    assert "0.01 EUR missing" in refusal.value.message
    assert count(Pledge) == 0


@pytest.mark.parametrize(
    ("amount", "days", "instalment_days", "field"),
    [("0", 0, 0, "amount"), ("10.00", -1, 0, "pledged_on"), ("10.00", 0, -1, "instalments")],
)
def test_bad_pledges_are_refused(db, officer, pool, amount, days, instalment_days, field):
    donor = make_donor(preferred_currency="EUR")
    pledged_on = fund_today() - timedelta(days=days)
    with pytest.raises(DomainError) as refusal:
        operations.record_pledge(
            db.session,
            officer,
            donor,
            pool,
            eur(amount),
            pledged_on,
            [(pledged_on + timedelta(days=instalment_days), eur(amount))],
        )
    assert refusal.value.field == field
    assert count(Pledge) == 0


def test_a_pledge_becomes_fulfilled_when_its_contributions_reach_it(db, officer, pool):
    donor = make_donor(preferred_currency="EUR")
    pledge = make_pledge(donor, pool, "1000.00")
    for value in ("600.00", "400.00"):
        operations.record_contribution(
            db.session, officer, donor, pool, eur(value), rate="500", pledge=pledge, bank_reference="W"
        )
        last_state = pledge.state
    assert last_state == PledgeState.FULFILLED
    with pytest.raises(DomainError, match="fulfilled"):
        operations.record_contribution(
            db.session, officer, donor, pool, eur("1.00"), rate="500", pledge=pledge
        )


def test_a_cancelled_pledge_takes_no_contribution(db, officer, pool):
    donor = make_donor(preferred_currency="EUR")
    pledge = make_pledge(donor, pool, "1000.00")
    operations.cancel_pledge(db.session, officer, pledge, "The donor withdrew.")
    assert pledge.state == PledgeState.CANCELLED
    with pytest.raises(DomainError):
        operations.cancel_pledge(db.session, officer, pledge)


def test_a_contribution_is_a_receipt_with_rate_and_base_amount(db, officer, pool):
    donor = make_donor(preferred_currency="EUR")
    contribution = operations.record_contribution(
        db.session, officer, donor, pool, eur("1234.56"), rate="512.345", value_date=fund_today()
    )
    assert contribution.base_amount == Money(632_520_64, "KZT")  # 1234.56 x 512.345 = 632 520.6432
    assert contribution.rate == "512.345"
    assert contribution.entry.kind == "receipt"


@pytest.mark.parametrize(
    ("amount", "rate", "days", "field"),
    [
        ("0.00", "500", 0, "amount"),
        ("-5.00", "500", 0, "amount"),
        ("10.00", "0", 0, "rate"),
        ("10.00", "abc", 0, "rate"),
        ("10.00", "", 0, "rate"),
        ("10.00", "500", -1, "value_date"),
        ("0.01", "0.0000001", 0, "rate"),
    ],
)
def test_bad_contributions_are_refused_and_write_nothing(db, officer, pool, amount, rate, days, field):
    donor = make_donor(preferred_currency="EUR")
    entries = count(JournalEntry)
    with pytest.raises(DomainError) as refusal:
        operations.record_contribution(
            db.session,
            officer,
            donor,
            pool,
            eur(amount),
            rate=rate,
            value_date=fund_today() - timedelta(days=days),
        )
    assert refusal.value.field == field
    assert (count(Contribution), count(JournalEntry)) == (0, entries)


def test_a_contribution_into_a_pool_in_another_currency_is_refused(db, officer):
    usd_pool = make_pool("USD-POOL", currency="USD")
    with pytest.raises(DomainError) as refusal:
        operations.record_contribution(db.session, officer, make_donor(), usd_pool, Money(100, "USD"))
    assert refusal.value.field == "pool"


def test_a_repeated_request_records_the_contribution_once(db, officer, pool):
    donor = make_donor(preferred_currency="EUR")
    first = operations.record_contribution(
        db.session,
        officer,
        donor,
        pool,
        eur("10.00"),
        rate="500",
        idempotency_key="k-1",
        value_date=fund_today(),
    )
    again = operations.record_contribution(
        db.session,
        officer,
        donor,
        pool,
        eur("10.00"),
        rate="500",
        idempotency_key="k-1",
        value_date=fund_today(),
    )
    assert again.id == first.id and count(Contribution) == 1
    with pytest.raises(Conflict):
        operations.record_contribution(
            db.session, officer, donor, pool, eur("11.00"), rate="500", idempotency_key="k-1"
        )


def test_a_same_currency_contribution_has_rate_one(db, officer, pool):
    donor = make_donor(preferred_currency="KZT")
    contribution = operations.record_contribution(db.session, officer, donor, pool, Money(100_00, "KZT"))
    assert Decimal(contribution.rate) == 1 and contribution.base_amount == Money(100_00, "KZT")
    with pytest.raises(DomainError) as refusal:
        operations.record_contribution(db.session, officer, donor, pool, Money(100_00, "KZT"), rate="2")
    assert refusal.value.field == "rate"
