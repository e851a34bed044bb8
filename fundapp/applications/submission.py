"""Submitting a proposal, withdrawing it, and the files an applicant attaches to it.

Submission freezes the proposal: its content becomes a numbered ``ProposalVersion`` with a PDF rendered
by the core PDF helper and stored with its SHA-256, and the team gets a confirmation email quoting that
hash. Every rule that can refuse a submission lives in :func:`submission_problems`, which the submission
page lists to the applicant and the workflow's guard consults, so what the page says is missing and what
the server refuses are the same list.
"""

from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import object_session

from fundapp.applications.models import (
    EDITABLE_STATES,
    AttachmentKind,
    CallState,
    Proposal,
    ProposalAttachment,
    ProposalStage,
    ProposalState,
    ProposalVersion,
)
from fundapp.applications.workflow import PROPOSAL_WORKFLOW
from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import local_datetime
from fundapp.core.mail import queue_mail
from fundapp.core.money import Money
from fundapp.core.pdf import render_pdf_document
from fundapp.core.storage import KINDS, format_size, save_upload
from fundapp.core.workflow import transition

#: What an applicant may attach, by content (core storage's kinds).
ATTACHMENT_FILE_KINDS = ("pdf", "docx", "xlsx", "odt", "ods", "png", "jpeg")
#: Per-file limit unless the setting PROPOSAL_ATTACHMENT_MAX_BYTES says otherwise.
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
#: More files than this on one proposal is a mistake or abuse, not a grant application.
MAX_ATTACHMENTS_PER_PROPOSAL = 40
#: Withdrawal reasons are kept in the audit log; a page of text is plenty.
MAX_REASON_LENGTH = 2000

#: States whose proposal counts as "already in the call" for the duplicate rule.
_NOT_COUNTED = frozenset({ProposalState.DRAFT, ProposalState.WITHDRAWN})


# -- the rules ----------------------------------------------------------------------------------------


def submission_deadline(proposal):
    """The instant before which ``proposal`` must be submitted (None if the call has not set one).

    A full proposal in a two-stage call has its own deadline; everything else has the call's closing.
    """
    call = proposal.call
    if call.is_two_stage and proposal.stage == ProposalStage.FULL:
        return call.full_proposal_closes_at
    return call.closes_at


def local_time(instant):
    """An instant as the fund's wall-clock time, naming the zone: "Mar 3, 2026, 6:00:00 PM (Asia/Almaty)"."""
    return local_datetime(instant, "medium")


def _money(amount):
    return amount.format(str(get_locale() or "en"))


def submission_problems(proposal, now=None):
    """Every reason ``proposal`` cannot be submitted at ``now`` (default: this instant), as sentences.

    An empty list means it can be submitted. The order is the order a person would fix things in: the
    call and its deadline, another submission of the organisation, missing content, the budget, files.
    """
    now = now or utcnow()
    problems = []
    problems += _call_problems(proposal, now)
    problems += _duplicate_problems(proposal)
    problems += _content_problems(proposal)
    problems += _budget_problems(proposal)
    problems += _attachment_problems(proposal)
    return problems


def _call_problems(proposal, now):
    call = proposal.call
    names = {"call": call.title}
    if call.state == CallState.DRAFT:
        return [_("The call “%(call)s” has not been published, so it does not accept proposals.", **names)]
    if call.state == CallState.CANCELLED:
        return [_("The call “%(call)s” was cancelled, so it does not accept proposals.", **names)]
    full_stage = call.is_two_stage and proposal.stage == ProposalStage.FULL
    if now < call.opens_at:
        return [
            _(
                "The call “%(call)s” is not open yet: it accepts proposals from %(opens)s.",
                opens=local_time(call.opens_at),
                **names,
            )
        ]
    deadline = submission_deadline(proposal)
    if deadline is None:
        return [
            _(
                "The call “%(call)s” has not set a deadline for full proposals yet; the fund will announce "
                "it.",
                **names,
            )
        ]
    if now >= deadline:
        return [
            _(
                "The deadline of the call “%(call)s” has passed: proposals had to be submitted before "
                "%(deadline)s.",
                deadline=local_time(deadline),
                **names,
            )
        ]
    # A two-stage call closes after its concept notes; invited full proposals are still accepted.
    if call.state == CallState.CLOSED and not full_stage:
        return [_("The call “%(call)s” is closed and no longer accepts proposals.", **names)]
    if full_stage and not _invited(proposal):
        return [
            _(
                "The call “%(call)s” accepts full proposals only from organisations invited after their "
                "concept note.",
                **names,
            )
        ]
    return []


def _session(proposal):
    from fundapp.extensions import db

    return object_session(proposal) or db.session


def _invited(proposal):
    return (
        _session(proposal).scalar(
            select(Proposal.id).where(
                Proposal.call_id == proposal.call_id,
                Proposal.organisation_id == proposal.organisation_id,
                Proposal.stage == ProposalStage.CONCEPT,
                Proposal.state == ProposalState.INVITED,
            )
        )
        is not None
    )


def _duplicate_problems(proposal):
    """Another proposal of the organisation already in the call, at the same stage.

    In a one-stage call every proposal competes in the same round, whatever its stage says; in a
    two-stage call the full proposal follows the concept note and is not a duplicate of it.
    """
    query = select(Proposal).where(
        Proposal.call_id == proposal.call_id,
        Proposal.organisation_id == proposal.organisation_id,
        Proposal.state.not_in(_NOT_COUNTED),
    )
    if proposal.id is not None:
        query = query.where(Proposal.id != proposal.id)
    if proposal.call.is_two_stage:
        query = query.where(Proposal.stage == proposal.stage)
    other = _session(proposal).scalars(query.order_by(Proposal.id).limit(1)).first()
    if other is None:
        return []
    return [
        _(
            "%(org)s has already submitted %(reference)s to this call, and an organisation may submit only "
            "one proposal per call. Withdraw %(reference)s first if this proposal should replace it.",
            org=proposal.organisation.name_en,
            reference=other.reference,
        )
    ]


def _content_problems(proposal):
    from fundapp.applications.sections import missing_items

    return [str(getattr(item, "message", item)) for item in missing_items(proposal)]


def _budget_problems(proposal):
    call = proposal.call
    if proposal.currency != call.currency:
        return [
            _(
                "The budget is in %(currency)s but the call funds grants in %(call_currency)s. "
                "Enter the budget in %(call_currency)s.",
                currency=proposal.currency,
                call_currency=call.currency,
            )
        ]
    problems = []
    requested = proposal.requested
    if requested.minor < call.grant_min_minor:
        problems.append(
            _(
                "The amount requested from the fund, %(requested)s, is below the call's minimum grant of "
                "%(minimum)s.",
                requested=_money(requested),
                minimum=_money(call.grant_min),
            )
        )
    elif requested.minor > call.grant_max_minor:
        problems.append(
            _(
                "The amount requested from the fund, %(requested)s, is above the call's maximum grant of "
                "%(maximum)s. Lower the budget lines asked of the fund or move some to co-financing.",
                requested=_money(requested),
                maximum=_money(call.grant_max),
            )
        )
    problem = _cofinancing_problem(proposal)
    if problem:
        problems.append(problem)
    return problems


def cofinancing_share(cofinancing_minor, total_minor):
    """Co-financing as a percentage of the total cost, a Decimal with one decimal place (exact input)."""
    if total_minor <= 0:
        return Decimal(0)
    share = Decimal(cofinancing_minor * 100) / Decimal(total_minor)
    return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def minimum_cofinancing_minor(requested_minor, percent):
    """The least co-financing (minor units) for which it is ``percent`` % of requested + co-financing."""
    if percent <= 0:
        return 0
    if percent >= 100:
        return None  # only a budget that asks nothing of the fund could comply
    # c * 100 >= percent * (r + c)  <=>  c >= percent * r / (100 - percent), rounded up.
    return -(-percent * requested_minor // (100 - percent))


def _cofinancing_problem(proposal):
    call = proposal.call
    percent = call.cofinancing_min_percent or 0
    if percent <= 0:
        return None
    cofinancing = proposal.cofinancing_minor
    total = proposal.requested_minor + cofinancing
    if total > 0 and cofinancing * 100 >= percent * total:
        return None
    if total == 0:
        return None  # an empty budget is reported as missing, not as short of co-financing
    needed = minimum_cofinancing_minor(proposal.requested_minor, percent)
    names = {
        "cofinancing": _money(Money(cofinancing, proposal.currency)),
        "share": cofinancing_share(cofinancing, total),
        "total": _money(Money(total, proposal.currency)),
        "percent": percent,
    }
    if needed is None:
        return _(
            "Co-financing is %(cofinancing)s, %(share)s%% of the total cost of %(total)s; the call requires "
            "%(percent)s%%.",
            **names,
        )
    return _(
        "Co-financing is %(cofinancing)s, %(share)s%% of the total cost of %(total)s; the call requires at "
        "least %(percent)s%%. With the amount you request, bring at least %(needed)s from other sources.",
        needed=_money(Money(needed, proposal.currency)),
        **names,
    )


def _attachment_problems(proposal):
    uploaded = {attachment.kind for attachment in proposal.attachments}
    problems = []
    for value in proposal.call.required_attachments or ():
        try:
            kind = AttachmentKind(value)
        except ValueError:
            continue  # a kind no longer offered cannot be asked for
        if kind not in uploaded:
            problems.append(
                _("Attach the %(kind)s: the call requires it.", kind=str(kind.label).lower())
                if kind != AttachmentKind.OTHER
                else _("Attach the other documents the call requires.")
            )
    return problems


# -- submitting ---------------------------------------------------------------------------------------


def can_submit(proposal, user, now=None):
    """Whether ``user`` may submit ``proposal`` now: the workflow allows it and nothing is missing."""
    return proposal.can_edit(user) and not submission_problems(proposal, now)


def submit_proposal(session, user, proposal, now=None):
    """Submit ``proposal`` on behalf of ``user``; return the new :class:`ProposalVersion`.

    Checks every rule at ``now`` (default: this instant; the workflow's guard checks the server clock as
    well), moves the proposal to SUBMITTED under a row lock, freezes its content as the next version,
    renders and stores its PDF with the SHA-256, and queues a confirmation to the organisation's members.
    Raises DomainError and changes nothing if the submission is refused. Never commits.
    """
    now = now or utcnow()
    if proposal.state not in EDITABLE_STATES:
        raise DomainError(
            _(
                "%(reference)s is %(state)s, so it cannot be submitted again.",
                reference=proposal.reference,
                state=str(proposal.state.label).lower(),
            )
        )
    problems = submission_problems(proposal, now)
    if problems:
        raise DomainError(problems[0])
    # The lock taken here is held until commit: a second click waits, then finds the proposal submitted.
    transition(session, PROPOSAL_WORKFLOW, proposal, ProposalState.SUBMITTED, user)
    proposal.submitted_at = now

    number = (
        session.scalar(
            select(func.max(ProposalVersion.number)).where(ProposalVersion.proposal_id == proposal.id)
        )
        or 0
    ) + 1
    snapshot = _snapshot(proposal)
    pdf = render_proposal_pdf(proposal, snapshot, number=number, submitted_at=now, submitted_by=user)
    stored = save_upload(
        session,
        BytesIO(pdf.data),
        allowed_kinds=["pdf"],
        max_bytes=len(pdf.data),
        uploaded_by=user,
        filename=f"{proposal.reference}-v{number}.pdf",
    )
    if stored.sha256 != pdf.sha256:  # the store wrote something else than we rendered
        raise RuntimeError(f"stored PDF of {proposal.reference} does not match the rendered one")
    version = ProposalVersion(
        proposal=proposal,
        number=number,
        snapshot=snapshot,
        pdf_file_id=stored.id,
        pdf_sha256=pdf.sha256,
        submitted_at=now,
        submitted_by_id=user.id,
    )
    session.add(version)
    session.flush()
    record_event(
        session,
        user,
        proposal,
        "proposal.version_frozen",
        after={"version": number, "pdf_sha256": pdf.sha256, "pdf_file_id": stored.id},
    )
    _queue_submission_mail(session, user, proposal, version)
    return version


def _snapshot(proposal):
    """The editor's snapshot of the content, plus the files attached at submission."""
    from fundapp.applications.sections import snapshot

    frozen = dict(snapshot(proposal))
    frozen.setdefault(
        "attachments",
        [
            {
                "id": attachment.id,
                "kind": attachment.kind.value,
                "name": attachment.stored_file.original_name,
                "size_bytes": attachment.stored_file.size_bytes,
                "sha256": attachment.stored_file.sha256,
                "stored_file_id": attachment.stored_file_id,
            }
            for attachment in proposal.attachments
        ],
    )
    return frozen


def proposal_pdf_context(proposal, snapshot, *, number, submitted_at, submitted_by):
    """The plain values templates/pdf/proposal.html is rendered from."""
    call = proposal.call
    currency = proposal.currency
    requested = Money(proposal.requested_minor, currency)
    cofinancing = Money(proposal.cofinancing_minor, currency)
    attachments = []
    for item in snapshot.get("attachments", ()):
        try:
            label = str(AttachmentKind(item["kind"]).label)
        except ValueError:
            label = item["kind"]
        attachments.append(
            {
                "kind": label,
                "name": item["name"],
                "size": format_size(item["size_bytes"]),
                "sha256": item["sha256"],
            }
        )
    return {
        "title": proposal.title,
        "reference": proposal.reference,
        "proposal": {
            "reference": proposal.reference,
            "title": proposal.title,
            "stage": _("Concept note") if proposal.stage == ProposalStage.CONCEPT else _("Full proposal"),
            "organisation": proposal.organisation.name_en,
            "organisation_local": f"{proposal.organisation.name_kk} · {proposal.organisation.name_ru}",
            "organisation_bin": proposal.organisation.bin,
            "call_reference": call.reference,
            "call_title": call.title,
            "theme": proposal.theme or "",
            "version": number,
            "submitted_at": local_time(submitted_at),
            "submitted_by": submitted_by.full_name,
            "requested": _money(requested),
            "cofinancing": _money(cofinancing),
            "total": _money(requested + cofinancing),
            "cofinancing_share": str(
                cofinancing_share(cofinancing.minor, requested.minor + cofinancing.minor)
            ),
        },
        "snapshot": snapshot,
        "attachments": attachments,
    }


def render_proposal_pdf(proposal, snapshot, *, number, submitted_at, submitted_by):
    """Render the PDF of one submitted version (a ``RenderedPdf``: bytes, pages, SHA-256)."""
    context = proposal_pdf_context(
        proposal, snapshot, number=number, submitted_at=submitted_at, submitted_by=submitted_by
    )
    return render_pdf_document("pdf/proposal.html", **context)


def _members(proposal, first):
    """The organisation's active members, ``first`` at the head of the list."""
    people = [m.user for m in proposal.organisation.memberships if m.user.is_active and m.user.id != first.id]
    return [first, *sorted(people, key=lambda user: user.id)]


def _link(endpoint, **values):
    return url_for(endpoint, _external=True, **values) if has_request_context() else ""


def _queue_submission_mail(session, user, proposal, version):
    pdf_link = _link("submission.download_version", proposal_id=proposal.id, number=version.number)
    for person in _members(proposal, user):
        with force_locale(person.locale or "en"):
            subject = _(
                "%(reference)s submitted to %(fund)s",
                reference=proposal.reference,
                fund=current_app.config["FUND_SHORT_NAME"],
            )
            body = _(
                "%(name)s submitted the proposal %(reference)s, “%(title)s”, to the call “%(call)s” on "
                "behalf of %(org)s.\n\n"
                "Reference: %(reference)s\n"
                "Version: %(version)s\n"
                "Submitted at: %(time)s\n"
                "SHA-256 of the submitted PDF: %(sha256)s\n\n"
                "The SHA-256 identifies the exact document the fund received: keep this message as your "
                "receipt.\n",
                name=user.full_name,
                reference=proposal.reference,
                title=proposal.title,
                call=proposal.call.title,
                org=proposal.organisation.name_en,
                version=version.number,
                time=local_time(version.submitted_at),
                sha256=version.pdf_sha256,
            )
            if pdf_link:
                body += "\n" + _("The PDF of what you submitted: %(link)s", link=pdf_link) + "\n"
        queue_mail(session, person.email, subject, body)


# -- withdrawing --------------------------------------------------------------------------------------


def withdrawal_problem(proposal, user):
    """Why ``user`` cannot withdraw ``proposal`` now, or None."""
    if not proposal.is_member(user):
        return _("Only members of %(org)s can withdraw its proposals.", org=proposal.organisation.name_en)
    if proposal.state == ProposalState.WITHDRAWN:
        return _("%(reference)s has already been withdrawn.", reference=proposal.reference)
    if not proposal.can_withdraw(user) or not PROPOSAL_WORKFLOW.find(proposal.state, ProposalState.WITHDRAWN):
        return _(
            "A decision has been made on %(reference)s (%(state)s), so it can no longer be withdrawn.",
            reference=proposal.reference,
            state=str(proposal.state.label).lower(),
        )
    return None


def withdraw_proposal(session, user, proposal, reason):
    """Withdraw ``proposal`` on behalf of ``user`` before a decision; the reason goes to the audit log.

    Raises DomainError and changes nothing after a decision or for someone outside the organisation.
    Never commits.
    """
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            _("Keep the reason under %(limit)s characters.", limit=MAX_REASON_LENGTH), field="reason"
        )
    problem = withdrawal_problem(proposal, user)
    if problem:
        raise DomainError(problem)
    was = proposal.state
    transition(session, PROPOSAL_WORKFLOW, proposal, ProposalState.WITHDRAWN, user, reason=reason or None)
    now = utcnow()
    for person in _members(proposal, user):
        with force_locale(person.locale or "en"):
            subject = _("%(reference)s withdrawn", reference=proposal.reference)
            body = _(
                "%(name)s withdrew the proposal %(reference)s, “%(title)s”, from the call “%(call)s” on "
                "%(time)s. It was %(state)s.\n",
                name=user.full_name,
                reference=proposal.reference,
                title=proposal.title,
                call=proposal.call.title,
                time=local_time(now),
                state=str(was.label).lower(),
            )
            if reason:
                body += "\n" + _("Reason given: %(reason)s", reason=reason) + "\n"
        queue_mail(session, person.email, subject, body)
    return proposal


# -- attachments --------------------------------------------------------------------------------------


class AttachmentTooLarge(DomainError):
    """An uploaded file over the per-file limit (a view answers 413)."""


def attachment_max_bytes(app=None):
    app = app or current_app
    return app.config.get("PROPOSAL_ATTACHMENT_MAX_BYTES") or DEFAULT_ATTACHMENT_MAX_BYTES


def too_large_message(limit):
    return _(
        "The file is larger than the limit of %(limit)s per file. Upload a smaller file: scan at a lower "
        "resolution, or split it into parts.",
        limit=format_size(limit),
    )


def _upload_size(upload):
    """The size of an upload if its stream can tell without reading it (werkzeug's can), else None."""
    stream = getattr(upload, "stream", upload)
    try:
        position = stream.tell()
        size = stream.seek(0, 2)
        stream.seek(position)
    except (AttributeError, OSError, ValueError):
        return None
    return size - position


def allowed_attachment_labels():
    """The allowed file types as a person reads them ("PDF, Word document (.docx), ...")."""
    return ", ".join(str(KINDS[name].label) for name in ATTACHMENT_FILE_KINDS)


def _lock(session, proposal):
    """Re-read the proposal's state under a row lock, so a file cannot slip in beside a submission."""
    state = inspect(proposal, raiseerr=False)
    if state is not None and state.persistent and proposal in session:
        session.flush()
        session.refresh(proposal, attribute_names=["state"], with_for_update=True)


def _editing_problem(proposal, user):
    if not proposal.is_member(user):
        return _("Only members of %(org)s can change its proposals.", org=proposal.organisation.name_en)
    if proposal.state not in EDITABLE_STATES:
        return _(
            "%(reference)s is %(state)s, so its attachments can no longer be changed.",
            reference=proposal.reference,
            state=str(proposal.state.label).lower(),
        )
    return None


def add_attachment(session, user, proposal, kind, upload):
    """Attach the uploaded file to ``proposal`` as ``kind``; return the new ``ProposalAttachment``.

    The file's type is read from its content and must be one of :data:`ATTACHMENT_FILE_KINDS`; its size
    is limited by PROPOSAL_ATTACHMENT_MAX_BYTES. Raises DomainError (with ``field`` "kind" or "file")
    and stores nothing if the file or the moment is wrong. Never commits.
    """
    try:
        kind = AttachmentKind(kind)
    except ValueError:
        raise DomainError(_("Choose what kind of document this is."), field="kind") from None
    _lock(session, proposal)
    problem = _editing_problem(proposal, user)
    if problem:
        raise DomainError(problem)
    if len(proposal.attachments) >= MAX_ATTACHMENTS_PER_PROPOSAL:
        raise DomainError(
            _(
                "A proposal can have at most %(limit)s attachments. Remove one you no longer need, or "
                "combine documents into one PDF.",
                limit=MAX_ATTACHMENTS_PER_PROPOSAL,
            ),
            field="file",
        )
    limit = attachment_max_bytes()
    size = _upload_size(upload)
    if size is not None and size > limit:
        raise AttachmentTooLarge(too_large_message(limit), field="file")
    stored = save_upload(
        session, upload, allowed_kinds=ATTACHMENT_FILE_KINDS, max_bytes=limit, uploaded_by=user
    )
    attachment = ProposalAttachment(proposal=proposal, kind=kind, stored_file=stored, uploaded_by=user)
    session.add(attachment)
    proposal.updated_at = utcnow()
    session.flush()
    record_event(
        session,
        user,
        proposal,
        "proposal.attachment_added",
        after={
            "attachment_id": attachment.id,
            "kind": kind.value,
            "name": stored.original_name,
            "content_type": stored.content_type,
            "size_bytes": stored.size_bytes,
            "sha256": stored.sha256,
        },
    )
    return attachment


def remove_attachment(session, user, proposal, attachment):
    """Remove ``attachment`` from ``proposal`` while it can be edited. Never commits.

    The stored file itself is kept: an earlier submitted version may list it, and what was submitted
    stays retrievable.
    """
    if attachment.proposal_id != proposal.id:
        raise DomainError(_("This attachment belongs to another proposal."))
    _lock(session, proposal)
    problem = _editing_problem(proposal, user)
    if problem:
        raise DomainError(problem)
    before = {
        "attachment_id": attachment.id,
        "kind": attachment.kind.value,
        "name": attachment.stored_file.original_name,
        "sha256": attachment.stored_file.sha256,
    }
    proposal.attachments.remove(attachment)
    session.delete(attachment)
    proposal.updated_at = utcnow()
    record_event(session, user, proposal, "proposal.attachment_removed", before=before)


__all__ = [
    "ATTACHMENT_FILE_KINDS",
    "AttachmentTooLarge",
    "add_attachment",
    "allowed_attachment_labels",
    "attachment_max_bytes",
    "can_submit",
    "cofinancing_share",
    "local_time",
    "minimum_cofinancing_minor",
    "remove_attachment",
    "render_proposal_pdf",
    "submission_deadline",
    "submission_problems",
    "submit_proposal",
    "withdraw_proposal",
    "withdrawal_problem",
]
