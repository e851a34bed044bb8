"""What calls and screening add to navigation, programme officers' home pages and the fund summary."""

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from fundapp.applications.calls import publication_problems
from fundapp.applications.models import Call, CallState, Proposal, ProposalState
from fundapp.core.db import utcnow
from fundapp.core.navigation import NextAction, register_nav, register_next_actions
from fundapp.core.permissions import Role
from fundapp.core.summary import count_by_state, register_counter
from fundapp.extensions import db

register_nav(_l("Open calls"), "calls.public_calls", roles=[Role.APPLICANT], order=10)
register_nav(_l("Calls"), "calls.officer_calls", roles=[Role.PROGRAMME_OFFICER], order=20)
register_nav(_l("Proposals"), "calls.officer_proposals", roles=[Role.PROGRAMME_OFFICER], order=21)


def _programme_officer_actions(user):
    actions = []
    waiting = db.session.execute(
        select(Call.id, Call.reference, Call.title, func.count(Proposal.id), func.min(Proposal.submitted_at))
        .join(Proposal, Proposal.call_id == Call.id)
        .where(Proposal.state == ProposalState.SUBMITTED)
        .group_by(Call.id, Call.reference, Call.title)
        .order_by(func.min(Proposal.submitted_at))
    ).all()
    for call_id, reference, title, count, _oldest in waiting:
        actions.append(
            NextAction(
                ngettext(
                    "Screen %(num)d proposal in %(reference)s",
                    "Screen %(num)d proposals in %(reference)s",
                    count,
                    reference=reference,
                ),
                url_for("calls.officer_proposals", call=call_id, state=ProposalState.SUBMITTED.value),
                title,
                urgency="urgent",
            )
        )
    now = utcnow()
    overdue = db.session.scalars(
        select(Call).where(Call.state == CallState.PUBLISHED, Call.closes_at <= now).order_by(Call.closes_at)
    ).all()
    for call in overdue:
        actions.append(
            NextAction(
                _("Close %(reference)s: its deadline has passed", reference=call.reference),
                url_for("calls.officer_call", call_id=call.id),
                call.title,
            )
        )
    drafts = db.session.scalars(
        select(Call).where(Call.state == CallState.DRAFT).order_by(Call.id).limit(10)
    ).all()
    for call in drafts:
        problems = publication_problems(call, now)
        detail = (
            ngettext("%(num)d thing to settle first", "%(num)d things to settle first", len(problems))
            if problems
            else _("Ready to publish")
        )
        actions.append(
            NextAction(
                _("Publish the draft call %(reference)s", reference=call.reference),
                url_for("calls.officer_call", call_id=call.id),
                f"{call.title} · {detail}",
            )
        )
    actions.append(NextAction(_("Draft a new call for proposals"), url_for("calls.new_call")))
    return actions


register_next_actions(Role.PROGRAMME_OFFICER, _programme_officer_actions)

register_counter("calls_by_state", count_by_state(Call, Call.state))
register_counter("proposals_by_state", count_by_state(Proposal, Proposal.state))
