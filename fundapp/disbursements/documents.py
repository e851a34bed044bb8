"""The grant agreement, printed for signature.

Rendered by the core PDF helper from ``templates/pdf/agreement.html``; ``agreement_context`` decides what
the agreement says and hands the template plain values only (every amount and date formatted here, in the
document's locale). Storing it is ``operations.store_agreement``'s job; nothing here stores anything.

The bank details printed are those copied onto the grant at signing, or, before signing, the
organisation's current ones (which signing copies).
"""

from contextlib import nullcontext

from flask import current_app, has_request_context
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from fundapp.core.formatting import local_date, to_local
from fundapp.core.pdf import render_pdf
from fundapp.disbursements.models import TrancheGate

AGREEMENT_TEMPLATE = "pdf/agreement.html"


def _money(amount):
    return amount.format(str(get_locale() or "en"))


def _waits_for(tranche):
    if tranche.gate == TrancheGate.NONE:
        return _("Nothing: paid once signed and its date has come")
    report = tranche.report
    if tranche.gate == TrancheGate.FINAL_REPORT:
        return _("The final report, accepted by the fund")
    return _(
        "Progress report %(number)d, accepted by the fund", number=report.number if report is not None else 0
    )


def agreement_context(grant):
    """The plain values templates/pdf/agreement.html is rendered from."""
    organisation = grant.organisation
    signed = grant.bank_iban is not None
    bank = {
        "name": (grant.bank_name if signed else organisation.bank_name) or "",
        "bic": (grant.bank_bic if signed else organisation.bank_bic) or "",
        "iban": (grant.bank_iban if signed else organisation.bank_iban) or "",
        "kbe": (grant.bank_kbe if signed else organisation.bank_kbe) or "",
    }
    item = grant.agenda_item
    decided_on = local_date(to_local(item.decided_at).date(), "long") if item and item.decided_at else ""
    return {
        "title": _("Grant agreement %(reference)s", reference=grant.reference),
        "reference": grant.reference,
        "grant": {
            "reference": grant.reference,
            "title": grant.title,
            "amount": _money(grant.amount),
            "currency": grant.currency,
            "start": local_date(grant.start_date, "long"),
            "end": local_date(grant.end_date, "long"),
            "conditions": grant.conditions or "",
            "call_reference": grant.call.reference,
            "call_title": grant.call.title,
            "proposal_reference": grant.proposal.reference,
            "decided_on": decided_on,
            "meeting": item.meeting.reference if item is not None else "",
        },
        "organisation": {
            "name": organisation.name,
            "bin": organisation.bin,
            "address": organisation.legal_address or "",
        },
        "bank": bank,
        "tranches": [
            {
                "number": tranche.number,
                "amount": _money(tranche.amount),
                "planned": local_date(tranche.planned_date, "long"),
                "waits_for": _waits_for(tranche),
            }
            for tranche in grant.tranches
        ],
        "reports": [
            {
                "number": report.number,
                "kind": str(report.kind.label),
                "period": _(
                    "%(start)s to %(end)s",
                    start=local_date(report.period_start, "long"),
                    end=local_date(report.period_end, "long"),
                ),
                "due": local_date(report.due_date, "long"),
            }
            for report in grant.reports
        ],
        "signatures": {
            "grantee": grant.grantee_signatory or "",
            "grantee_on": local_date(grant.grantee_signed_on, "long") if grant.grantee_signed_on else "",
            "fund": grant.fund_signatory or "",
            "fund_on": local_date(grant.fund_signed_on, "long") if grant.fund_signed_on else "",
        },
    }


def render_agreement(grant, *, locale=None):
    """The agreement of ``grant`` as PDF bytes."""
    if locale is None and not has_request_context():
        locale = current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    with nullcontext() if locale is None else force_locale(locale):
        context = agreement_context(grant)
        return render_pdf(AGREEMENT_TEMPLATE, locale=locale, **context)
