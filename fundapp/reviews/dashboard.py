"""What reviews add to navigation, programme officers' home pages and the fund summary."""

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from fundapp.applications.models import Call, Proposal
from fundapp.core.navigation import NextAction, register_nav, register_next_actions
from fundapp.core.permissions import Role
from fundapp.core.summary import count_by_state, register_counter
from fundapp.extensions import db
from fundapp.reviews.models import Assignment, AssignmentState, Rubric
from fundapp.reviews.operations import ACTIVE_STATES, ASSIGNABLE_STATES

#: Seats per proposal of a call that has no rubric yet (its default rubric asks for this many).
DEFAULT_SEATS = 3

register_nav(_l("Reviews"), "review_admin.index", roles=[Role.PROGRAMME_OFFICER], order=22)
register_nav(_l("My reviewer profile"), "reviewer_profile.own_profile", roles=[Role.REVIEWER], order=31)


def short_of_reviewers(session):
    """``[(call id, reference, title, proposals short of reviewers)]``, in one query."""
    active = (
        select(Assignment.proposal_id, func.count(Assignment.id).label("active"))
        .where(Assignment.state.in_(ACTIVE_STATES))
        .group_by(Assignment.proposal_id)
        .subquery()
    )
    needed = func.coalesce(Rubric.reviewers_per_proposal, DEFAULT_SEATS)
    return session.execute(
        select(Call.id, Call.reference, Call.title, func.count(Proposal.id))
        .join(Proposal, Proposal.call_id == Call.id)
        .outerjoin(Rubric, Rubric.call_id == Call.id)
        .outerjoin(active, active.c.proposal_id == Proposal.id)
        .where(Proposal.state.in_(ASSIGNABLE_STATES), func.coalesce(active.c.active, 0) < needed)
        .group_by(Call.id, Call.reference, Call.title)
        .order_by(Call.id)
    ).all()


def conflicts_to_replace(session):
    """``[(proposal id, reference, call id)]``: proposals where a reviewer declared a conflict or declined
    and no replacement has been found (fewer active reviewers than the call asks for)."""
    active = (
        select(Assignment.proposal_id, func.count(Assignment.id).label("active"))
        .where(Assignment.state.in_(ACTIVE_STATES))
        .group_by(Assignment.proposal_id)
        .subquery()
    )
    withdrawn = (
        select(Assignment.proposal_id)
        .where(Assignment.state.in_([AssignmentState.CONFLICTED, AssignmentState.DECLINED]))
        .distinct()
        .subquery()
    )
    needed = func.coalesce(Rubric.reviewers_per_proposal, DEFAULT_SEATS)
    return session.execute(
        select(Proposal.id, Proposal.reference, Proposal.call_id)
        .join(withdrawn, withdrawn.c.proposal_id == Proposal.id)
        .outerjoin(Rubric, Rubric.call_id == Proposal.call_id)
        .outerjoin(active, active.c.proposal_id == Proposal.id)
        .where(Proposal.state.in_(ASSIGNABLE_STATES), func.coalesce(active.c.active, 0) < needed)
        .order_by(Proposal.id)
        .limit(20)
    ).all()


def _programme_officer_actions(user):
    actions = []
    for proposal_id, reference, _call_id in conflicts_to_replace(db.session):
        actions.append(
            NextAction(
                _("Replace a withdrawn reviewer of %(reference)s", reference=reference),
                url_for("review_admin.proposal_reviewers", proposal_id=proposal_id),
                _("A reviewer declared a conflict or declined, and nobody else was available."),
                urgency="urgent",
            )
        )
    for call_id, reference, title, count in short_of_reviewers(db.session):
        actions.append(
            NextAction(
                ngettext(
                    "Assign reviewers to %(num)d proposal in %(reference)s",
                    "Assign reviewers to %(num)d proposals in %(reference)s",
                    count,
                    reference=reference,
                ),
                url_for("review_admin.board", call_id=call_id),
                title,
                urgency="urgent",
            )
        )
    return actions


register_next_actions(Role.PROGRAMME_OFFICER, _programme_officer_actions)
register_counter("review_assignments_by_state", count_by_state(Assignment, Assignment.state))
