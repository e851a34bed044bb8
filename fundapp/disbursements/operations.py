"""What happens to a grant after the board approved it: the schedule, the agreement and its signatures,
tranches (due, approved by one finance officer, released by another), suspension, termination, closure
and refunds.

Every function here takes the acting user (``None``: the system itself), checks the rule, changes state
through ``transition`` and the ledger's ``post_entry``, writes the audit event and never commits. A refusal
raises ``DomainError`` with a message a person can act on, before anything is changed.

Which grants pay: an ACTIVE grant, and a COMPLETED one (its final report is accepted, so the last tranche,
which waits for that report, falls due after completion). A SUSPENDED grant pays nothing until it is
resumed; a TERMINATED grant's unreleased tranches are cancelled when it is terminated.
"""

import io
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today, local_date, to_local
from fundapp.core.mail import queue_mail
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.core.storage import save_upload
from fundapp.core.workflow import transition
from fundapp.disbursements import ledger
from fundapp.disbursements.grants import build_schedule
from fundapp.disbursements.models import (
    EntryKind,
    Grant,
    GrantReport,
    GrantState,
    ReportKind,
    ReportState,
    Tranche,
    TrancheGate,
    TrancheState,
)
from fundapp.disbursements.workflow import GRANT_WORKFLOW, TRANCHE_WORKFLOW
from fundapp.donors import allocation

#: Grants whose due tranches may be approved and released.
PAYING_STATES = (GrantState.ACTIVE, GrantState.COMPLETED)
#: Grants whose schedule can still be edited (in full in AGREEMENT, only open tranches afterwards).
SCHEDULE_STATES = (GrantState.AGREEMENT, GrantState.ACTIVE, GrantState.SUSPENDED)
OPEN_TRANCHE_STATES = (TrancheState.SCHEDULED, TrancheState.DUE, TrancheState.APPROVED)
MAX_TRANCHES = 12
MAX_SIGNATORY_LENGTH = 200
MAX_BANK_REFERENCE = 140
MAX_REASON_LENGTH = 5000
SIGNED_COPY_MAX_BYTES = 20 * 1024 * 1024
AGREEMENT_MAX_BYTES = 50 * 1024 * 1024


# -- small helpers ------------------------------------------------------------------------------------------


def _require(actor, role, message):
    if actor is None or not actor.has_role(role):
        raise DomainError(message)


def _require_officer(actor):
    _require(actor, Role.PROGRAMME_OFFICER, _("Only a programme officer can manage grants."))


def _require_finance(actor):
    _require(actor, Role.FINANCE_OFFICER, _("Only a finance officer can approve, release or refund money."))


def _reason(reason, what):
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason: %(what)s", what=what), field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            _("Keep the reason under %(limit)d characters.", limit=MAX_REASON_LENGTH), field="reason"
        )
    return reason


def _day(value):
    return local_date(value) if value else ""


def _bank_reference(text):
    text = (text or "").strip()
    if not text:
        raise DomainError(_("Enter the bank's reference of the payment."), field="bank_reference")
    if len(text) > MAX_BANK_REFERENCE:
        raise DomainError(
            _("The bank reference is at most %(limit)d characters.", limit=MAX_BANK_REFERENCE),
            field="bank_reference",
        )
    return text


def _mail_grantee(session, grant, subject, body):
    for membership in grant.organisation.memberships:
        user = membership.user
        if user.is_active and user.email:
            queue_mail(session, user.email, subject, body)


def final_report(grant):
    return next((report for report in grant.reports if report.kind == ReportKind.FINAL), None)


def waiting_for(tranche):
    """What a SCHEDULED tranche waits for, in words (dates in the reader's format)."""
    parts = []
    today = fund_today()
    if tranche.planned_date > today:
        parts.append(_("its planned date, %(date)s", date=local_date(tranche.planned_date)))
    if tranche.gate != TrancheGate.NONE:
        report = tranche.report
        if report is None or report.state != ReportState.ACCEPTED:
            if tranche.gate == TrancheGate.FINAL_REPORT:
                parts.append(_("the final report to be accepted"))
            else:
                parts.append(
                    _(
                        "progress report %(number)d to be accepted",
                        number=report.number if report is not None else 0,
                    )
                )
    return _(" and ").join(parts)


# -- what a person may do, for views and templates ------------------------------------------------------


def grant_actions(grant, user):
    """The names of the grant-level actions ``user`` may take now (buttons on the grant page)."""
    actions = set()
    if not user.is_authenticated:
        return actions
    state = grant.state
    if user.has_role(Role.PROGRAMME_OFFICER):
        if state in SCHEDULE_STATES:
            actions.add("schedule")
        if state == GrantState.AGREEMENT:
            actions |= {"sign", "cancel"}
        if state == GrantState.ACTIVE:
            actions |= {"suspend", "terminate"}
            report = final_report(grant)
            if report is None or report.state == ReportState.ACCEPTED:
                actions.add("complete")
        if state == GrantState.SUSPENDED:
            actions |= {"resume", "terminate"}
        if state in (GrantState.COMPLETED, GrantState.TERMINATED):
            actions.add("close")
    if user.has_role(Role.FINANCE_OFFICER) and state not in (GrantState.AGREEMENT, GrantState.CANCELLED):
        actions.add("refund")
    return actions


def tranche_actions(tranche, user):
    """The names of the actions ``user`` may take on ``tranche`` now; ``four_eyes`` marks a tranche the
    user approved, which another finance officer must release."""
    actions = set()
    if not user.is_authenticated:
        return actions
    grant = tranche.grant
    state = tranche.state
    if user.has_role(Role.FINANCE_OFFICER) and grant.state in PAYING_STATES:
        if state == TrancheState.DUE:
            actions.add("approve")
        if state == TrancheState.APPROVED:
            actions.add("withdraw")
            if tranche.approved_by_id == user.id:
                actions.add("four_eyes")
            else:
                actions.add("release")
    if (
        user.has_role(Role.PROGRAMME_OFFICER)
        and grant.state in (GrantState.ACTIVE, GrantState.SUSPENDED)
        and state in OPEN_TRANCHE_STATES
    ):
        actions.add("cancel")
    return actions


# -- the schedule --------------------------------------------------------------------------------------------


def _check_rows(grant, rows):
    if not rows:
        raise DomainError(_("A grant needs at least one tranche."))
    if len(rows) > MAX_TRANCHES:
        raise DomainError(_("A grant has at most %(count)d tranches.", count=MAX_TRANCHES))
    checked = []
    for number, row in enumerate(rows, 1):
        amount, planned, gate = row.get("amount"), row.get("planned_date"), row.get("gate")
        if not isinstance(amount, Money):
            raise DomainError(_("Tranche %(number)d: enter an amount.", number=number))
        if amount.currency != grant.currency:
            raise DomainError(
                _(
                    "Tranche %(number)d: give the amount in %(currency)s.",
                    number=number,
                    currency=grant.currency,
                )
            )
        if amount.minor <= 0:
            raise DomainError(_("Tranche %(number)d: the amount must be more than zero.", number=number))
        if not isinstance(planned, date):
            raise DomainError(_("Tranche %(number)d: enter the planned date.", number=number))
        if planned < grant.start_date:
            raise DomainError(
                _(
                    "Tranche %(number)d is planned for %(date)s, before the grant starts (%(start)s).",
                    number=number,
                    date=local_date(planned),
                    start=local_date(grant.start_date),
                )
            )
        try:
            gate = TrancheGate(gate)
        except ValueError:
            raise DomainError(_("Tranche %(number)d: choose what it waits for.", number=number)) from None
        checked.append((amount, planned, gate))
    total = Money.sum((amount for amount, _planned, _gate in checked), grant.currency)
    if total != grant.amount:
        difference = total - grant.amount
        if difference.minor > 0:
            message = _(
                "The tranches add up to %(total)s, %(difference)s more than the grant (%(amount)s). "
                "Nothing was changed.",
                total=total.format(),
                difference=difference.format(),
                amount=grant.amount.format(),
            )
        else:
            message = _(
                "The tranches add up to %(total)s, %(difference)s less than the grant (%(amount)s). "
                "Nothing was changed.",
                total=total.format(),
                difference=(-difference).format(),
                amount=grant.amount.format(),
            )
        raise DomainError(message)
    return checked


def _with_periods(grant, checked):
    """The rows as ``build_schedule`` wants them, with the period each gating report covers."""
    schedule = []
    previous_end = None
    finals = [number for number, (_a, _p, gate) in enumerate(checked, 1) if gate == TrancheGate.FINAL_REPORT]
    if len(finals) > 1 or (finals and finals[0] != len(checked)):
        raise DomainError(_("Only the last tranche can wait for the final report."))
    for number, (amount, planned, gate) in enumerate(checked, 1):
        if number > 1 and planned < checked[number - 2][1]:
            raise DomainError(
                _(
                    "Tranche %(number)d is planned before tranche %(previous)d: keep them in order.",
                    number=number,
                    previous=number - 1,
                )
            )
        period = None
        if gate == TrancheGate.PROGRESS_REPORT:
            start = (
                grant.start_date if previous_end is None else date.fromordinal(previous_end.toordinal() + 1)
            )
            if planned < start:
                raise DomainError(
                    _(
                        "Tranche %(number)d waits for a progress report, so it must be planned after the "
                        "previous report's period (from %(start)s).",
                        number=number,
                        start=local_date(start),
                    )
                )
            period = (start, planned)
            previous_end = planned
        elif gate == TrancheGate.FINAL_REPORT:
            period = (grant.start_date, grant.end_date)
        schedule.append((amount, planned, gate, period))
    return schedule


def update_schedule(session, actor, grant, rows):
    """Change the tranche schedule; ``rows``: ``[{"amount": Money, "planned_date": date, "gate": gate}]``.

    In AGREEMENT the schedule is replaced (with the reports its tranches wait for). Once the grant is
    signed, only the amount and date of tranches still scheduled or due may change; the count and gates
    are those of the agreement. The amounts always add up to the grant exactly.
    """
    _require_officer(actor)
    if grant.state not in SCHEDULE_STATES:
        raise DomainError(
            _("The grant is %(state)s; its schedule can no longer be changed.", state=grant.state.label)
        )
    if grant.state != GrantState.AGREEMENT and len(rows) != len(grant.tranches):
        raise DomainError(
            _(
                "The grant is signed: its schedule keeps its %(count)d tranches. Change their amounts and "
                "dates, or cancel a tranche.",
                count=len(grant.tranches),
            )
        )
    checked = _check_rows(grant, rows)
    before = [[t.number, t.amount_minor, t.planned_date.isoformat(), t.gate.value] for t in grant.tranches]
    if grant.state == GrantState.AGREEMENT:
        schedule = _with_periods(grant, checked)
        build_schedule(session, grant, schedule)
        # The agreement printed before is outdated: the next download renders the new one.
        grant.agreement_file_id = None
        grant.agreement_sha256 = None
    else:
        _update_signed_schedule(session, grant, checked)
    after = [[t.number, t.amount_minor, t.planned_date.isoformat(), t.gate.value] for t in grant.tranches]
    record_event(
        session,
        actor,
        grant,
        "grant.schedule_changed",
        before={"tranches": before},
        after={"tranches": after},
    )
    if grant.state in PAYING_STATES:
        refresh_due(session, grant)
    return grant


def _update_signed_schedule(session, grant, checked):
    tranches = list(grant.tranches)
    today = fund_today()
    for tranche, (amount, planned, gate) in zip(tranches, checked, strict=True):
        if gate != tranche.gate:
            raise DomainError(
                _(
                    "The grant is signed: what tranche %(number)d waits for cannot change.",
                    number=tranche.number,
                )
            )
        changed = amount != tranche.amount or planned != tranche.planned_date
        if not changed:
            continue
        if tranche.state not in (TrancheState.SCHEDULED, TrancheState.DUE):
            raise DomainError(
                _(
                    "Tranche %(number)d is %(state)s; it cannot be changed.",
                    number=tranche.number,
                    state=str(tranche.state.label).lower(),
                )
            )
        if tranche.state == TrancheState.DUE and planned != tranche.planned_date and planned > today:
            raise DomainError(
                _(
                    "Tranche %(number)d is already due; its date cannot move into the future.",
                    number=tranche.number,
                )
            )
    for tranche, (amount, planned, _gate) in zip(tranches, checked, strict=True):
        tranche.amount_minor = amount.minor
        tranche.planned_date = planned
    session.flush()


# -- signing ------------------------------------------------------------------------------------------------


def store_agreement(session, actor, grant):
    """Render the agreement and store it on the grant (what is downloaded and what was signed)."""
    from fundapp.disbursements.documents import render_agreement

    pdf = render_agreement(grant)
    stored = _save_pdf(
        session, io.BytesIO(pdf), actor, f"{grant.reference}-agreement.pdf", AGREEMENT_MAX_BYTES
    )
    grant.agreement_file_id = stored.id
    grant.agreement_sha256 = stored.sha256
    session.flush()
    record_event(session, actor, grant, "grant.agreement_stored", after={"sha256": stored.sha256})
    return stored


def _save_pdf(session, source, actor, filename, max_bytes):
    return save_upload(
        session, source, allowed_kinds=["pdf"], max_bytes=max_bytes, uploaded_by=actor, filename=filename
    )


def _check_signature(name, day, *, who, field, decided_on, today):
    name = (name or "").strip()
    if not name:
        raise DomainError(
            _("Enter the name of the person who signed for %(who)s.", who=who), field=f"{field}_signatory"
        )
    if len(name) > MAX_SIGNATORY_LENGTH:
        raise DomainError(
            _("Keep the name under %(limit)d characters.", limit=MAX_SIGNATORY_LENGTH),
            field=f"{field}_signatory",
        )
    if not isinstance(day, date):
        raise DomainError(_("Enter the date %(who)s signed.", who=who), field=f"{field}_signed_on")
    if day > today:
        raise DomainError(_("A signature cannot be dated in the future."), field=f"{field}_signed_on")
    if decided_on is not None and day < decided_on:
        raise DomainError(
            _(
                "The board approved the grant on %(date)s; it cannot have been signed before.",
                date=local_date(decided_on),
            ),
            field=f"{field}_signed_on",
        )
    return name


def sign_grant(
    session,
    actor,
    grant,
    *,
    grantee_signatory,
    grantee_signed_on,
    fund_signatory,
    fund_signed_on,
    signed_copy,
):
    """Record both signatures and the signed copy: the grant becomes active and its amount is committed
    from its pool in the ledger (refused, with nothing changed, if the pool has not received enough)."""
    _require_officer(actor)
    if grant.state != GrantState.AGREEMENT:
        raise DomainError(
            _("The grant is %(state)s: it was signed already or cannot be signed.", state=grant.state.label)
        )
    today = fund_today()
    item = grant.agenda_item
    decided_on = to_local(item.decided_at).date() if item is not None and item.decided_at else None
    grantee_signatory = _check_signature(
        grantee_signatory,
        grantee_signed_on,
        who=_("the grantee"),
        field="grantee",
        decided_on=decided_on,
        today=today,
    )
    fund_signatory = _check_signature(
        fund_signatory, fund_signed_on, who=_("the fund"), field="fund", decided_on=decided_on, today=today
    )
    if signed_copy is None or not (
        getattr(signed_copy, "filename", None) or getattr(signed_copy, "name", None)
    ):
        raise DomainError(_("Upload the signed copy of the agreement (PDF)."), field="signed_copy")
    organisation = grant.organisation
    if not (organisation.bank_iban or "").strip():
        raise DomainError(
            _(
                "%(organisation)s has no bank account (IBAN) on file, so the grant could not be paid. "
                "Ask them to add it to their organisation's details first.",
                organisation=organisation.name,
            )
        )
    ledger.lock_accounts(session, [grant.pool.account])
    available = ledger.pool_available(session, grant.pool)
    if available < grant.amount:
        raise DomainError(
            _(
                "Signing would commit money the fund has not received: the pool %(pool)s has %(left)s "
                "available, the grant is %(amount)s. Record the funds received first.",
                pool=grant.pool.name,
                left=available.format(),
                amount=grant.amount.format(),
            )
        )
    try:
        stored = _save_pdf(
            session, signed_copy, actor, f"{grant.reference}-signed.pdf", SIGNED_COPY_MAX_BYTES
        )
    except DomainError as error:
        raise DomainError(error.message, field="signed_copy") from None
    if grant.agreement_file_id is None:
        store_agreement(session, actor, grant)
    grant.grantee_signatory = grantee_signatory
    grant.grantee_signed_on = grantee_signed_on
    grant.fund_signatory = fund_signatory
    grant.fund_signed_on = fund_signed_on
    grant.signed_copy_file_id = stored.id
    grant.bank_name = organisation.bank_name
    grant.bank_bic = organisation.bank_bic
    grant.bank_iban = organisation.bank_iban.strip()
    grant.bank_kbe = organisation.bank_kbe
    transition(
        session, GRANT_WORKFLOW, grant, GrantState.ACTIVE, actor, context={"signed_copy": stored.sha256}
    )
    grant.activated_at = utcnow()
    entry = ledger.post_entry(
        session,
        actor,
        EntryKind.COMMITMENT,
        [(grant.pool.account, grant.amount), (grant.account, -grant.amount)],
        value_date=max(grantee_signed_on, fund_signed_on),
        description=_("Commitment of %(reference)s", reference=grant.reference),
        pool=grant.pool,
        grant=grant,
    )
    # Whose money it is: attributed to the pool's contributions, first in, first out.
    allocation.attribute_commitment(session, grant, entry, grant.amount)
    refresh_due(session, grant)
    _mail_grantee(
        session,
        grant,
        _("%(reference)s: your grant is active", reference=grant.reference),
        _(
            "The grant agreement %(reference)s (%(title)s) is signed by both parties and the grant is "
            "active. The first payment is made once it is due; you can follow the tranches and reports "
            "on the grant's page.",
            reference=grant.reference,
            title=grant.title,
        ),
    )
    return grant


def cancel_grant(session, actor, grant, reason):
    """An approved grant that will never be signed: its pool reservation is freed (nothing was committed)."""
    _require_officer(actor)
    reason = _reason(reason, _("why the grant is cancelled."))
    transition(session, GRANT_WORKFLOW, grant, GrantState.CANCELLED, actor, reason=reason)
    for tranche in grant.tranches:
        if tranche.state in OPEN_TRANCHE_STATES:
            tranche.cancel_reason = reason
            transition(session, TRANCHE_WORKFLOW, tranche, TrancheState.CANCELLED, None, reason=reason)
    return grant


# -- tranches falling due -----------------------------------------------------------------------------------


def _is_ready(tranche, today):
    if tranche.planned_date > today:
        return False
    if tranche.gate == TrancheGate.NONE:
        return True
    return tranche.report is not None and tranche.report.state == ReportState.ACCEPTED


def refresh_due(session, grant, today=None):
    """Move the grant's scheduled tranches whose date has come and whose report is accepted to DUE
    (by the system). Returns the tranches moved."""
    if grant.state not in PAYING_STATES:
        return []
    today = today or fund_today()
    moved = []
    for tranche in grant.tranches:
        if tranche.state == TrancheState.SCHEDULED and _is_ready(tranche, today):
            transition(session, TRANCHE_WORKFLOW, tranche, TrancheState.DUE, None)
            moved.append(tranche)
    return moved


def refresh_due_tranches(session, today=None):
    """``refresh_due`` over every paying grant (a scheduled job). Returns the tranches moved."""
    today = today or fund_today()
    candidates = session.scalars(
        select(Tranche)
        .join(Grant, Grant.id == Tranche.grant_id)
        .outerjoin(GrantReport, GrantReport.id == Tranche.report_id)
        .where(
            Tranche.state == TrancheState.SCHEDULED,
            Grant.state.in_(PAYING_STATES),
            Tranche.planned_date <= today,
            (Tranche.gate == TrancheGate.NONE) | (GrantReport.state == ReportState.ACCEPTED),
        )
        .order_by(Tranche.grant_id, Tranche.number)
        .options(selectinload(Tranche.grant))
    ).all()
    moved = []
    for tranche in candidates:
        if tranche.state == TrancheState.SCHEDULED and _is_ready(tranche, today):
            transition(session, TRANCHE_WORKFLOW, tranche, TrancheState.DUE, None)
            moved.append(tranche)
    return moved


# -- approval and release (four eyes) -----------------------------------------------------------------------


def _not_payable(tranche):
    """Why ``tranche`` cannot be approved or released because of its state, or None."""
    grant = tranche.grant
    if tranche.state == TrancheState.RELEASED:
        return _(
            "Tranche %(number)d was already released on %(date)s (bank reference %(reference)s).",
            number=tranche.number,
            date=_day(tranche.paid_on),
            reference=tranche.bank_reference,
        )
    if tranche.state == TrancheState.CANCELLED:
        return _("Tranche %(number)d is cancelled.", number=tranche.number)
    if grant.state not in PAYING_STATES:
        return _("The grant is %(state)s, so it pays nothing now.", state=str(grant.state.label).lower())
    return None


def approve_tranche(session, actor, tranche, *, bank_details_checked):
    """Finance officer A approves a due tranche for payment, having checked the bank details."""
    _require_finance(actor)
    grant = tranche.grant
    refresh_due(session, grant)
    refusal = _not_payable(tranche)
    if refusal:
        raise DomainError(refusal)
    if tranche.state == TrancheState.APPROVED:
        raise DomainError(
            _(
                "Tranche %(number)d was already approved by %(name)s.",
                number=tranche.number,
                name=tranche.approved_by.full_name if tranche.approved_by else "",
            )
        )
    if tranche.state == TrancheState.SCHEDULED:
        raise DomainError(
            _(
                "Tranche %(number)d is not due yet: it waits for %(what)s.",
                number=tranche.number,
                what=waiting_for(tranche),
            )
        )
    if not bank_details_checked:
        raise DomainError(
            _("Confirm that you checked the bank details against the signed agreement."),
            field="bank_details_checked",
        )
    if not grant.bank_iban:
        raise DomainError(_("The grant has no bank account (IBAN) to pay to."))
    transition(
        session, TRANCHE_WORKFLOW, tranche, TrancheState.APPROVED, actor, context={"iban": grant.bank_iban}
    )
    tranche.approved_by_id = actor.id
    tranche.approved_at = utcnow()
    tranche.approved_iban = grant.bank_iban
    session.flush()
    return tranche


def withdraw_approval(session, actor, tranche, reason):
    """Take back an approval not yet released (wrong details, a doubt): the tranche is due again."""
    _require_finance(actor)
    reason = _reason(reason, _("why the approval is withdrawn."))
    if tranche.state != TrancheState.APPROVED:
        raise DomainError(
            _(
                "Tranche %(number)d is not approved, so there is no approval to withdraw.",
                number=tranche.number,
            )
        )
    transition(session, TRANCHE_WORKFLOW, tranche, TrancheState.DUE, actor, reason=reason)
    tranche.approved_by_id = None
    tranche.approved_at = None
    tranche.approved_iban = None
    session.flush()
    return tranche


def release_tranche(session, actor, tranche, *, paid_on, bank_reference, idempotency_key):
    """Finance officer B records that the bank paid an approved tranche; returns the RELEASE entry.

    A retry with the same ``idempotency_key`` and details returns the first entry and changes nothing;
    the same key with other details raises ``Conflict``. A tranche is released at most once.
    """
    session.flush()
    session.execute(select(Tranche.id).where(Tranche.id == tranche.id).with_for_update())
    session.refresh(tranche)
    bank_reference_text = (bank_reference or "").strip()
    request_print = ledger.fingerprint(
        tranche=tranche.id, paid_on=paid_on, bank_reference=bank_reference_text
    )
    earlier = ledger.entry_for_key(session, idempotency_key, request_print)
    if earlier is not None:
        return earlier
    _require_finance(actor)
    grant = tranche.grant
    refusal = _not_payable(tranche)
    if refusal:
        raise DomainError(refusal)
    if tranche.state != TrancheState.APPROVED:
        raise DomainError(
            _(
                "Tranche %(number)d is not approved yet: a finance officer approves it first, then "
                "another releases it.",
                number=tranche.number,
            )
        )
    four_eyes = TRANCHE_WORKFLOW.refusal(tranche, TrancheState.RELEASED, actor)
    if four_eyes:
        raise DomainError(four_eyes)
    if not isinstance(paid_on, date):
        raise DomainError(_("Enter the date the bank paid."), field="paid_on")
    if paid_on > fund_today():
        raise DomainError(_("The payment date cannot be in the future."), field="paid_on")
    approved_on = to_local(tranche.approved_at).date() if tranche.approved_at else None
    if approved_on is not None and paid_on < approved_on:
        raise DomainError(
            _(
                "The tranche was approved on %(date)s; it cannot have been paid before.",
                date=local_date(approved_on),
            ),
            field="paid_on",
        )
    bank_reference_text = _bank_reference(bank_reference_text)
    if grant.bank_iban != tranche.approved_iban:
        raise DomainError(
            _("The bank details changed since the approval: withdraw the approval and approve again.")
        )
    transition(
        session,
        TRANCHE_WORKFLOW,
        tranche,
        TrancheState.RELEASED,
        actor,
        context={"bank_reference": bank_reference_text},
    )
    tranche.released_by_id = actor.id
    tranche.released_at = utcnow()
    tranche.paid_on = paid_on
    tranche.bank_reference = bank_reference_text
    session.flush()
    entry = ledger.post_entry(
        session,
        actor,
        EntryKind.RELEASE,
        [(grant.account, tranche.amount), (ledger.cash_account(session, tranche.currency), -tranche.amount)],
        value_date=paid_on,
        description=_(
            "Tranche %(number)d of %(reference)s", number=tranche.number, reference=grant.reference
        ),
        bank_reference=bank_reference_text,
        pool=grant.pool,
        grant=grant,
        tranche=tranche,
        idempotency_key=idempotency_key or None,
        request_fingerprint=request_print if idempotency_key else None,
    )
    _mail_grantee(
        session,
        grant,
        _("%(reference)s: tranche %(number)d paid", reference=grant.reference, number=tranche.number),
        _(
            "Tranche %(number)d of %(reference)s, %(amount)s, was paid on %(date)s to the account %(iban)s "
            "(bank reference %(bank_reference)s).",
            number=tranche.number,
            reference=grant.reference,
            amount=tranche.amount.format(),
            date=local_date(paid_on),
            iban=tranche.approved_iban,
            bank_reference=bank_reference_text,
        ),
    )
    return entry


def cancel_tranche(session, actor, tranche, reason):
    """A tranche that will not be paid (its amount is de-committed when the grant closes)."""
    _require_officer(actor)
    reason = _reason(reason, _("why the tranche is cancelled."))
    if tranche.state == TrancheState.RELEASED:
        raise DomainError(
            _(
                "Tranche %(number)d was released on %(date)s; paid money is recorded as a refund instead.",
                number=tranche.number,
                date=_day(tranche.paid_on),
            )
        )
    if tranche.grant.state not in (GrantState.ACTIVE, GrantState.SUSPENDED):
        raise DomainError(
            _(
                "The grant is %(state)s; its tranches cannot be cancelled one by one.",
                state=str(tranche.grant.state.label).lower(),
            )
        )
    transition(session, TRANCHE_WORKFLOW, tranche, TrancheState.CANCELLED, actor, reason=reason)
    tranche.cancel_reason = reason
    session.flush()
    return tranche


# -- the grant's life ----------------------------------------------------------------------------------------


def suspend_grant(session, actor, grant, reason):
    _require_officer(actor)
    reason = _reason(reason, _("why the grant is suspended."))
    transition(session, GRANT_WORKFLOW, grant, GrantState.SUSPENDED, actor, reason=reason)
    return grant


def resume_grant(session, actor, grant):
    _require_officer(actor)
    transition(session, GRANT_WORKFLOW, grant, GrantState.ACTIVE, actor)
    refresh_due(session, grant)
    return grant


def terminate_grant(session, actor, grant, reason):
    """End the grant early: every tranche not released is cancelled (by the system, with the reason)."""
    _require_officer(actor)
    reason = _reason(reason, _("why the grant is terminated."))
    transition(session, GRANT_WORKFLOW, grant, GrantState.TERMINATED, actor, reason=reason)
    for tranche in grant.tranches:
        if tranche.state in OPEN_TRANCHE_STATES:
            transition(session, TRANCHE_WORKFLOW, tranche, TrancheState.CANCELLED, None, reason=reason)
            tranche.cancel_reason = reason
    session.flush()
    return grant


def complete_grant(session, actor, grant):
    """The final report is accepted: the grant is completed (its last tranche can still be paid)."""
    _require_officer(actor)
    report = final_report(grant)
    if report is not None and report.state != ReportState.ACCEPTED:
        raise DomainError(_("The grant is completed when its final report is accepted; it is not yet."))
    transition(session, GRANT_WORKFLOW, grant, GrantState.COMPLETED, actor)
    refresh_due(session, grant)
    return grant


def close_grant(session, actor, grant):
    """Every tranche released or cancelled: what was committed and not paid goes back to the pool."""
    _require_officer(actor)
    transition(session, GRANT_WORKFLOW, grant, GrantState.CLOSED, actor)
    outstanding = ledger.grant_figures(session, grant).outstanding
    if outstanding.minor > 0:
        entry = ledger.post_entry(
            session,
            actor,
            EntryKind.DECOMMITMENT,
            [(grant.account, outstanding), (grant.pool.account, -outstanding)],
            value_date=fund_today(),
            description=_("De-commitment of %(reference)s at closure", reference=grant.reference),
            pool=grant.pool,
            grant=grant,
        )
        allocation.attribute_decommitment(session, grant, entry, outstanding)
    grant.closed_at = utcnow()
    session.flush()
    return grant


def record_refund(session, actor, grant, amount, *, value_date, bank_reference, idempotency_key=None):
    """Money a grantee paid back: cash in, back into the grant's pool. Returns the REFUND entry."""
    _require_finance(actor)
    if not isinstance(amount, Money):
        raise DomainError(_("Enter the amount refunded."), field="amount")
    if amount.currency != grant.currency:
        raise DomainError(_("Give the amount in %(currency)s.", currency=grant.currency), field="amount")
    if amount.minor <= 0:
        raise DomainError(_("A refund is money coming back: enter a positive amount."), field="amount")
    if not isinstance(value_date, date):
        raise DomainError(_("Enter the date the money arrived."), field="value_date")
    if value_date > fund_today():
        raise DomainError(_("Money cannot arrive on a future date."), field="value_date")
    bank_reference = (bank_reference or "").strip()
    if len(bank_reference) > MAX_BANK_REFERENCE:
        raise DomainError(
            _("The bank reference is at most %(limit)d characters.", limit=MAX_BANK_REFERENCE),
            field="bank_reference",
        )
    request_print = ledger.fingerprint(
        grant=grant.id, amount=amount.minor, value_date=value_date, bank_reference=bank_reference
    )
    earlier = ledger.entry_for_key(session, idempotency_key, request_print)
    if earlier is not None:
        return earlier
    ledger.lock_accounts(session, [grant.account, grant.pool.account])
    figures = ledger.grant_figures(session, grant)
    refundable = figures.released - figures.refunded
    if amount > refundable:
        raise DomainError(
            _(
                "%(reference)s has been paid %(released)s and has refunded %(refunded)s, so at most "
                "%(left)s can come back.",
                reference=grant.reference,
                released=figures.released.format(),
                refunded=figures.refunded.format(),
                left=refundable.format(),
            ),
            field="amount",
        )
    return ledger.post_entry(
        session,
        actor,
        EntryKind.REFUND,
        [(ledger.cash_account(session, amount.currency), amount), (grant.pool.account, -amount)],
        value_date=value_date,
        description=_("Refund by the grantee of %(reference)s", reference=grant.reference),
        bank_reference=bank_reference,
        pool=grant.pool,
        grant=grant,
        idempotency_key=idempotency_key or None,
        request_fingerprint=request_print if idempotency_key else None,
    )


# -- the timeline -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineRow:
    day: date
    #: "decision", "signature", "activation", "start", "end", "tranche", "report", "closure"
    kind: str
    label: str
    state: str = ""
    #: Waiting on someone now (a due tranche, a report due).
    due: bool = False
    overdue: bool = False
    #: The tranche's or report's number, for a link to it.
    number: int | None = None

    @property
    def anchor(self):
        return f"{self.kind}-{self.number}" if self.number is not None else self.kind


def grant_timeline(grant, today=None):
    """What happened and what is coming for ``grant``, by date: plain rows for the staff's and the
    grantee's page (due and overdue flagged)."""
    today = today or fund_today()
    rows = []
    item = grant.agenda_item
    if item is not None and item.decided_at:
        rows.append(TimelineRow(to_local(item.decided_at).date(), "decision", _("Approved by the board")))
    if grant.grantee_signed_on:
        rows.append(
            TimelineRow(
                grant.grantee_signed_on,
                "signature",
                _("Signed by the grantee (%(name)s)", name=grant.grantee_signatory),
            )
        )
    if grant.fund_signed_on:
        rows.append(
            TimelineRow(
                grant.fund_signed_on,
                "signature",
                _("Signed by the fund (%(name)s)", name=grant.fund_signatory),
            )
        )
    if grant.activated_at:
        rows.append(TimelineRow(to_local(grant.activated_at).date(), "activation", _("Grant active")))
    rows.append(TimelineRow(grant.start_date, "start", _("Project starts")))
    rows.append(TimelineRow(grant.end_date, "end", _("Project ends")))
    for report in grant.reports:
        open_ = report.state in (ReportState.DUE, ReportState.CHANGES_REQUESTED)
        live = open_ and grant.state in (GrantState.ACTIVE, GrantState.SUSPENDED, GrantState.COMPLETED)
        rows.append(
            TimelineRow(
                report.due_date,
                "report",
                _("%(kind)s %(number)d due", kind=report.kind.label, number=report.number),
                str(report.state.label),
                due=live and report.due_date <= today,
                overdue=live and report.due_date < today,
                number=report.number,
            )
        )
    for tranche in grant.tranches:
        waiting = tranche.state in (TrancheState.DUE, TrancheState.APPROVED)
        if tranche.state == TrancheState.RELEASED and tranche.paid_on:
            label = _(
                "Tranche %(number)d paid: %(amount)s", number=tranche.number, amount=tranche.amount.format()
            )
            day = tranche.paid_on
        else:
            label = _(
                "Tranche %(number)d planned: %(amount)s",
                number=tranche.number,
                amount=tranche.amount.format(),
            )
            day = tranche.planned_date
        rows.append(
            TimelineRow(
                day,
                "tranche",
                label,
                str(tranche.state.label),
                due=waiting,
                overdue=waiting and tranche.planned_date < today,
                number=tranche.number,
            )
        )
    if grant.closed_at:
        rows.append(TimelineRow(to_local(grant.closed_at).date(), "closure", _("Grant closed")))
    order = {
        "decision": 0,
        "signature": 1,
        "activation": 2,
        "start": 3,
        "report": 4,
        "tranche": 5,
        "end": 6,
        "closure": 7,
    }
    rows.sort(key=lambda row: (row.day, order.get(row.kind, 9), row.number or 0))
    return rows
