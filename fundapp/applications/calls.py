"""What programme officers do with calls for proposals: draft, edit, publish, extend, close, cancel.

Each operation checks its rule, changes the call, writes the audit event and never commits; the caller (a
view or a command) commits once. The rules on a call's content live in ``call_data_problems``, which the
form uses too, so a person sees every problem at once and an operation called directly can never store
what the form would refuse.

Instants come in and are stored in UTC. People type them in the fund's time zone: ``fund_instant`` turns
such a wall-clock time into the instant, ``fund_wall_clock`` turns an instant back for a form.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import nh3
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from fundapp.accounts.models import OrganisationType
from fundapp.applications.models import AttachmentKind, Call, CallState, EligibilityQuestion
from fundapp.applications.workflow import CALL_WORKFLOW
from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_timezone
from fundapp.core.money import InvalidAmount, Money
from fundapp.core.permissions import Role
from fundapp.core.workflow import transition
from fundapp.reference.models import ReferenceItem, Vocabulary

MAX_TITLE_LENGTH = 300
MAX_DESCRIPTION_LENGTH = 50_000
MAX_QUESTION_LENGTH = 500
MAX_QUESTIONS = 20
#: Currencies a call may be run in besides the fund's base currency (donor money often arrives in these).
OTHER_CALL_CURRENCIES = ("USD", "EUR")

#: What a call description may contain; everything else is removed (tags) or dropped with its content
#: (script, style).
DESCRIPTION_TAGS = frozenset(
    {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote"}
)
DESCRIPTION_ATTRIBUTES = {"a": {"href"}}
DESCRIPTION_URL_SCHEMES = frozenset({"http", "https", "mailto"})

#: The fields of a call's content, as ``call_data_problems`` and ``create_call`` expect them.
CALL_FIELDS = (
    "title",
    "description_html",
    "themes",
    "eligible_org_types",
    "currency",
    "grant_min",
    "grant_max",
    "envelope",
    "opens_at",
    "closes_at",
    "stages",
    "full_proposal_closes_at",
    "cofinancing_min_percent",
    "required_attachments",
    "questions",
)


# -- small helpers ---------------------------------------------------------------------------------------


def sanitise_description(html):
    """The description with only the allowed tags; links keep http(s)/mailto targets and get rel=noopener."""
    return nh3.clean(
        html or "",
        tags=set(DESCRIPTION_TAGS),
        attributes={tag: set(names) for tag, names in DESCRIPTION_ATTRIBUTES.items()},
        url_schemes=set(DESCRIPTION_URL_SCHEMES),
        link_rel="noopener",
        strip_comments=True,
    ).strip()


def fund_instant(wall_clock):
    """The UTC instant of a wall-clock time in the fund's time zone (a naive datetime, as typed)."""
    if wall_clock is None:
        return None
    if wall_clock.tzinfo is not None:
        return wall_clock.astimezone(UTC)
    return wall_clock.replace(tzinfo=fund_timezone()).astimezone(UTC)


def fund_wall_clock(instant):
    """An instant as the naive wall-clock time of the fund's time zone (for a datetime-local field)."""
    if instant is None:
        return None
    return instant.astimezone(fund_timezone()).replace(tzinfo=None)


def call_currencies():
    base = current_app.config["BASE_CURRENCY"]
    return (base, *[code for code in OTHER_CALL_CURRENCIES if code != base])


_GROUPING = re.compile(r"[\s\u00a0\u202f_']")


def parse_amount(text, currency, *, field_name):
    """``text`` (major units, as typed) as Money, or DomainError naming ``field_name``.

    Spaces and apostrophes between digit groups are allowed ("5 000 000"); a comma is refused rather than
    guessed at, because "1,500" means 1.5 to some readers and 1500 to others.
    """
    if isinstance(text, Money):
        if text.currency != currency:
            raise DomainError(_("Give the amount in %(currency)s.", currency=currency), field=field_name)
        amount = text
    else:
        if isinstance(text, int | Decimal):
            text = str(text)
        cleaned = _GROUPING.sub("", text or "")
        if not cleaned:
            raise DomainError(_("Enter an amount."), field=field_name)
        if "," in cleaned:
            raise DomainError(
                _("Write the amount with digits and a dot for decimals, e.g. 5000000 or 1250.50."),
                field=field_name,
            )
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
            raise DomainError(
                _("“%(value)s” is not an amount. Use digits, e.g. 5000000.", value=text), field=field_name
            )
        try:
            amount = Money.from_decimal(cleaned, currency)
        except InvalidAmount as error:
            raise DomainError(error.message, field=field_name) from None
    if amount.minor < 0:
        raise DomainError(_("An amount cannot be negative."), field=field_name)
    if amount.minor == 0:
        raise DomainError(_("Enter an amount above zero."), field=field_name)
    # BigInteger columns hold up to 2**63 - 1 minor units; nobody runs a call that large.
    if amount.minor >= 10**17:
        raise DomainError(_("This amount is too large."), field=field_name)
    return amount


def _theme_codes(session):
    return set(
        session.scalars(
            select(ReferenceItem.code).where(
                ReferenceItem.vocabulary == Vocabulary.THEME.value, ReferenceItem.is_active.is_(True)
            )
        )
    )


# -- the content of a call -------------------------------------------------------------------------------


@dataclass
class CallData:
    """A call's content as a person gave it: amounts as text in major units, instants in UTC."""

    title: str = ""
    description_html: str = ""
    themes: list = field(default_factory=list)
    eligible_org_types: list = field(default_factory=list)
    currency: str = ""
    grant_min: object = ""
    grant_max: object = ""
    envelope: object = ""
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    stages: int = 1
    full_proposal_closes_at: datetime | None = None
    cofinancing_min_percent: int = 0
    required_attachments: list = field(default_factory=list)
    #: Dicts with ``text``, ``disqualifying_answer`` (True, False or None) and ``explanation``.
    questions: list = field(default_factory=list)


@dataclass
class CheckedCall:
    """``CallData`` after ``check_call_data``: tidied, amounts as Money; what the model stores."""

    values: dict
    questions: list


def _check(data, session, problems):
    """Fill ``problems`` (field -> message) and return the tidied values; used by both public checkers."""
    values = {}
    title = (data.title or "").strip()
    if not title:
        problems.setdefault("title", _("Give the call a title."))
    elif len(title) > MAX_TITLE_LENGTH:
        problems.setdefault("title", _("Keep the title under %(n)d characters.", n=MAX_TITLE_LENGTH))
    values["title"] = title

    description = sanitise_description(data.description_html)
    if len(description) > MAX_DESCRIPTION_LENGTH:
        problems.setdefault(
            "description_html", _("Keep the description under %(n)d characters.", n=MAX_DESCRIPTION_LENGTH)
        )
    values["description_html"] = description

    themes = list(dict.fromkeys(data.themes or []))
    known_themes = _theme_codes(session) if session is not None else None
    unknown = [code for code in themes if known_themes is not None and code not in known_themes]
    if unknown:
        problems.setdefault(
            "themes", _("These themes are not in the fund's list: %(codes)s.", codes=", ".join(unknown))
        )
    values["themes"] = themes

    org_types = list(dict.fromkeys(data.eligible_org_types or []))
    valid_types = {member.value for member in OrganisationType}
    if any(str(value) not in valid_types for value in org_types):
        problems.setdefault("eligible_org_types", _("Choose organisation types from the list."))
    values["eligible_org_types"] = [str(value) for value in org_types]

    kinds = list(dict.fromkeys(data.required_attachments or []))
    valid_kinds = {member.value for member in AttachmentKind}
    if any(str(value) not in valid_kinds for value in kinds):
        problems.setdefault("required_attachments", _("Choose attachment kinds from the list."))
    values["required_attachments"] = [str(value) for value in kinds]

    currency = (data.currency or "").strip().upper()
    if currency not in call_currencies():
        problems.setdefault(
            "currency", _("Choose the currency from the list: %(codes)s.", codes=", ".join(call_currencies()))
        )
        currency = None
    values["currency"] = currency

    amounts = {}
    if currency:
        for name in ("grant_min", "grant_max", "envelope"):
            try:
                amounts[name] = parse_amount(getattr(data, name), currency, field_name=name)
            except DomainError as error:
                problems.setdefault(name, error.message)
    if "grant_min" in amounts and "grant_max" in amounts and amounts["grant_max"] < amounts["grant_min"]:
        problems.setdefault("grant_max", _("The largest grant cannot be below the smallest."))
    if "grant_max" in amounts and "envelope" in amounts and amounts["envelope"] < amounts["grant_max"]:
        problems.setdefault(
            "envelope", _("The total envelope must hold at least one grant of the largest size.")
        )
    for name, amount in amounts.items():
        values[f"{name}_minor"] = amount.minor

    for name in ("opens_at", "closes_at"):
        instant = getattr(data, name)
        if instant is None:
            problems.setdefault(name, _("Enter a date and time."))
        elif instant.tzinfo is None:
            raise ValueError(f"{name} must be an instant (timezone-aware), not a wall-clock time")
        values[name] = instant
    if data.opens_at and data.closes_at and data.closes_at <= data.opens_at:
        problems.setdefault("closes_at", _("The call must close after it opens."))

    try:
        stages = int(data.stages)
    except (TypeError, ValueError):
        stages = 0
    if stages not in (1, 2):
        problems.setdefault("stages", _("A call has one or two stages."))
    values["stages"] = stages
    full_closes = data.full_proposal_closes_at if stages == 2 else None
    if stages == 2:
        if full_closes is None:
            problems.setdefault(
                "full_proposal_closes_at", _("A two-stage call needs a deadline for the full proposals.")
            )
        elif full_closes.tzinfo is None:
            raise ValueError("full_proposal_closes_at must be an instant (timezone-aware)")
        elif data.closes_at and full_closes <= data.closes_at:
            problems.setdefault(
                "full_proposal_closes_at",
                _("Full proposals must be due after the concept notes are."),
            )
    values["full_proposal_closes_at"] = full_closes

    try:
        percent = int(data.cofinancing_min_percent if data.cofinancing_min_percent not in (None, "") else 0)
    except (TypeError, ValueError):
        percent = -1
    if not 0 <= percent <= 100:
        problems.setdefault("cofinancing_min_percent", _("Enter a percentage from 0 to 100."))
    values["cofinancing_min_percent"] = percent

    questions = []
    for question in data.questions or []:
        text = (question.get("text") or "").strip()
        explanation = (question.get("explanation") or "").strip()
        answer = question.get("disqualifying_answer")
        if not text:
            if explanation:
                problems.setdefault("questions", _("A question has an explanation but no text."))
            continue
        if len(text) > MAX_QUESTION_LENGTH or len(explanation) > MAX_QUESTION_LENGTH:
            problems.setdefault(
                "questions",
                _("Keep questions and explanations under %(n)d characters.", n=MAX_QUESTION_LENGTH),
            )
        if answer is not None and not explanation:
            problems.setdefault(
                "questions",
                _("Explain why the disqualifying answer rules an applicant out: “%(text)s”.", text=text),
            )
        questions.append({"text": text, "disqualifying_answer": answer, "explanation": explanation})
    if len(questions) > MAX_QUESTIONS:
        problems.setdefault("questions", _("A call has at most %(n)d questions.", n=MAX_QUESTIONS))
    return CheckedCall(values=values, questions=questions)


def call_data_problems(data, session=None):
    """Every problem with ``data`` (a ``CallData``), as {field name: message}; empty when it can be saved.

    Only what must hold for any stored call (a draft included) is checked here; what must also hold to
    publish is in ``publication_problems``.
    """
    problems = {}
    _check(data, session, problems)
    return problems


def check_call_data(data, session=None):
    """``data`` tidied for storing; raises DomainError (with its field) for the first problem."""
    problems = {}
    checked = _check(data, session, problems)
    if problems:
        name, message = next(iter(problems.items()))
        raise DomainError(message, field=name)
    return checked


def call_data_of(call):
    """The content of a stored call as ``CallData`` (for a form or to copy it)."""
    return CallData(
        title=call.title,
        description_html=call.description_html,
        themes=list(call.themes or []),
        eligible_org_types=list(call.eligible_org_types or []),
        currency=call.currency,
        grant_min=call.grant_min.amount,
        grant_max=call.grant_max.amount,
        envelope=call.envelope.amount,
        opens_at=call.opens_at,
        closes_at=call.closes_at,
        stages=call.stages,
        full_proposal_closes_at=call.full_proposal_closes_at,
        cofinancing_min_percent=call.cofinancing_min_percent,
        required_attachments=list(call.required_attachments or []),
        questions=[
            {"text": q.text, "disqualifying_answer": q.disqualifying_answer, "explanation": q.explanation}
            for q in call.questions
        ],
    )


def _summary(call):
    """What the audit log keeps of a call's content."""
    return {
        "reference": call.reference,
        "title": call.title,
        "themes": list(call.themes or []),
        "eligible_org_types": list(call.eligible_org_types or []),
        "currency": call.currency,
        "grant_min_minor": call.grant_min_minor,
        "grant_max_minor": call.grant_max_minor,
        "envelope_minor": call.envelope_minor,
        "opens_at": call.opens_at.isoformat() if call.opens_at else None,
        "closes_at": call.closes_at.isoformat() if call.closes_at else None,
        "stages": call.stages,
        "full_proposal_closes_at": (
            call.full_proposal_closes_at.isoformat() if call.full_proposal_closes_at else None
        ),
        "cofinancing_min_percent": call.cofinancing_min_percent,
        "required_attachments": list(call.required_attachments or []),
        "questions": len(call.questions),
    }


# -- permissions -----------------------------------------------------------------------------------------


def can_manage_calls(user):
    return user is not None and user.is_authenticated and user.has_role(Role.PROGRAMME_OFFICER)


def can_edit_call(user, call):
    """Only a draft is edited freely; a published call's terms are what applicants rely on."""
    return can_manage_calls(user) and call.state == CallState.DRAFT


def can_extend_call(user, call):
    """A published call that has not yet closed may be given more time (never less)."""
    return can_manage_calls(user) and call.state == CallState.PUBLISHED


def _require_officer(actor):
    if not can_manage_calls(actor):
        raise DomainError(_("Only programme officers can manage calls."))


# -- references ------------------------------------------------------------------------------------------


def _reference_prefix(year):
    return f"{current_app.config['REFERENCE_PREFIXES']['call']}-{year}-"


def next_call_reference(session, now=None):
    """The next free reference of the current year in the fund's time zone: CALL-2026-01, CALL-2026-02, ..."""
    year = (now or utcnow()).astimezone(fund_timezone()).year
    prefix = _reference_prefix(year)
    taken = session.scalars(select(Call.reference).where(Call.reference.like(f"{prefix}%"))).all()
    numbers = [int(ref[len(prefix) :]) for ref in taken if ref[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:02d}"


# -- operations ------------------------------------------------------------------------------------------


def _apply(call, checked):
    for name, value in checked.values.items():
        setattr(call, name, value)
    call.questions = [
        EligibilityQuestion(
            position=position,
            text=question["text"],
            disqualifying_answer=question["disqualifying_answer"],
            explanation=question["explanation"],
        )
        for position, question in enumerate(checked.questions)
    ]


def create_call(session, officer, data):
    """A new draft call from ``data`` (a ``CallData``), with the next free reference."""
    _require_officer(officer)
    checked = check_call_data(data, session)
    call = Call(state=CallState.DRAFT, created_by_id=officer.id)
    _apply(call, checked)
    for _attempt in range(5):
        call.reference = next_call_reference(session)
        try:
            # A concurrent request may have taken the same number: the unique constraint says so and the
            # savepoint keeps the transaction usable for the next number.
            with session.begin_nested():
                session.add(call)
                session.flush()
        except IntegrityError:
            if call in session:
                session.expunge(call)
            continue
        break
    else:  # pragma: no cover - five collisions in a row
        raise DomainError(_("Could not give the call a reference. Try again."))
    record_event(session, officer, call, "call.created", after=_summary(call))
    return call


def update_call(session, officer, call, data):
    """Replace the content of a draft call. A published, closed or cancelled call cannot be edited."""
    _require_officer(officer)
    if call.state != CallState.DRAFT:
        raise DomainError(
            _(
                "%(reference)s is %(state)s: only a draft call can be edited. A published call can "
                "only be given a later deadline.",
                reference=call.reference,
                state=call.state.label,
            )
        )
    checked = check_call_data(data, session)
    before = _summary(call)
    _apply(call, checked)
    session.flush()
    after = _summary(call)
    changed = {key: value for key, value in after.items() if before.get(key) != value}
    record_event(
        session,
        officer,
        call,
        "call.updated",
        before={key: before[key] for key in changed} | {"reference": call.reference},
        after=changed | {"reference": call.reference},
    )
    return call


def extend_call_deadline(session, officer, call, closes_at, full_proposal_closes_at=None, now=None):
    """Give a published call a later closing instant (and, in a two-stage call, a later full-proposal
    deadline). A deadline is never brought forward: applicants plan their work around it."""
    _require_officer(officer)
    now = now or utcnow()
    if call.state != CallState.PUBLISHED:
        raise DomainError(_("Only a published call can be given a later deadline."))
    if closes_at is None or closes_at.tzinfo is None:
        raise DomainError(_("Enter a date and time."), field="closes_at")
    if closes_at < call.closes_at:
        raise DomainError(
            _("A published call's deadline can only move later, never earlier."), field="closes_at"
        )
    if closes_at <= now:
        raise DomainError(_("The new deadline must be in the future."), field="closes_at")
    new_full = call.full_proposal_closes_at
    if call.is_two_stage:
        new_full = full_proposal_closes_at or call.full_proposal_closes_at
        if call.full_proposal_closes_at and new_full < call.full_proposal_closes_at:
            raise DomainError(
                _("A published call's deadline can only move later, never earlier."),
                field="full_proposal_closes_at",
            )
        if new_full <= closes_at:
            raise DomainError(
                _("Full proposals must be due after the concept notes are."), field="full_proposal_closes_at"
            )
    if closes_at == call.closes_at and new_full == call.full_proposal_closes_at:
        return call
    before = {"closes_at": call.closes_at.isoformat()}
    after = {"closes_at": closes_at.isoformat()}
    if call.is_two_stage:
        before["full_proposal_closes_at"] = call.full_proposal_closes_at.isoformat()
        after["full_proposal_closes_at"] = new_full.isoformat()
    call.closes_at = closes_at
    call.full_proposal_closes_at = new_full
    record_event(session, officer, call, "call.deadline_extended", before=before, after=after)
    return call


def publication_problems(call, now=None):
    """Everything that keeps ``call`` from being published, as messages; empty when it is ready."""
    now = now or utcnow()
    session = object_session(call)
    problems = []
    if not (call.title or "").strip():
        problems.append(_("Give the call a title."))
    if not (call.description_html or "").strip():
        problems.append(_("Write a description: applicants need to know what the call funds."))
    if not call.themes:
        problems.append(_("Choose at least one theme."))
    elif session is not None:
        known = _theme_codes(session)
        unknown = [code for code in call.themes if code not in known]
        if unknown:
            problems.append(
                _("These themes are no longer in the fund's list: %(codes)s.", codes=", ".join(unknown))
            )
    if not call.eligible_org_types:
        problems.append(_("Choose the types of organisation that may apply."))
    if call.opens_at is None or call.closes_at is None:
        problems.append(_("Set the opening and closing dates."))
    else:
        if call.closes_at <= call.opens_at:
            problems.append(_("The call must close after it opens."))
        if call.closes_at <= now:
            problems.append(_("The closing date is in the past: set a later one."))
    if call.grant_min_minor is None or call.grant_max_minor is None or call.envelope_minor is None:
        problems.append(_("Set the grant sizes and the total envelope."))
    else:
        if call.grant_min_minor <= 0:
            problems.append(_("The smallest grant must be above zero."))
        if call.grant_max_minor < call.grant_min_minor:
            problems.append(_("The largest grant cannot be below the smallest."))
        if call.envelope_minor < call.grant_max_minor:
            problems.append(_("The total envelope must hold at least one grant of the largest size."))
    if call.stages == 2:
        if call.full_proposal_closes_at is None:
            problems.append(_("A two-stage call needs a deadline for the full proposals."))
        elif call.closes_at is not None and call.full_proposal_closes_at <= call.closes_at:
            problems.append(_("Full proposals must be due after the concept notes are."))
    for question in call.questions:
        if question.disqualifying_answer is not None and not (question.explanation or "").strip():
            problems.append(
                _(
                    "Explain why the disqualifying answer rules an applicant out: “%(text)s”.",
                    text=question.text,
                )
            )
    return [str(problem) for problem in problems]


def publish_call(session, officer, call):
    """Publish a draft call; refused with the first of ``publication_problems`` if it is not ready."""
    transition(session, CALL_WORKFLOW, call, CallState.PUBLISHED, officer)
    call.published_at = utcnow()
    return call


def close_call(session, officer, call):
    """Close a published call (``officer`` None: the system closing it after its deadline)."""
    transition(session, CALL_WORKFLOW, call, CallState.CLOSED, officer)
    return call


def cancel_call(session, officer, call, reason=None):
    """Cancel a draft, or a published call with a reason (published calls have applicants to tell)."""
    transition(session, CALL_WORKFLOW, call, CallState.CANCELLED, officer, reason=reason)
    return call


def close_due_calls(session, now=None):
    """Close every published call whose closing instant has passed (a scheduled job); returns them."""
    now = now or utcnow()
    due = session.scalars(
        select(Call).where(Call.state == CallState.PUBLISHED, Call.closes_at <= now).order_by(Call.id)
    ).all()
    for call in due:
        close_call(session, None, call)
    return due


# -- queries for pages -----------------------------------------------------------------------------------


def open_calls(session, now=None):
    """Published calls open now, the soonest deadline first."""
    now = now or utcnow()
    return session.scalars(
        select(Call)
        .where(Call.state == CallState.PUBLISHED, Call.opens_at <= now, Call.closes_at > now)
        .order_by(Call.closes_at, Call.id)
    ).all()


def upcoming_calls(session, now=None):
    """Published calls that have not opened yet."""
    now = now or utcnow()
    return session.scalars(
        select(Call).where(Call.state == CallState.PUBLISHED, Call.opens_at > now).order_by(Call.opens_at)
    ).all()


def recently_closed_calls(session, now=None, limit=10):
    """Calls whose deadline has passed (closed, or published and past closing), the latest first."""
    now = now or utcnow()
    return session.scalars(
        select(Call)
        .where(
            Call.state.in_([CallState.PUBLISHED, CallState.CLOSED]),
            Call.closes_at <= now,
        )
        .order_by(Call.closes_at.desc(), Call.id.desc())
        .limit(limit)
    ).all()


def public_call(session, reference):
    """The call a visitor may see under ``reference``, or None (drafts and cancelled calls are hidden)."""
    call = session.scalar(select(Call).where(func.upper(Call.reference) == (reference or "").upper()))
    return call if call is not None and call.is_visible_to_public() else None


def days_left(call, now=None):
    """Calendar days in the fund's time zone until the call closes (0 on its last day); None once closed."""
    now = now or utcnow()
    if call.closes_at <= now:
        return None
    zone = fund_timezone()
    return (call.closes_at.astimezone(zone).date() - now.astimezone(zone).date()).days
