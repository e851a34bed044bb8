"""Screening: the programme officer's proposal list, its exports, the screening itself and version diffs.

``screen_proposal`` records the officer's checklist and outcome against the latest submitted version,
moves the proposal along ``PROPOSAL_WORKFLOW`` and tells the applicant's team. Inviting a concept note
creates the organisation's full-proposal draft, its content copied from the concept note.

The list and the exports share one filtered statement. The list loads a page with its organisation and
call in one query (plus one count), however many rows are shown or stored; the exports stream every
matching row as plain columns, never as ORM objects.
"""

import copy
import csv
import difflib
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from fundapp.accounts.models import Organisation
from fundapp.applications.models import (
    AttachmentKind,
    Call,
    Proposal,
    ProposalSection,
    ProposalStage,
    ProposalState,
    ProposalTag,
    ProposalVersion,
    Screening,
    ScreeningOutcome,
)
from fundapp.applications.workflow import PROPOSAL_WORKFLOW
from fundapp.core.audit import AuditEvent, record_event
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_timezone, local_datetime
from fundapp.core.mail import queue_mail
from fundapp.core.money import Money
from fundapp.core.workflow import transition

PAGE_SIZE = 50

#: The screening checklist: what the officer confirms before calling a proposal eligible.
CHECKLIST = (
    ("eligible_org_type", _l("The organisation is of a type the call accepts")),
    ("within_grant_range", _l("The amount requested is within the call's grant range")),
    ("cofinancing_met", _l("The co-financing meets the call's minimum")),
    ("attachments_present", _l("Every required attachment is present")),
    ("within_themes", _l("The proposal is within the call's themes")),
    ("no_duplicate", _l("It is not a duplicate of another proposal")),
)
CHECKLIST_KEYS = tuple(key for key, _label in CHECKLIST)

#: Outcomes that tell the applicant why, and so need a reason.
OUTCOMES_WITH_REASON = frozenset(
    {ScreeningOutcome.INELIGIBLE, ScreeningOutcome.MORE_INFO, ScreeningOutcome.DECLINE}
)

OUTCOME_LABELS = {
    ScreeningOutcome.ELIGIBLE: _l("Eligible: goes to review"),
    ScreeningOutcome.INELIGIBLE: _l("Ineligible"),
    ScreeningOutcome.MORE_INFO: _l("Ask the applicant for more information"),
    ScreeningOutcome.INVITE: _l("Invite a full proposal"),
    ScreeningOutcome.DECLINE: _l("Decline (not invited)"),
}


# -- screening ---------------------------------------------------------------------------------------------


def outcome_choices(proposal):
    """The outcomes offered for ``proposal``: a full proposal is eligible or not, a concept note invited or
    not; either may be sent back for more information."""
    if proposal.stage == ProposalStage.CONCEPT:
        outcomes = (ScreeningOutcome.INVITE, ScreeningOutcome.DECLINE, ScreeningOutcome.MORE_INFO)
    else:
        outcomes = (ScreeningOutcome.ELIGIBLE, ScreeningOutcome.INELIGIBLE, ScreeningOutcome.MORE_INFO)
    return [(outcome, OUTCOME_LABELS[outcome]) for outcome in outcomes]


def latest_version(proposal):
    return max(proposal.versions, key=lambda version: version.number, default=None)


def suggested_checklist(session, proposal):
    """What the data says about each checklist item, to pre-tick the form; the officer confirms."""
    call = proposal.call
    requested = proposal.requested_minor or 0
    total = requested + (proposal.cofinancing_minor or 0)
    present = {attachment.kind.value for attachment in proposal.attachments}
    duplicate = session.scalar(
        select(Proposal.id)
        .where(
            Proposal.id != proposal.id,
            Proposal.id != (proposal.concept_id or 0),
            Proposal.concept_id.is_distinct_from(proposal.id),
            Proposal.organisation_id == proposal.organisation_id,
            func.lower(Proposal.title) == (proposal.title or "").lower(),
            Proposal.state.not_in([ProposalState.DRAFT, ProposalState.WITHDRAWN]),
        )
        .limit(1)
    )
    org_type = proposal.organisation.org_type
    if call.cofinancing_min_percent:
        # co-financing / total >= minimum %, in integers
        cofinancing_met = (
            total > 0 and (proposal.cofinancing_minor or 0) * 100 >= call.cofinancing_min_percent * total
        )
    else:
        cofinancing_met = True
    return {
        "eligible_org_type": getattr(org_type, "value", org_type) in (call.eligible_org_types or []),
        "within_grant_range": call.grant_min_minor <= requested <= call.grant_max_minor,
        "cofinancing_met": cofinancing_met,
        "attachments_present": set(call.required_attachments or []) <= present,
        "within_themes": proposal.theme in (call.themes or []),
        "no_duplicate": duplicate is None,
    }


def _checked_checklist(checklist):
    """``checklist`` (a dict of key -> bool, or the ticked keys) as a complete dict of booleans."""
    if isinstance(checklist, dict):
        ticked = {key for key, value in checklist.items() if value}
        given = set(checklist)
    else:
        ticked = set(checklist or ())
        given = ticked
    unknown = given - set(CHECKLIST_KEYS)
    if unknown:
        raise DomainError(
            _("Unknown checklist items: %(keys)s.", keys=", ".join(sorted(unknown))), field="checklist"
        )
    return {key: key in ticked for key in CHECKLIST_KEYS}


def _link(endpoint, **values):
    if not has_request_context():
        return ""
    try:
        return url_for(endpoint, _external=True, **values)
    except Exception:  # an endpoint another part of the app has not registered (yet)
        return ""


def _next_proposal_reference(session):
    """The editor's reference scheme (PRP-<year>-<4 digits>), from its operations when they are there."""
    try:
        from fundapp.applications.operations import next_proposal_reference
    except ImportError:
        next_proposal_reference = None
    if next_proposal_reference is not None:
        return next_proposal_reference(session)
    year = utcnow().astimezone(fund_timezone()).year
    prefix = f"{current_app.config['REFERENCE_PREFIXES']['proposal']}-{year}-"
    taken = session.scalars(select(Proposal.reference).where(Proposal.reference.like(f"{prefix}%"))).all()
    numbers = [int(ref[len(prefix) :]) for ref in taken if ref[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def _create_full_proposal(session, officer, concept):
    """The invited organisation's full-proposal draft, its content copied from the concept note."""
    existing = session.scalar(
        select(Proposal.id).where(
            Proposal.call_id == concept.call_id,
            Proposal.organisation_id == concept.organisation_id,
            Proposal.stage == ProposalStage.FULL,
        )
    )
    if existing is not None:
        raise DomainError(
            _("%(org)s already has a full proposal in this call.", org=concept.organisation.name_en)
        )
    full = Proposal(
        reference=_next_proposal_reference(session),
        call_id=concept.call_id,
        organisation_id=concept.organisation_id,
        stage=ProposalStage.FULL,
        concept_id=concept.id,
        state=ProposalState.DRAFT,
        title=concept.title,
        theme=concept.theme,
        eligibility_answers=copy.deepcopy(concept.eligibility_answers or {}),
        currency=concept.currency,
        requested_minor=concept.requested_minor,
        cofinancing_minor=concept.cofinancing_minor,
        created_by_id=concept.created_by_id,
    )
    for section in concept.sections:
        full.sections.append(
            ProposalSection(
                key=section.key,
                content=copy.deepcopy(section.content),
                version=section.version,
                updated_by_id=section.updated_by_id,
            )
        )
    try:
        from fundapp.applications.sections import SECTION_KEYS
    except ImportError:
        SECTION_KEYS = ()
    present = {section.key for section in full.sections}
    for key in SECTION_KEYS:
        if key not in present:
            full.sections.append(ProposalSection(key=key, content={}, version=0))
    for tag in concept.tags:
        full.tags.append(ProposalTag(kind=tag.kind, code=tag.code))
    session.add(full)
    session.flush()
    record_event(
        session,
        officer,
        full,
        "proposal.created_from_concept",
        after={"reference": full.reference, "concept": concept.reference, "stage": full.stage.value},
    )
    return full


def _mail_team(session, proposal, outcome, reason, full_proposal):
    call = proposal.call
    for membership in sorted(proposal.organisation.memberships, key=lambda m: m.user_id):
        person = membership.user
        if not person.is_active:
            continue
        with force_locale(person.locale or "en"):
            names = {
                "reference": proposal.reference,
                "title": proposal.title,
                "call": call.title,
                "fund": current_app.config["FUND_NAME"],
                "reason": reason or "",
            }
            if outcome == ScreeningOutcome.ELIGIBLE:
                subject = _("%(reference)s passed screening", **names)
                body = _(
                    "Your proposal %(reference)s, “%(title)s”, to the call “%(call)s” passed eligibility "
                    "screening and goes to independent review. We will write again when there is a "
                    "decision.\n\n%(fund)s\n",
                    **names,
                )
            elif outcome == ScreeningOutcome.INELIGIBLE:
                subject = _("%(reference)s is not eligible", **names)
                body = _(
                    "Your proposal %(reference)s, “%(title)s”, to the call “%(call)s” is not eligible "
                    "for this call, for this reason:\n\n%(reason)s\n\n%(fund)s\n",
                    **names,
                )
            elif outcome == ScreeningOutcome.MORE_INFO:
                subject = _("%(reference)s: more information needed", **names)
                body = _(
                    "Before your proposal %(reference)s, “%(title)s”, can be screened, the fund needs "
                    "more information:\n\n%(reason)s\n\nEdit the proposal and submit it again. "
                    "%(link)s\n\n%(fund)s\n",
                    link=_link("main.home"),
                    **names,
                )
            elif outcome == ScreeningOutcome.DECLINE:
                subject = _("%(reference)s: not invited to a full proposal", **names)
                body = _(
                    "Thank you for your concept note %(reference)s, “%(title)s”, to the call “%(call)s”. "
                    "The fund will not invite a full proposal from it, for this reason:\n\n%(reason)s\n\n"
                    "%(fund)s\n",
                    **names,
                )
            else:
                deadline = (
                    local_datetime(call.full_proposal_closes_at) if call.full_proposal_closes_at else "—"
                )
                subject = _("%(reference)s: you are invited to submit a full proposal", **names)
                body = _(
                    "Your concept note %(reference)s, “%(title)s”, to the call “%(call)s” has been "
                    "accepted: the fund invites you to submit a full proposal. Its draft, %(full)s, "
                    "already holds the content of your concept note; complete it and submit it before "
                    "%(deadline)s.\n%(note)s%(link)s\n\n%(fund)s\n",
                    full=full_proposal.reference if full_proposal else "",
                    deadline=deadline,
                    note=(reason + "\n") if reason else "",
                    link=_link("main.home"),
                    **names,
                )
            queue_mail(session, person.email, subject, body)


def screen_proposal(session, officer, proposal, outcome, checklist, reason=None):
    """Record the screening of ``proposal``'s latest submitted version and move it to the outcome.

    ``outcome`` is a ``ScreeningOutcome``; ``checklist`` a dict of ``CHECKLIST_KEYS`` -> bool (or the ticked
    keys). Eligible needs every checklist item ticked; ineligible, more information and decline need a
    reason, which is mailed to the organisation's members. Inviting a concept note creates the full-proposal
    draft. Returns the ``Screening``. Refusals raise DomainError and change nothing. Never commits.
    """
    try:
        outcome = ScreeningOutcome(outcome)
    except ValueError:
        raise DomainError(_("Choose an outcome from the list."), field="outcome") from None
    checklist = _checked_checklist(checklist)
    reason = (reason or "").strip()
    if outcome in OUTCOMES_WITH_REASON and not reason:
        raise DomainError(_("Give the reason: it is sent to the applicant."), field="reason")
    if outcome == ScreeningOutcome.ELIGIBLE and not all(checklist.values()):
        missing = [str(label) for key, label in CHECKLIST if not checklist[key]]
        raise DomainError(
            _(
                "A proposal is eligible only when every checklist item holds. Not ticked: %(items)s.",
                items="; ".join(missing),
            ),
            field="checklist",
        )
    version = latest_version(proposal)
    target = ProposalState(outcome.value)
    transition(
        session,
        PROPOSAL_WORKFLOW,
        proposal,
        target,
        officer,
        reason=reason or None,
        context={"checklist": checklist, "version": version.number if version else None},
    )
    screening = Screening(
        proposal_id=proposal.id,
        version_id=version.id if version else None,
        officer_id=officer.id,
        checklist=checklist,
        outcome=outcome,
        reason=reason,
        screened_at=utcnow(),
    )
    session.add(screening)
    full_proposal = None
    if outcome == ScreeningOutcome.INVITE:
        full_proposal = _create_full_proposal(session, officer, proposal)
    _mail_team(session, proposal, outcome, reason, full_proposal)
    session.flush()
    return screening


def full_proposal_of(session, concept):
    """The full proposal an invited concept note led to, or None (without a query for a full proposal)."""
    if concept.stage != ProposalStage.CONCEPT:
        return None
    return session.scalar(select(Proposal).where(Proposal.concept_id == concept.id))


def screenings_of(session, proposal):
    return session.scalars(
        select(Screening)
        .where(Screening.proposal_id == proposal.id)
        .options(joinedload(Screening.officer))
        .order_by(Screening.id.desc())
    ).all()


def proposal_history(session, proposal):
    """The audit events of ``proposal``, oldest first: its state changes and what else happened to it."""
    return session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "Proposal", AuditEvent.entity_id == str(proposal.id))
        .order_by(AuditEvent.id)
    ).all()


# -- the officer's list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalFilters:
    """What the officer's list is narrowed to; unknown or malformed values are ignored."""

    call_id: int | None = None
    state: ProposalState | None = None
    region: str | None = None
    theme: str | None = None
    red_list: str | None = None

    @classmethod
    def from_args(cls, args):
        call = (args.get("call") or "").strip()
        state = (args.get("state") or "").strip()
        try:
            state_value = ProposalState(state) if state else None
        except ValueError:
            state_value = None

        def code(name):
            value = (args.get(name) or "").strip()
            return value[:200] or None

        return cls(
            call_id=int(call) if call.isdigit() and len(call) < 10 else None,
            state=state_value,
            region=code("region"),
            theme=code("theme"),
            red_list=code("red_list"),
        )

    def as_args(self):
        """Query-string arguments giving these filters back (for links to other pages and the exports)."""
        args = {
            "call": self.call_id,
            "state": self.state.value if self.state else None,
            "region": self.region,
            "theme": self.theme,
            "red_list": self.red_list,
        }
        return {key: value for key, value in args.items() if value not in (None, "")}

    @property
    def active(self):
        return bool(self.as_args())


def _tagged(kind, code):
    return Proposal.tags.any((ProposalTag.kind == kind) & (ProposalTag.code == code))


def filter_proposals(statement, filters):
    """``statement`` (selecting from Proposal) narrowed to ``filters``. Drafts are the applicants' own
    work in progress: they are listed only when asked for by state."""
    if filters.state is not None:
        statement = statement.where(Proposal.state == filters.state)
    else:
        statement = statement.where(Proposal.state != ProposalState.DRAFT)
    if filters.call_id is not None:
        statement = statement.where(Proposal.call_id == filters.call_id)
    if filters.theme:
        statement = statement.where(Proposal.theme == filters.theme)
    if filters.region:
        statement = statement.where(_tagged("region", filters.region))
    if filters.red_list:
        statement = statement.where(_tagged("red_list", filters.red_list))
    return statement


_ORDER = (Proposal.submitted_at.desc().nulls_last(), Proposal.id.desc())


@dataclass
class ProposalPage:
    proposals: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self):
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def has_previous(self):
        return self.page > 1


def proposal_page(session, filters, page=1, per_page=PAGE_SIZE):
    """One page of the officer's list: two queries (the rows with their organisation and call, and the
    count), whatever the page size or the number of proposals stored.

    The page's ids are picked first, sorting narrow rows, and only those proposals are joined to their
    organisation and call: sorting every matching row joined (organisations are wide) took most of the
    request's time at 10,000 proposals."""
    page = max(int(page or 1), 1)
    total = session.scalar(filter_proposals(select(func.count(Proposal.id)), filters))
    page_ids = (
        filter_proposals(select(Proposal.id), filters)
        .order_by(*_ORDER)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .subquery()
    )
    rows = session.scalars(
        select(Proposal)
        .join(page_ids, page_ids.c.id == Proposal.id)
        .options(joinedload(Proposal.organisation), joinedload(Proposal.call))
        .order_by(*_ORDER)
    ).all()
    return ProposalPage(proposals=list(rows), total=total or 0, page=page, per_page=per_page)


def calls_for_filter(session):
    """(id, reference, title) of every call, newest first, for the filter menu."""
    return session.execute(select(Call.id, Call.reference, Call.title).order_by(Call.id.desc())).all()


# -- exports -----------------------------------------------------------------------------------------------

#: Characters that make a spreadsheet treat a cell as a formula (or start one after a tab/new line).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A cell value safe to open in a spreadsheet: text that could start a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_header():
    zone = current_app.config["FUND_TIMEZONE"]
    return [
        _("Reference"),
        _("Title"),
        _("Organisation"),
        _("BIN"),
        _("Call"),
        _("Stage"),
        _("State"),
        _("Theme"),
        _("Requested"),
        _("Co-financing"),
        _("Currency"),
        _("Submitted at (%(zone)s)", zone=zone),
    ]


_EXPORT_COLUMNS = (
    Proposal.reference,
    Proposal.title,
    Organisation.name_en,
    Organisation.bin,
    Call.reference,
    Proposal.stage,
    Proposal.state,
    Proposal.theme,
    Proposal.requested_minor,
    Proposal.cofinancing_minor,
    Proposal.currency,
    Proposal.submitted_at,
)


def export_rows(session, filters, batch_size=500):
    """Every proposal matching ``filters`` as a list of plain, neutralised cell values, streamed from the
    database ``batch_size`` rows at a time. Amounts are Decimals in major units; the submission instant is
    the fund's wall-clock time (naive, as spreadsheets have no time zones)."""
    statement = (
        filter_proposals(select(*_EXPORT_COLUMNS), filters)
        .join(Organisation, Organisation.id == Proposal.organisation_id)
        .join(Call, Call.id == Proposal.call_id)
        .order_by(*_ORDER)
        .execution_options(yield_per=batch_size)
    )
    zone = fund_timezone()
    result = session.execute(statement)
    try:
        for (
            reference,
            title,
            organisation,
            bin_,
            call,
            stage,
            state,
            theme,
            requested,
            cofinancing,
            currency,
            submitted_at,
        ) in result:
            yield [
                neutralise(value)
                for value in (
                    reference,
                    title,
                    organisation,
                    bin_,
                    call,
                    getattr(stage, "value", stage),
                    getattr(state, "value", state),
                    theme or "",
                    Money(requested, currency).amount,
                    Money(cofinancing, currency).amount,
                    currency,
                    submitted_at.astimezone(zone).replace(tzinfo=None, microsecond=0)
                    if submitted_at
                    else None,
                )
            ]
    finally:
        result.close()


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value


def csv_chunks(session, filters, rows_per_chunk=200):
    """The CSV export as text chunks: a byte-order mark (so spreadsheet programs read UTF-8), the header,
    then the rows in groups."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(str(label)) for label in export_header()])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(export_rows(session, filters), start=1):
        writer.writerow([_csv_cell(value) for value in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def xlsx_bytes(session, filters):
    """The XLSX export: a write-only workbook (rows go straight to the file, not held as cells)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Proposals")[:31])
    for column, width in zip("ABCDEFGHIJKL", (16, 48, 36, 14, 16, 10, 20, 18, 16, 16, 9, 20), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.append([neutralise(str(label)) for label in export_header()])
    for row in export_rows(session, filters):
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# -- versions and their differences --------------------------------------------------------------------------

#: Keys of a snapshot that identify stored things, or never change between versions of one proposal.
_NOT_SHOWN = frozenset(
    {
        "id",
        "stored_file_id",
        "pdf_file_id",
        "reference",
        "call",
        "organisation",
        "stage",
        "currency",
        "version",
    }
)
_SEPARATOR = " › "


def _humanise(key):
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _text_lines(head, value, lines):
    """``head: value``, one line per line of the value (so a changed paragraph shows as that paragraph)."""
    text = "" if value is None else str(value).replace("\r\n", "\n").strip()
    if not text:
        return
    for number, part in enumerate(text.split("\n")):
        lines.append(f"{head}: {part}" if number == 0 else f"{head} (…): {part}")


def _flatten(value, path, lines):
    """Any JSON value as "a › b › c: value" lines (for parts of a snapshot without display blocks)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in _NOT_SHOWN:
                _flatten(item, [*path, _humanise(key)], lines)
    elif isinstance(value, list):
        for index, item in enumerate(value, start=1):
            _flatten(item, [*path, str(index)], lines)
    else:
        _text_lines(_SEPARATOR.join(path), value, lines)


def _outline_lines(head, items, lines):
    for item in items or ():
        _text_lines(head, item.get("text"), lines)
        _outline_lines(head, item.get("children"), lines)


def _block_lines(head, block, lines):
    kind = block.get("type")
    label = _SEPARATOR.join([head, str(block.get("label") or "")]) if block.get("label") else head
    if kind == "text":
        _text_lines(label, block.get("value"), lines)
    elif kind == "list":
        # No position in the line: adding an item then shows as one addition, not a shift of the rest.
        for item in block.get("items") or ():
            _text_lines(label, item, lines)
    elif kind == "table":
        columns = block.get("columns") or []
        for number, row in enumerate(block.get("rows") or (), start=1):
            for index, cell in enumerate(row):
                column = columns[index] if index < len(columns) else str(index + 1)
                _text_lines(_SEPARATOR.join([label, str(number), str(column)]), cell, lines)
    elif kind == "outline":
        _outline_lines(label, block.get("items"), lines)
    else:
        _flatten({key: value for key, value in block.items() if key != "type"}, [label], lines)


def snapshot_lines(snapshot):
    """A version's snapshot as readable lines, "Section › field: value", in the order of the form.

    Sections are read from their display blocks (labels resolved, amounts formatted) when the snapshot
    has them, else from their content; attachments by kind, name and the start of their SHA-256 (a file
    replaced under the same name still shows as changed).
    """
    snapshot = dict(snapshot or {})
    lines = []
    _text_lines(_("Title"), snapshot.pop("title", None), lines)
    theme = snapshot.pop("theme", None)
    if isinstance(theme, dict):
        theme = theme.get("label") or theme.get("code")
    _text_lines(_("Theme"), theme, lines)
    totals = snapshot.pop("totals", None) or {}
    for name, amount in totals.items():
        text = amount.get("text") if isinstance(amount, dict) else amount
        _text_lines(_SEPARATOR.join([_("Budget totals"), _humanise(name)]), text, lines)
    for section in snapshot.pop("sections", None) or ():
        head = str(section.get("title") or _humanise(section.get("key", "")))
        blocks = section.get("blocks")
        if blocks:
            for block in blocks:
                _block_lines(head, block, lines)
        else:
            _flatten(section.get("content") or {}, [head], lines)
    for attachment in snapshot.pop("attachments", None) or ():
        kind = attachment.get("kind", "")
        kind = str(AttachmentKind(kind).label) if kind in set(AttachmentKind) else kind
        digest = (attachment.get("sha256") or "")[:12]
        _text_lines(
            _SEPARATOR.join([_("Attachments"), kind]),
            f"{attachment.get('name', '')}" + (f" (SHA-256 {digest}…)" if digest else ""),
            lines,
        )
    _flatten(snapshot, [], lines)
    return lines


@dataclass(frozen=True)
class DiffRow:
    #: "equal", "delete", "insert" or "replace"
    kind: str
    old: str | None
    new: str | None


def version_diff(old_snapshot, new_snapshot, context=2):
    """The differences between two snapshots as hunks of ``DiffRow`` with ``context`` unchanged lines
    around each change; an empty list when they are the same."""
    old_lines = snapshot_lines(old_snapshot)
    new_lines = snapshot_lines(new_snapshot)
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    if matcher.ratio() == 1.0 and old_lines == new_lines:
        return []
    hunks = []
    for group in matcher.get_grouped_opcodes(context):
        rows = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(DiffRow("equal", line, line) for line in old_lines[i1:i2])
            elif tag == "delete":
                rows.extend(DiffRow("delete", line, None) for line in old_lines[i1:i2])
            elif tag == "insert":
                rows.extend(DiffRow("insert", None, line) for line in new_lines[j1:j2])
            else:
                old_part, new_part = old_lines[i1:i2], new_lines[j1:j2]
                for index in range(max(len(old_part), len(new_part))):
                    rows.append(
                        DiffRow(
                            "replace",
                            old_part[index] if index < len(old_part) else None,
                            new_part[index] if index < len(new_part) else None,
                        )
                    )
        hunks.append(rows)
    return hunks


def version_by_number(session, proposal, number):
    return session.scalar(
        select(ProposalVersion).where(
            ProposalVersion.proposal_id == proposal.id, ProposalVersion.number == number
        )
    )
