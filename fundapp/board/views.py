"""The board's pages, under /board.

Who sees what: board members and programme officers see the meetings; members vote for themselves and
declare their own conflicts; the secretary (any programme officer while none is set) manages meetings;
an admin or the secretary changes the board's rules. Everyone else gets 403, anonymous visitors the login
page. Each action is a small POST form on the meeting page; a refusal flashes its message (and marks the
field) on the unchanged page, with status 400.
"""

from io import BytesIO

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from fundapp.accounts.models import User, UserRole
from fundapp.applications.calls import parse_amount
from fundapp.applications.models import Proposal
from fundapp.board import operations
from fundapp.board.forms import (
    ActionForm,
    AddToAgendaForm,
    AttendanceForm,
    BoardSettingsForm,
    ConflictForm,
    DecideForm,
    MeetingForm,
    MotionForm,
    ReasonForm,
    VoteForm,
)
from fundapp.board.models import AgendaItem, DecisionOutcome, MeetingKind, MeetingState
from fundapp.core.errors import DomainError
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.core.storage import send_stored_file
from fundapp.extensions import db, login_manager

bp = Blueprint("board", __name__, url_prefix="/board")

PDF = "application/pdf"


# -- access -----------------------------------------------------------------------------------------------


@bp.before_request
def _require_board_access():
    """Anonymous: the login page. Signed in: board members, programme officers and admins come further
    (each view narrows it down); anyone else gets 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role(Role.BOARD_MEMBER, Role.PROGRAMME_OFFICER, Role.ADMIN):
        abort(403)
    return None


def _viewer():
    if not operations.can_view_meetings(current_user):
        abort(403)


def _manager():
    if not operations.can_manage_meetings(db.session, current_user):
        abort(403)


def _meeting(reference, *, votes=True):
    meeting = operations.get_meeting(
        db.session, reference, options=operations.meeting_page_loading(votes=votes)
    )
    if meeting is None:
        abort(404)
    return meeting


def _item(meeting, item_id):
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        abort(404)
    return item


def _user(user_id):
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise DomainError(_("Choose a member of the board."), field="member_id")
    return user


# -- the meetings list and the settings -------------------------------------------------------------------


@bp.route("/")
def meetings():
    _viewer()
    all_meetings = operations.meetings(db.session)
    current = [m for m in all_meetings if m.state in (MeetingState.SCHEDULED, MeetingState.OPEN)]
    current.sort(key=lambda m: m.scheduled_at)
    past = [m for m in all_meetings if m.state not in (MeetingState.SCHEDULED, MeetingState.OPEN)]
    waiting = []
    if operations.is_board_member(current_user):
        for item in operations.open_items_for(db.session, current_user):
            if operations.vote_of(item, current_user) is None:
                waiting.append(item)
    return render_template(
        "board/meetings.html",
        current=current,
        past=past,
        waiting=waiting,
        settings=operations.board_settings(db.session),
        can_manage=operations.can_manage_meetings(db.session, current_user),
        can_edit_settings=operations.can_edit_settings(db.session, current_user),
    )


def _officers():
    return db.session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.PROGRAMME_OFFICER, User.is_active.is_(True))
        .order_by(User.full_name, User.id)
    ).all()


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    if not operations.can_edit_settings(db.session, current_user):
        abort(403)
    board_settings = operations.board_settings(db.session)
    members = operations.board_members(db.session)
    officers = _officers()
    if request.method == "GET":
        form = BoardSettingsForm(
            members,
            officers,
            data={
                "chair": str(board_settings.chair_id or ""),
                "secretary": str(board_settings.secretary_id or ""),
                "quorum_percent": board_settings.quorum_percent,
                "majority_percent": board_settings.majority_percent,
                "chair_casting_vote": board_settings.chair_casting_vote,
                "minutes_name_votes": board_settings.minutes_name_votes,
            },
        )
    else:
        form = BoardSettingsForm(members, officers)
    status = 200
    if form.validate_on_submit():
        chair = db.session.get(User, int(form.chair.data)) if form.chair.data else None
        secretary = db.session.get(User, int(form.secretary.data)) if form.secretary.data else None
        try:
            operations.update_board_settings(
                db.session,
                current_user,
                chair=chair,
                secretary=secretary,
                quorum_percent=form.quorum_percent.data,
                majority_percent=form.majority_percent.data,
                chair_casting_vote=form.chair_casting_vote.data,
                minutes_name_votes=form.minutes_name_votes.data,
            )
        except DomainError as error:
            db.session.rollback()
            _show(error, form)
            status = 400
        else:
            db.session.commit()
            flash(_("The board's rules are saved."), "success")
            return redirect(url_for("board.settings"))
    elif request.method == "POST":
        status = 400
    return render_template("board/settings.html", form=form, members=members), status


def _show(error, form=None):
    """A DomainError next to its field when the form has it, and always in the message area."""
    field = getattr(form, error.field, None) if form is not None and error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message] if isinstance(field.errors, list) else [error.message]
    flash(error.message, "error")


# -- scheduling -------------------------------------------------------------------------------------------


@bp.route("/meetings/new", methods=["GET", "POST"])
def new_meeting():
    _manager()
    form = MeetingForm()
    status = 200
    if form.validate_on_submit():
        try:
            meeting = operations.schedule_meeting(
                db.session,
                current_user,
                title=form.title.data,
                scheduled_at=form.scheduled_at.data,
                location=form.location.data,
                kind=form.kind.data,
                vote_deadline=form.vote_deadline.data,
            )
        except DomainError as error:
            db.session.rollback()
            _show(error, form)
            status = 400
        else:
            db.session.commit()
            flash(
                _("%(reference)s is scheduled. Now build its agenda.", reference=meeting.reference), "success"
            )
            return redirect(url_for("board.meeting", reference=meeting.reference))
    elif request.method == "POST":
        status = 400
    return render_template(
        "board/new_meeting.html", form=form, zone=current_app.config["FUND_TIMEZONE"]
    ), status


# -- the meeting page -------------------------------------------------------------------------------------


def _meeting_context(meeting, *, failed=None, errors=None):
    """What the meeting page shows, in a fixed number of queries however long the agenda (the meeting comes
    with its items loaded, ``operations.meeting_page_loading``; each call on it is ranked once).

    The votes, tally and refusals of an item are worked out only where the page shows them: for an item
    still to decide (a decided one shows the counts stored with its decision), the refusals only on the
    secretary's desk of an open meeting and for the member's own vote."""
    settings = operations.board_settings(db.session)
    members = operations.board_members(db.session)
    member_ids = [member.id for member in members]
    can_manage = operations.can_manage_meetings(db.session, current_user, settings)
    is_member = operations.is_board_member(current_user)
    finished = meeting.state in (MeetingState.CLOSED, MeetingState.CANCELLED)
    entering_votes = can_manage and meeting.state == MeetingState.OPEN
    attendance = {record.user_id: record.present for record in meeting.attendance}
    figures = operations.CallFigures(db.session)
    agenda = operations.agenda_rows(db.session, meeting, figures)
    operations.load_votes(db.session, [row.item for row in agenda if not row.item.is_decided])
    rows = []
    for row in agenda:
        item = row.item
        shown = {
            "item": item,
            "proposal": row.proposal,
            "ranked": row.ranked,
            "recused": {conflict.user_id: conflict for conflict in item.conflicts},
        }
        if not item.is_decided:
            tally, result = operations.result_of(db.session, item, settings, member_ids=member_ids)
            votes = {vote.user_id: vote for vote in item.votes}
            shown.update(
                tally=tally,
                result=result,
                explanation=operations.explain(result, tally),
                votes=votes,
                my_vote=votes.get(current_user.id),
                refusals={
                    member.id: operations.voting_refusal(db.session, item, member, settings, tally=tally)
                    for member in members
                }
                if entering_votes
                else {},
                my_refusal=(
                    operations.voting_refusal(db.session, item, current_user, settings, tally=tally)
                    if is_member and not finished
                    else None
                ),
            )
        rows.append(shown)
    candidates = operations.agenda_candidates(db.session, figures) if can_manage and not finished else []
    return {
        "meeting": meeting,
        "settings": settings,
        "members": members,
        "attendance": attendance,
        "rows": rows,
        "budgets": operations.agenda_budgets(db.session, meeting, figures),
        "candidates": candidates,
        "can_manage": can_manage,
        "is_member": is_member,
        "finished": finished,
        "undecided": [row["item"] for row in rows if not row["item"].is_decided],
        "zone": current_app.config["FUND_TIMEZONE"],
        "failed": failed,
        "errors": errors or {},
        "posted": request.form if failed else {},
        "kinds": MeetingKind,
        "states": MeetingState,
        "outcome_labels": {outcome: str(outcome.label) for outcome in DecisionOutcome},
        "sentence": _item_sentences(),
    }


def _item_sentences():
    """The sentences every agenda item repeats, translated once per page rather than once per item (an
    agenda can hold hundreds); the template fills them in with ``%``, and the result is escaped as a whole."""
    return {
        "rank": _(
            "Rank %(rank)d in %(call)s · mean %(mean)s · normalised %(normalised)s · %(count)d reviews"
        ),
        "motion": _("Approve %(amount)s"),
        "decided": _("%(participating)d of %(eligible)d eligible members took part; decided %(when)s."),
        "tally": _("Approve %(approve)d · Reject %(reject)d · Abstain %(abstain)d"),
        "taking_part": _("%(participating)d of %(eligible)d eligible members take part"),
        "your_vote_on": _("Your vote on %(reference)s"),
    }


@bp.route("/meetings/<reference>")
def meeting(reference):
    _viewer()
    return render_template("board/meeting.html", **_meeting_context(_meeting(reference, votes=False)))


def _refused(meeting, key, error_or_messages):
    """The meeting page again, unchanged, with the refusal flashed and marked on the failing form."""
    reference = meeting.reference
    db.session.rollback()
    meeting = _meeting(reference)
    errors = {}
    if isinstance(error_or_messages, DomainError):
        flash(error_or_messages.message, "error")
        errors[f"{key}-{error_or_messages.field or 'form'}"] = error_or_messages.message
    else:
        for field, message in error_or_messages:
            flash(message, "error")
            errors[f"{key}-{field}"] = message
    context = _meeting_context(meeting, failed=key, errors=errors)
    return render_template("board/meeting.html", **context), 400


def _form_problems(form):
    return [
        (name, f"{field.label.text}: {message}" if field.label.text else message)
        for name, field in form._fields.items()
        for message in field.errors
    ] or [("form", _("The form could not be read. Reload the page and try again."))]


def _back(meeting, anchor=None):
    return redirect(url_for("board.meeting", reference=meeting.reference, _anchor=anchor))


def _act(meeting, form, key, action, success, anchor=None):
    """Validate ``form``, run ``action()``, commit and go back to the meeting; or show the refusal."""
    if not form.validate_on_submit():
        return _refused(meeting, key, _form_problems(form))
    try:
        action()
    except DomainError as error:
        return _refused(meeting, key, error)
    db.session.commit()
    if success:
        flash(success() if callable(success) else success, "success")
    return _back(meeting, anchor)


@bp.route("/meetings/<reference>/open", methods=["POST"])
def open_meeting(reference):
    _manager()
    meeting = _meeting(reference)
    return _act(
        meeting,
        ActionForm(),
        "open",
        lambda: operations.open_meeting(db.session, current_user, meeting),
        _("%(reference)s is open.", reference=meeting.reference),
    )


@bp.route("/meetings/<reference>/close", methods=["POST"])
def close_meeting(reference):
    _manager()
    meeting = _meeting(reference)
    return _act(
        meeting,
        ActionForm(),
        "close",
        lambda: operations.close_meeting(db.session, current_user, meeting),
        lambda: _(
            "%(reference)s is closed. Its minutes are stored and the applicants have been told "
            "the decisions.",
            reference=meeting.reference,
        ),
    )


@bp.route("/meetings/<reference>/cancel", methods=["POST"])
def cancel_meeting(reference):
    _manager()
    meeting = _meeting(reference)
    form = ReasonForm()
    return _act(
        meeting,
        form,
        "cancel",
        lambda: operations.cancel_meeting(db.session, current_user, meeting, form.reason.data),
        _("%(reference)s is cancelled; its proposals are off the agenda.", reference=meeting.reference),
    )


@bp.route("/meetings/<reference>/agenda", methods=["POST"])
def add_to_agenda(reference):
    _manager()
    meeting = _meeting(reference)
    form = AddToAgendaForm()
    key = f"add-{request.form.get('proposal_id', '')}"

    def action():
        proposal = db.session.get(Proposal, form.proposal_id.data)
        if proposal is None:
            raise DomainError(_("There is no such proposal."))
        amount = (
            parse_amount(form.recommended.data, proposal.currency, field_name="recommended")
            if form.recommended.data
            else None
        )
        operations.add_to_agenda(db.session, current_user, meeting, proposal, amount)

    return _act(meeting, form, key, action, _("The proposal is on the agenda."), "agenda")


@bp.route("/meetings/<reference>/items/<int:item_id>/remove", methods=["POST"])
def remove_from_agenda(reference, item_id):
    _manager()
    meeting = _meeting(reference)
    item = _item(meeting, item_id)
    reference_of = item.proposal.reference
    return _act(
        meeting,
        ActionForm(),
        f"remove-{item.id}",
        lambda: operations.remove_from_agenda(db.session, current_user, item),
        _("%(reference)s is off the agenda.", reference=reference_of),
        "agenda",
    )


@bp.route("/meetings/<reference>/items/<int:item_id>/motion", methods=["POST"])
def set_motion(reference, item_id):
    _manager()
    meeting = _meeting(reference)
    item = _item(meeting, item_id)
    form = MotionForm()

    def action():
        amount = parse_amount(form.amount.data, item.proposal.currency, field_name="amount")
        operations.set_motion(db.session, current_user, item, amount, form.conditions.data)

    return _act(
        meeting,
        form,
        f"motion-{item.id}",
        action,
        _("The motion on %(reference)s is saved.", reference=item.proposal.reference),
        f"item-{item.id}",
    )


@bp.route("/meetings/<reference>/attendance", methods=["POST"])
def record_attendance(reference):
    _manager()
    meeting = _meeting(reference)
    form = AttendanceForm()
    return _act(
        meeting,
        form,
        "attendance",
        lambda: operations.record_attendance(
            db.session, current_user, meeting, _user(form.member_id.data), form.present.data == "1"
        ),
        _("Attendance recorded."),
        "attendance",
    )


@bp.route("/meetings/<reference>/items/<int:item_id>/conflict", methods=["POST"])
def declare_conflict(reference, item_id):
    _viewer()
    meeting = _meeting(reference)
    item = _item(meeting, item_id)
    form = ConflictForm()

    def action():
        member = _user(form.member_id.data) if form.member_id.data else current_user
        operations.declare_board_conflict(db.session, current_user, item, form.note.data, member=member)

    return _act(
        meeting,
        form,
        f"conflict-{item.id}",
        action,
        _(
            "The conflict is recorded: the member is recused from %(reference)s.",
            reference=item.proposal.reference,
        ),
        f"item-{item.id}",
    )


@bp.route("/meetings/<reference>/items/<int:item_id>/vote", methods=["POST"])
def cast_vote(reference, item_id):
    _viewer()
    meeting = _meeting(reference)
    item = _item(meeting, item_id)
    form = VoteForm()

    def action():
        member = _user(form.member_id.data) if form.member_id.data else current_user
        operations.cast_vote(db.session, current_user, item, member, form.choice.data)

    return _act(
        meeting,
        form,
        f"vote-{item.id}",
        action,
        _("The vote on %(reference)s is recorded.", reference=item.proposal.reference),
        f"item-{item.id}",
    )


@bp.route("/meetings/<reference>/items/<int:item_id>/decide", methods=["POST"])
def decide_item(reference, item_id):
    _manager()
    meeting = _meeting(reference)
    item = _item(meeting, item_id)
    form = DecideForm()
    return _act(
        meeting,
        form,
        f"decide-{item.id}",
        lambda: operations.decide_item(
            db.session, current_user, item, outcome_request=form.outcome.data, reason=form.reason.data
        ),
        lambda: _(
            "%(reference)s: %(outcome)s.", reference=item.proposal.reference, outcome=item.outcome.label
        ),
        f"item-{item.id}",
    )


# -- documents --------------------------------------------------------------------------------------------


@bp.route("/meetings/<reference>/board-pack.pdf")
def board_pack(reference):
    _viewer()
    meeting = _meeting(reference)
    from fundapp.board.documents import render_board_pack

    pdf = render_board_pack(meeting)
    response = send_file(
        BytesIO(pdf), mimetype=PDF, as_attachment=True, download_name=f"{meeting.reference}-board-pack.pdf"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/meetings/<reference>/minutes.pdf")
def minutes(reference):
    _viewer()
    meeting = _meeting(reference)
    if meeting.minutes_file is None:
        abort(404)
    return send_stored_file(meeting.minutes_file)


@bp.app_template_filter("minor_money")
def minor_money(minor, currency):
    """Minor units of ``currency`` as Money (for amounts stored as bare columns)."""
    return None if minor is None else Money(int(minor), currency)


@bp.app_template_filter("plain_amount")
def plain_amount(amount):
    """An amount as typed into a form: digits and a dot, no grouping or symbol ("1250000.50")."""
    return "" if amount is None else f"{amount.amount:f}"
