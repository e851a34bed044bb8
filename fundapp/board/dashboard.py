"""What the board adds to navigation, home pages and the fund summary.

Board members see the items waiting for their vote and the meetings coming up; the secretary (every
programme officer while none is set) sees the meetings to prepare, to hold and to close.
"""

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from fundapp.board import operations
from fundapp.board.models import AgendaItem, Meeting, MeetingKind, MeetingState
from fundapp.core.db import utcnow
from fundapp.core.formatting import local_datetime
from fundapp.core.navigation import NextAction, register_nav, register_next_actions
from fundapp.core.permissions import Role
from fundapp.core.summary import count_by_state, register_counter
from fundapp.extensions import db

register_nav(_l("Board"), "board.meetings", roles=[Role.BOARD_MEMBER, Role.PROGRAMME_OFFICER], order=40)


def _meeting_url(meeting):
    return url_for("board.meeting", reference=meeting.reference)


def _member_actions(user):
    session = db.session
    actions = []
    settings = operations.board_settings(session)
    to_vote = {}
    for item in operations.open_items_for(session, user):
        if operations.vote_of(item, user) is None and not operations.voting_refusal(
            session, item, user, settings
        ):
            to_vote.setdefault(item.meeting, []).append(item)
    for meeting, items in to_vote.items():
        detail = meeting.title
        if meeting.kind == MeetingKind.CORRESPONDENCE:
            detail = _("Votes close %(deadline)s", deadline=local_datetime(meeting.vote_deadline))
        actions.append(
            NextAction(
                ngettext(
                    "Vote on %(num)d item of %(reference)s",
                    "Vote on %(num)d items of %(reference)s",
                    len(items),
                    reference=meeting.reference,
                ),
                _meeting_url(meeting),
                detail,
                urgency="urgent",
            )
        )
    coming = session.scalars(
        select(Meeting)
        .where(Meeting.state == MeetingState.SCHEDULED, Meeting.scheduled_at >= utcnow())
        .order_by(Meeting.scheduled_at)
        .limit(5)
    ).all()
    for meeting in coming:
        if not meeting.items:
            continue
        actions.append(
            NextAction(
                _("Read the board pack of %(reference)s", reference=meeting.reference),
                _meeting_url(meeting),
                _("%(title)s, %(when)s", title=meeting.title, when=local_datetime(meeting.scheduled_at)),
            )
        )
    return actions


def _secretary_actions(user):
    session = db.session
    if not operations.can_manage_meetings(session, user):
        return []
    actions = []
    now = utcnow()
    for meeting in session.scalars(
        select(Meeting).where(Meeting.state == MeetingState.OPEN).order_by(Meeting.scheduled_at)
    ):
        undecided = [item for item in meeting.items if not item.is_decided]
        if meeting.kind == MeetingKind.CORRESPONDENCE and meeting.vote_deadline <= now:
            actions.append(
                NextAction(
                    _("Close the vote by correspondence %(reference)s", reference=meeting.reference),
                    _meeting_url(meeting),
                    _("The deadline has passed; closing decides its items."),
                    urgency="urgent",
                )
            )
        elif not undecided and meeting.kind == MeetingKind.MEETING:
            actions.append(
                NextAction(
                    _("Close %(reference)s and store its minutes", reference=meeting.reference),
                    _meeting_url(meeting),
                    _("Every item is decided."),
                    urgency="urgent",
                )
            )
        else:
            actions.append(
                NextAction(
                    ngettext(
                        "%(reference)s is open: %(num)d item to decide",
                        "%(reference)s is open: %(num)d items to decide",
                        len(undecided),
                        reference=meeting.reference,
                    ),
                    _meeting_url(meeting),
                    meeting.title,
                )
            )
    for meeting in session.scalars(
        select(Meeting).where(Meeting.state == MeetingState.SCHEDULED).order_by(Meeting.scheduled_at)
    ):
        count = len(meeting.items)
        actions.append(
            NextAction(
                ngettext(
                    "Prepare %(reference)s: %(num)d item on the agenda",
                    "Prepare %(reference)s: %(num)d items on the agenda",
                    count,
                    reference=meeting.reference,
                ),
                _meeting_url(meeting),
                _("%(title)s, %(when)s", title=meeting.title, when=local_datetime(meeting.scheduled_at)),
                urgency="urgent" if count == 0 else "normal",
            )
        )
    return actions


def decisions_by_outcome(session):
    """The board's decisions, counted per outcome (undecided items are not decisions)."""
    rows = session.execute(
        select(AgendaItem.outcome, func.count())
        .where(AgendaItem.outcome.is_not(None))
        .group_by(AgendaItem.outcome)
    )
    counts = {str(getattr(outcome, "value", outcome)): count for outcome, count in rows}
    counts["total"] = sum(counts.values())
    return counts


register_next_actions(Role.BOARD_MEMBER, _member_actions)
register_next_actions(Role.PROGRAMME_OFFICER, _secretary_actions)
register_counter("meetings_by_state", count_by_state(Meeting, Meeting.state))
register_counter("board_decisions_by_outcome", decisions_by_outcome)
