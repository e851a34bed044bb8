"""The finance pages: who may open each one, the pool and receipt forms with bad input, the journal and
its reversals, the payments awaiting release and the payment batch for the bank."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from fundapp.core.db import utcnow
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.disbursements import ledger
from fundapp.disbursements.models import (
    AccountKind,
    EntryKind,
    FundingPool,
    JournalEntry,
    Restriction,
    TrancheState,
)
from fundapp.disbursements.pools import create_pool, get_pool, receive_funds
from tests.applications.factories import make_call, make_officer
from tests.conftest import csrf_token, login, post_form
from tests.disbursements.factories import kzt, make_finance_officer, make_grant
from tests.factories import make_applicant, make_user

PEOPLE = ["anon", "applicant", "reviewer", "board_member", "programme_officer", "finance_officer", "admin"]
#: Pools, the journal, new pools and receipts: finance officers, and admins until donors arrive.
BOOKKEEPERS = [302, 403, 403, 403, 403, 200, 200]
BOOKKEEPERS_404 = [302, 403, 403, 403, 403, 404, 404]
#: Payments (bank details) and reversals: finance officers only.
FINANCE = [302, 403, 403, 403, 403, 200, 403]

GET_ROUTES = {
    "/finance/pools": BOOKKEEPERS,
    "/finance/pools/new": BOOKKEEPERS,
    "/finance/pools/SEAL": BOOKKEEPERS,
    "/finance/pools/SEAL/receive": BOOKKEEPERS,
    "/finance/pools/NOPE": BOOKKEEPERS_404,
    "/finance/pools/NOPE/receive": BOOKKEEPERS_404,
    "/finance/ledger": BOOKKEEPERS,
    "/finance/ledger?kind=receipt&page=2": BOOKKEEPERS,
    "/finance/payments": FINANCE,
    "/finance/payments.csv": FINANCE,
    # With nothing approved, a finance officer is sent back to the payments page.
    "/finance/payments.xml?execution_date=2999-01-01": [302, 403, 403, 403, 403, 302, 403],
}


@pytest.fixture
def people(db):
    everyone = {
        "applicant": make_applicant(),
        "reviewer": make_user(roles=[Role.REVIEWER]),
        "board_member": make_user(roles=[Role.BOARD_MEMBER]),
        "programme_officer": make_officer(),
        "finance_officer": make_finance_officer(),
        "admin": make_user(roles=[Role.ADMIN]),
    }
    db.session.commit()
    return everyone


@pytest.fixture
def seal(db):
    pool = create_pool(db.session, None, code="SEAL", name="Caspian seal", currency="KZT")
    receive_funds(db.session, None, pool, kzt(1_000_000_00), bank_reference="WIRE-1")
    db.session.commit()
    return pool


def browser_for(app, people, person):
    browser = app.test_client()
    if person != "anon":
        login(browser, people[person])
    return browser


def page(response):
    return response.get_data(as_text=True)


def entries(db):
    return db.session.scalar(select(func.count()).select_from(JournalEntry))


@pytest.mark.parametrize(
    ("route", "person", "expected"),
    [(route, person, codes[i]) for route, codes in GET_ROUTES.items() for i, person in enumerate(PEOPLE)],
)
def test_who_may_open_each_page(app, people, seal, route, person, expected):
    response = browser_for(app, people, person).get(route)

    assert response.status_code == expected
    if expected == 302 and person == "anon":
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("/finance/pools/new", {"anon": 302, "applicant": 403, "programme_officer": 403, "reviewer": 403}),
        ("/finance/pools/SEAL/receive", {"anon": 302, "applicant": 403, "board_member": 403}),
        ("/finance/ledger/{entry}/reverse", {"anon": 302, "programme_officer": 403, "admin": 403}),
    ],
)
def test_posts_by_people_who_may_not_change_nothing(app, db, people, seal, route, expected):
    entry = db.session.scalar(select(JournalEntry.id))
    before = entries(db), db.session.scalar(select(func.count()).select_from(FundingPool))
    for person, status in expected.items():
        browser = browser_for(app, people, person)
        data = {"code": "NEW", "name": "x", "currency": "KZT", "restriction": "unrestricted"}
        data |= {"amount": "5", "value_date": fund_today().isoformat(), "idempotency_key": "k", "reason": "x"}
        response = post_form(browser, route.format(entry=entry), data)
        assert response.status_code == status, person
    assert (entries(db), db.session.scalar(select(func.count()).select_from(FundingPool))) == before


# -- the pools --------------------------------------------------------------------------------------------


def test_the_pools_page_shows_each_pool_figures_and_totals(app, db, people, login_as, client):
    call = make_call(funded=False, reference="CALL-2026-01")
    by_call = create_pool(
        db.session, None, code="CASPIAN", name="Caspian call", currency="KZT", restriction="call", call=call
    )
    theme = create_pool(
        db.session,
        None,
        code="STEPPE",
        name="Steppe",
        currency="KZT",
        restriction=Restriction.THEME,
        theme="steppe_ungulates",
    )
    dollars = create_pool(db.session, None, code="USD-GENERAL", name="Dollars", currency="USD")
    receive_funds(db.session, None, by_call, kzt(3_000_000_00))
    receive_funds(db.session, None, theme, kzt(500_000_00))
    receive_funds(db.session, None, dollars, Money(10_000_00, "USD"))
    db.session.commit()
    login_as(people["finance_officer"])

    html = page(client.get("/finance/pools"))

    row = re.search(r'<tr id="pool-STEPPE">(.*?)</tr>', html, re.S).group(1)
    assert "Theme: Steppe ungulates" in row and "500,000.00" in row
    assert "Call: CALL-2026-01" in re.search(r'<tr id="pool-CASPIAN">(.*?)</tr>', html, re.S).group(1)
    assert "Unrestricted" in re.search(r'<tr id="pool-USD-GENERAL">(.*?)</tr>', html, re.S).group(1)
    kzt_total = re.search(r'<tr class="fw-semibold" id="total-KZT">(.*?)</tr>', html, re.S).group(1)
    assert "3,500,000.00" in kzt_total
    assert "10,000.00" in re.search(r'id="total-USD">(.*?)</tr>', html, re.S).group(1)


def test_reserved_and_free_count_grants_awaiting_signature(app, db, people, login_as, client):
    grant = make_grant(amount_minor=4_000_000_00)  # its call's pool holds the 100 000 000 envelope
    db.session.commit()
    login_as(people["finance_officer"])

    html = page(client.get("/finance/pools"))

    row = re.search(rf'<tr id="pool-{grant.pool.code}">(.*?)</tr>', html, re.S).group(1)
    assert "4,000,000.00" in row  # reserved
    assert "96,000,000.00" in row  # free
    assert "100,000,000.00" in row  # received and available


def test_the_pools_page_needs_the_same_queries_for_one_pool_or_many(app, db, people, login_as, client):
    login_as(people["finance_officer"])

    def queries():
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(Engine, "before_cursor_execute", count)
        try:
            assert client.get("/finance/pools").status_code == 200
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        return len(statements)

    make_grant(active=True)
    db.session.commit()
    one = queries()
    for n in range(6):
        pool = create_pool(db.session, None, code=f"MORE-{n}", name=f"More {n}", currency="KZT")
        receive_funds(db.session, None, pool, kzt(1_00))
    make_grant()
    make_grant(active=True)
    db.session.commit()

    assert one > 3
    assert queries() == one


def test_a_pool_is_created_from_the_form(app, db, people, login_as, client):
    login_as(people["finance_officer"])
    form = page(client.get("/finance/pools/new"))
    assert 'value="KZT"' in form and "Marine mammals (Caspian seal)" in form

    response = post_form(
        client,
        "/finance/pools/new",
        {
            "code": "seal-2026",
            "name": "Caspian seal",
            "currency": "KZT",
            "restriction": "theme",
            "theme": "marine_mammals",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/finance/pools/SEAL-2026")
    pool = get_pool(db.session, "SEAL-2026")
    assert (pool.restriction, pool.theme, pool.created_by_id) == (
        Restriction.THEME,
        "marine_mammals",
        people["finance_officer"].id,
    )
    assert "The pool SEAL-2026 is created" in page(client.get(response.headers["Location"]))


def test_an_admin_creates_a_call_pool(app, db, people, login_as, client):
    call = make_call(funded=False)
    db.session.commit()
    login_as(people["admin"])

    response = post_form(
        client,
        "/finance/pools/new",
        {
            "code": "CALLPOOL",
            "name": "For the call",
            "currency": "KZT",
            "restriction": "call",
            "call": str(call.id),
        },
    )

    assert response.status_code == 302
    assert get_pool(db.session, "CALLPOOL").call_id == call.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"restriction": "theme"}, "Choose the theme the pool is restricted to."),
        ({"restriction": "call"}, "Choose the call the pool is restricted to."),
        ({"code": "A"}, "A pool code is 2 to 40 capital letters"),
        ({"code": "SEAL"}, "There is already a pool with the code SEAL."),
        ({"currency": "1$"}, "A currency is an ISO 4217 code"),
        ({"theme": "dragons", "restriction": "theme"}, "Not a valid choice"),
    ],
)
def test_a_bad_pool_form_says_why_and_creates_nothing(app, db, people, seal, login_as, client, data, message):
    login_as(people["finance_officer"])
    before = db.session.scalar(select(func.count()).select_from(FundingPool))

    response = post_form(
        client,
        "/finance/pools/new",
        {"code": "NEW", "name": "New", "currency": "KZT", "restriction": "unrestricted"} | data,
    )

    assert response.status_code == 400
    assert message in page(response)
    assert db.session.scalar(select(func.count()).select_from(FundingPool)) == before


# -- funds received ---------------------------------------------------------------------------------------


def receipt_form(client, code="SEAL"):
    html = page(client.get(f"/finance/pools/{code}/receive"))
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', html)
    assert key, "the form carries a fresh idempotency key"
    return key.group(1), html


def test_funds_are_received_from_the_form(app, db, people, seal, login_as, client):
    login_as(people["admin"])
    key, html = receipt_form(client)
    assert f'value="{fund_today().isoformat()}"' in html
    day = fund_today() - timedelta(days=2)

    response = post_form(
        client,
        "/finance/pools/SEAL/receive",
        {
            "amount": "2 500 000.50",
            "value_date": day.isoformat(),
            "bank_reference": "MT103-9",
            "description": "Second contribution",
            "idempotency_key": key,
        },
    )

    assert response.status_code == 302
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))
    assert (entry.value_date, entry.bank_reference, entry.description, entry.recorded_by_id) == (
        day,
        "MT103-9",
        "Second contribution",
        people["admin"].id,
    )
    assert ledger.pool_available(db.session, seal) == kzt(3_500_000_50)
    shown = page(client.get(response.headers["Location"]))
    assert "received into SEAL is recorded" in shown and "MT103-9" in shown


def test_a_double_submit_records_once(app, db, people, seal, login_as, client):
    login_as(people["finance_officer"])
    key, _html = receipt_form(client)
    data = {"amount": "1000", "value_date": fund_today().isoformat(), "idempotency_key": key}
    before = entries(db)

    first = post_form(client, "/finance/pools/SEAL/receive", data)
    second = post_form(client, "/finance/pools/SEAL/receive", data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert entries(db) == before + 1
    assert ledger.pool_available(db.session, seal) == kzt(1_000_000_00 + 1000_00)


def test_the_same_key_with_another_amount_is_a_conflict(app, db, people, seal, login_as, client):
    login_as(people["finance_officer"])
    key, _html = receipt_form(client)
    data = {"amount": "1000", "value_date": fund_today().isoformat(), "idempotency_key": key}
    post_form(client, "/finance/pools/SEAL/receive", data)
    before = entries(db)

    response = post_form(client, "/finance/pools/SEAL/receive", data | {"amount": "2000"})

    assert response.status_code == 409
    assert "already made with other details" in page(response)
    assert entries(db) == before


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "“abc” is not an amount."),
        ("-5", "An amount cannot be negative."),
        ("1.001", "1.001 KZT has more than 2 decimal places"),
        ("0", "Enter an amount above zero."),
        ("1,5", "digits and a dot for decimals"),
        ("", "Enter an amount."),
    ],
)
def test_a_bad_amount_is_refused_next_to_the_field(app, db, people, seal, login_as, client, amount, message):
    login_as(people["finance_officer"])
    key, _html = receipt_form(client)
    before = entries(db)

    response = post_form(
        client,
        "/finance/pools/SEAL/receive",
        {"amount": amount, "value_date": fund_today().isoformat(), "idempotency_key": key},
    )

    html = page(response)
    assert response.status_code == 400
    assert re.search(r'id="amount-error">[^<]*' + re.escape(message), html), html
    assert 'name="amount"' in html and "is-invalid" in html
    assert entries(db) == before


@pytest.mark.parametrize(
    ("value_date", "message"),
    [
        ("tomorrow", "Money cannot be received on a future date."),
        ("31.12.2025", "Enter a date, e.g. 2026-03-15."),
        ("", "Enter the date the money arrived."),
    ],
)
def test_a_bad_date_is_refused(app, db, people, seal, login_as, client, value_date, message):
    login_as(people["finance_officer"])
    key, _html = receipt_form(client)
    if value_date == "tomorrow":
        value_date = (fund_today() + timedelta(days=1)).isoformat()
    before = entries(db)

    response = post_form(
        client,
        "/finance/pools/SEAL/receive",
        {"amount": "10", "value_date": value_date, "idempotency_key": key},
    )

    assert response.status_code == 400
    assert message in page(response)
    assert entries(db) == before


def test_an_overlong_bank_reference_is_refused(app, db, people, seal, login_as, client):
    login_as(people["finance_officer"])
    key, _html = receipt_form(client)
    before = entries(db)

    response = post_form(
        client,
        "/finance/pools/SEAL/receive",
        {
            "amount": "10",
            "value_date": fund_today().isoformat(),
            "bank_reference": "R" * 141,
            "idempotency_key": key,
        },
    )

    assert response.status_code == 400
    assert "140" in page(response)
    assert entries(db) == before


def test_a_receipt_without_a_key_is_refused(app, db, people, seal, login_as, client):
    login_as(people["finance_officer"])
    before = entries(db)

    response = post_form(
        client, "/finance/pools/SEAL/receive", {"amount": "10", "value_date": fund_today().isoformat()}
    )

    assert response.status_code == 400
    assert entries(db) == before


# -- a pool's journal and the journal ---------------------------------------------------------------------


def test_a_pool_page_shows_its_entries_newest_first_and_its_grants(app, db, people, login_as, client):
    grant = make_grant(active=True, amount_minor=2_000_000_00)
    pool = grant.pool
    receive_funds(db.session, None, pool, kzt(5_00), bank_reference="LATEST-WIRE")
    db.session.commit()
    login_as(people["finance_officer"])

    html = page(client.get(f"/finance/pools/{pool.code}"))

    assert html.index("LATEST-WIRE") < html.index(f"Commitment of {grant.reference}")
    assert grant.reference in html and "2,000,000.00" in html
    assert "3 entries" in html  # the envelope received, the commitment, the latest receipt


def test_the_journal_is_paginated_and_filtered_by_kind(app, db, people, seal, login_as, client):
    for n in range(55):
        receive_funds(db.session, None, seal, kzt(1_00 + n), bank_reference=f"W-{n:03d}")
    make_grant(active=True)
    db.session.commit()
    login_as(people["finance_officer"])

    first = page(client.get("/finance/ledger"))
    second = page(client.get("/finance/ledger?page=2"))
    commitments = page(client.get("/finance/ledger?kind=commitment"))

    total = entries(db)
    assert f"{total} entries" in first and "Page 1 of 2" in first
    assert "W-054" in first and "W-000" not in first
    assert "W-000" in second and "WIRE-1" in second
    assert "1 entries" in commitments and "Commitment of" in commitments and "W-054" not in commitments
    assert "POOL-SEAL" in first and "CASH-KZT" in first


def test_an_entry_is_reversed_from_the_journal(app, db, people, seal, login_as, client):
    mistaken = receive_funds(db.session, None, seal, kzt(99_00), bank_reference="DUPLICATE")
    db.session.commit()
    login_as(people["finance_officer"])
    assert f'action="/finance/ledger/{mistaken.id}/reverse' in page(client.get("/finance/ledger"))

    response = post_form(client, f"/finance/ledger/{mistaken.id}/reverse", {"reason": "Booked twice"})

    assert response.status_code == 302
    reversal = db.session.scalar(select(JournalEntry).where(JournalEntry.reverses_id == mistaken.id))
    assert reversal.recorded_by_id == people["finance_officer"].id
    assert reversal.description == f"Reversal of entry {mistaken.id}: Booked twice"
    html = page(client.get(response.headers["Location"]))
    assert f"Entry {mistaken.id} is reversed by entry {reversal.id}." in html
    assert f"reversed by {reversal.id}" in html and f"reversal of {mistaken.id}" in html
    assert ledger.pool_available(db.session, seal) == kzt(1_000_000_00)


@pytest.mark.parametrize("case", ["no reason", "twice", "a reversal", "would overdraw"])
def test_a_refused_reversal_is_flashed_and_changes_nothing(app, db, people, seal, login_as, client, case):
    receipt = db.session.scalar(select(JournalEntry).where(JournalEntry.pool_id == seal.id))
    target, reason, message = receipt, "Because", None
    if case == "no reason":
        reason, message = "", "Say why the entry is reversed."
    elif case == "twice":
        ledger.reverse_entry(db.session, None, receipt, "First")
        message = "This entry has already been reversed."
    elif case == "a reversal":
        target = ledger.reverse_entry(db.session, None, receipt, "First")
        message = "This entry is itself a reversal"
    else:
        account = ledger.new_account(db.session, "GRANT-X", "X", AccountKind.COMMITMENT, "KZT")
        ledger.post_entry(
            db.session,
            None,
            EntryKind.COMMITMENT,
            [(seal.account, kzt(10_00)), (account, kzt(-10_00))],
            value_date=fund_today(),
        )
        message = "has only"
    db.session.commit()
    login_as(people["finance_officer"])
    before = entries(db)

    response = post_form(client, f"/finance/ledger/{target.id}/reverse", {"reason": reason})

    assert response.status_code == 400
    assert message in page(response)
    assert entries(db) == before


def test_reversing_an_unknown_entry_is_404(app, db, people, login_as, client):
    login_as(people["finance_officer"])

    assert post_form(client, "/finance/ledger/999999/reverse", {"reason": "x"}).status_code == 404


def test_an_admin_sees_the_journal_without_reverse_buttons(app, db, people, seal, login_as, client):
    login_as(people["admin"])

    html = page(client.get("/finance/ledger"))

    assert "WIRE-1" in html and "/reverse" not in html


# -- payments ---------------------------------------------------------------------------------------------


def approve(grant, number=1, approver=None, iban=None):
    tranche = grant.tranches[number - 1]
    tranche.state = TrancheState.APPROVED
    tranche.approved_by_id = (approver or make_finance_officer(full_name="Aliya Approver")).id
    tranche.approved_at = utcnow()
    tranche.approved_iban = iban or grant.bank_iban
    return tranche


def test_the_payments_page_lists_approved_tranches(app, db, people, login_as, client):
    grant = make_grant(active=True, amount_minor=10_000_000_00)
    approve(grant, iban="KZ86125KZT5004100100")
    other = make_grant(active=True)  # nothing approved: not listed
    db.session.commit()
    login_as(people["finance_officer"])

    html = page(client.get("/finance/payments"))

    assert grant.reference in html and other.reference not in html
    assert "4,000,000.00" in html and "Aliya Approver" in html and "KZ86125KZT5004100100" in html
    assert grant.organisation.name in html
    assert "/finance/payments.csv" in html


def test_no_payment_waiting_is_said(app, db, people, login_as, client):
    login_as(people["finance_officer"])

    assert "No tranche is approved and waiting to be paid." in page(client.get("/finance/payments"))


def test_the_payment_batch_has_one_row_per_approved_tranche(app, db, people, login_as, client):
    grant = make_grant(active=True, amount_minor=10_000_000_00)
    approve(grant, 1, iban="KZ000000000000000001")
    approve(grant, 2, iban="KZ000000000000000001")
    grant.bank_iban = "KZ999999999999999999"  # changed since approval: the batch pays what was checked
    db.session.commit()
    login_as(people["finance_officer"])

    response = client.get("/finance/payments.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="payment-batch-\d{8}-\d{4}\.csv"', response.headers["Content-Disposition"]
    )
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8"))))
    organisation = grant.organisation
    assert rows == [
        [
            "Beneficiary",
            "BIN",
            "IBAN",
            "BIC",
            "KBE",
            "Amount",
            "Currency",
            "Payment purpose",
            "Grant reference",
        ],
        [
            organisation.name_ru,
            organisation.bin,
            "KZ000000000000000001",
            "HSBKKZKX",
            "18",
            "4000000.00",
            "KZT",
            f"{grant.reference} tranche 1",
            grant.reference,
        ],
        [
            organisation.name_ru,
            organisation.bin,
            "KZ000000000000000001",
            "HSBKKZKX",
            "18",
            "4000000.00",
            "KZT",
            f"{grant.reference} tranche 2",
            grant.reference,
        ],
    ]


def test_the_payment_batch_neutralises_formulas(app, db, people, login_as, client):
    grant = make_grant(active=True)
    grant.organisation.name_ru = '=HYPERLINK("http://evil.example","Pay here")'
    grant.organisation.name_en = "@SUM(A1:A2)"
    approve(grant)
    db.session.commit()
    login_as(people["finance_officer"])

    rows = list(csv.reader(io.StringIO(page(client.get("/finance/payments.csv")))))

    assert rows[1][0] == '\'=HYPERLINK("http://evil.example","Pay here")'
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_an_empty_batch_is_just_the_header(app, db, people, login_as, client):
    login_as(people["finance_officer"])

    body = page(client.get("/finance/payments.csv"))

    assert body.splitlines() == [
        "Beneficiary,BIN,IBAN,BIC,KBE,Amount,Currency,Payment purpose,Grant reference"
    ]


def test_csrf_is_required_on_every_form(app, db, people, seal, login_as, client):
    login_as(people["finance_officer"])
    csrf_token(client)
    before = entries(db)

    response = client.post("/finance/pools/SEAL/receive", data={"amount": "10", "idempotency_key": "k"})

    assert response.status_code == 400
    assert entries(db) == before


def test_the_iso_20022_file_pays_the_approved_tranches_on_the_date_asked(app, db, people, login_as, client):
    grant = make_grant(active=True)
    approve(grant, iban="KZ000000000000000042")
    db.session.commit()
    login_as(people["finance_officer"])
    day = fund_today() + timedelta(days=1)
    assert 'action="/finance/payments.xml"' in page(client.get("/finance/payments"))

    response = client.get(f"/finance/payments.xml?execution_date={day.isoformat()}")

    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert "attachment" in response.headers["Content-Disposition"]
    xml = page(response)
    assert "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03" in xml
    assert f"<ReqdExctnDt>{day.isoformat()}</ReqdExctnDt>" in xml
    assert "KZ000000000000000042" in xml and f"{grant.reference} tranche 1" in xml


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "The bank cannot pay on a day that has passed."),
        ("soon", "Enter a date, e.g. 2026-03-15."),
        ("", "Enter the day the bank should pay."),
    ],
)
def test_a_bad_execution_date_is_refused(app, db, people, login_as, client, value, message):
    approve(make_grant(active=True))
    db.session.commit()
    login_as(people["finance_officer"])
    if value == "yesterday":
        value = (fund_today() - timedelta(days=1)).isoformat()

    response = client.get(f"/finance/payments.xml?execution_date={value}")

    assert response.status_code == 400
    assert message in page(response)


def test_no_iso_20022_file_without_a_payment(app, db, people, login_as, client):
    login_as(people["finance_officer"])

    response = client.get(f"/finance/payments.xml?execution_date={fund_today().isoformat()}")

    assert response.status_code == 302
    assert "No tranche is approved" in page(client.get(response.headers["Location"]))


def test_the_journal_offers_to_reverse_receipts_not_releases_or_grant_commitments(
    app, db, people, seal, login_as, client
):
    grant = make_grant(active=True)
    tranche = grant.tranches[0]
    release = ledger.post_entry(
        db.session,
        None,
        EntryKind.RELEASE,
        [(grant.account, tranche.amount), (ledger.cash_account(db.session, "KZT"), -tranche.amount)],
        value_date=fund_today(),
        tranche=tranche,
        grant=grant,
    )
    tranche.state = TrancheState.RELEASED
    commitment = db.session.scalar(
        select(JournalEntry).where(
            JournalEntry.grant_id == grant.id, JournalEntry.kind == EntryKind.COMMITMENT
        )
    )
    receipt = db.session.scalar(select(JournalEntry).where(JournalEntry.pool_id == seal.id))
    db.session.commit()
    login_as(people["finance_officer"])

    html = page(client.get("/finance/ledger"))

    assert f'action="/finance/ledger/{receipt.id}/reverse' in html
    assert f'action="/finance/ledger/{release.id}/reverse' not in html
    assert f'action="/finance/ledger/{commitment.id}/reverse' not in html
    before = entries(db)
    refused = post_form(client, f"/finance/ledger/{commitment.id}/reverse", {"reason": "Try anyway"})
    assert refused.status_code == 400 and "cancel, terminate or close the grant" in page(refused)
    refused = post_form(client, f"/finance/ledger/{release.id}/reverse", {"reason": "Try anyway"})
    assert refused.status_code == 400 and "record a refund" in page(refused)
    assert entries(db) == before


def test_a_page_past_the_last_shows_the_last(app, db, people, seal, login_as, client):
    login_as(people["finance_officer"])

    html = page(client.get("/finance/ledger?page=40"))

    assert "WIRE-1" in html
