"""The reviewer's pages: their assignments, the conflict-of-interest declaration, the review form with
autosave, submission; and the programme officer's reopening of a submitted review.

An assignment that is not the current user's, or whose review they may not open yet (no declaration), is
answered with 404, never 403, so that ids cannot be probed. In a blind call the proposal is shown through
``scoring.blind_snapshot`` and its attachments and PDF are not linked (their names and pages name the
organisation); the declaration page is the only one that names the organisation and its partners.
"""

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_time, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fundapp.applications.models import Proposal
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import local_datetime, to_local
from fundapp.core.navigation import NextAction, register_nav, register_next_actions
from fundapp.core.permissions import Role, role_required
from fundapp.core.web import show_domain_error
from fundapp.extensions import csrf, db
from fundapp.reviews import operations, scoring
from fundapp.reviews.models import Assignment, AssignmentState, Review, Rubric
from fundapp.reviews.reviewer_forms import (
    CONFLICT,
    DeclarationForm,
    DeclineForm,
    ReopenForm,
    review_form,
    scores_from,
)

bp = Blueprint("reviewing", __name__)

register_nav(_l("My reviews"), "reviewing.index", roles=[Role.REVIEWER], order=25)

#: A review due within this many days is listed as urgent on the reviewer's home page.
URGENT_DAYS = 3


# -- the reviewer's home page actions -------------------------------------------------------------------


def _reviewer_actions(user):
    assignments = db.session.scalars(
        select(Assignment)
        .where(
            Assignment.reviewer_id == user.id,
            Assignment.state.in_([AssignmentState.ASSIGNED, AssignmentState.ACCEPTED]),
        )
        .options(selectinload(Assignment.proposal))
        .order_by(Assignment.due_at, Assignment.id)
    ).all()
    waiting = [a for a in assignments if a.state == AssignmentState.ASSIGNED]
    actions = []
    if waiting:
        actions.append(
            NextAction(
                ngettext(
                    "Declare any conflict of interest for %(num)d proposal",
                    "Declare any conflict of interest for %(num)d proposals",
                    len(waiting),
                ),
                url_for("reviewing.index"),
                _("You read the proposals after declaring."),
                urgency="urgent",
            )
        )
    now = utcnow()
    for assignment in assignments:
        if assignment.state != AssignmentState.ACCEPTED:
            continue
        due = assignment.due_at
        detail = (
            _("Due %(when)s", when=local_datetime(due, "short")) if due is not None else _("No deadline set")
        )
        urgent = due is not None and (due - now).total_seconds() < URGENT_DAYS * 86400
        actions.append(
            NextAction(
                _("Review %(reference)s", reference=assignment.proposal.reference),
                url_for("reviewing.review", assignment_id=assignment.id),
                detail,
                urgency="urgent" if urgent else "normal",
            )
        )
    return actions


register_next_actions(Role.REVIEWER, _reviewer_actions)


# -- loading --------------------------------------------------------------------------------------------


def _own_assignment(assignment_id, *allowed_states):
    """The current reviewer's assignment in one of ``allowed_states``; 404 for anything else."""
    assignment = db.session.get(Assignment, assignment_id)
    if (
        assignment is None
        or not scoring.is_reviewer_of(assignment, current_user)
        or assignment.state not in allowed_states
    ):
        abort(404)
    return assignment


def _reviewable(assignment_id):
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or not scoring.can_open_review(assignment, current_user):
        abort(404)
    return assignment


# -- the list -------------------------------------------------------------------------------------------


@bp.route("/reviews")
@role_required(Role.REVIEWER)
def index():
    assignments = db.session.scalars(
        select(Assignment)
        .where(
            Assignment.reviewer_id == current_user.id,
            Assignment.state.in_(
                [AssignmentState.ASSIGNED, AssignmentState.ACCEPTED, AssignmentState.SUBMITTED]
            ),
        )
        .options(
            selectinload(Assignment.proposal).selectinload(Proposal.call),
            selectinload(Assignment.review),
        )
        .order_by(Assignment.due_at, Assignment.id)
    ).all()
    groups = {state: [a for a in assignments if a.state == state] for state in AssignmentState}
    blind_calls = set(
        db.session.scalars(
            select(Rubric.call_id).where(
                Rubric.call_id.in_({a.proposal.call_id for a in assignments}), Rubric.blind.is_(True)
            )
        )
    )
    return render_template(
        "reviews/reviewer/index.html",
        titles={
            a.id: scoring.listed_title(a.proposal, a.proposal.call_id in blind_calls) for a in assignments
        },
        to_declare=groups[AssignmentState.ASSIGNED],
        in_progress=groups[AssignmentState.ACCEPTED],
        submitted=groups[AssignmentState.SUBMITTED],
        now=utcnow(),
    )


# -- declaring and declining ----------------------------------------------------------------------------


def _render_declare(assignment, form=None, decline_form=None, status=200):
    return (
        render_template(
            "reviews/reviewer/declare.html",
            assignment=assignment,
            rubric=scoring.rubric_of(db.session, assignment.proposal),
            facts=scoring.declaration_facts(db.session, assignment),
            form=form or DeclarationForm(formdata=None),
            decline_form=decline_form or DeclineForm(formdata=None),
        ),
        status,
    )


@bp.route("/reviews/<int:assignment_id>/declare", methods=["GET", "POST"])
@login_required
def declare(assignment_id):
    """The declaration before reading; while reviewing, a conflict found later can still be declared."""
    assignment = _own_assignment(
        assignment_id, AssignmentState.ASSIGNED, AssignmentState.ACCEPTED, AssignmentState.SUBMITTED
    )
    declaring = assignment.state == AssignmentState.ASSIGNED
    if not declaring and (request.method == "GET" or assignment.state == AssignmentState.SUBMITTED):
        return redirect(url_for("reviewing.review", assignment_id=assignment.id))
    form = DeclarationForm()
    if request.method == "GET":
        return _render_declare(assignment, form)
    if not form.validate_on_submit():
        if declaring:
            return _render_declare(assignment, form, status=400)
        return _render_review(assignment, conflict_form=form, status=400)
    has_conflict = form.has_conflict.data == CONFLICT
    if not declaring and not has_conflict:
        return redirect(url_for("reviewing.review", assignment_id=assignment.id))
    try:
        operations.declare_conflict(db.session, current_user, assignment, has_conflict, form.note.data or "")
    except DomainError as error:
        db.session.rollback()
        show_domain_error(error, form)
        assignment = db.session.get(Assignment, assignment_id)
        if declaring:
            return _render_declare(assignment, form, status=409)
        return _render_review(assignment, conflict_form=form, status=409)
    db.session.commit()
    reference = assignment.proposal.reference
    if has_conflict:
        flash(
            _(
                "Thank you for declaring the conflict. You no longer review %(reference)s; "
                "another reviewer will be assigned.",
                reference=reference,
            ),
            "success",
        )
        return redirect(url_for("reviewing.index"))
    flash(_("Thank you. You can now read and score %(reference)s.", reference=reference), "success")
    return redirect(url_for("reviewing.review", assignment_id=assignment.id))


@bp.route("/reviews/<int:assignment_id>/decline", methods=["POST"])
@login_required
def decline(assignment_id):
    assignment = _own_assignment(assignment_id, AssignmentState.ASSIGNED, AssignmentState.ACCEPTED)
    decline_form = DeclineForm()
    if decline_form.validate_on_submit():
        try:
            operations.decline_assignment(db.session, current_user, assignment, decline_form.reason.data)
        except DomainError as error:
            db.session.rollback()
            assignment = db.session.get(Assignment, assignment_id)
            show_domain_error(error, decline_form)
        else:
            db.session.commit()
            flash(
                _(
                    "You declined to review %(reference)s. Thank you for saying so.",
                    reference=assignment.proposal.reference,
                ),
                "success",
            )
            return redirect(url_for("reviewing.index"))
    if assignment.state == AssignmentState.ASSIGNED:
        return _render_declare(assignment, decline_form=decline_form, status=400)
    return _render_review(assignment, decline_form=decline_form, status=400)


# -- the review page ------------------------------------------------------------------------------------


def _attachments(snapshot, proposal):
    """The submitted attachments still stored, with their download links (never in a blind call)."""
    if snapshot.get("blind"):
        return []
    stored = {attachment.id for attachment in proposal.attachments}
    return [
        {
            **item,
            "url": url_for(
                "submission.download_attachment", proposal_id=proposal.id, attachment_id=item["id"]
            ),
        }
        for item in snapshot.get("attachments") or ()
        if item.get("id") in stored
    ]


def _saved_label(instant):
    if instant is None:
        return ""
    return _("Saved at %(time)s", time=format_time(to_local(instant).replace(tzinfo=None), "HH:mm"))


def _stored_form(assignment, criteria):
    review = assignment.review
    data = {"base_version": review.version if review is not None else 0}
    if review is not None:
        data["recommendation"] = review.recommendation.value if review.recommendation else None
        data["comments"] = review.comments
        for criterion_id, value in scoring.stored_scores(review).items():
            data[f"score_{criterion_id}"] = str(value)
    return review_form(criteria, from_request=False, data=data)


def _render_review(
    assignment, form=None, *, decline_form=None, conflict_form=None, problems=None, status=200
):
    rubric = scoring.rubric_of(db.session, assignment.proposal)
    criteria = list(rubric.criteria) if rubric is not None else []
    if form is None:
        form = _stored_form(assignment, criteria)
    for field, message in (problems or {}).items():
        if field in form:
            form[field].errors = [*form[field].errors, message]
    snapshot = scoring.reviewer_snapshot(db.session, assignment, rubric)
    proposal = assignment.proposal
    version = scoring.latest_version(db.session, proposal)
    review = assignment.review
    return (
        render_template(
            "reviews/reviewer/review.html",
            assignment=assignment,
            proposal=proposal,
            rubric=rubric,
            criteria=criteria,
            review=review,
            snapshot=snapshot,
            form=form,
            decline_form=decline_form or DeclineForm(formdata=None),
            conflict_form=conflict_form or DeclarationForm(formdata=None, has_conflict=CONFLICT),
            can_edit=scoring.can_edit_review(assignment, current_user),
            attachments=_attachments(snapshot, proposal),
            pdf_url=(
                url_for("submission.download_version", proposal_id=proposal.id, number=version.number)
                if version is not None and not snapshot.get("blind")
                else None
            ),
            others=scoring.visible_reviews(db.session, current_user, assignment),
            scores=scoring.stored_scores(review),
            saved_label=_saved_label(review.updated_at) if review is not None and review.version else "",
        ),
        status,
    )


def _save_posted(assignment, form):
    """Save the posted form as the draft (``save_review_draft``); raises what the operation raises."""
    return scoring.save_review_draft(
        db.session,
        current_user,
        assignment,
        scores=scores_from(form),
        recommendation=form.recommendation.data,
        comments=form.comments.data,
        base_version=form.base_version.data or 0,
    )


def _set_base_version(form, version):
    # The hidden field shows what was posted (raw_data) unless told otherwise.
    form.base_version.data = version
    form.base_version.raw_data = [str(version)]


def _refused_save(assignment_id, form, error):
    """Show the page again after a refused save, keeping what the reviewer sent."""
    db.session.rollback()
    assignment = db.session.get(Assignment, assignment_id)
    if isinstance(error, scoring.ReviewConflict):
        # Show what they sent, based on the saved version: saving again keeps theirs, on purpose.
        current = assignment.review.version if assignment.review is not None else 0
        _set_base_version(form, current)
        flash(
            _(
                "This review was saved in another window or tab since you opened this page. Nothing was "
                "overwritten: your version is shown below. Save it again to keep it, or reload the page "
                "to see the saved one."
            ),
            "error",
        )
        return _render_review(assignment, form, status=409)
    if isinstance(error, scoring.ReviewInvalid):
        flash(error.message, "error")
        return _render_review(assignment, form, problems=error.errors, status=400)
    flash(error.message, "error")
    return _render_review(assignment, status=409)


@bp.route("/reviews/<int:assignment_id>", methods=["GET", "POST"])
@login_required
def review(assignment_id):
    assignment = _reviewable(assignment_id)
    if request.method == "GET":
        return _render_review(assignment)
    rubric = scoring.rubric_of(db.session, assignment.proposal)
    form = review_form(rubric.criteria if rubric is not None else [])
    if not form.validate_on_submit():
        return _render_review(assignment, form, status=400)
    try:
        _save_posted(assignment, form)
    except DomainError as error:
        return _refused_save(assignment_id, form, error)
    db.session.commit()
    flash(_("Your review is saved. Submit it when it is complete."), "success")
    return redirect(url_for("reviewing.review", assignment_id=assignment.id))


@bp.route("/reviews/<int:assignment_id>/submit", methods=["POST"])
@login_required
def submit(assignment_id):
    assignment = _reviewable(assignment_id)
    rubric = scoring.rubric_of(db.session, assignment.proposal)
    form = review_form(rubric.criteria if rubric is not None else [])
    if not form.validate_on_submit():
        return _render_review(assignment, form, status=400)
    try:
        _save_posted(assignment, form)
    except DomainError as error:
        return _refused_save(assignment_id, form, error)
    try:
        with db.session.begin_nested():
            scoring.submit_review(db.session, current_user, assignment)
    except scoring.ReviewInvalid as error:
        db.session.commit()  # keep the draft: nothing typed is lost
        flash(error.message, "error")
        _set_base_version(form, assignment.review.version)
        return _render_review(
            db.session.get(Assignment, assignment_id), form, problems=error.errors, status=400
        )
    except DomainError as error:
        db.session.commit()
        flash(error.message, "error")
        return _render_review(db.session.get(Assignment, assignment_id), status=409)
    db.session.commit()
    flash(
        _(
            "Your review of %(reference)s is submitted. Thank you. It is now locked; a programme officer "
            "can reopen it if something must change.",
            reference=assignment.proposal.reference,
        ),
        "success",
    )
    return redirect(url_for("reviewing.review", assignment_id=assignment.id))


# -- autosave -------------------------------------------------------------------------------------------


def _json_error(status, message, **extra):
    return jsonify({"error": message, **extra}), status


def _csrf_url():
    # The proposal editor's fresh-token route serves every script of the site.
    return url_for("proposals.csrf_token") if "proposals.csrf_token" in current_app.view_functions else None


@bp.route("/reviews/<int:assignment_id>/autosave", methods=["POST"])
@csrf.exempt  # checked below, after the login: an expired login must answer 401, not a CSRF error
def autosave(assignment_id):
    if not current_user.is_authenticated:
        return _json_error(
            401,
            _(
                "Your login has expired. Your review is kept in this browser. "
                "Log in again (opens a new tab) and it will be saved."
            ),
            login_url=url_for("accounts.login"),
        )
    try:
        csrf.protect()
    except CSRFError:
        return _json_error(
            400,
            _("Your page's security token has expired. Reload the token and try again."),
            csrf_url=_csrf_url(),
        )
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or not scoring.can_open_review(assignment, current_user):
        return _json_error(404, _("There is no such review."))
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _json_error(
            400,
            _(
                'Send the review as JSON: {"scores": {...}, "recommendation": "...", "comments": "...", '
                '"base_version": n}.'
            ),
        )
    base_version = payload.get("base_version")
    if not isinstance(base_version, int) or isinstance(base_version, bool):
        return _json_error(400, _("base_version must be a whole number."))
    try:
        saved = scoring.save_review_draft(
            db.session,
            current_user,
            assignment,
            scores=payload.get("scores"),
            recommendation=payload.get("recommendation"),
            comments=payload.get("comments"),
            base_version=base_version,
        )
        db.session.commit()
    except scoring.ReviewConflict as error:
        db.session.rollback()
        current = db.session.get(Assignment, assignment_id).review
        return _json_error(409, error.message, version=current.version if current is not None else 0)
    except scoring.ReviewInvalid as error:
        db.session.rollback()
        return _json_error(422, error.message, errors=error.errors)
    except DomainError as error:
        db.session.rollback()
        return _json_error(409, error.message, locked=True)
    return jsonify(
        {
            "version": saved.version,
            "saved_at": saved.updated_at.isoformat(),
            "saved_at_label": _saved_label(saved.updated_at),
        }
    )


# -- an officer reopens a review ------------------------------------------------------------------------


def _officer_return_url(assignment):
    if "calls.officer_proposal" in current_app.view_functions:
        return url_for("calls.officer_proposal", proposal_id=assignment.proposal_id)
    return url_for("reviewing.reopen", assignment_id=assignment.id)


@bp.route("/reviews/<int:assignment_id>/reopen", methods=["GET", "POST"])
@role_required(Role.PROGRAMME_OFFICER)
def reopen(assignment_id):
    assignment = db.session.get(Assignment, assignment_id)
    review_row = (
        db.session.scalar(select(Review).where(Review.assignment_id == assignment_id)) if assignment else None
    )
    if review_row is None:
        abort(404)
    form = ReopenForm()
    status = 200
    if form.validate_on_submit():
        try:
            scoring.reopen_review(db.session, current_user, review_row, form.reason.data)
        except DomainError as error:
            db.session.rollback()
            review_row = db.session.scalar(select(Review).where(Review.assignment_id == assignment_id))
            show_domain_error(error, form)
            status = 400 if error.field else 409
        else:
            db.session.commit()
            flash(
                _(
                    "The review of %(reference)s by %(name)s is reopened; they have been emailed.",
                    reference=review_row.assignment.proposal.reference,
                    name=review_row.assignment.reviewer.full_name,
                ),
                "success",
            )
            return redirect(_officer_return_url(review_row.assignment))
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "reviews/reviewer/reopen.html",
            review=review_row,
            assignment=review_row.assignment,
            form=form,
            can_reopen=scoring.can_reopen_review(review_row, current_user),
            back_url=_officer_return_url(review_row.assignment),
        ),
        status,
    )
