"""Scoring a proposal: the reviewer's draft, its submission, an officer's reopening, and others' reviews.

A review is a draft while its assignment is ACCEPTED: every save (``save_review_draft``, from the form or
from autosave) raises ``Review.version`` by one, and a save based on an older version is refused
(``ReviewConflict``: the reviewer has the review open in two windows). A draft may be incomplete (a score
left blank, no recommendation yet) but never malformed (a score outside the scale, N/A on a criterion that
does not allow it): such a save is refused as a whole, with one message per field.

``submit_review`` checks that every criterion is scored or marked N/A (where allowed) and that a
recommendation is chosen, computes the weighted score with ``ranking.weighted_score`` (N/A left out,
weights renormalised, never counted as zero), moves the assignment to SUBMITTED and locks the review. An
officer may ``reopen_review`` with a reason; the reviewer is mailed and may change and submit it again.

Blind review: ``blind_snapshot`` strips a proposal snapshot of the applicant's identity before a reviewer
sees it. The conflict-of-interest declaration is the one place where a blind call still names the
organisation and its partners (see ``declaration_facts``): a reviewer cannot say "no conflict" about an
organisation they are not told, and the automatic check only knows the affiliations the fund recorded.
"""

import copy
import re
from dataclasses import dataclass

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fundapp.applications.models import ProposalState, ProposalVersion
from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.errors import Conflict, DomainError
from fundapp.core.mail import queue_mail
from fundapp.core.permissions import Role
from fundapp.reviews import operations, ranking
from fundapp.reviews.models import (
    Assignment,
    AssignmentState,
    CriterionScore,
    Recommendation,
    Review,
    Rubric,
)

#: What a form or autosave sends for "not applicable".
NOT_APPLICABLE = "na"
MAX_COMMENTS = 20_000
MAX_REASON = 2_000
#: Proposal states in which a submitted review may be reopened (later, the board has the scores).
REOPENABLE_PROPOSAL_STATES = frozenset({ProposalState.IN_REVIEW, ProposalState.REVIEWED})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ReviewInvalid(DomainError):
    """A save or submission refused as a whole; ``errors`` maps form field names to messages."""

    def __init__(self, message, errors):
        super().__init__(message)
        self.errors = errors


class ReviewConflict(Conflict):
    """The review was saved (in another window) since the version this save was based on."""

    def __init__(self, message, review):
        super().__init__(message)
        self.review = review


def score_field(criterion):
    """The form field (and autosave key) of a criterion's score."""
    return f"score_{criterion.id}"


# -- who may do what ------------------------------------------------------------------------------------


def is_reviewer_of(assignment, user):
    return (
        user is not None
        and user.is_authenticated
        and user.has_role(Role.REVIEWER)
        and assignment.reviewer_id == user.id
    )


def can_open_review(assignment, user):
    """The assigned reviewer, once they declared no conflict (the review page; 404 for everyone else)."""
    return is_reviewer_of(assignment, user) and assignment.state in (
        AssignmentState.ACCEPTED,
        AssignmentState.SUBMITTED,
    )


def can_edit_review(assignment, user):
    return is_reviewer_of(assignment, user) and assignment.state == AssignmentState.ACCEPTED


def can_reopen_review(review, user):
    return (
        review is not None
        and user.is_authenticated
        and user.has_role(Role.PROGRAMME_OFFICER)
        and review.assignment.state == AssignmentState.SUBMITTED
        and review.assignment.proposal.state in REOPENABLE_PROPOSAL_STATES
    )


# -- reading --------------------------------------------------------------------------------------------


def rubric_of(session, proposal):
    return session.scalar(
        select(Rubric).where(Rubric.call_id == proposal.call_id).options(selectinload(Rubric.criteria))
    )


def latest_version(session, proposal):
    return session.scalar(
        select(ProposalVersion)
        .where(ProposalVersion.proposal_id == proposal.id)
        .order_by(ProposalVersion.number.desc())
        .limit(1)
    )


def proposal_snapshot(session, proposal):
    """What reviewers read: the latest submitted version, or (no version stored) the proposal as it is."""
    version = latest_version(session, proposal)
    if version is not None and version.snapshot:
        return version.snapshot
    from fundapp.applications.sections import snapshot

    return snapshot(proposal)


def stored_scores(review):
    """``{criterion id: score, or NOT_APPLICABLE}`` of a review (empty for none)."""
    if review is None:
        return {}
    return {s.criterion_id: (NOT_APPLICABLE if s.is_na else s.score) for s in review.scores}


# -- blind review ---------------------------------------------------------------------------------------

#: Snapshot keys that name the applicant; a blind review replaces or drops them.
IDENTITY_KEYS = ("organisation", "partners", "applicant")
#: The shown length below which a name is not redacted from free text (too many false matches).
_MIN_REDACTED_NAME = 4


def identity_names(snapshot):
    """Every name in a snapshot that identifies the applicant: the organisation's names in each language,
    and the team's people and organisations."""
    names = set()
    organisation = snapshot.get("organisation") or {}
    names.update(v for k, v in organisation.items() if k.startswith("name") and isinstance(v, str))
    for partner in snapshot.get("partners") or ():
        if isinstance(partner, dict):
            names.update(v for v in partner.values() if isinstance(v, str))
        elif isinstance(partner, str):
            names.add(partner)
    for section in snapshot.get("sections") or ():
        if section.get("key") == "team":
            for member in (section.get("content") or {}).get("members") or ():
                names.update(member.get(k) or "" for k in ("name", "organisation"))
    return sorted(
        {name.strip() for name in names if len(name.strip()) >= _MIN_REDACTED_NAME}, key=len, reverse=True
    )


def _redactor(names, placeholder):
    if not names:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(name) for name in names), re.IGNORECASE)
    return lambda text: pattern.sub(placeholder, text) if isinstance(text, str) else text


def _redact_block(block, redact):
    block = dict(block)
    if "value" in block:
        block["value"] = redact(block["value"])
    if "items" in block:
        block["items"] = [_redact_outline(item, redact) for item in block["items"]]
    if "rows" in block:
        block["rows"] = [[redact(cell) for cell in row] for row in block["rows"]]
    return block


def _redact_outline(item, redact):
    if isinstance(item, dict):
        return {
            **item,
            "text": redact(item.get("text", "")),
            "children": [_redact_outline(child, redact) for child in item.get("children", [])],
        }
    return redact(item)


def _team_blocks(members, currency):
    from fundapp.applications.sections import section_blocks

    anonymous = [
        {
            "name": _("Team member %(n)d", n=n),
            "role": member.get("role", ""),
            "organisation": _("Withheld (blind review)") if member.get("organisation") else "",
            "time_share": member.get("time_share"),
        }
        for n, member in enumerate(members, 1)
    ]
    return section_blocks("team", {"members": anonymous}, currency)


def blind_snapshot(snapshot):
    """A copy of ``snapshot`` without the applicant's identity, for reviewers of a blind call.

    The organisation is replaced by a placeholder (the shared snapshot template shows that field);
    partners, applicants and attachments (their names and contents name the organisation) are dropped;
    the team lists roles and time shares, not people or organisations; blocks and sections marked
    ``"identity": true`` are dropped; and every identifying name left in the title or free text
    (summary, objectives, budget descriptions...) is replaced by "[withheld]". The sections' raw
    ``content`` is dropped: the display blocks are all a reviewer reads.
    """
    names = identity_names(snapshot)
    redact = _redactor(names, _("[withheld]"))
    blind = copy.deepcopy(snapshot)
    for key in IDENTITY_KEYS:
        blind.pop(key, None)
    withheld = _("Withheld (blind review)")
    blind["organisation"] = {"name_en": withheld, "name_ru": "", "name_kk": "", "withheld": True}
    blind.pop("attachments", None)
    blind["title"] = redact(blind.get("title", ""))
    sections = []
    for section in blind.get("sections") or ():
        if section.get("identity"):
            continue
        content = section.pop("content", None) or {}
        if section.get("key") == "team":
            section["blocks"] = _team_blocks(content.get("members") or (), blind.get("currency") or "KZT")
        section["blocks"] = [
            _redact_block(block, redact) for block in section.get("blocks") or () if not block.get("identity")
        ]
        sections.append(section)
    blind["sections"] = sections
    blind["blind"] = True
    return blind


def listed_title(proposal, blind):
    """A proposal's title for lists: in a blind call, with the organisation's names withheld."""
    if not blind:
        return proposal.title
    organisation = proposal.organisation
    names = [n for n in (organisation.name_en, organisation.name_ru, organisation.name_kk) if n]
    names = sorted((n for n in names if len(n) >= _MIN_REDACTED_NAME), key=len, reverse=True)
    return _redactor(names, _("[withheld]"))(proposal.title)


def reviewer_snapshot(session, assignment, rubric):
    """The proposal as its reviewer reads it: blinded in a blind call."""
    snapshot = proposal_snapshot(session, assignment.proposal)
    return blind_snapshot(snapshot) if rubric is not None and rubric.blind else snapshot


def declaration_facts(session, assignment):
    """What a reviewer sees before declaring: the call, the title, the summary, and (blind call or not)
    the organisation and the organisations of its team, so that a conflict can be recognised."""
    proposal = assignment.proposal
    snapshot = proposal_snapshot(session, proposal)
    summary = ""
    partners = []
    for section in snapshot.get("sections") or ():
        content = section.get("content") or {}
        if section.get("key") == "summary":
            summary = content.get("summary") or ""
        if section.get("key") == "team":
            partners = [m.get("organisation") for m in content.get("members") or () if m.get("organisation")]
    organisation = proposal.organisation
    return {
        "reference": proposal.reference,
        "title": snapshot.get("title") or proposal.title,
        "call": proposal.call,
        "summary": summary,
        "organisation_names": [
            n for n in (organisation.name_en, organisation.name_kk, organisation.name_ru) if n
        ],
        "partners": sorted(set(partners) - {organisation.name_en}),
    }


# -- saving a draft -------------------------------------------------------------------------------------


def _access_problem(reviewer, assignment):
    if not is_reviewer_of(assignment, reviewer):
        return _(
            "Only the reviewer assigned to %(reference)s can score it.",
            reference=assignment.proposal.reference,
        )
    state = assignment.state
    if state == AssignmentState.ASSIGNED:
        return _("Declare whether you have a conflict of interest before you score this proposal.")
    if state == AssignmentState.SUBMITTED:
        return _(
            "Your review of %(reference)s is submitted and locked. A programme officer can reopen it "
            "if something must change.",
            reference=assignment.proposal.reference,
        )
    if state != AssignmentState.ACCEPTED:
        return _(
            "You no longer review %(reference)s (%(state)s).",
            reference=assignment.proposal.reference,
            state=str(state.label).lower(),
        )
    return None


def _clean_score(criterion, value, errors):
    """A score as stored: an int within the scale, ``NOT_APPLICABLE``, or None (blank)."""
    field = score_field(criterion)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().lower() == NOT_APPLICABLE:
        if not criterion.allow_na:
            errors[field] = _(
                "“%(criterion)s” cannot be marked not applicable: give a score from %(low)d to %(high)d.",
                criterion=criterion.title,
                low=criterion.scale_min,
                high=criterion.scale_max,
            )
            return None
        return NOT_APPLICABLE
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,6}\s*", value):
        number = int(value)
    else:
        number = None
    if number is None or not criterion.scale_min <= number <= criterion.scale_max:
        errors[field] = _(
            "“%(criterion)s”: the score must be a whole number from %(low)d to %(high)d.",
            criterion=criterion.title,
            low=criterion.scale_min,
            high=criterion.scale_max,
        )
        return None
    return number


def _clean_recommendation(value, errors):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return Recommendation(value.strip() if isinstance(value, str) else value)
    except ValueError:
        errors["recommendation"] = _("Choose fund, fund with changes or do not fund.")
        return None


def _clean_comments(value, errors):
    if value is None:
        return ""
    if not isinstance(value, str):
        errors["comments"] = _("Comments must be text.")
        return ""
    value = _CONTROL.sub("", value).strip()
    if len(value) > MAX_COMMENTS:
        errors["comments"] = _("Comments are too long: at most %(n)d characters.", n=MAX_COMMENTS)
    return value


def clean_review(criteria, scores, recommendation, comments):
    """``(scores by criterion id, recommendation, comments, errors)`` from what a form or autosave sent.

    ``scores`` maps a criterion id (int or text) or a form field name (``score_<id>``) to a score, "na"
    or blank. Scores of criteria outside the rubric are ignored.
    """
    errors = {}
    if scores is None:
        scores = {}
    if not isinstance(scores, dict):
        errors["scores"] = _("Scores must be sent as a set of criteria and scores.")
        scores = {}
    given = {}
    for key, value in scores.items():
        key = str(key).removeprefix("score_")
        if key.isdigit():
            given[int(key)] = value
    cleaned = {}
    for criterion in criteria:
        value = _clean_score(criterion, given.get(criterion.id), errors)
        if value is not None:
            cleaned[criterion.id] = value
    return cleaned, _clean_recommendation(recommendation, errors), _clean_comments(comments, errors), errors


def _lock_assignment(session, assignment):
    """Re-read the assignment's state under a row lock (``SELECT ... FOR UPDATE`` on PostgreSQL) and its
    review afresh: saves, submission and reopening of one review then happen one after the other, so two
    saves of one version cannot both pass and a save cannot slip in after the submission."""
    session.flush()
    session.refresh(assignment, attribute_names=["state"], with_for_update=True)
    return session.scalar(
        select(Review).where(Review.assignment_id == assignment.id).execution_options(populate_existing=True)
    )


def save_review_draft(
    session, reviewer, assignment, *, scores, recommendation, comments, base_version, now=None
):
    """Store the reviewer's draft; returns the Review (created at the first save). Never commits.

    ``base_version`` is the version the reviewer's page started from (0 before the first save); an older
    one raises ``ReviewConflict`` and changes nothing. A malformed value raises ``ReviewInvalid``.
    """
    problem = _access_problem(reviewer, assignment)
    if problem:
        raise DomainError(problem)
    rubric = rubric_of(session, assignment.proposal)
    if rubric is None or not rubric.criteria:
        raise DomainError(_("This call has no rubric yet: a programme officer must set its criteria first."))
    cleaned, recommendation, comments, errors = clean_review(
        rubric.criteria, scores, recommendation, comments
    )
    if errors:
        raise ReviewInvalid(_("Not saved: correct the highlighted fields."), errors)
    review = _lock_assignment(session, assignment)
    problem = _access_problem(reviewer, assignment)
    if problem:
        raise DomainError(problem)
    current = review.version if review is not None else 0
    if base_version != current:
        raise ReviewConflict(
            _(
                "This review was saved in another window or tab since you opened this page. Nothing was "
                "overwritten. Reload the page to continue from the saved version, or keep this version."
            ),
            review,
        )
    if review is None:
        review = Review(assignment=assignment, comments="", version=0)
        session.add(review)
    by_criterion = {s.criterion_id: s for s in review.scores}
    for criterion in rubric.criteria:
        value = cleaned.get(criterion.id)
        existing = by_criterion.get(criterion.id)
        if value is None:
            if existing is not None:
                review.scores.remove(existing)
            continue
        if existing is None:
            existing = CriterionScore(criterion_id=criterion.id)
            review.scores.append(existing)
        existing.is_na = value == NOT_APPLICABLE
        existing.score = None if existing.is_na else value
    review.recommendation = recommendation
    review.comments = comments
    review.version = current + 1
    review.updated_at = now or utcnow()
    session.flush()
    return review


# -- submitting -----------------------------------------------------------------------------------------


def submission_problems(review, rubric):
    """What stops ``review`` from being submitted, as ``{field: message}`` in the rubric's order."""
    problems = {}
    scores = stored_scores(review)
    for criterion in rubric.criteria:
        value = scores.get(criterion.id)
        field = score_field(criterion)
        if value is None:
            if criterion.allow_na:
                problems[field] = _(
                    "Score “%(criterion)s” from %(low)d to %(high)d, or mark it not applicable.",
                    criterion=criterion.title,
                    low=criterion.scale_min,
                    high=criterion.scale_max,
                )
            else:
                problems[field] = _(
                    "Score “%(criterion)s” from %(low)d to %(high)d.",
                    criterion=criterion.title,
                    low=criterion.scale_min,
                    high=criterion.scale_max,
                )
        elif value == NOT_APPLICABLE and not criterion.allow_na:
            problems[field] = _(
                "“%(criterion)s” cannot be marked not applicable: give a score from %(low)d to %(high)d.",
                criterion=criterion.title,
                low=criterion.scale_min,
                high=criterion.scale_max,
            )
    if review is None or review.recommendation is None:
        problems["recommendation"] = _("Choose a recommendation: fund, fund with changes or do not fund.")
    return problems


def review_weighted_score(review, rubric):
    """The review's 0-100 score: ``ranking.weighted_score`` over the rubric's criteria (N/A as None)."""
    scores = stored_scores(review)
    return ranking.weighted_score(
        [
            (
                criterion.weight,
                criterion.scale_min,
                criterion.scale_max,
                None if scores.get(criterion.id) == NOT_APPLICABLE else scores.get(criterion.id),
            )
            for criterion in rubric.criteria
        ]
    )


def submit_review(session, reviewer, assignment, now=None):
    """Submit the reviewer's review: complete, scored, then locked. Returns the Review. Never commits.

    Raises ``ReviewInvalid`` (with every problem) when a criterion is unscored, N/A where not allowed, or
    no recommendation is chosen; a ``DomainError`` when the review is already submitted or not theirs.
    """
    problem = _access_problem(reviewer, assignment)
    if problem:
        raise DomainError(problem)
    rubric = rubric_of(session, assignment.proposal)
    if rubric is None or not rubric.criteria:
        raise DomainError(_("This call has no rubric yet: a programme officer must set its criteria first."))
    # Two submissions at once: the second waits here, then sees SUBMITTED and is refused.
    review = _lock_assignment(session, assignment)
    problem = _access_problem(reviewer, assignment)
    if problem:
        raise DomainError(problem)
    problems = submission_problems(review, rubric)
    if problems:
        raise ReviewInvalid(
            _("The review cannot be submitted yet: %(problems)s", problems=" ".join(problems.values())),
            problems,
        )
    score = review_weighted_score(review, rubric)
    now = now or utcnow()
    before = {"state": assignment.state.value}
    assignment.state = AssignmentState.SUBMITTED
    review.submitted_at = now
    review.weighted_score = score
    review.updated_at = now
    record_event(
        session,
        reviewer,
        review,
        "review.submitted",
        before=before,
        after={
            "state": AssignmentState.SUBMITTED.value,
            "assignment_id": assignment.id,
            "proposal_id": assignment.proposal_id,
            "weighted_score": str(score),
            "recommendation": review.recommendation.value,
            "scores": {str(k): v for k, v in sorted(stored_scores(review).items())},
        },
    )
    operations.review_completed(session, assignment.proposal)
    return review


# -- reopening ------------------------------------------------------------------------------------------


def _link(endpoint, **values):
    if has_request_context() and endpoint in current_app.view_functions:
        return url_for(endpoint, _external=True, **values)
    return ""


def reopen_review(session, officer, review, reason):
    """Unlock a submitted review so its reviewer can change it (a programme officer, with a reason).

    The assignment goes back to ACCEPTED, the submission time and the weighted score are cleared (the
    ranking leaves the review out until it is submitted again), the reason is audited, and the reviewer
    is mailed. Never commits.
    """
    if not (officer is not None and officer.is_authenticated and officer.has_role(Role.PROGRAMME_OFFICER)):
        raise DomainError(_("Only a programme officer can reopen a review."))
    reason = _CONTROL.sub("", reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for reopening the review: the reviewer reads it."), field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(
            _("The reason is too long: at most %(n)d characters.", n=MAX_REASON), field="reason"
        )
    assignment = review.assignment
    review = _lock_assignment(session, assignment)
    if review is None or assignment.state != AssignmentState.SUBMITTED or review.submitted_at is None:
        raise DomainError(_("This review is not submitted, so there is nothing to reopen."))
    proposal = assignment.proposal
    if proposal.state not in REOPENABLE_PROPOSAL_STATES:
        raise DomainError(
            _(
                "%(reference)s is %(state)s: its reviews can no longer be reopened.",
                reference=proposal.reference,
                state=str(proposal.state.label).lower(),
            )
        )
    before = {
        "state": assignment.state.value,
        "submitted_at": review.submitted_at.isoformat(),
        "weighted_score": str(review.weighted_score),
    }
    assignment.state = AssignmentState.ACCEPTED
    review.submitted_at = None
    review.weighted_score = None
    review.version += 1
    review.updated_at = utcnow()
    record_event(
        session,
        officer,
        review,
        "review.reopened",
        before=before,
        after={"state": AssignmentState.ACCEPTED.value, "reason": reason, "assignment_id": assignment.id},
    )
    _reopen_proposal(session, proposal, officer, reason)
    _mail_reopened(session, review, reason)
    return review


def _reopen_proposal(session, proposal, officer, reason):
    """A reviewed proposal goes back to in review, when the proposal workflow has that move."""
    from fundapp.applications.workflow import PROPOSAL_WORKFLOW
    from fundapp.core.workflow import transition

    if proposal.state == ProposalState.REVIEWED and PROPOSAL_WORKFLOW.can(
        proposal, ProposalState.IN_REVIEW, officer
    ):
        transition(session, PROPOSAL_WORKFLOW, proposal, ProposalState.IN_REVIEW, officer, reason=reason)


def _mail_reopened(session, review, reason):
    assignment = review.assignment
    reviewer = assignment.reviewer
    proposal = assignment.proposal
    link = _link("reviewing.review", assignment_id=assignment.id)
    with force_locale(reviewer.locale or "en"):
        subject = _("Your review of %(reference)s is reopened", reference=proposal.reference)
        body = _(
            "A programme officer of %(fund)s reopened your review of %(reference)s, “%(title)s”, so that you "
            "can change it.\n\nTheir reason: %(reason)s\n\nSubmit the review again when it is ready.",
            fund=current_app.config["FUND_SHORT_NAME"],
            reference=proposal.reference,
            title=proposal.title,
            reason=reason,
        )
        if link:
            body += "\n\n" + _("Your review: %(link)s", link=link)
    queue_mail(session, reviewer.email, subject, body + "\n")


# -- others' reviews ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OtherReview:
    """Another reviewer's submitted review, as a fellow reviewer sees it: no name, a letter."""

    label: str
    weighted_score: object
    recommendation: object
    comments: str
    #: ``[(criterion title, score or None for N/A)]`` in the rubric's order.
    scores: tuple


def _letter(n):
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def can_see_others(assignment, user, rubric):
    return (
        rubric is not None
        and rubric.reviewers_see_others
        and is_reviewer_of(assignment, user)
        and assignment.state == AssignmentState.SUBMITTED
    )


def visible_reviews(session, viewer, assignment):
    """The other submitted reviews of the proposal that ``viewer`` may read next to their own.

    Only when the call lets reviewers see each other's reviews, and only once the viewer's own review is
    submitted; otherwise an empty list. Reviewers are named by letter (Reviewer A, B, ...) in a fixed
    order, never by name.
    """
    rubric = rubric_of(session, assignment.proposal)
    if not can_see_others(assignment, viewer, rubric):
        return []
    others = session.scalars(
        select(Review)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(
            Assignment.proposal_id == assignment.proposal_id,
            Assignment.id != assignment.id,
            Assignment.state == AssignmentState.SUBMITTED,
            Review.submitted_at.is_not(None),
        )
        .options(selectinload(Review.scores))
        .order_by(Assignment.id)
    ).all()
    visible = []
    for n, review in enumerate(others):
        scores = stored_scores(review)
        visible.append(
            OtherReview(
                label=_("Reviewer %(letter)s", letter=_letter(n)),
                weighted_score=review.weighted_score,
                recommendation=review.recommendation,
                comments=review.comments,
                scores=tuple(
                    (
                        criterion.title,
                        None if scores.get(criterion.id) == NOT_APPLICABLE else scores.get(criterion.id),
                    )
                    for criterion in rubric.criteria
                ),
            )
        )
    return visible
