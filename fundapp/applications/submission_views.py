"""Pages for submitting and withdrawing a proposal, its attachments, and the PDFs of submitted versions.

Each view loads the proposal, answers 404 to anyone who may not see it (so another organisation's ids
reveal nothing), checks what the person may do, calls one operation and commits.
"""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from fundapp.applications import submission
from fundapp.applications.models import AttachmentKind, Proposal, ProposalAttachment, ProposalVersion
from fundapp.core.errors import DomainError
from fundapp.core.storage import KINDS, format_size, send_stored_file
from fundapp.core.web import show_domain_error
from fundapp.extensions import db

bp = Blueprint("submission", __name__)


class SubmitForm(FlaskForm):
    pass


class AttachmentForm(FlaskForm):
    kind = SelectField(
        _l("What is this document?"),
        choices=[SelectChoice(kind.value, kind.label) for kind in AttachmentKind],
        validators=[InputRequired()],
    )
    file = FileField(
        _l("File"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        # Only a hint for the browser's file picker; the server checks the content.
        render_kw={
            "accept": ",".join(
                extension for name in submission.ATTACHMENT_FILE_KINDS for extension in KINDS[name].extensions
            )
        },
    )


class RemoveAttachmentForm(FlaskForm):
    pass


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Why are you withdrawing the proposal? (optional)"),
        validators=[Length(max=submission.MAX_REASON_LENGTH)],
        description=_l("The fund's staff read this; it helps them improve the next calls."),
    )


# -- loading ------------------------------------------------------------------------------------------


def _visible_proposal(proposal_id):
    """The proposal, if the current user may see it; 404 otherwise (another organisation's id too)."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not proposal.can_view(current_user):
        abort(404)
    return proposal


def _members_proposal(proposal_id):
    """The proposal, for its organisation's members; fund staff who may only read it get 403."""
    proposal = _visible_proposal(proposal_id)
    if not proposal.is_member(current_user):
        abort(403)
    return proposal


def _overview_url(proposal):
    """The editor's overview page of the proposal, if that blueprint is installed."""
    if "proposals.overview" in current_app.view_functions:
        return url_for("proposals.overview", proposal_id=proposal.id)
    return None


def _page_context(proposal):
    deadline = submission.submission_deadline(proposal)
    return {
        "proposal": proposal,
        "overview_url": _overview_url(proposal),
        "deadline": deadline,
        "deadline_text": submission.local_time(deadline),
    }


# -- submitting ---------------------------------------------------------------------------------------


def _render_submit(proposal, form, status=200):
    problems = submission.submission_problems(proposal) if proposal.can_edit(current_user) else []
    latest = proposal.versions[-1] if proposal.versions else None
    return (
        render_template(
            "applications/submission/submit.html",
            form=form,
            problems=problems,
            latest=latest,
            **_page_context(proposal),
        ),
        status,
    )


@bp.route("/proposals/<int:proposal_id>/submit", methods=["GET", "POST"])
@login_required
def submit(proposal_id):
    proposal = _members_proposal(proposal_id)
    form = SubmitForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            version = submission.submit_proposal(db.session, current_user, proposal)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return _render_submit(db.session.get(Proposal, proposal_id), form, 409)
        db.session.commit()
        flash(
            _(
                "%(reference)s is submitted. A confirmation with the PDF's SHA-256 is on its way to you "
                "and your colleagues.",
                reference=proposal.reference,
            ),
            "success",
        )
        return redirect(url_for("submission.submit", proposal_id=proposal.id, _anchor=f"v{version.number}"))
    return _render_submit(proposal, form)


@bp.route("/proposals/<int:proposal_id>/versions/<int:number>.pdf")
@login_required
def download_version(proposal_id, number):
    proposal = _visible_proposal(proposal_id)
    version = db.session.scalar(
        select(ProposalVersion).where(
            ProposalVersion.proposal_id == proposal.id, ProposalVersion.number == number
        )
    )
    if version is None:
        abort(404)
    return send_stored_file(version.pdf_file)


# -- withdrawing --------------------------------------------------------------------------------------


@bp.route("/proposals/<int:proposal_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(proposal_id):
    proposal = _members_proposal(proposal_id)
    form = WithdrawForm()
    status = 200
    if form.validate_on_submit():
        try:
            submission.withdraw_proposal(db.session, current_user, proposal, form.reason.data)
        except DomainError as error:
            db.session.rollback()
            proposal = db.session.get(Proposal, proposal_id)
            show_domain_error(error, form)
            status = 409 if error.field is None else 400
        else:
            db.session.commit()
            flash(_("%(reference)s is withdrawn.", reference=proposal.reference), "success")
            return redirect(_overview_url(proposal) or url_for("submission.submit", proposal_id=proposal.id))
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "applications/submission/withdraw.html",
            form=form,
            problem=submission.withdrawal_problem(proposal, current_user),
            **_page_context(proposal),
        ),
        status,
    )


# -- attachments --------------------------------------------------------------------------------------


def _render_attachments(proposal, form=None, status=200):
    required = set(proposal.call.required_attachments or ())
    uploaded = {attachment.kind.value for attachment in proposal.attachments}
    required_kinds = [kind for kind in AttachmentKind if kind.value in required]
    if form is None:
        form = AttachmentForm()
        # Offer the first document the call still needs.
        form.kind.data = next(
            (k.value for k in required_kinds if k.value not in uploaded), AttachmentKind.OTHER.value
        )
    return (
        render_template(
            "applications/submission/attachments.html",
            form=form,
            remove_form=RemoveAttachmentForm(formdata=None),
            can_edit=proposal.can_edit(current_user),
            required_kinds=required_kinds,
            uploaded_kinds=uploaded,
            allowed_types=submission.allowed_attachment_labels(),
            max_size=format_size(_upload_limit()),
            format_size=format_size,
            **_page_context(proposal),
        ),
        status,
    )


def _upload_limit():
    limits = [submission.attachment_max_bytes(), current_app.config.get("MAX_CONTENT_LENGTH")]
    return min(limit for limit in limits if limit)


@bp.route("/proposals/<int:proposal_id>/attachments")
@login_required
def attachments(proposal_id):
    return _render_attachments(_visible_proposal(proposal_id))


@bp.route("/proposals/<int:proposal_id>/attachments", methods=["POST"])
@login_required
def upload_attachment(proposal_id):
    proposal = _members_proposal(proposal_id)
    form = AttachmentForm()
    if not form.validate_on_submit():
        return _render_attachments(proposal, form, 400)
    try:
        attachment = submission.add_attachment(
            db.session, current_user, proposal, form.kind.data, form.file.data
        )
    except DomainError as error:
        db.session.rollback()
        proposal = db.session.get(Proposal, proposal_id)
        show_domain_error(error, form)
        status = 413 if isinstance(error, submission.AttachmentTooLarge) else 400
        return _render_attachments(proposal, form, status)
    db.session.commit()
    flash(
        _(
            "“%(name)s” is attached as %(kind)s.",
            name=attachment.stored_file.original_name,
            kind=str(attachment.kind.label).lower(),
        ),
        "success",
    )
    return redirect(url_for("submission.attachments", proposal_id=proposal.id))


@bp.route("/proposals/<int:proposal_id>/attachments/<int:attachment_id>/delete", methods=["POST"])
@login_required
def delete_attachment(proposal_id, attachment_id):
    proposal = _members_proposal(proposal_id)
    attachment = _attachment_or_404(proposal, attachment_id)
    if not RemoveAttachmentForm().validate_on_submit():
        abort(400)
    name = attachment.stored_file.original_name
    try:
        submission.remove_attachment(db.session, current_user, proposal, attachment)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _render_attachments(db.session.get(Proposal, proposal_id), status=409)
    db.session.commit()
    flash(_("“%(name)s” is removed.", name=name), "success")
    return redirect(url_for("submission.attachments", proposal_id=proposal.id))


def _attachment_or_404(proposal, attachment_id):
    attachment = db.session.get(ProposalAttachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal.id:
        abort(404)
    return attachment


@bp.route("/proposals/<int:proposal_id>/attachments/<int:attachment_id>")
@login_required
def download_attachment(proposal_id, attachment_id):
    proposal = _visible_proposal(proposal_id)
    attachment = _attachment_or_404(proposal, attachment_id)
    return send_stored_file(attachment.stored_file)


@bp.errorhandler(RequestEntityTooLarge)
def request_too_large(error):
    """A request over MAX_CONTENT_LENGTH: say so on the upload page, with the limit, and store nothing."""
    db.session.rollback()
    message = submission.too_large_message(_upload_limit())
    proposal_id = (request.view_args or {}).get("proposal_id")
    proposal = db.session.get(Proposal, proposal_id) if proposal_id else None
    if (
        request.endpoint == "submission.upload_attachment"
        and proposal is not None
        and current_user.is_authenticated
        and proposal.can_view(current_user)
    ):
        form = AttachmentForm(formdata=None)
        form.file.errors = [message]
        return _render_attachments(proposal, form, 413)
    return render_template("errors/error.html", status=413, message=message), 413
