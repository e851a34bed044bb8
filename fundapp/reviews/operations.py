"""Rubrics, the reviewer pool, conflicts of interest and the assignment of reviewers to proposals.

Every function here takes the acting user (``None`` for the system), checks the rule, changes state,
writes the audit event and never commits. Refusals raise ``DomainError`` and change nothing.

Conflicts of interest are checked in two places that must agree: ``conflicted_organisation_ids`` feeds the
automatic planner (``assignment.plan_assignments``) and ``conflict_with`` refuses a manual assignment.
A reviewer is conflicted with a proposal when they belong to its organisation (a ``Membership``) or are
affiliated with it (a ``ReviewerAffiliation``).

Scoring and reopening a submitted review belong to ``scoring``; ranking to ``ranking``.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from fundapp.accounts.models import Membership, Organisation, User, UserRole
from fundapp.applications.models import Call, CallState, Proposal, ProposalState, ProposalTag
from fundapp.applications.workflow import PROPOSAL_WORKFLOW
from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_timezone, local_datetime
from fundapp.core.mail import queue_mail
from fundapp.core.permissions import Role
from fundapp.core.workflow import transition
from fundapp.reviews.assignment import ProposalNeed, ReviewerOffer, expertise_match, plan_assignments
from fundapp.reviews.models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentState,
    Criterion,
    Review,
    ReviewerAffiliation,
    ReviewerProfile,
    Rubric,
)

#: Proposal states in which reviewers are assigned.
ASSIGNABLE_STATES = (ProposalState.ELIGIBLE, ProposalState.IN_REVIEW)
#: Assignments still waiting for the reviewer (reminders, withdrawal when a review is closed).
PENDING_STATES = (AssignmentState.ASSIGNED, AssignmentState.ACCEPTED)
ACTIVE_STATES = tuple(sorted(ACTIVE_ASSIGNMENT_STATES))
#: Reminders go out this long before an assignment is due (and every day after, until it is in).
REMINDER_WINDOW = timedelta(days=3)

MAX_CRITERIA = 20
MAX_SCALE_LEVELS = 11
MAX_WEIGHT = 1000
MAX_LOAD = 100
MAX_TITLE = 200
MAX_REASON = 2000
KNOWN_LANGUAGES = ("en", "ru", "kk")


def _clean(text):
    return (text or "").strip()


def _require_reason(reason, message=None, field="reason"):
    reason = _clean(reason)
    if not reason:
        raise DomainError(message or _("Give a reason: it is kept in the audit log."), field=field)
    if len(reason) > MAX_REASON:
        raise DomainError(_("Keep the reason under %(n)d characters.", n=MAX_REASON), field=field)
    return reason


def _require_officer(actor):
    if actor is None or not actor.has_role(Role.PROGRAMME_OFFICER):
        raise DomainError(_("Only a programme officer can do this."))


# -- rubrics -------------------------------------------------------------------------------------------------

#: The fund's default rubric: (title, description, weight, descriptors from 1 to 5).
DEFAULT_CRITERIA = (
    (
        "Conservation relevance",
        "How much the project would do for threatened species, habitats and protected areas, and how well it "
        "fits the call's themes and the national biodiversity targets.",
        30,
        (
            "Marginal: little or no effect on the species or habitats the call is about.",
            "Limited: a plausible but small or indirect effect.",
            "Moderate: a clear effect on a species or site of some priority.",
            "Strong: a clear, measurable effect on a priority species or site.",
            "Outstanding: addresses a critical threat to a priority species or site, with lasting effect.",
        ),
    ),
    (
        "Feasibility",
        "Whether the objectives, activities, timeline and risks add up to a plan that can work.",
        25,
        (
            "Not feasible: the plan cannot achieve its objectives.",
            "Doubtful: major gaps in the plan, timeline or risk handling.",
            "Plausible: workable, with some gaps to close.",
            "Sound: a clear, realistic plan with risks handled.",
            "Excellent: a detailed, realistic plan that anticipates its risks.",
        ),
    ),
    (
        "Value for money",
        "Whether the budget is reasonable, justified and proportionate to the expected results, including "
        "co-financing.",
        20,
        (
            "Poor: costs unjustified or out of proportion to the results.",
            "Weak: several costs unclear or high.",
            "Fair: costs mostly reasonable.",
            "Good: costs reasonable and well justified.",
            "Excellent: lean, well justified, with significant co-financing.",
        ),
    ),
    (
        "Capacity",
        "Whether the organisation and team have the skills, experience and partners to deliver.",
        15,
        (
            "Insufficient: the team lacks essential skills or experience.",
            "Limited: important gaps in skills or experience.",
            "Adequate: the essential skills are there.",
            "Strong: an experienced team with a track record.",
            "Outstanding: a proven team with strong local partners.",
        ),
    ),
    (
        "Sustainability and safeguards",
        "Whether results will last beyond the grant, and whether social and environmental risks (local "
        "communities, livelihoods, protected areas) are identified and managed.",
        10,
        (
            "Absent: no thought to what happens after the grant or to safeguards.",
            "Weak: results unlikely to last; safeguards barely addressed.",
            "Fair: some plan for continuity; main safeguards addressed.",
            "Good: a credible continuity plan; safeguards well managed.",
            "Excellent: results built to last, with communities involved and safeguards exemplary.",
        ),
    ),
)


@dataclass
class CriterionData:
    """A criterion as typed: ``level_descriptors`` is a list, lowest level first."""

    title: str
    weight: int
    scale_min: int = 1
    scale_max: int = 5
    level_descriptors: list = field(default_factory=list)
    description: str = ""
    allow_na: bool = False


@dataclass
class RubricSettings:
    reviewers_per_proposal: int = 3
    blind: bool = False
    reviewers_see_others: bool = False
    disagreement_spread: int = 25
    recommendation_split_percent: int = 30
    #: A UTC instant, or None.
    due_at: datetime | None = None


def rubric_of(session, call):
    return session.scalar(select(Rubric).where(Rubric.call_id == call.id))


def _new_rubric(session, call):
    rubric = Rubric(
        call_id=call.id,
        reviewers_per_proposal=3,
        blind=False,
        reviewers_see_others=False,
        disagreement_spread=25,
        recommendation_split_percent=30,
    )
    session.add(rubric)
    return rubric


def default_rubric(call, *, session=None, actor=None):
    """The call's rubric; when it has none, a new one with the fund's five default criteria (scale 1-5 with a
    descriptor per level) and the default settings (3 reviewers per proposal, not blind)."""
    from fundapp.extensions import db

    session = session or db.session
    rubric = rubric_of(session, call)
    if rubric is not None:
        return rubric
    rubric = _new_rubric(session, call)
    for position, (title, description, weight, descriptors) in enumerate(DEFAULT_CRITERIA):
        rubric.criteria.append(
            Criterion(
                position=position,
                title=title,
                description=description,
                weight=weight,
                scale_min=1,
                scale_max=5,
                level_descriptors={str(level): text for level, text in enumerate(descriptors, start=1)},
                allow_na=False,
            )
        )
    session.flush()
    record_event(
        session,
        actor,
        rubric,
        "rubric.created",
        after={"call": call.reference, "criteria": [c.title for c in rubric.criteria], "default": True},
    )
    return rubric


def start_rubric(session, officer, call, *, use_default=True):
    """Give ``call`` a rubric: the fund's default one, or one with no criteria yet."""
    _require_officer(officer)
    if rubric_of(session, call) is not None:
        raise DomainError(_("%(reference)s already has a rubric.", reference=call.reference))
    if use_default:
        return default_rubric(call, session=session, actor=officer)
    rubric = _new_rubric(session, call)
    session.flush()
    record_event(session, officer, rubric, "rubric.created", after={"call": call.reference, "criteria": []})
    return rubric


def has_submitted_reviews(session, call):
    """Whether any review of the call has been submitted (its criteria are then fixed)."""
    return (
        session.scalar(
            select(Review.id)
            .join(Assignment, Assignment.id == Review.assignment_id)
            .join(Proposal, Proposal.id == Assignment.proposal_id)
            .where(Proposal.call_id == call.id, Review.submitted_at.is_not(None))
            .limit(1)
        )
        is not None
    )


def criteria_lock_reason(session, call):
    """Why the call's criteria cannot change now, or None."""
    if has_submitted_reviews(session, call):
        return _(
            "Reviews of %(reference)s have been submitted against these criteria, so they can no longer be "
            "changed: scores would no longer mean what the reviewers meant.",
            reference=call.reference,
        )
    return None


def _check_criteria_editable(session, rubric):
    reason = criteria_lock_reason(session, rubric.call)
    if reason:
        raise DomainError(reason)


def criterion_problems(data):
    """``{field: message}`` for a criterion as typed; empty when it is acceptable."""
    problems = {}
    title = _clean(data.title)
    if not title:
        problems["title"] = _("Give the criterion a title.")
    elif len(title) > MAX_TITLE:
        problems["title"] = _("Keep the title under %(n)d characters.", n=MAX_TITLE)
    if not isinstance(data.weight, int) or data.weight <= 0:
        problems["weight"] = _("The weight must be a whole number above 0.")
    elif data.weight > MAX_WEIGHT:
        problems["weight"] = _("The weight must be at most %(n)d.", n=MAX_WEIGHT)
    if not isinstance(data.scale_min, int) or not isinstance(data.scale_max, int):
        problems["scale_max"] = _("The scale runs between two whole numbers.")
    elif data.scale_max <= data.scale_min:
        problems["scale_max"] = _("The top of the scale must be above its bottom.")
    elif data.scale_min < 0 or data.scale_max - data.scale_min + 1 > MAX_SCALE_LEVELS:
        problems["scale_max"] = _(
            "The scale starts at 0 or above and has at most %(n)d levels.", n=MAX_SCALE_LEVELS
        )
    else:
        levels = data.scale_max - data.scale_min + 1
        descriptors = [_clean(text) for text in data.level_descriptors or []]
        if len(descriptors) != levels or not all(descriptors):
            problems["level_descriptors"] = _(
                "Describe each of the %(n)d levels, one line per level, from %(low)d to %(high)d.",
                n=levels,
                low=data.scale_min,
                high=data.scale_max,
            )
    return problems


def _criterion_summary(criterion):
    return {
        "title": criterion.title,
        "weight": criterion.weight,
        "scale": [criterion.scale_min, criterion.scale_max],
        "allow_na": criterion.allow_na,
    }


def _apply_criterion(criterion, data):
    problems = criterion_problems(data)
    if problems:
        name, message = next(iter(problems.items()))
        raise DomainError(message, field=name)
    criterion.title = _clean(data.title)
    criterion.description = _clean(data.description)
    criterion.weight = data.weight
    criterion.scale_min = data.scale_min
    criterion.scale_max = data.scale_max
    criterion.level_descriptors = {
        str(level): _clean(text)
        for level, text in zip(range(data.scale_min, data.scale_max + 1), data.level_descriptors, strict=True)
    }
    criterion.allow_na = bool(data.allow_na)


def add_criterion(session, officer, rubric, data):
    """Add a criterion at the end of ``rubric``; refused once a review of the call is submitted."""
    _require_officer(officer)
    _check_criteria_editable(session, rubric)
    if len(rubric.criteria) >= MAX_CRITERIA:
        raise DomainError(_("A rubric has at most %(n)d criteria.", n=MAX_CRITERIA))
    criterion = Criterion(position=max((c.position for c in rubric.criteria), default=-1) + 1)
    _apply_criterion(criterion, data)
    rubric.criteria.append(criterion)
    session.flush()
    record_event(session, officer, criterion, "criterion.added", after=_criterion_summary(criterion))
    return criterion


def update_criterion(session, officer, criterion, data):
    _require_officer(officer)
    _check_criteria_editable(session, criterion.rubric)
    before = _criterion_summary(criterion)
    _apply_criterion(criterion, data)
    session.flush()
    record_event(
        session, officer, criterion, "criterion.changed", before=before, after=_criterion_summary(criterion)
    )
    return criterion


def remove_criterion(session, officer, criterion):
    _require_officer(officer)
    rubric = criterion.rubric
    _check_criteria_editable(session, rubric)
    before = _criterion_summary(criterion)
    record_event(session, officer, criterion, "criterion.removed", before=before)
    rubric.criteria.remove(criterion)
    session.flush()


def settings_problems(settings):
    problems = {}
    if not isinstance(settings.reviewers_per_proposal, int) or not 1 <= settings.reviewers_per_proposal <= 10:
        problems["reviewers_per_proposal"] = _("Ask for 1 to 10 reviewers per proposal.")
    if not isinstance(settings.disagreement_spread, int) or not 0 <= settings.disagreement_spread <= 100:
        problems["disagreement_spread"] = _("The spread is a number of points from 0 to 100.")
    if (
        not isinstance(settings.recommendation_split_percent, int)
        or not 1 <= settings.recommendation_split_percent <= 50
    ):
        problems["recommendation_split_percent"] = _("The split is a percentage from 1 to 50.")
    return problems


def _settings_summary(rubric):
    return {
        "reviewers_per_proposal": rubric.reviewers_per_proposal,
        "blind": rubric.blind,
        "reviewers_see_others": rubric.reviewers_see_others,
        "disagreement_spread": rubric.disagreement_spread,
        "recommendation_split_percent": rubric.recommendation_split_percent,
        "due_at": rubric.due_at.isoformat() if rubric.due_at else None,
    }


def save_rubric_settings(session, officer, rubric, settings):
    """Save the call's review settings. A new due date also applies to the assignments still pending that
    had the old one (an officer's individual due date is kept)."""
    _require_officer(officer)
    problems = settings_problems(settings)
    if problems:
        name, message = next(iter(problems.items()))
        raise DomainError(message, field=name)
    before = _settings_summary(rubric)
    old_due = rubric.due_at
    rubric.reviewers_per_proposal = settings.reviewers_per_proposal
    rubric.blind = bool(settings.blind)
    rubric.reviewers_see_others = bool(settings.reviewers_see_others)
    rubric.disagreement_spread = settings.disagreement_spread
    rubric.recommendation_split_percent = settings.recommendation_split_percent
    rubric.due_at = settings.due_at
    if settings.due_at != old_due:
        pending = session.scalars(
            select(Assignment)
            .join(Proposal, Proposal.id == Assignment.proposal_id)
            .where(Proposal.call_id == rubric.call_id, Assignment.state.in_(PENDING_STATES))
        ).all()
        for assignment in pending:
            if assignment.due_at == old_due or assignment.due_at is None:
                assignment.due_at = settings.due_at
    session.flush()
    record_event(
        session, officer, rubric, "rubric.settings_changed", before=before, after=_settings_summary(rubric)
    )
    return rubric


# -- the reviewer pool ---------------------------------------------------------------------------------------


@dataclass
class ProfileData:
    themes: list = field(default_factory=list)
    regions: list = field(default_factory=list)
    species_groups: list = field(default_factory=list)
    languages: list = field(default_factory=list)
    max_load_per_call: int | None = None
    bio: str = ""


def parse_species_groups(text):
    """ "Pinnipeds, ungulates ,felids" -> ["pinnipeds", "ungulates", "felids"] (lower case, no repeats)."""
    groups = []
    for part in (text or "").replace(";", ",").replace("\n", ",").split(","):
        part = " ".join(part.split()).lower()
        if part and part not in groups:
            groups.append(part[:80])
    return groups[:30]


def is_reviewer(user):
    return user is not None and user.has_role(Role.REVIEWER)


def profile_of(session, user):
    return session.scalar(select(ReviewerProfile).where(ReviewerProfile.user_id == user.id))


def ensure_profile(session, user):
    """The reviewer's profile, created empty (default load) the first time it is needed."""
    profile = profile_of(session, user)
    if profile is None:
        profile = ReviewerProfile(
            user_id=user.id,
            themes=[],
            regions=[],
            species_groups=[],
            languages=[],
            max_load_per_call=8,
            bio="",
        )
        session.add(profile)
        session.flush()
    return profile


def _profile_summary(profile):
    return {
        "themes": list(profile.themes or []),
        "regions": list(profile.regions or []),
        "species_groups": list(profile.species_groups or []),
        "languages": list(profile.languages or []),
        "max_load_per_call": profile.max_load_per_call,
        "affiliations": sorted(a.organisation_id for a in profile.affiliations),
    }


def _check_codes(values, allowed, field_name, message):
    values = list(dict.fromkeys(values or []))
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise DomainError(message, field=field_name)
    return values


def _apply_expertise(profile, data):
    from fundapp.reference.models import Vocabulary, reference_items

    profile.themes = _check_codes(
        data.themes,
        {item.code for item in reference_items(Vocabulary.THEME, active_only=False)},
        "themes",
        _("Choose themes from the list."),
    )
    profile.regions = _check_codes(
        data.regions,
        {item.code for item in reference_items(Vocabulary.REGION, active_only=False)},
        "regions",
        _("Choose regions from the list."),
    )
    profile.languages = _check_codes(
        data.languages, set(KNOWN_LANGUAGES), "languages", _("Choose languages from the list.")
    )
    profile.species_groups = parse_species_groups(", ".join(data.species_groups or []))
    profile.bio = _clean(data.bio)[:5000]


def _check_reviewer(user):
    if not is_reviewer(user):
        raise DomainError(_("%(name)s does not have the reviewer role.", name=user.full_name))


def save_profile(session, officer, reviewer, data, organisation_ids=None):
    """An officer (or admin) saves a reviewer's profile: expertise, languages, load and, when
    ``organisation_ids`` is given, the complete list of affiliations. Assignments made conflicted by a new
    affiliation are withdrawn and replaced (``withdraw_conflicted_assignments``)."""
    if officer is None or not officer.has_role(Role.PROGRAMME_OFFICER, Role.ADMIN):
        raise DomainError(_("Only a programme officer or an admin can edit a reviewer's profile."))
    _check_reviewer(reviewer)
    profile = ensure_profile(session, reviewer)
    before = _profile_summary(profile)
    _apply_expertise(profile, data)
    if data.max_load_per_call is not None:
        if not isinstance(data.max_load_per_call, int) or not 0 <= data.max_load_per_call <= MAX_LOAD:
            raise DomainError(
                _("The load is a number of proposals per call from 0 to %(n)d.", n=MAX_LOAD),
                field="max_load_per_call",
            )
        profile.max_load_per_call = data.max_load_per_call
    if organisation_ids is not None:
        wanted = set(organisation_ids)
        known = set(session.scalars(select(Organisation.id).where(Organisation.id.in_(wanted))).all())
        if wanted - known:
            raise DomainError(_("Choose organisations from the list."), field="affiliations")
        for affiliation in list(profile.affiliations):
            if affiliation.organisation_id not in wanted:
                profile.affiliations.remove(affiliation)
        present = {a.organisation_id for a in profile.affiliations}
        for organisation_id in sorted(wanted - present):
            profile.affiliations.append(ReviewerAffiliation(organisation_id=organisation_id, description=""))
    session.flush()
    record_event(
        session, officer, profile, "reviewer_profile.changed", before=before, after=_profile_summary(profile)
    )
    withdraw_conflicted_assignments(session, officer, reviewer)
    return profile


def save_own_profile(session, reviewer, data):
    """A reviewer saves their own expertise, languages and note; the load and affiliations are not theirs
    to change here (``add_own_affiliation`` adds one)."""
    _check_reviewer(reviewer)
    profile = ensure_profile(session, reviewer)
    before = _profile_summary(profile)
    _apply_expertise(profile, data)
    session.flush()
    record_event(
        session, reviewer, profile, "reviewer_profile.changed", before=before, after=_profile_summary(profile)
    )
    return profile


def add_own_affiliation(session, reviewer, organisation, description=""):
    """A reviewer adds an organisation they work or worked with. Removing one is for officers only, or a
    reviewer could hide a conflict."""
    _check_reviewer(reviewer)
    if organisation is None:
        raise DomainError(_("Choose an organisation from the list."), field="organisation_id")
    profile = ensure_profile(session, reviewer)
    if any(a.organisation_id == organisation.id for a in profile.affiliations):
        raise DomainError(
            _("%(org)s is already among your affiliations.", org=organisation.name_en),
            field="organisation_id",
        )
    affiliation = ReviewerAffiliation(organisation_id=organisation.id, description=_clean(description)[:300])
    profile.affiliations.append(affiliation)
    session.flush()
    record_event(
        session,
        reviewer,
        affiliation,
        "reviewer_affiliation.added",
        after={"organisation": organisation.id, "description": affiliation.description},
    )
    withdraw_conflicted_assignments(session, reviewer, reviewer)
    return affiliation


def conflicted_organisation_ids(session, user_ids):
    """``{user id: set of organisation ids}``: organisations each user belongs to or is affiliated with."""
    user_ids = list(user_ids)
    conflicts = defaultdict(set)
    if not user_ids:
        return conflicts
    for user_id, organisation_id in session.execute(
        select(Membership.user_id, Membership.organisation_id).where(Membership.user_id.in_(user_ids))
    ):
        conflicts[user_id].add(organisation_id)
    for user_id, organisation_id in session.execute(
        select(ReviewerProfile.user_id, ReviewerAffiliation.organisation_id)
        .join(ReviewerAffiliation, ReviewerAffiliation.profile_id == ReviewerProfile.id)
        .where(ReviewerProfile.user_id.in_(user_ids))
    ):
        conflicts[user_id].add(organisation_id)
    return conflicts


def conflict_with(session, reviewer, proposal):
    """Why ``reviewer`` may not review ``proposal`` (a message), or None."""
    organisation = proposal.organisation
    if session.scalar(
        select(Membership.id).where(
            Membership.user_id == reviewer.id, Membership.organisation_id == proposal.organisation_id
        )
    ):
        return _(
            "%(name)s is a member of %(org)s, which submitted %(reference)s: a conflict of interest.",
            name=reviewer.full_name,
            org=organisation.name_en,
            reference=proposal.reference,
        )
    if session.scalar(
        select(ReviewerAffiliation.id)
        .join(ReviewerProfile, ReviewerProfile.id == ReviewerAffiliation.profile_id)
        .where(
            ReviewerProfile.user_id == reviewer.id,
            ReviewerAffiliation.organisation_id == proposal.organisation_id,
        )
    ):
        return _(
            "%(name)s is affiliated with %(org)s, which submitted %(reference)s: a conflict of interest.",
            name=reviewer.full_name,
            org=organisation.name_en,
            reference=proposal.reference,
        )
    return None


def reviewers(session):
    """Active users with the reviewer role, by name."""
    return session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.REVIEWER, User.is_active.is_(True))
        .order_by(User.full_name, User.id)
    ).all()


@dataclass
class PoolRow:
    reviewer: User
    profile: ReviewerProfile | None
    #: {call id: active assignments in that call}
    loads: dict
    affiliations: list


def reviewer_pool(session):
    """Every reviewer with their profile, affiliated organisations and active loads per call, in a fixed
    number of queries."""
    people = reviewers(session)
    ids = [user.id for user in people]
    profiles = {
        profile.user_id: profile
        for profile in session.scalars(
            select(ReviewerProfile)
            .where(ReviewerProfile.user_id.in_(ids))
            .options(
                selectinload(ReviewerProfile.affiliations).selectinload(ReviewerAffiliation.organisation)
            )
        )
    }
    loads = defaultdict(dict)
    for reviewer_id, call_id, count in session.execute(
        select(Assignment.reviewer_id, Proposal.call_id, func.count(Assignment.id))
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .where(Assignment.reviewer_id.in_(ids), Assignment.state.in_(ACTIVE_STATES))
        .group_by(Assignment.reviewer_id, Proposal.call_id)
    ):
        loads[reviewer_id][call_id] = count
    rows = []
    for user in people:
        profile = profiles.get(user.id)
        affiliations = (
            sorted((a.organisation for a in profile.affiliations), key=lambda o: o.name_en) if profile else []
        )
        rows.append(PoolRow(user, profile, loads.get(user.id, {}), affiliations))
    return rows


# -- assignment ----------------------------------------------------------------------------------------------


@dataclass
class AssignmentRun:
    """What ``assign_reviewers`` did."""

    created: list = field(default_factory=list)
    #: {proposal id: seats still empty}
    unfilled: dict = field(default_factory=dict)
    #: Proposals that moved from eligible to in review.
    started: list = field(default_factory=list)


def active_assignments(session, proposal):
    return session.scalars(
        select(Assignment)
        .where(Assignment.proposal_id == proposal.id, Assignment.state.in_(ACTIVE_STATES))
        .order_by(Assignment.id)
    ).all()


def _lock_rubric(session, call):
    """The call's rubric (the default one if it has none), row-locked so two assignment runs of one call
    (an officer's click and a reviewer's conflict declaration) cannot fill the same seats twice."""
    rubric = default_rubric(call, session=session)
    session.flush()
    session.refresh(rubric, with_for_update=True)
    return rubric


def _needs(session, rubric, proposals):
    ids = [p.id for p in proposals]
    if not ids:
        return []
    assignments = session.execute(
        select(Assignment.proposal_id, Assignment.reviewer_id, Assignment.state).where(
            Assignment.proposal_id.in_(ids)
        )
    ).all()
    everyone = defaultdict(set)
    active = Counter()
    for proposal_id, reviewer_id, state in assignments:
        everyone[proposal_id].add(reviewer_id)
        if state in ACTIVE_ASSIGNMENT_STATES:
            active[proposal_id] += 1
    tags = defaultdict(lambda: defaultdict(set))
    for proposal_id, kind, code in session.execute(
        select(ProposalTag.proposal_id, ProposalTag.kind, ProposalTag.code).where(
            ProposalTag.proposal_id.in_(ids), ProposalTag.kind.in_(["region", "species"])
        )
    ):
        tags[proposal_id][kind].add(code)
    needs = []
    for proposal in proposals:
        seats = rubric.reviewers_per_proposal - active[proposal.id]
        if seats <= 0:
            continue
        needs.append(
            ProposalNeed(
                proposal_id=proposal.id,
                organisation_id=proposal.organisation_id,
                seats=seats,
                theme=proposal.theme,
                regions=frozenset(tags[proposal.id]["region"]),
                species_groups=frozenset(code.lower() for code in tags[proposal.id]["species"]),
                excluded_reviewers=frozenset(everyone[proposal.id]),
            )
        )
    return needs


def _offers(session, call):
    profiles = (
        session.execute(
            select(ReviewerProfile)
            .join(User, User.id == ReviewerProfile.user_id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.REVIEWER, User.is_active.is_(True))
            .order_by(ReviewerProfile.user_id)
        )
        .scalars()
        .all()
    )
    user_ids = [profile.user_id for profile in profiles]
    loads = dict(
        session.execute(
            select(Assignment.reviewer_id, func.count(Assignment.id))
            .join(Proposal, Proposal.id == Assignment.proposal_id)
            .where(
                Proposal.call_id == call.id,
                Assignment.state.in_(ACTIVE_STATES),
                Assignment.reviewer_id.in_(user_ids),
            )
            .group_by(Assignment.reviewer_id)
        ).all()
    )
    conflicts = conflicted_organisation_ids(session, user_ids)
    return [
        ReviewerOffer(
            reviewer_id=profile.user_id,
            load=loads.get(profile.user_id, 0),
            capacity=profile.max_load_per_call,
            conflicted_organisations=frozenset(conflicts.get(profile.user_id, ())),
            themes=frozenset(profile.themes or []),
            regions=frozenset(profile.regions or []),
            species_groups=frozenset(g.lower() for g in profile.species_groups or []),
        )
        for profile in profiles
    ]


def _start_review(session, actor, proposal):
    """Eligible becomes in review at the first assignment (moved by the officer, or by the system)."""
    if proposal.state == ProposalState.ELIGIBLE:
        mover = actor if actor is not None and actor.has_role(Role.PROGRAMME_OFFICER) else None
        transition(session, PROPOSAL_WORKFLOW, proposal, ProposalState.IN_REVIEW, mover)
        return True
    return False


def assign_reviewers(session, actor, call, proposals=None):
    """Fill the empty reviewer seats of the call's eligible and in-review proposals (or of ``proposals``).

    Each proposal needs ``rubric.reviewers_per_proposal`` active assignments. Candidates are the active
    reviewers with a profile; never one conflicted with the proposal's organisation, nor one who is or was
    on it (declined, declared a conflict, removed). Loads are balanced within the call and capacities kept;
    matching expertise is preferred (``assignment.plan_assignments``). Each new assignment is audited with
    the reason "automatic" and the number of conflicted reviewers left out, and each reviewer gets one mail
    listing their new proposals. ``actor`` is the officer who asked, or None for the system. Returns an
    ``AssignmentRun``. Never commits.
    """
    rubric = _lock_rubric(session, call)
    query = select(Proposal).where(Proposal.call_id == call.id, Proposal.state.in_(ASSIGNABLE_STATES))
    if proposals is not None:
        query = query.where(Proposal.id.in_([p.id for p in proposals]))
    candidates = session.scalars(query.order_by(Proposal.id)).all()
    needs = _needs(session, rubric, candidates)
    run = AssignmentRun()
    if not needs:
        return run
    offers = _offers(session, call)
    pairs, unfilled = plan_assignments(needs, offers)
    run.unfilled = unfilled
    by_id = {p.id: p for p in candidates}
    need_of = {need.proposal_id: need for need in needs}
    offer_of = {offer.reviewer_id: offer for offer in offers}
    conflicted_count = {
        need.proposal_id: sum(1 for offer in offers if need.organisation_id in offer.conflicted_organisations)
        for need in needs
    }
    for proposal_id, reviewer_id in pairs:
        assignment = Assignment(
            proposal_id=proposal_id,
            reviewer_id=reviewer_id,
            state=AssignmentState.ASSIGNED,
            assigned_at=utcnow(),
            assigned_by_id=None,
            due_at=rubric.due_at,
        )
        session.add(assignment)
        session.flush()
        record_event(
            session,
            actor,
            assignment,
            "assignment.created",
            after={
                "proposal": by_id[proposal_id].reference,
                "reviewer": reviewer_id,
                "reason": "automatic",
                "conflicted_reviewers_excluded": conflicted_count[proposal_id],
                "expertise_match": expertise_match(need_of[proposal_id], offer_of[reviewer_id]),
            },
        )
        run.created.append(assignment)
    for proposal_id in sorted({proposal_id for proposal_id, _reviewer in pairs}):
        if _start_review(session, actor, by_id[proposal_id]):
            run.started.append(by_id[proposal_id])
    _mail_new_assignments(session, rubric, run.created)
    session.flush()
    return run


def assign_manually(session, officer, proposal, reviewer, reason):
    """An officer assigns ``reviewer`` to ``proposal`` by hand, overriding the automatic choice: a reason is
    required, and a conflicted reviewer is refused like in the automatic run. A reviewer who declined or was
    removed earlier may be assigned again; one who declared a conflict may not. The reviewer's maximum load
    may be exceeded (the audit event records it)."""
    _require_officer(officer)
    reason = _require_reason(reason, _("Give the reason for assigning this reviewer by hand."))
    if reviewer is None or not is_reviewer(reviewer) or not reviewer.is_active:
        raise DomainError(_("Choose an active reviewer from the list."), field="reviewer_id")
    if proposal.state not in ASSIGNABLE_STATES:
        raise DomainError(
            _(
                "%(reference)s is %(state)s: reviewers are assigned only to eligible proposals and proposals "
                "in review.",
                reference=proposal.reference,
                state=proposal.state.label,
            )
        )
    conflict = conflict_with(session, reviewer, proposal)
    if conflict:
        raise DomainError(conflict + " " + _("Choose another reviewer."), field="reviewer_id")
    rubric = _lock_rubric(session, proposal.call)
    existing = session.scalar(
        select(Assignment).where(Assignment.proposal_id == proposal.id, Assignment.reviewer_id == reviewer.id)
    )
    if existing is not None and existing.state in ACTIVE_ASSIGNMENT_STATES:
        raise DomainError(
            _(
                "%(name)s is already a reviewer of %(reference)s.",
                name=reviewer.full_name,
                reference=proposal.reference,
            ),
            field="reviewer_id",
        )
    if existing is not None and existing.state == AssignmentState.CONFLICTED:
        raise DomainError(
            _(
                "%(name)s declared a conflict of interest on %(reference)s and cannot review it.",
                name=reviewer.full_name,
                reference=proposal.reference,
            ),
            field="reviewer_id",
        )
    load = session.scalar(
        select(func.count(Assignment.id))
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .where(
            Proposal.call_id == proposal.call_id,
            Assignment.reviewer_id == reviewer.id,
            Assignment.state.in_(ACTIVE_STATES),
        )
    )
    profile = profile_of(session, reviewer)
    capacity = profile.max_load_per_call if profile else None
    before = None
    if existing is not None:
        before = {"state": existing.state.value, "note": existing.declaration_note}
        assignment = existing
        assignment.state = AssignmentState.ASSIGNED
        assignment.assigned_at = utcnow()
        assignment.declared_at = None
        assignment.declaration_note = None
        assignment.last_reminded_at = None
    else:
        assignment = Assignment(
            proposal_id=proposal.id, reviewer_id=reviewer.id, state=AssignmentState.ASSIGNED
        )
        session.add(assignment)
    assignment.assigned_by_id = officer.id
    assignment.override_reason = reason
    assignment.due_at = rubric.due_at
    session.flush()
    record_event(
        session,
        officer,
        assignment,
        "assignment.created",
        before=before,
        after={
            "proposal": proposal.reference,
            "reviewer": reviewer.id,
            "reason": "override",
            "override_reason": reason,
            "load_before": load,
            "capacity": capacity,
        },
    )
    _start_review(session, officer, proposal)
    _mail_new_assignments(session, rubric, [assignment])
    session.flush()
    return assignment


def remove_assignment(session, officer, assignment, reason):
    """An officer takes an assignment away (a late reviewer, a conflict found later); a submitted review
    removed this way no longer counts. The proposal is not refilled automatically: the officer assigns
    again, by hand or with "Assign automatically"."""
    _require_officer(officer)
    reason = _require_reason(reason, _("Give the reason for removing this reviewer."))
    _lock_assignment(session, assignment)
    if assignment.state not in ACTIVE_ASSIGNMENT_STATES:
        raise DomainError(_("This assignment is already %(state)s.", state=assignment.state.label.lower()))
    proposal = assignment.proposal
    if proposal.state not in ASSIGNABLE_STATES:
        raise DomainError(
            _(
                "%(reference)s is %(state)s: its reviews can no longer be changed.",
                reference=proposal.reference,
                state=proposal.state.label,
            )
        )
    before = {"state": assignment.state.value}
    assignment.state = AssignmentState.REMOVED
    assignment.override_reason = reason
    session.flush()
    record_event(
        session,
        officer,
        assignment,
        "assignment.removed",
        before=before,
        after={"state": AssignmentState.REMOVED.value, "reason": reason, "proposal": proposal.reference},
    )
    _mail_withdrawn(session, assignment)
    rubric = rubric_of(session, proposal.call)
    remaining = active_assignments(session, proposal)
    if rubric is not None and len(remaining) >= rubric.reviewers_per_proposal:
        review_completed(session, proposal)
    return assignment


def _lock_assignment(session, assignment):
    session.flush()
    session.refresh(assignment, attribute_names=["state"], with_for_update=True)


def _replace(session, assignment, why):
    """Assign a replacement for a withdrawn assignment; tell the officers if nobody is available."""
    proposal = assignment.proposal
    run = assign_reviewers(session, None, proposal.call, proposals=[proposal])
    if proposal.id in run.unfilled:
        _mail_officers_no_replacement(session, proposal, why)
    return run


def declare_conflict(session, reviewer, assignment, has_conflict, note=None):
    """The reviewer's declaration before seeing the full proposal.

    No conflict: the assignment is accepted and the reviewer may read the proposal. A conflict (declared
    before or after accepting, but not once the review is submitted): the assignment is withdrawn with the
    reviewer's note, a replacement is assigned at once, and the officers are told if none is available.
    Both are audited. Returns the assignment.
    """
    if reviewer is None or assignment.reviewer_id != reviewer.id:
        raise DomainError(_("Only the assigned reviewer can declare a conflict of interest."))
    _lock_assignment(session, assignment)
    note = _clean(note)
    if len(note) > MAX_REASON:
        raise DomainError(_("Keep the note under %(n)d characters.", n=MAX_REASON), field="note")
    state = assignment.state
    proposal = assignment.proposal
    if proposal.state not in ASSIGNABLE_STATES and state in PENDING_STATES:
        raise DomainError(_("The review of %(reference)s is closed.", reference=proposal.reference))
    if has_conflict:
        if state not in PENDING_STATES:
            raise DomainError(_conflict_refusal(state))
        assignment.state = AssignmentState.CONFLICTED
        assignment.declared_at = utcnow()
        assignment.declaration_note = note or None
        session.flush()
        record_event(
            session,
            reviewer,
            assignment,
            "assignment.conflicted",
            before={"state": state.value},
            after={
                "state": AssignmentState.CONFLICTED.value,
                "note": note or None,
                "proposal": proposal.reference,
            },
        )
        _replace(session, assignment, _("%(name)s declared a conflict of interest.", name=reviewer.full_name))
        return assignment
    if state != AssignmentState.ASSIGNED:
        raise DomainError(_conflict_refusal(state))
    assignment.state = AssignmentState.ACCEPTED
    assignment.declared_at = utcnow()
    assignment.declaration_note = note or None
    session.flush()
    record_event(
        session,
        reviewer,
        assignment,
        "assignment.accepted",
        before={"state": state.value},
        after={"state": AssignmentState.ACCEPTED.value, "no_conflict": True, "note": note or None},
    )
    return assignment


def _conflict_refusal(state):
    if state == AssignmentState.SUBMITTED:
        return _(
            "Your review is submitted. If you have found a conflict of interest, tell the programme officer."
        )
    if state == AssignmentState.ACCEPTED:
        return _("You have already declared that you have no conflict of interest.")
    return _("This assignment is %(state)s: there is nothing to declare.", state=state.label.lower())


def decline_assignment(session, reviewer, assignment, reason):
    """The reviewer declines (before submitting); a replacement is assigned at once and the officers are
    told if none is available."""
    if reviewer is None or assignment.reviewer_id != reviewer.id:
        raise DomainError(_("Only the assigned reviewer can decline this assignment."))
    reason = _require_reason(reason, _("Tell the officer briefly why you decline."))
    _lock_assignment(session, assignment)
    state = assignment.state
    if state not in PENDING_STATES:
        raise DomainError(
            _("This assignment is %(state)s and can no longer be declined.", state=state.label.lower())
        )
    assignment.state = AssignmentState.DECLINED
    assignment.declared_at = assignment.declared_at or utcnow()
    assignment.declaration_note = reason
    session.flush()
    record_event(
        session,
        reviewer,
        assignment,
        "assignment.declined",
        before={"state": state.value},
        after={
            "state": AssignmentState.DECLINED.value,
            "reason": reason,
            "proposal": assignment.proposal.reference,
        },
    )
    if assignment.proposal.state in ASSIGNABLE_STATES:
        _replace(session, assignment, _("%(name)s declined.", name=reviewer.full_name))
    return assignment


def withdraw_conflicted_assignments(session, actor, reviewer):
    """Withdraw (as conflicted) the reviewer's pending assignments to proposals of organisations they now
    belong to or are affiliated with, and assign replacements. Submitted reviews are left to the officer
    (``conflicted_submitted_reviews`` lists them). Returns the withdrawn assignments."""
    organisations = conflicted_organisation_ids(session, [reviewer.id]).get(reviewer.id, set())
    if not organisations:
        return []
    pending = session.scalars(
        select(Assignment)
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .where(
            Assignment.reviewer_id == reviewer.id,
            Assignment.state.in_(PENDING_STATES),
            Proposal.organisation_id.in_(organisations),
        )
        .order_by(Assignment.id)
    ).all()
    for assignment in pending:
        state = assignment.state
        assignment.state = AssignmentState.CONFLICTED
        assignment.declaration_note = _("Withdrawn automatically: a new affiliation or membership.")
        session.flush()
        record_event(
            session,
            actor,
            assignment,
            "assignment.conflicted",
            before={"state": state.value},
            after={"state": AssignmentState.CONFLICTED.value, "reason": "affiliation", "automatic": True},
        )
        if assignment.proposal.state in ASSIGNABLE_STATES:
            _replace(session, assignment, _("%(name)s has a new affiliation.", name=reviewer.full_name))
    return pending


def review_completed(session, proposal):
    """After a review is submitted: the proposal becomes reviewed (moved by the system) when every active
    assignment is submitted, and there is at least one. Returns whether it moved."""
    if proposal.state != ProposalState.IN_REVIEW:
        return False
    states = [a.state for a in active_assignments(session, proposal)]
    if not states or any(state != AssignmentState.SUBMITTED for state in states):
        return False
    transition(
        session,
        PROPOSAL_WORKFLOW,
        proposal,
        ProposalState.REVIEWED,
        None,
        context={"reviews": len(states)},
    )
    return True


def close_review(session, officer, proposal, reason):
    """An officer ends the review of ``proposal`` (in review -> reviewed) even with reviews missing; a
    reason is required. Pending assignments are withdrawn (their reviewers are told)."""
    _require_officer(officer)
    reason = _require_reason(reason, _("Give the reason for closing the review."))
    if proposal.state != ProposalState.IN_REVIEW:
        raise DomainError(
            _(
                "%(reference)s is %(state)s, not in review: there is no review to close.",
                reference=proposal.reference,
                state=proposal.state.label,
            )
        )
    pending = [a for a in active_assignments(session, proposal) if a.state in PENDING_STATES]
    submitted = session.scalar(
        select(func.count(Assignment.id)).where(
            Assignment.proposal_id == proposal.id, Assignment.state == AssignmentState.SUBMITTED
        )
    )
    transition(
        session,
        PROPOSAL_WORKFLOW,
        proposal,
        ProposalState.REVIEWED,
        officer,
        reason=reason,
        context={"closed_by_officer": True, "reviews": submitted, "withdrawn": len(pending)},
    )
    for assignment in pending:
        state = assignment.state
        assignment.state = AssignmentState.REMOVED
        assignment.override_reason = _("Review closed: %(reason)s", reason=reason)
        session.flush()
        record_event(
            session,
            officer,
            assignment,
            "assignment.removed",
            before={"state": state.value},
            after={"state": AssignmentState.REMOVED.value, "reason": "review closed"},
        )
        _mail_withdrawn(session, assignment)
    session.flush()
    return proposal


# -- reminders -----------------------------------------------------------------------------------------------


def _local_date(instant):
    return instant.astimezone(fund_timezone()).date()


def send_reminders(session, now=None):
    """Mail every reviewer whose pending assignments are due within three days or overdue: one mail per
    reviewer listing them, at most one reminder per assignment per day (the fund's calendar day, so a daily
    job that runs a second early still sends). Returns the number of mails queued. Never commits."""
    now = now or utcnow()
    due = session.scalars(
        select(Assignment)
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .join(User, User.id == Assignment.reviewer_id)
        .where(
            Assignment.state.in_(PENDING_STATES),
            Assignment.due_at.is_not(None),
            Assignment.due_at <= now + REMINDER_WINDOW,
            Proposal.state == ProposalState.IN_REVIEW,
            User.is_active.is_(True),
        )
        .order_by(Assignment.reviewer_id, Assignment.due_at, Assignment.id)
        .with_for_update(of=Assignment)
    ).all()
    today = _local_date(now)
    by_reviewer = defaultdict(list)
    for assignment in due:
        if assignment.last_reminded_at is not None and _local_date(assignment.last_reminded_at) >= today:
            continue
        by_reviewer[assignment.reviewer_id].append(assignment)
    for assignments in by_reviewer.values():
        _mail_reminder(session, assignments, now)
        for assignment in assignments:
            assignment.last_reminded_at = now
    session.flush()
    return len(by_reviewer)


# -- mail ----------------------------------------------------------------------------------------------------

#: Where a reviewer's list of assignments lives (the reviewer-side pages), first one the app has.
REVIEWER_ENDPOINTS = ("reviewing.assignments", "reviewer.assignments", "reviewer.index", "reviewing.index")


def _link(endpoints, **values):
    if not has_request_context():
        return ""
    for endpoint in endpoints:
        if endpoint in current_app.view_functions:
            return url_for(endpoint, _external=True, **values)
    return url_for("main.home", _external=True)


def _proposal_line(proposal, blind):
    if blind:
        return f"- {proposal.reference}: {proposal.title}"
    return f"- {proposal.reference}: {proposal.title} ({proposal.organisation.name_en})"


def _mail_new_assignments(session, rubric, assignments):
    """One mail per reviewer listing their new proposals; a blind call's mail names no organisation."""
    by_reviewer = defaultdict(list)
    for assignment in assignments:
        by_reviewer[assignment.reviewer_id].append(assignment)
    for reviewer_id in sorted(by_reviewer):
        items = by_reviewer[reviewer_id]
        reviewer = session.get(User, reviewer_id)
        call = items[0].proposal.call
        with force_locale(reviewer.locale or "en"):
            lines = "\n".join(_proposal_line(a.proposal, rubric.blind) for a in items)
            due = (
                _("Reviews are due by %(when)s.", when=local_datetime(rubric.due_at)) if rubric.due_at else ""
            )
            subject = _("Proposals to review in %(call)s", call=call.reference)
            body = _(
                "Dear %(name)s,\n\nYou have been asked to review these proposals to the call “%(call)s”:\n\n"
                "%(lines)s\n\nBefore you read a proposal, declare whether you have a conflict of interest; "
                "you may also decline. %(due)s\n%(link)s\n\n%(fund)s\n",
                name=reviewer.full_name,
                call=call.title,
                lines=lines,
                due=due,
                link=_link(REVIEWER_ENDPOINTS),
                fund=current_app.config["FUND_NAME"],
            )
        queue_mail(session, reviewer.email, subject, body)


def _mail_withdrawn(session, assignment):
    reviewer = assignment.reviewer
    proposal = assignment.proposal
    with force_locale(reviewer.locale or "en"):
        subject = _("%(reference)s: your review is no longer needed", reference=proposal.reference)
        body = _(
            "Dear %(name)s,\n\nThe programme officer has withdrawn your assignment to review %(reference)s, "
            "“%(title)s”. You do not need to do anything more for it.\n\n%(fund)s\n",
            name=reviewer.full_name,
            reference=proposal.reference,
            title=proposal.title,
            fund=current_app.config["FUND_NAME"],
        )
    queue_mail(session, reviewer.email, subject, body)


def _officers_to_tell(session, call):
    creator = session.get(User, call.created_by_id) if call.created_by_id else None
    if creator is not None and creator.is_active and creator.has_role(Role.PROGRAMME_OFFICER):
        return [creator]
    return session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.PROGRAMME_OFFICER, User.is_active.is_(True))
        .order_by(User.id)
    ).all()


def _mail_officers_no_replacement(session, proposal, why):
    for officer in _officers_to_tell(session, proposal.call):
        with force_locale(officer.locale or "en"):
            subject = _("%(reference)s needs a reviewer", reference=proposal.reference)
            body = _(
                "%(why)s No other reviewer is available for %(reference)s, “%(title)s”: every remaining "
                "reviewer is conflicted, already on it, or at their maximum load. Assign one by hand.\n"
                "%(link)s\n\n%(fund)s\n",
                why=why,
                reference=proposal.reference,
                title=proposal.title,
                link=_link(("review_admin.proposal_reviewers",), proposal_id=proposal.id),
                fund=current_app.config["FUND_NAME"],
            )
        queue_mail(session, officer.email, subject, body)


def _mail_reminder(session, assignments, now):
    reviewer = assignments[0].reviewer
    with force_locale(reviewer.locale or "en"):
        lines = []
        for assignment in assignments:
            proposal = assignment.proposal
            rubric = rubric_of(session, proposal.call)
            blind = rubric.blind if rubric is not None else False
            when = local_datetime(assignment.due_at)
            status = (
                _("overdue since %(when)s", when=when)
                if assignment.due_at <= now
                else _("due %(when)s", when=when)
            )
            lines.append(f"{_proposal_line(proposal, blind)} · {status}")
        overdue = any(a.due_at <= now for a in assignments)
        subject = _("Reminder: reviews overdue") if overdue else _("Reminder: reviews due soon")
        body = _(
            "Dear %(name)s,\n\nThese reviews are waiting for you:\n\n%(lines)s\n\n"
            "If you cannot finish them in time, decline so that another reviewer can step in.\n%(link)s\n\n"
            "%(fund)s\n",
            name=reviewer.full_name,
            lines="\n".join(lines),
            link=_link(REVIEWER_ENDPOINTS),
            fund=current_app.config["FUND_NAME"],
        )
    queue_mail(session, reviewer.email, subject, body)


# -- what the board shows ------------------------------------------------------------------------------------


@dataclass
class BoardRow:
    proposal: Proposal
    assignments: list
    #: Active assignments count.
    active: int
    needed: int
    #: Active assignments whose reviewer is now conflicted (a membership or affiliation added later).
    conflicted: list

    @property
    def missing(self):
        return max(self.needed - self.active, 0)

    @property
    def all_in(self):
        active = [a for a in self.assignments if a.state in ACTIVE_ASSIGNMENT_STATES]
        return bool(active) and all(a.state == AssignmentState.SUBMITTED for a in active)


def assignment_board(session, call):
    """The call's proposals in review (and those waiting for it or just reviewed) with their assignments,
    in a fixed number of queries."""
    rubric = rubric_of(session, call)
    needed = rubric.reviewers_per_proposal if rubric else 3
    proposals = session.scalars(
        select(Proposal)
        .where(
            Proposal.call_id == call.id,
            Proposal.state.in_([*ASSIGNABLE_STATES, ProposalState.REVIEWED]),
        )
        .options(selectinload(Proposal.organisation))
        .order_by(Proposal.reference)
    ).all()
    ids = [p.id for p in proposals]
    assignments = defaultdict(list)
    reviewer_ids = set()
    if ids:
        for assignment in session.scalars(
            select(Assignment)
            .where(Assignment.proposal_id.in_(ids))
            .options(selectinload(Assignment.reviewer), selectinload(Assignment.review))
            .order_by(Assignment.assigned_at, Assignment.id)
        ):
            assignments[assignment.proposal_id].append(assignment)
            reviewer_ids.add(assignment.reviewer_id)
    conflicts = conflicted_organisation_ids(session, reviewer_ids)
    rows = []
    for proposal in proposals:
        items = assignments.get(proposal.id, [])
        active = [a for a in items if a.state in ACTIVE_ASSIGNMENT_STATES]
        rows.append(
            BoardRow(
                proposal=proposal,
                assignments=items,
                active=len(active),
                needed=needed,
                conflicted=[
                    a for a in active if proposal.organisation_id in conflicts.get(a.reviewer_id, ())
                ],
            )
        )
    return rubric, rows


@dataclass
class Candidate:
    reviewer: User
    load: int
    capacity: int | None
    conflict: str | None
    #: The reviewer's earlier assignment to the proposal, if any (declined, removed, conflicted).
    previous: Assignment | None
    match: int


def manual_candidates(session, proposal):
    """Every active reviewer with their load in the call, whether they are conflicted with the proposal and
    how well they match it: what the officer picks from when assigning by hand."""
    people = reviewers(session)
    ids = [u.id for u in people]
    conflicts = conflicted_organisation_ids(session, ids)
    loads = dict(
        session.execute(
            select(Assignment.reviewer_id, func.count(Assignment.id))
            .join(Proposal, Proposal.id == Assignment.proposal_id)
            .where(Proposal.call_id == proposal.call_id, Assignment.state.in_(ACTIVE_STATES))
            .group_by(Assignment.reviewer_id)
        ).all()
    )
    profiles = {
        p.user_id: p for p in session.scalars(select(ReviewerProfile).where(ReviewerProfile.user_id.in_(ids)))
    }
    previous = {
        a.reviewer_id: a
        for a in session.scalars(select(Assignment).where(Assignment.proposal_id == proposal.id))
    }
    tags = defaultdict(set)
    for kind, code in session.execute(
        select(ProposalTag.kind, ProposalTag.code).where(ProposalTag.proposal_id == proposal.id)
    ):
        tags[kind].add(code)
    need = ProposalNeed(
        proposal_id=proposal.id,
        organisation_id=proposal.organisation_id,
        seats=1,
        theme=proposal.theme,
        regions=frozenset(tags["region"]),
        species_groups=frozenset(c.lower() for c in tags["species"]),
    )
    result = []
    for user in people:
        profile = profiles.get(user.id)
        conflict = None
        if proposal.organisation_id in conflicts.get(user.id, ()):
            conflict = _("conflict of interest with %(org)s", org=proposal.organisation.name_en)
        match = 0
        if profile is not None:
            match = expertise_match(
                need,
                ReviewerOffer(
                    reviewer_id=user.id,
                    load=0,
                    capacity=profile.max_load_per_call,
                    themes=frozenset(profile.themes or []),
                    regions=frozenset(profile.regions or []),
                    species_groups=frozenset(g.lower() for g in profile.species_groups or []),
                ),
            )
        result.append(
            Candidate(
                reviewer=user,
                load=loads.get(user.id, 0),
                capacity=profile.max_load_per_call if profile else None,
                conflict=conflict,
                previous=previous.get(user.id),
                match=match,
            )
        )
    return result


def calls_with_reviews(session):
    """Calls that have proposals past screening, newest first, with counts by proposal state."""
    counts = defaultdict(Counter)
    for call_id, state, count in session.execute(
        select(Proposal.call_id, Proposal.state, func.count(Proposal.id))
        .where(Proposal.state.in_([*ASSIGNABLE_STATES, ProposalState.REVIEWED]))
        .group_by(Proposal.call_id, Proposal.state)
    ):
        counts[call_id][ProposalState(state)] = count
    calls = session.scalars(
        select(Call).where(Call.state.in_([CallState.PUBLISHED, CallState.CLOSED])).order_by(Call.id.desc())
    ).all()
    return [(call, counts.get(call.id, Counter())) for call in calls]
