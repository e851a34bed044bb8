"""Grantee reports: the grantee writes and submits them, a programme officer accepts them or asks for changes.

The reports of a grant are created with its tranche schedule (``grants.build_schedule``): a progress report
per middle tranche, covering the time since the previous one, and the final report covering the whole
project. A report holds a narrative, a value per logframe indicator of the proposal, a financial report
(spending per budget line) and photos or documents.

The rows a report shows come from the proposal the board approved (``report_form_rows``): its logframe
indicators and its budget lines. Saving copies what the rows say at that moment (indicator name, unit and
target; budget category, description and amount) next to the values typed, so a report reads the same
later even if reference data changes.

What is typed, and what it means
--------------------------------
- An indicator's **value** is what was achieved *in the report's period* (for the final report, whose
  period is the whole project: over the whole project). A non-negative decimal number.
- A budget line's **spent** amount is the grant's money spent on the line *from the start of the project
  up to the end of the report's period* (cumulative), in the grant's currency with its decimals.
- The line's **budget** is what the grant funds on it: the line's total less its co-financing.

The variance rule
-----------------
A progress report is compared with the share of the budget that the time elapsed allows: the line's
budget pro rata to the days of the project period elapsed by the report's ``period_end``
(``budget_share``). The final report is compared with the whole line. The variance of a line is
``(spent - expected) / expected``; when its absolute value is over ``REPORT_VARIANCE_PERCENT`` percent
(config), the line needs an explanation before the report can be submitted. A line with nothing expected
(fully co-financed) needs one as soon as anything is spent on it.

Drafts and malformed input
--------------------------
A draft may be incomplete (blank values are saved as blank) but never malformed: ``save_report`` refuses
the whole save with ``ReportInvalid``, whose ``errors`` maps each field name (``narrative``,
``indicator-<position>-value``, ``spend-<position>-spent``, ...) to a message, and stores nothing. A spend
line without an amount is not stored (there is no "blank" amount), so an explanation typed without an
amount is refused with a message on the amount. Submission (``submission_problems``) then needs every
value, and explanations where the variance rule asks for them.

Every function here takes the acting user, checks the rule, changes state through the report workflow,
writes the audit event and never commits.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import inspect, select

from fundapp.accounts.models import User, UserRole
from fundapp.applications import sections
from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today, local_date
from fundapp.core.mail import queue_mail
from fundapp.core.money import InvalidAmount, Money, minor_unit_exponent
from fundapp.core.permissions import Role
from fundapp.core.storage import KINDS, format_size, save_upload
from fundapp.core.workflow import transition
from fundapp.disbursements.models import (
    Grant,
    GrantReport,
    GrantState,
    ReportFile,
    ReportFileKind,
    ReportIndicatorValue,
    ReportKind,
    ReportSpendLine,
    ReportState,
)
from fundapp.disbursements.workflow import REPORT_WORKFLOW
from fundapp.extensions import db
from fundapp.reference.models import ReferenceItem, Vocabulary

#: States in which the grantee writes the report.
EDITABLE_STATES = (ReportState.DUE, ReportState.CHANGES_REQUESTED)
#: Grants whose reports are written (and reminded of): signed and not ended.
REPORTING_GRANT_STATES = (GrantState.ACTIVE, GrantState.SUSPENDED)
#: What a report's files may be, by content (core storage's kinds).
PHOTO_FILE_KINDS = ("png", "jpeg")
DOCUMENT_FILE_KINDS = ("pdf", "docx", "xlsx", "odt", "ods")
#: Per-file limit unless REPORT_FILE_MAX_BYTES or PROPOSAL_ATTACHMENT_MAX_BYTES says otherwise.
DEFAULT_FILE_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_REPORT = 60
MAX_NARRATIVE_LENGTH = 30_000
MAX_COMMENT_LENGTH = 2_000
MAX_EXPLANATION_LENGTH = 2_000
MAX_CAPTION_LENGTH = 300
MAX_REASON_LENGTH = 5_000
#: The column holding an indicator's value is 40 characters.
MAX_VALUE_LENGTH = 40
#: Largest amount a spend line may hold (well inside a BIGINT of minor units).
MAX_SPENT_MINOR = 10**15
#: A report is reminded of at most this often.
REMINDER_INTERVAL = timedelta(days=7)


class ReportInvalid(DomainError):
    """A save refused because fields are malformed; ``errors`` maps each field name to its message."""

    def __init__(self, errors):
        super().__init__(
            ngettext(
                "The report was not saved: %(num)d field needs correcting.",
                "The report was not saved: %(num)d fields need correcting.",
                len(errors),
            )
        )
        self.errors = dict(errors)


class ReportIncomplete(DomainError):
    """A submission refused; ``problems`` lists everything still missing, as sentences."""

    def __init__(self, problems):
        super().__init__(
            _("The report cannot be submitted yet: %(problems)s", problems=" ".join(str(p) for p in problems))
        )
        self.problems = list(problems)


# -- who may do what ----------------------------------------------------------------------------------


def is_grantee(report, user):
    """Whether ``user`` is a member of the organisation that holds the report's grant."""
    return report.grant.is_grantee(user)


def can_view_report(report, user):
    """The grantee's members and the fund's programme officers, finance officers and admins."""
    return report.grant.can_view(user)


def is_editable(report):
    return report.state in EDITABLE_STATES and report.grant.state in REPORTING_GRANT_STATES


def can_edit_report(report, user):
    """The grantee, while the report is due or changes were requested and the grant is running."""
    return editing_problem(report, user) is None


def can_review_report(report, user):
    """A programme officer, while the report is submitted."""
    return (
        user.is_authenticated
        and user.has_role(Role.PROGRAMME_OFFICER)
        and report.state == ReportState.SUBMITTED
    )


def editing_problem(report, user):
    """Why ``user`` cannot change ``report`` now, as a sentence; None if they can."""
    grant = report.grant
    if not is_grantee(report, user):
        return _(
            "Only members of %(org)s can write the reports of %(reference)s.",
            org=grant.organisation.name_en,
            reference=grant.reference,
        )
    if report.state not in EDITABLE_STATES:
        return _(
            "This report is %(state)s, so it can no longer be changed.",
            state=str(report.state.label).lower(),
        )
    if grant.state not in REPORTING_GRANT_STATES:
        return _(
            "%(reference)s is %(state)s, so its reports cannot be changed.",
            reference=grant.reference,
            state=str(grant.state.label).lower(),
        )
    return None


# -- the rows of a report -----------------------------------------------------------------------------


@dataclass
class IndicatorRow:
    position: int
    code: str
    #: How the indicator reads: the standard indicator's label and/or the logframe's name.
    label: str
    unit: str
    baseline: str
    target: str
    value: str = ""
    comment: str = ""
    #: Sum of the values given in earlier accepted reports (None when there are none).
    earlier: Decimal | None = None


@dataclass
class SpendRow:
    position: int
    category: str
    category_label: str
    description: str
    #: What the grant funds on the line: line total less co-financing.
    budget: Money
    #: The part of ``budget`` expected to be spent by the end of the report's period.
    expected: Money
    #: Spent from the start of the project to the end of the period (None: not entered yet).
    spent: Money | None = None
    explanation: str = ""
    #: Spent at the last accepted earlier report (None when there is none).
    previous_spent: Money | None = None

    @property
    def spent_text(self):
        return "" if self.spent is None else f"{self.spent.amount:f}"

    @property
    def variance(self):
        """``spent - expected`` (None until an amount is entered)."""
        return None if self.spent is None else self.spent - self.expected

    @property
    def variance_percent(self):
        """The variance as a percentage of ``expected``, one decimal (None without an amount, or when
        nothing was expected)."""
        if self.spent is None or not self.expected.minor:
            return None
        ratio = Decimal(self.spent.minor - self.expected.minor) * 100 / Decimal(self.expected.minor)
        return ratio.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def needs_explanation(self):
        return self.spent is not None and over_threshold(self.spent, self.expected)


@dataclass
class ReportRows:
    indicators: list[IndicatorRow] = field(default_factory=list)
    spend: list[SpendRow] = field(default_factory=list)
    #: The share of the project period elapsed by the report's period end (1 for the final report).
    share: Decimal = Decimal(1)
    currency: str = ""

    @property
    def total_budget(self):
        return Money.sum((row.budget for row in self.spend), self.currency)

    @property
    def total_expected(self):
        return Money.sum((row.expected for row in self.spend), self.currency)

    @property
    def total_spent(self):
        return Money.sum((row.spent for row in self.spend if row.spent is not None), self.currency)

    @property
    def share_percent(self):
        return (self.share * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def variance_threshold():
    """The variance (percent) over which a spend line needs an explanation."""
    return int(current_app.config["REPORT_VARIANCE_PERCENT"])


def over_threshold(spent, expected, threshold=None):
    """Whether ``|spent - expected|`` is more than ``threshold`` percent of ``expected`` (exact, in minor
    units). With nothing expected, any spending is over."""
    threshold = variance_threshold() if threshold is None else threshold
    difference = abs(spent.minor - expected.minor)
    if expected.minor == 0:
        return difference > 0
    return difference * 100 > threshold * expected.minor


def budget_share(report):
    """The share of the budget expected to be spent by the end of ``report``'s period, as a Decimal in
    [0, 1]: 1 for the final report; for a progress report, the days of the project period elapsed by its
    ``period_end`` over all the days of the project period."""
    if report.kind == ReportKind.FINAL:
        return Decimal(1)
    grant = report.grant
    total_days = (grant.end_date - grant.start_date).days + 1
    elapsed = (min(report.period_end, grant.end_date) - grant.start_date).days + 1
    if total_days <= 0:
        return Decimal(1)
    return max(Decimal(0), min(Decimal(1), Decimal(elapsed) / Decimal(total_days)))


def _logframe_indicators(grant):
    section = grant.proposal.section("logframe")
    return list((section.content or {}).get("indicators", [])) if section else []


def _budget_lines(grant):
    section = grant.proposal.section("budget")
    return list((section.content or {}).get("lines", [])) if section else []


def line_budget(line, currency):
    """What the grant funds on a stored budget line: its total less co-financing (never negative)."""
    total = sections.line_total(line, currency)
    cofinancing = Money(line.get("cofinancing_minor") or 0, currency)
    return total - cofinancing if cofinancing <= total else Money.zero(currency)


def _indicator_labels(codes):
    codes = [code for code in codes if code]
    if not codes:
        return {}
    items = select(ReferenceItem).where(
        ReferenceItem.vocabulary == Vocabulary.STANDARD_INDICATOR.value, ReferenceItem.code.in_(codes)
    )
    return {item.code: item.label for item in db.session.scalars(items)}


def _earlier_accepted(report):
    return [
        other
        for other in report.grant.reports
        if other.number < report.number and other.state == ReportState.ACCEPTED
    ]


def report_form_rows(report):
    """The rows ``report`` shows (``ReportRows``): one per logframe indicator and one per budget line of
    the grant's proposal, with the values saved so far and the figures of earlier accepted reports."""
    grant = report.grant
    currency = grant.currency
    share = budget_share(report)
    saved_values = {row.position: row for row in report.indicator_values}
    saved_spend = {row.position: row for row in report.spend_lines}
    earlier = _earlier_accepted(report)

    indicators = _logframe_indicators(grant)
    labels = _indicator_labels([row.get("code") for row in indicators])
    rows = ReportRows(share=share, currency=currency)
    for position, indicator in enumerate(indicators):
        code = indicator.get("code") or ""
        name = indicator.get("name") or ""
        label = " / ".join(filter(None, [str(labels.get(code, code)) if code else "", name]))
        saved = saved_values.get(position)
        previous = [
            Decimal(value.value)
            for other in earlier
            for value in other.indicator_values
            if value.position == position and value.value
        ]
        rows.indicators.append(
            IndicatorRow(
                position=position,
                code=code,
                label=label or _("Indicator %(n)d", n=position + 1),
                unit=indicator.get("unit") or "",
                baseline=indicator.get("baseline") or "",
                target=indicator.get("target") or "",
                value=saved.value if saved else "",
                comment=saved.comment if saved else "",
                earlier=sum(previous, Decimal(0)) if previous else None,
            )
        )

    last_accepted = earlier[-1] if earlier else None
    previous_spend = {row.position: row for row in last_accepted.spend_lines} if last_accepted else {}
    for position, line in enumerate(_budget_lines(grant)):
        budget = line_budget(line, currency)
        saved = saved_spend.get(position)
        category = line.get("category") or ""
        rows.spend.append(
            SpendRow(
                position=position,
                category=category,
                category_label=str(sections.BUDGET_CATEGORIES.get(category, category)),
                description=line.get("description") or "",
                budget=budget,
                expected=budget * share if share != 1 else budget,
                spent=saved.spent if saved else None,
                explanation=saved.explanation if saved else "",
                previous_spent=previous_spend[position].spent if position in previous_spend else None,
            )
        )
    return rows


# -- saving a draft -----------------------------------------------------------------------------------


def _lock(session, report):
    """Re-read the report's state under a row lock, so a save cannot slip in beside a submission."""
    state = inspect(report, raiseerr=False)
    if state is not None and state.persistent and report in session:
        session.flush()
        session.refresh(report, attribute_names=["state"], with_for_update=True)


def _text(value):
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value).strip())


def _normalised(number):
    """A decimal as plain text without superfluous zeros: 2.50 -> "2.5", 10 -> "10"."""
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def parse_indicator_value(text):
    """The value typed for an indicator as a normalised decimal string ("" when blank).

    Raises ``ValueError`` with a message for a person when it is not a non-negative number.
    """
    text = _text(text)
    if not text:
        return ""
    try:
        number = sections.parse_decimal(text)
    except ValueError:
        raise ValueError(_("Enter a number, like 120 or 2.5.")) from None
    if number < 0:
        raise ValueError(_("Enter a number that is not negative."))
    normalised = _normalised(number)
    if len(normalised) > MAX_VALUE_LENGTH:
        raise ValueError(_("This number is too long."))
    return normalised


def parse_spent(value, currency):
    """The amount typed (or given) for a spend line as Money in ``currency``; None when blank.

    Raises ``ValueError`` with a message for a person when it is not a non-negative amount with at most
    the currency's decimals.
    """
    if isinstance(value, Money):
        if value.currency != currency:
            raise ValueError(_("Enter the amount in %(currency)s.", currency=currency))
        amount = value
    else:
        text = _text(value)
        if not text:
            return None
        for suffix in (currency, currency.lower()):
            text = text.removesuffix(suffix).strip()
        try:
            number = sections.parse_decimal(text)
        except ValueError:
            raise ValueError(
                _("Enter an amount in %(currency)s, like 150000.50.", currency=currency)
                if minor_unit_exponent(currency)
                else _("Enter an amount in %(currency)s, like 150000.", currency=currency)
            ) from None
        try:
            amount = Money.from_decimal(number, currency)
        except InvalidAmount as error:
            raise ValueError(error.message) from None
    if amount.minor < 0:
        raise ValueError(_("Enter an amount that is not negative."))
    if amount.minor > MAX_SPENT_MINOR:
        raise ValueError(_("This amount is too large."))
    return amount


def _too_long(text, limit):
    return _("Keep this under %(limit)d characters.", limit=limit) if len(text) > limit else None


def save_report(session, actor, report, *, narrative, indicator_values=None, spend=None):
    """Save the grantee's draft of ``report``: the narrative, indicator values and spending.

    ``indicator_values`` is ``{position: (value_text, comment)}`` and ``spend`` is
    ``{position: (spent, explanation)}`` (``spent`` a Money or the text typed), positions being the
    indices of the proposal's logframe indicators and budget lines; positions left out keep what was
    saved. Blank values are saved as blank; a malformed one refuses the whole save with ``ReportInvalid``
    (per-field messages) and nothing changes. Returns the report. Never commits.
    """
    _lock(session, report)
    problem = editing_problem(report, actor)
    if problem:
        raise DomainError(problem)
    grant = report.grant
    currency = grant.currency
    rows = report_form_rows(report)
    indicator_rows = {row.position: row for row in rows.indicators}
    spend_rows = {row.position: row for row in rows.spend}
    errors = {}

    narrative = _text(narrative).replace("\r\n", "\n")
    if message := _too_long(narrative, MAX_NARRATIVE_LENGTH):
        errors["narrative"] = message

    indicators = {}
    for position, (value, comment) in (indicator_values or {}).items():
        position = int(position)
        if position not in indicator_rows:
            continue
        comment = _text(comment)
        try:
            value = parse_indicator_value(value)
        except ValueError as error:
            errors[f"indicator-{position}-value"] = str(error)
        if message := _too_long(comment, MAX_COMMENT_LENGTH):
            errors[f"indicator-{position}-comment"] = message
        indicators[position] = (value, comment)

    spending = {}
    for position, (spent, explanation) in (spend or {}).items():
        position = int(position)
        if position not in spend_rows:
            continue
        explanation = _text(explanation)
        amount = None
        try:
            amount = parse_spent(spent, currency)
        except ValueError as error:
            errors[f"spend-{position}-spent"] = str(error)
        else:
            if amount is None and explanation:
                errors[f"spend-{position}-spent"] = _(
                    "Enter the amount spent (0 if nothing) to save the explanation."
                )
        if message := _too_long(explanation, MAX_EXPLANATION_LENGTH):
            errors[f"spend-{position}-explanation"] = message
        spending[position] = (amount, explanation)

    if errors:
        raise ReportInvalid(errors)

    report.narrative = narrative
    saved_values = {row.position: row for row in report.indicator_values}
    for position, (value, comment) in indicators.items():
        row = indicator_rows[position]
        stored = saved_values.get(position)
        if not value and not comment:
            if stored is not None:
                report.indicator_values.remove(stored)
            continue
        if stored is None:
            stored = ReportIndicatorValue(position=position)
            report.indicator_values.append(stored)
        stored.code = row.code or None
        stored.name = row.label[:300]
        stored.unit = row.unit[:60]
        stored.target = row.target[:40]
        stored.value = value
        stored.comment = comment

    saved_spend = {row.position: row for row in report.spend_lines}
    for position, (amount, explanation) in spending.items():
        row = spend_rows[position]
        stored = saved_spend.get(position)
        if amount is None:
            if stored is not None:
                report.spend_lines.remove(stored)
            continue
        if stored is None:
            stored = ReportSpendLine(position=position, currency=currency)
            report.spend_lines.append(stored)
        stored.category = row.category[:40]
        stored.description = row.description[:500]
        stored.budget_minor = row.budget.minor
        stored.currency = currency
        stored.spent_minor = amount.minor
        stored.explanation = explanation

    report.updated_at = utcnow()
    session.flush()
    record_event(
        session,
        actor,
        report,
        "grant_report.saved",
        after={
            "grant": grant.reference,
            "number": report.number,
            "narrative_chars": len(narrative),
            "indicators": {str(v.position): v.value for v in report.indicator_values},
            "spent_minor": {str(s.position): s.spent_minor for s in report.spend_lines},
        },
    )
    return report


# -- files --------------------------------------------------------------------------------------------


class ReportFileTooLarge(DomainError):
    """An uploaded file over the per-file limit (a view answers 413)."""


def file_max_bytes(app=None):
    app = app or current_app
    return (
        app.config.get("REPORT_FILE_MAX_BYTES")
        or app.config.get("PROPOSAL_ATTACHMENT_MAX_BYTES")
        or DEFAULT_FILE_MAX_BYTES
    )


def allowed_file_labels(kind=None):
    """The file types a report accepts (for ``kind``, or all), as a person reads them."""
    names = {
        ReportFileKind.PHOTO: PHOTO_FILE_KINDS,
        ReportFileKind.DOCUMENT: DOCUMENT_FILE_KINDS,
    }.get(kind, PHOTO_FILE_KINDS + DOCUMENT_FILE_KINDS)
    return ", ".join(str(KINDS[name].label) for name in names)


def _upload_size(upload):
    stream = getattr(upload, "stream", upload)
    try:
        position = stream.tell()
        size = stream.seek(0, 2)
        stream.seek(position)
    except (AttributeError, OSError, ValueError):
        return None
    return size - position


def too_large_message(limit):
    return _(
        "The file is larger than the limit of %(limit)s per file. Upload a smaller file, or a photo at a "
        "lower resolution.",
        limit=format_size(limit),
    )


def add_report_file(session, actor, report, upload, *, kind=None, caption=""):
    """Attach an uploaded photo or document to ``report`` while the grantee may edit it.

    ``kind`` is a ``ReportFileKind`` (or its value): a photo must be a PNG or JPEG image, a document a
    PDF, Word, Excel or OpenDocument file. Without a kind, the file's content decides (an image is a
    photo). The type is always read from the bytes, never the name. Raises DomainError (``field`` "file",
    "kind" or "caption") and stores nothing when the file or the moment is wrong. Never commits.
    """
    if kind in (None, ""):
        kind = None
    else:
        try:
            kind = ReportFileKind(kind)
        except ValueError:
            raise DomainError(_("Choose whether this is a photo or a document."), field="kind") from None
    caption = _text(caption)
    if len(caption) > MAX_CAPTION_LENGTH:
        raise DomainError(
            _("Keep the caption under %(limit)d characters.", limit=MAX_CAPTION_LENGTH), field="caption"
        )
    _lock(session, report)
    problem = editing_problem(report, actor)
    if problem:
        raise DomainError(problem)
    if len(report.files) >= MAX_FILES_PER_REPORT:
        raise DomainError(
            _(
                "A report can have at most %(limit)d files. Remove one you no longer need, or combine "
                "documents into one PDF.",
                limit=MAX_FILES_PER_REPORT,
            ),
            field="file",
        )
    limit = file_max_bytes()
    size = _upload_size(upload)
    if size is not None and size > limit:
        raise ReportFileTooLarge(too_large_message(limit), field="file")
    allowed = {
        ReportFileKind.PHOTO: PHOTO_FILE_KINDS,
        ReportFileKind.DOCUMENT: DOCUMENT_FILE_KINDS,
        None: PHOTO_FILE_KINDS + DOCUMENT_FILE_KINDS,
    }[kind]
    stored = save_upload(session, upload, allowed_kinds=allowed, max_bytes=limit, uploaded_by=actor)
    if kind is None:
        is_image = stored.content_type in {KINDS[name].content_type for name in PHOTO_FILE_KINDS}
        kind = ReportFileKind.PHOTO if is_image else ReportFileKind.DOCUMENT
    report_file = ReportFile(kind=kind, stored_file=stored, caption=caption)
    report.files.append(report_file)
    report.updated_at = utcnow()
    session.flush()
    record_event(
        session,
        actor,
        report,
        "grant_report.file_added",
        after={
            "file_id": report_file.id,
            "kind": kind.value,
            "name": stored.original_name,
            "content_type": stored.content_type,
            "size_bytes": stored.size_bytes,
            "sha256": stored.sha256,
        },
    )
    return report_file


def remove_report_file(session, actor, report_file):
    """Remove a file from its report while the grantee may edit it. Never commits.

    The stored file itself is kept (the audit log names its hash)."""
    report = report_file.report
    _lock(session, report)
    problem = editing_problem(report, actor)
    if problem:
        raise DomainError(problem)
    before = {
        "file_id": report_file.id,
        "kind": report_file.kind.value,
        "name": report_file.stored_file.original_name,
        "sha256": report_file.stored_file.sha256,
    }
    report.files.remove(report_file)
    session.delete(report_file)
    report.updated_at = utcnow()
    record_event(session, actor, report, "grant_report.file_removed", before=before)


# -- submitting ---------------------------------------------------------------------------------------


def submission_problems(report):
    """Everything missing before ``report`` can be submitted, as sentences (empty: nothing is missing).

    The narrative must not be blank; every indicator needs a value and every budget line an amount spent;
    a line whose variance is over the threshold (see the module's docstring) needs an explanation.
    """
    rows = report_form_rows(report)
    problems = []
    if not (report.narrative or "").strip():
        problems.append(_("Write the narrative."))
    missing = [row.label for row in rows.indicators if not row.value]
    if missing:
        problems.append(_("Give a value for each indicator; missing: %(items)s.", items="; ".join(missing)))
    unspent = [_line_name(row) for row in rows.spend if row.spent is None]
    if unspent:
        problems.append(
            _(
                "Enter the amount spent on each budget line (0 if nothing); missing: %(items)s.",
                items="; ".join(unspent),
            )
        )
    unexplained = [_line_name(row) for row in rows.spend if row.needs_explanation and not row.explanation]
    if unexplained:
        problems.append(
            _(
                "Explain the spending that differs by more than %(percent)d%% from the budget expected by "
                "the end of the period: %(items)s.",
                percent=variance_threshold(),
                items="; ".join(unexplained),
            )
        )
    return problems


def _line_name(row):
    return _(
        "line %(n)d (%(category)s: %(description)s)",
        n=row.position + 1,
        category=row.category_label,
        description=row.description,
    )


def submit_report(session, actor, report):
    """Submit ``report`` for the fund's review: DUE or CHANGES_REQUESTED -> SUBMITTED.

    Refuses with ``ReportIncomplete`` (listing every problem, see ``submission_problems``) and changes
    nothing while something is missing. Mails the programme officers that a report is waiting. Never
    commits.
    """
    _lock(session, report)
    problem = editing_problem(report, actor)
    if problem:
        raise DomainError(problem)
    problems = submission_problems(report)
    if problems:
        raise ReportIncomplete(problems)
    transition(
        session,
        REPORT_WORKFLOW,
        report,
        ReportState.SUBMITTED,
        actor,
        context={"grant": report.grant.reference, "number": report.number},
    )
    report.submitted_at = utcnow()
    report.submitted_by_id = actor.id
    report.updated_at = report.submitted_at
    session.flush()
    _mail_officers(session, actor, report)
    return report


def _link(report):
    if not has_request_context():
        return ""
    return url_for(
        "grant_reports.report", reference=report.grant.reference, number=report.number, _external=True
    )


def _title(report):
    return _(
        "%(kind)s %(number)d of %(reference)s",
        kind=str(report.kind.label),
        number=report.number,
        reference=report.grant.reference,
    )


def programme_officers(session):
    return session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.PROGRAMME_OFFICER, User.is_active.is_(True))
        .order_by(User.id)
    ).all()


def grantee_members(report):
    """The active members of the organisation holding the report's grant."""
    members = [m.user for m in report.grant.organisation.memberships if m.user.is_active]
    return sorted(members, key=lambda user: user.id)


def _mail_officers(session, actor, report):
    link = _link(report)
    for officer in programme_officers(session):
        with force_locale(officer.locale or "en"):
            subject = _("Report waiting: %(title)s", title=_title(report))
            body = _(
                "%(name)s of %(org)s submitted the %(title)s, “%(grant)s”, covering %(start)s to %(end)s. "
                "It is waiting for a programme officer to accept it or ask for changes.\n",
                name=actor.full_name,
                org=report.grant.organisation.name_en,
                title=_title(report),
                grant=report.grant.title,
                start=local_date(report.period_start),
                end=local_date(report.period_end),
            )
            if link:
                body += "\n" + _("The report: %(link)s", link=link) + "\n"
        queue_mail(session, officer.email, subject, body)


def _mail_grantee(session, report, compose):
    """One message to each active member of the grantee; ``compose()`` gives ``(subject, body)`` and is
    called in each reader's language."""
    link = _link(report)
    for person in grantee_members(report):
        with force_locale(person.locale or "en"):
            subject, body = compose()
            if link:
                body += "\n" + _("The report: %(link)s", link=link) + "\n"
        queue_mail(session, person.email, subject, body)


# -- reviewing ----------------------------------------------------------------------------------------


def _review_problem(report, actor):
    if not (actor.is_authenticated and actor.has_role(Role.PROGRAMME_OFFICER)):
        return _("Only a programme officer can accept a report or ask for changes.")
    return None


def accept_report(session, actor, report, comment=""):
    """Accept a submitted report (a programme officer): SUBMITTED -> ACCEPTED.

    Tranches waiting for it become due when their date has come (``operations.refresh_due``); accepting
    the final report of an active grant completes the grant (``operations.complete_grant``). Mails the
    grantee. Never commits.
    """
    from fundapp.disbursements import operations

    problem = _review_problem(report, actor)
    if problem:
        raise DomainError(problem)
    comment = _text(comment)
    if len(comment) > MAX_REASON_LENGTH:
        raise DomainError(
            _("Keep the comment under %(limit)d characters.", limit=MAX_REASON_LENGTH), field="comment"
        )
    transition(
        session,
        REPORT_WORKFLOW,
        report,
        ReportState.ACCEPTED,
        actor,
        reason=comment or None,
        context={"grant": report.grant.reference, "number": report.number},
    )
    report.reviewed_at = utcnow()
    report.reviewed_by_id = actor.id
    report.review_comment = comment
    report.updated_at = report.reviewed_at
    session.flush()
    grant = report.grant
    operations.refresh_due(session, grant)
    if report.kind == ReportKind.FINAL and grant.state == GrantState.ACTIVE:
        operations.complete_grant(session, actor, grant)

    def compose():
        body = _("The fund accepted the %(title)s, “%(grant)s”.", title=_title(report), grant=grant.title)
        if comment:
            body += "\n\n" + _("The programme officer's comment: %(comment)s", comment=comment)
        return _("Report accepted: %(title)s", title=_title(report)), body + "\n"

    _mail_grantee(session, report, compose)
    return report


def request_changes(session, actor, report, reason):
    """Send a submitted report back to the grantee (a programme officer): SUBMITTED -> CHANGES_REQUESTED.

    ``reason`` says what to change; it is required, kept on the report and mailed to the grantee.
    Never commits.
    """
    problem = _review_problem(report, actor)
    if problem:
        raise DomainError(problem)
    reason = _text(reason)
    if not reason:
        raise DomainError(_("Say what the grantee should change."), field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            _("Keep the reason under %(limit)d characters.", limit=MAX_REASON_LENGTH), field="reason"
        )
    transition(
        session,
        REPORT_WORKFLOW,
        report,
        ReportState.CHANGES_REQUESTED,
        actor,
        reason=reason,
        context={"grant": report.grant.reference, "number": report.number},
    )
    report.reviewed_at = utcnow()
    report.reviewed_by_id = actor.id
    report.review_comment = reason
    report.updated_at = report.reviewed_at
    session.flush()

    def compose():
        subject = _("Changes requested: %(title)s", title=_title(report))
        body = _(
            "The fund asks for changes to the %(title)s, “%(grant)s”, before accepting it:\n\n%(reason)s\n\n"
            "Change the report and submit it again.\n",
            title=_title(report),
            grant=report.grant.title,
            reason=reason,
        )
        return subject, body

    _mail_grantee(session, report, compose)
    return report


# -- overdue reminders --------------------------------------------------------------------------------


def overdue_reports(session, today=None):
    """Reports still to be written (DUE or CHANGES_REQUESTED) of running grants whose due date is at
    least ``REPORT_REMINDER_DAYS`` days past ``today`` (the fund's calendar), oldest first."""
    today = today or fund_today()
    cutoff = today - timedelta(days=int(current_app.config["REPORT_REMINDER_DAYS"]))
    return session.scalars(
        select(GrantReport)
        .join(Grant, Grant.id == GrantReport.grant_id)
        .where(
            GrantReport.state.in_(EDITABLE_STATES),
            Grant.state.in_(REPORTING_GRANT_STATES),
            GrantReport.due_date <= cutoff,
        )
        .order_by(GrantReport.due_date, GrantReport.id)
    ).all()


def send_overdue_reminders(session, now=None):
    """Mail the grantee's members about each overdue report (see ``overdue_reports``), at most once a
    week per report; returns the reports reminded. Never commits (the CLI does)."""
    now = now or utcnow()
    today = fund_today(now)
    reminded = []
    for report in overdue_reports(session, today):
        if report.reminded_at is not None and now - report.reminded_at < REMINDER_INTERVAL:
            continue
        days = (today - report.due_date).days
        _mail_grantee(session, report, _reminder(report, days))
        report.reminded_at = now
        record_event(
            session,
            None,
            report,
            "grant_report.reminded",
            after={
                "grant": report.grant.reference,
                "number": report.number,
                "due": report.due_date.isoformat(),
                "days_overdue": days,
                "recipients": len(grantee_members(report)),
            },
        )
        reminded.append(report)
    session.flush()
    return reminded


def _reminder(report, days):
    def compose():
        subject = _("Overdue: %(title)s", title=_title(report))
        body = _(
            "The %(title)s, “%(grant)s”, was due on %(due)s, %(days)d days ago. Tranches that wait for it "
            "cannot be paid until the fund accepts it. Please write and submit it.\n",
            title=_title(report),
            grant=report.grant.title,
            due=local_date(report.due_date),
            days=days,
        )
        return subject, body

    return compose


def is_overdue(report, today=None):
    """Whether ``report`` is still to be written after its due date."""
    return report.state in EDITABLE_STATES and report.due_date < (today or fund_today())


__all__ = [
    "DOCUMENT_FILE_KINDS",
    "EDITABLE_STATES",
    "PHOTO_FILE_KINDS",
    "ReportFileTooLarge",
    "ReportIncomplete",
    "ReportInvalid",
    "accept_report",
    "add_report_file",
    "budget_share",
    "can_edit_report",
    "can_review_report",
    "can_view_report",
    "overdue_reports",
    "remove_report_file",
    "report_form_rows",
    "request_changes",
    "save_report",
    "send_overdue_reminders",
    "submission_problems",
    "submit_report",
]
