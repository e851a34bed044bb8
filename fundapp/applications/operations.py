"""Starting proposals and editing their sections. Each operation checks its rule, changes state, records
an audit event and never commits."""

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, text

from fundapp.applications import sections
from fundapp.applications.models import (
    EDITABLE_STATES,
    Proposal,
    ProposalSection,
    ProposalStage,
    ProposalState,
    SectionConflict,
)
from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.errors import Conflict, DomainError
from fundapp.core.formatting import local_datetime, to_local

#: Serialises the numbering of proposals on PostgreSQL (an arbitrary constant, distinct from the audit's).
_REFERENCE_LOCK_KEY = 0x50525030


class SectionConflictError(Conflict):
    """A save based on an older version of a section: kept as ``conflict`` so its author can merge."""

    def __init__(self, conflict, section):
        super().__init__(
            _(
                "%(who)s saved this section while you were editing it. Nothing was overwritten: your version "
                "is kept, and you can merge the two.",
                who=section.updated_by.full_name if section.updated_by is not None else _("Someone else"),
            )
        )
        self.conflict = conflict
        self.section = section

    @property
    def theirs(self):
        return self.section.content

    @property
    def yours(self):
        return self.conflict.content


class SectionInvalid(DomainError):
    """A section save refused because some values are malformed; ``errors`` maps field names to messages."""

    def __init__(self, errors):
        first = next(iter(errors.values()))
        super().__init__(
            _("Not saved: %(first)s", first=first)
            if len(errors) == 1
            else _(
                "Not saved: %(count)d fields need correcting, starting with: %(first)s",
                count=len(errors),
                first=first,
            )
        )
        self.errors = errors


# -- starting a proposal ------------------------------------------------------------------------------


def _stage_for(call):
    return ProposalStage.CONCEPT if call.is_two_stage else ProposalStage.FULL


def existing_proposal(session, call, organisation, stage=None):
    """The proposal ``organisation`` already has in ``call`` at ``stage`` (default: the call's first)."""
    stage = stage or _stage_for(call)
    return session.scalar(
        select(Proposal).where(
            Proposal.call_id == call.id, Proposal.organisation_id == organisation.id, Proposal.stage == stage
        )
    )


def _answer(answers, question):
    value = (answers or {}).get(str(question.id), (answers or {}).get(question.id))
    if isinstance(value, str):
        value = {"yes": True, "no": False}.get(value.strip().lower())
    return value if isinstance(value, bool) else None


def eligibility_problems(call, organisation, answers, *, now=None):
    """Why ``organisation`` cannot apply to ``call`` with ``answers`` ({question id: bool}); [] if it can.

    Checks that the call is open now, the organisation's type is eligible, and every question is answered
    without a disqualifying answer (whose explanation is the message).
    """
    now = now or utcnow()
    problems = []
    if not call.is_open(now):
        if call.state.value == "published" and now < call.opens_at:
            problems.append(
                _("This call opens on %(when)s; you can apply from then.", when=local_datetime(call.opens_at))
            )
        elif call.state.value in ("published", "closed"):
            problems.append(
                _(
                    "This call closed on %(when)s; it no longer accepts proposals.",
                    when=local_datetime(call.closes_at),
                )
            )
        else:
            problems.append(_("This call is not open for proposals."))
    if call.eligible_org_types and organisation.org_type.value not in call.eligible_org_types:
        problems.append(
            _(
                "This call is not open to organisations of the type “%(type)s”.",
                type=organisation.org_type.label,
            )
        )
    for question in call.questions:
        answer = _answer(answers, question)
        if answer is None:
            problems.append(_("Answer the question “%(question)s”", question=question.text))
        elif question.disqualifying_answer is not None and answer == question.disqualifying_answer:
            problems.append(
                question.explanation
                or _(
                    "With your answer to “%(question)s”, your organisation cannot apply to this call.",
                    question=question.text,
                )
            )
    return problems


def next_proposal_reference(session):
    """The next free reference, e.g. PRP-2026-0001 (prefix from config, year in the fund's time zone)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFERENCE_LOCK_KEY})
    prefix = f"{current_app.config['REFERENCE_PREFIXES']['proposal']}-{to_local(utcnow()).year}-"
    last = session.scalar(
        select(Proposal.reference)
        .where(Proposal.reference.like(prefix + "%"))
        .order_by(func.length(Proposal.reference).desc(), Proposal.reference.desc())
        .limit(1)
    )
    number = int(last.removeprefix(prefix)) + 1 if last and last.removeprefix(prefix).isdigit() else 1
    return f"{prefix}{number:04d}"


def _clean_title(title):
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Give the proposal a title."), field="title")
    if len(title) > 300:
        raise DomainError(_("The title is too long: at most 300 characters."), field="title")
    return title


def _check_theme(call, theme):
    theme = (theme or "").strip() or None
    if theme is not None and theme not in call.themes:
        raise DomainError(_("Choose one of this call's themes."), field="theme")
    return theme


def start_proposal(session, user, call, organisation, *, title, answers, theme=None):
    """Start a draft proposal of ``organisation`` in ``call``, on behalf of ``user`` (a member).

    Refused with a DomainError when the call is not open, the organisation may not apply or already has a
    proposal in the call, or an eligibility answer disqualifies it. Every section starts empty (version 0).
    """
    if not organisation.is_member(user):
        raise DomainError(
            _("You are not a member of %(org)s.", org=organisation.name_en), field="organisation"
        )
    problems = eligibility_problems(call, organisation, answers)
    if problems:
        raise DomainError(problems[0])
    existing = existing_proposal(session, call, organisation)
    if existing is not None:
        raise DomainError(
            _(
                "Your organisation already has a proposal in this call: %(reference)s.",
                reference=existing.reference,
            )
        )
    title = _clean_title(title)
    theme = _check_theme(call, theme)
    recorded = {str(q.id): _answer(answers, q) for q in call.questions}
    proposal = Proposal(
        reference=next_proposal_reference(session),
        call=call,
        organisation=organisation,
        stage=_stage_for(call),
        state=ProposalState.DRAFT,
        title=title,
        theme=theme,
        eligibility_answers=recorded,
        currency=call.currency,
        created_by_id=user.id,
    )
    for key in sections.SECTION_KEYS:
        proposal.sections.append(
            ProposalSection(key=key, content=sections.empty_content(key, currency=call.currency), version=0)
        )
    session.add(proposal)
    session.flush()
    record_event(
        session,
        user,
        proposal,
        "proposal.started",
        after={
            "reference": proposal.reference,
            "call": call.reference,
            "organisation_id": organisation.id,
            "title": title,
            "theme": theme,
        },
    )
    return proposal


# -- editing ------------------------------------------------------------------------------------------


def edit_refusal(proposal, user):
    """Why ``user`` cannot edit ``proposal`` now, or None."""
    if not proposal.is_member(user):
        return _("Only members of %(org)s can edit this proposal.", org=proposal.organisation.name_en)
    if proposal.state not in EDITABLE_STATES:
        return _("This proposal has been submitted; it can no longer be edited.")
    return None


def _check_editable(proposal, user):
    refusal = edit_refusal(proposal, user)
    if refusal:
        raise DomainError(refusal)


def _section_for_update(session, proposal, key):
    if key not in sections.SECTIONS_BY_KEY:
        raise DomainError(_("This proposal has no section “%(key)s”.", key=key))
    section = proposal.section(key)
    if section is None:
        section = ProposalSection(
            key=key, content=sections.empty_content(key, currency=proposal.currency), version=0
        )
        proposal.sections.append(section)
        session.flush()
    else:
        # Two saves of one section at once: the second waits here, then sees the first one's version.
        session.refresh(section, with_for_update=True)
    return section


def _store(session, user, proposal, section, content):
    old_version = section.version
    section.content = content
    section.version = old_version + 1
    section.updated_at = utcnow()
    section.updated_by_id = user.id
    proposal.updated_at = section.updated_at
    session.flush()
    session.refresh(section, attribute_names=["updated_by"])
    sections.refresh_derived(session, proposal)
    return old_version


def save_section(session, user, proposal, key, raw_content, base_version):
    """Save section ``key`` of ``proposal`` from the editor's ``raw_content``; returns the section.

    ``base_version`` is the version the editor started from. If someone saved the section since, the
    content is kept as a ``SectionConflict`` and ``SectionConflictError`` is raised; the saved section is
    not touched. Malformed values raise ``SectionInvalid`` (with field errors) and change nothing.
    Saving content identical to what is stored changes nothing either.
    """
    # Read the state under the proposal's row lock, which submission holds while it freezes the content:
    # a save racing a submission waits, then finds the proposal submitted and is refused.
    session.refresh(proposal, attribute_names=["state"], with_for_update=True)
    _check_editable(proposal, user)
    section = _section_for_update(session, proposal, key)
    content, errors = sections.clean_section(key, raw_content, currency=proposal.currency)
    if errors:
        raise SectionInvalid(errors)
    if content == section.content:
        return section
    if base_version is None or int(base_version) != section.version:
        conflict = SectionConflict(
            section=section, content=content, base_version=int(base_version or 0), author_id=user.id
        )
        session.add(conflict)
        session.flush()
        record_event(
            session,
            user,
            proposal,
            "proposal.section_conflict",
            after={
                "section": key,
                "base_version": conflict.base_version,
                "current_version": section.version,
                "conflict_id": conflict.id,
            },
        )
        raise SectionConflictError(conflict, section)
    old_version = _store(session, user, proposal, section, content)
    record_event(
        session,
        user,
        proposal,
        "proposal.section_saved",
        before={"section": key, "version": old_version},
        after={"section": key, "version": section.version},
    )
    return section


def resolve_conflict(session, user, conflict, merged_content, *, base_version=None):
    """Save ``merged_content`` as the section's new version and mark ``conflict`` resolved.

    ``base_version`` is the version the merge page showed as "theirs"; if the section moved on since,
    the merge itself becomes a new conflict (nothing is overwritten).
    """
    section = conflict.section
    proposal = section.proposal
    _check_editable(proposal, user)
    if conflict.resolved_at is not None:
        raise DomainError(_("This conflict has already been merged."))
    if base_version is None:
        base_version = section.version
    content, errors = sections.clean_section(section.key, merged_content, currency=proposal.currency)
    if errors:
        raise SectionInvalid(errors)
    section = _section_for_update(session, proposal, section.key)
    if int(base_version) != section.version:
        newer = SectionConflict(
            section=section, content=content, base_version=int(base_version), author_id=user.id
        )
        session.add(newer)
        conflict.resolved_at = utcnow()
        session.flush()
        raise SectionConflictError(newer, section)
    old_version = section.version
    if content != section.content:
        old_version = _store(session, user, proposal, section, content)
    conflict.resolved_at = utcnow()
    session.flush()
    record_event(
        session,
        user,
        proposal,
        "proposal.section_merged",
        before={"section": section.key, "version": old_version},
        after={"section": section.key, "version": section.version, "conflict_id": conflict.id},
    )
    return section


def update_proposal_title_theme(session, user, proposal, *, title, theme):
    """Change the proposal's title and theme (one of the call's themes)."""
    _check_editable(proposal, user)
    title = _clean_title(title)
    theme = _check_theme(proposal.call, theme)
    before = {"title": proposal.title, "theme": proposal.theme}
    if before == {"title": title, "theme": theme}:
        return proposal
    proposal.title = title
    proposal.theme = theme
    proposal.updated_at = utcnow()
    record_event(
        session,
        user,
        proposal,
        "proposal.details_updated",
        before=before,
        after={"title": title, "theme": theme},
    )
    return proposal


def open_conflicts(session, proposal, user=None):
    """Unresolved conflicts of the proposal's sections (of ``user``'s saves, if given), oldest first."""
    query = (
        select(SectionConflict)
        .join(ProposalSection)
        .where(ProposalSection.proposal_id == proposal.id, SectionConflict.resolved_at.is_(None))
        .order_by(SectionConflict.id)
    )
    if user is not None:
        query = query.where(SectionConflict.author_id == user.id)
    return session.scalars(query).all()
