"""Calls for proposals, in public and for programme officers; the officer's proposal list and screening.

Public: ``/calls`` (open, upcoming and recently closed calls) and ``/calls/<reference>``; drafts and
cancelled calls are not found. Officers: ``/officer/calls`` (drafts included, create, edit, publish,
extend, close, cancel) and ``/officer/proposals`` (list, exports, screening, version diffs).
"""

from datetime import datetime
from io import BytesIO

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from jinja2 import TemplateNotFound
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from fundapp.accounts.models import OrganisationType
from fundapp.applications import calls as call_operations
from fundapp.applications import screening
from fundapp.applications.call_forms import (
    CallForm,
    CancelCallForm,
    ExtendDeadlineForm,
    ScreeningForm,
)
from fundapp.applications.models import (
    AttachmentKind,
    Call,
    CallState,
    Proposal,
    ProposalAttachment,
    ProposalState,
)
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_timezone
from fundapp.core.permissions import Role, role_required
from fundapp.core.web import show_domain_error
from fundapp.extensions import db
from fundapp.reference.models import Vocabulary, reference_items

bp = Blueprint("calls", __name__)

officer_only = role_required(Role.PROGRAMME_OFFICER)


def endpoint_url(endpoints, **values):
    """The URL of the first of ``endpoints`` the app has, or None (pages of modules built separately)."""
    for endpoint in endpoints:
        if endpoint in current_app.view_functions:
            return url_for(endpoint, **values)
    return None


def _labels(vocabulary):
    return {item.code: item.label for item in reference_items(vocabulary, active_only=False)}


def _page_number():
    page = request.args.get("page", "1")
    return min(int(page), 1_000_000) if page.isdigit() and int(page) > 0 else 1


@bp.app_template_filter("call_description")
def call_description(html):
    """A call's description as HTML. Stored descriptions are sanitised on the way in; sanitising again
    here keeps the page safe from any that arrived another way (a seed script, a database edit)."""
    return Markup(call_operations.sanitise_description(html))  # noqa: S704 - sanitised by nh3 just now


@bp.app_template_filter("call_days")
def call_days(call):
    """Calendar days until the call closes (0 on its last day), None once closed."""
    return call_operations.days_left(call)


@bp.app_template_filter("call_days_left")
def call_days_left(call):
    """ "closes today", "closes tomorrow", "closes in 12 days", or "closed"."""
    days = call_operations.days_left(call)
    if days is None:
        return _("closed")
    if days == 0:
        return _("closes today")
    if days == 1:
        return _("closes tomorrow")
    return _("closes in %(days)d days", days=days)


def _call_context(call):
    """What the call pages show besides the call: labels of its themes, types and attachments."""
    themes = _labels(Vocabulary.THEME)
    return {
        "call": call,
        "theme_labels": [themes.get(code, code) for code in call.themes or []],
        "org_type_labels": [
            OrganisationType(value).label
            for value in call.eligible_org_types or []
            if value in set(OrganisationType)
        ],
        "attachment_labels": [
            AttachmentKind(value).label
            for value in call.required_attachments or []
            if value in set(AttachmentKind)
        ],
        "zone": current_app.config["FUND_TIMEZONE"],
    }


# -- public pages -------------------------------------------------------------------------------------------


@bp.route("/calls")
def public_calls():
    return render_template(
        "applications/calls/public_list.html",
        open_calls=call_operations.open_calls(db.session),
        upcoming_calls=call_operations.upcoming_calls(db.session),
        closed_calls=call_operations.recently_closed_calls(db.session),
        theme_labels=_labels(Vocabulary.THEME),
        zone=current_app.config["FUND_TIMEZONE"],
    )


@bp.route("/calls/<reference>")
def public_call(reference):
    call = call_operations.public_call(db.session, reference)
    if call is None:
        abort(404)
    now = utcnow()
    apply_url = None
    if call.is_open(now):
        status = "open"
        apply_url = endpoint_url(["proposals.apply"], reference=call.reference)
    elif call.state == CallState.CLOSED or call.closes_at <= now:
        status = "closed"
    else:
        status = "upcoming"
    return render_template(
        "applications/calls/public_call.html", apply_url=apply_url, status=status, **_call_context(call)
    )


# -- officers: calls ----------------------------------------------------------------------------------------


def _officer_call(call_id):
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    return call


@bp.route("/officer/calls")
@officer_only
def officer_calls():
    calls = db.session.scalars(select(Call).order_by(Call.id.desc())).all()
    counts = dict(
        db.session.execute(
            select(Proposal.call_id, func.count(Proposal.id))
            .where(Proposal.state != ProposalState.DRAFT)
            .group_by(Proposal.call_id)
        ).all()
    )
    return render_template("applications/calls/officer_list.html", calls=calls, counts=counts)


@bp.route("/officer/calls/new", methods=["GET", "POST"])
@officer_only
def new_call():
    form = CallForm()
    if form.validate_on_submit():
        try:
            call = call_operations.create_call(db.session, current_user, form.call_data())
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            flash(
                _("Draft %(reference)s saved. Publish it when it is ready.", reference=call.reference),
                "success",
            )
            return redirect(url_for("calls.officer_call", call_id=call.id))
    return render_template("applications/calls/edit.html", form=form, call=None, zone=_zone_name())


def _zone_name():
    return current_app.config["FUND_TIMEZONE"]


@bp.route("/officer/calls/<int:call_id>")
@officer_only
def officer_call(call_id):
    call = _officer_call(call_id)
    problems = call_operations.publication_problems(call) if call.state == CallState.DRAFT else []
    proposals = db.session.scalar(
        select(func.count(Proposal.id)).where(
            Proposal.call_id == call.id, Proposal.state != ProposalState.DRAFT
        )
    )
    return render_template(
        "applications/calls/officer_call.html",
        problems=problems,
        proposal_count=proposals,
        cancel_form=CancelCallForm(),
        can_edit=call_operations.can_edit_call(current_user, call),
        can_extend=call_operations.can_extend_call(current_user, call),
        **_call_context(call),
    )


@bp.route("/officer/calls/<int:call_id>/edit", methods=["GET", "POST"])
@officer_only
def edit_call(call_id):
    call = _officer_call(call_id)
    if call_operations.can_extend_call(current_user, call):
        return _extend_call(call)
    if not call_operations.can_edit_call(current_user, call):
        flash(
            _(
                "%(reference)s is %(state)s and can no longer be changed.",
                reference=call.reference,
                state=call.state.label,
            ),
            "error",
        )
        return redirect(url_for("calls.officer_call", call_id=call.id))
    if request.method == "POST":
        form = CallForm()
    else:
        data = call_operations.call_data_of(call)
        form = CallForm(data=_form_data(data))
    if form.validate_on_submit():
        try:
            call_operations.update_call(db.session, current_user, call, form.call_data())
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            flash(_("Saved %(reference)s.", reference=call.reference), "success")
            return redirect(url_for("calls.officer_call", call_id=call.id))
    return render_template("applications/calls/edit.html", form=form, call=call, zone=_zone_name())


def _form_data(data):
    """``CallData`` as the form's initial data: choices as strings, yes/no answers as the select's values."""
    values = {name: getattr(data, name) for name in call_operations.CALL_FIELDS}
    values["stages"] = str(data.stages)
    values["grant_min"] = f"{data.grant_min:f}"
    values["grant_max"] = f"{data.grant_max:f}"
    values["envelope"] = f"{data.envelope:f}"
    values["questions"] = [
        {
            "text": question["text"],
            "disqualifying_answer": {True: "yes", False: "no"}.get(question["disqualifying_answer"], ""),
            "explanation": question["explanation"],
        }
        for question in data.questions
    ]
    return values


def _extend_call(call):
    form = ExtendDeadlineForm(
        data={"closes_at": call.closes_at, "full_proposal_closes_at": call.full_proposal_closes_at}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            call_operations.extend_call_deadline(
                db.session,
                current_user,
                call,
                call_operations.fund_instant(form.closes_at.data),
                call_operations.fund_instant(form.full_proposal_closes_at.data),
            )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            flash(_("The deadline of %(reference)s is saved.", reference=call.reference), "success")
            return redirect(url_for("calls.officer_call", call_id=call.id))
    return render_template("applications/calls/extend.html", form=form, call=call, zone=_zone_name())


def _call_action(call_id, form, move, done):
    """POST of a button on the officer's call page: ``move(call)`` then ``done(call)`` as the message."""
    call = _officer_call(call_id)
    if not form.validate_on_submit():
        abort(400)
    try:
        move(call)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(done(call), "success")
    return redirect(url_for("calls.officer_call", call_id=call_id))


@bp.route("/officer/calls/<int:call_id>/publish", methods=["POST"])
@officer_only
def publish_call(call_id):
    return _call_action(
        call_id,
        FlaskForm(),
        lambda call: call_operations.publish_call(db.session, current_user, call),
        lambda call: _("%(reference)s is published.", reference=call.reference),
    )


@bp.route("/officer/calls/<int:call_id>/close", methods=["POST"])
@officer_only
def close_call(call_id):
    return _call_action(
        call_id,
        FlaskForm(),
        lambda call: call_operations.close_call(db.session, current_user, call),
        lambda call: _("%(reference)s is closed: no more submissions.", reference=call.reference),
    )


@bp.route("/officer/calls/<int:call_id>/cancel", methods=["POST"])
@officer_only
def cancel_call(call_id):
    form = CancelCallForm()
    return _call_action(
        call_id,
        form,
        lambda call: call_operations.cancel_call(db.session, current_user, call, form.reason.data),
        lambda call: _("%(reference)s is cancelled.", reference=call.reference),
    )


# -- officers: proposals ------------------------------------------------------------------------------------


def _filter_choices():
    return {
        "calls": screening.calls_for_filter(db.session),
        "states": list(ProposalState),
        "regions": reference_items(Vocabulary.REGION, active_only=False),
        "themes": reference_items(Vocabulary.THEME, active_only=False),
        "red_list": reference_items(Vocabulary.RED_LIST_CATEGORY, active_only=False),
    }


@bp.route("/officer/proposals")
@officer_only
def officer_proposals():
    filters = screening.ProposalFilters.from_args(request.args)
    page = screening.proposal_page(db.session, filters, _page_number())
    return render_template(
        "applications/officer/proposals.html",
        result=page,
        filters=filters,
        choices=_filter_choices(),
    )


def _export_name(extension):
    stamp = datetime.now(fund_timezone()).strftime("%Y%m%d-%H%M")
    return f"proposals-{stamp}.{extension}"


@bp.route("/officer/proposals.csv")
@officer_only
def export_proposals_csv():
    filters = screening.ProposalFilters.from_args(request.args)
    return Response(
        stream_with_context(screening.csv_chunks(db.session, filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_export_name("csv")}"'},
    )


@bp.route("/officer/proposals.xlsx")
@officer_only
def export_proposals_xlsx():
    filters = screening.ProposalFilters.from_args(request.args)
    return send_file(
        BytesIO(screening.xlsx_bytes(db.session, filters)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=_export_name("xlsx"),
    )


def _proposal_page_loading():
    """What the proposal page shows of the proposal, to load with it in a fixed number of queries however
    many attachments and versions it has."""
    return (
        joinedload(Proposal.organisation),
        joinedload(Proposal.call),
        selectinload(Proposal.attachments).joinedload(ProposalAttachment.stored_file),
        selectinload(Proposal.versions),
    )


def _officer_proposal(proposal_id):
    proposal = db.session.get(Proposal, proposal_id, options=_proposal_page_loading())
    if proposal is None or not proposal.can_view(current_user):
        abort(404)
    return proposal


_SNAPSHOT_TEMPLATE = "applications/_snapshot.html"
#: What templates/applications/_snapshot.html reads from a snapshot.
_SNAPSHOT_KEYS = frozenset({"reference", "title", "call", "organisation", "theme", "totals", "sections"})


def _has_template(name):
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound:
        return False
    return True


def _state_label(value):
    return ProposalState(value).label if value in set(ProposalState) else value


def _history_row(event):
    """An audit event of a proposal as a person reads it: what happened, from which state to which."""
    before = (event.before or {}).get("state")
    after = event.after or {}
    if after.get("state") and before:
        what = _("%(before)s → %(after)s", before=_state_label(before), after=_state_label(after["state"]))
    else:
        what = event.action.split(".", 1)[-1].replace("_", " ").capitalize()
    return {"event": event, "what": what, "reason": after.get("reason")}


def _proposal_page(proposal, form, status=200):
    version = screening.latest_version(proposal)
    attachments = [
        {
            "attachment": attachment,
            "url": endpoint_url(
                ["submission.download_attachment", "proposals.download_attachment"],
                proposal_id=proposal.id,
                attachment_id=attachment.id,
            ),
        }
        for attachment in proposal.attachments
    ]
    versions = [
        {
            "version": item,
            "pdf_url": endpoint_url(
                ["submission.download_version", "proposals.download_version"],
                proposal_id=proposal.id,
                number=item.number,
            ),
        }
        for item in sorted(proposal.versions, key=lambda v: v.number)
    ]
    # Versions frozen before the editor's snapshot format (or by hand) lack what its template reads:
    # those are shown as plain lines instead.
    snapshot = version.snapshot if version else None
    use_template = bool(snapshot) and set(snapshot) >= _SNAPSHOT_KEYS and _has_template(_SNAPSHOT_TEMPLATE)
    return (
        render_template(
            "applications/officer/proposal.html",
            proposal=proposal,
            version=version,
            snapshot=snapshot,
            snapshot_lines=screening.snapshot_lines(snapshot) if snapshot and not use_template else [],
            has_snapshot_template=use_template,
            attachments=attachments,
            versions=versions,
            history=[_history_row(event) for event in screening.proposal_history(db.session, proposal)],
            outcome_labels=screening.OUTCOME_LABELS,
            screenings=screening.screenings_of(db.session, proposal),
            form=form,
            checklist_labels=dict(screening.CHECKLIST),
            theme_labels=_labels(Vocabulary.THEME),
            full_proposal=screening.full_proposal_of(db.session, proposal),
        ),
        status,
    )


@bp.route("/officer/proposals/<int:proposal_id>", methods=["GET", "POST"])
@officer_only
def officer_proposal(proposal_id):
    proposal = _officer_proposal(proposal_id)
    if not proposal.can_screen(current_user):
        if request.method == "POST":
            flash(
                _(
                    "%(reference)s is %(state)s: it is not waiting for screening.",
                    reference=proposal.reference,
                    state=proposal.state.label,
                ),
                "error",
            )
            return redirect(url_for("calls.officer_proposal", proposal_id=proposal.id))
        return _proposal_page(proposal, None)
    if request.method == "POST":
        form = ScreeningForm(proposal)
    else:
        suggested = screening.suggested_checklist(db.session, proposal)
        form = ScreeningForm(proposal, data={"checklist": [key for key, value in suggested.items() if value]})
    if form.validate_on_submit():
        try:
            screening.screen_proposal(
                db.session,
                current_user,
                proposal,
                form.outcome.data,
                form.checklist.data or [],
                form.reason.data,
            )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            flash(
                _(
                    "%(reference)s is now %(state)s; the applicant's team has been told.",
                    reference=proposal.reference,
                    state=proposal.state.label,
                ),
                "success",
            )
            return redirect(url_for("calls.officer_proposal", proposal_id=proposal.id))
    return _proposal_page(proposal, form)


@bp.route("/officer/proposals/<int:proposal_id>/diff")
@officer_only
def proposal_diff(proposal_id):
    proposal = _officer_proposal(proposal_id)
    numbers = sorted(version.number for version in proposal.versions)
    if not numbers:
        abort(404)

    def number(name, default):
        value = request.args.get(name, "")
        if not value:
            return default
        if not value.isdigit() or int(value) not in numbers:
            abort(404)
        return int(value)

    new_number = number("to", numbers[-1])
    old_number = number("from", numbers[-2] if len(numbers) > 1 else numbers[-1])
    old = screening.version_by_number(db.session, proposal, old_number)
    new = screening.version_by_number(db.session, proposal, new_number)
    return render_template(
        "applications/officer/diff.html",
        proposal=proposal,
        old=old,
        new=new,
        numbers=numbers,
        hunks=screening.version_diff(old.snapshot, new.snapshot),
    )
