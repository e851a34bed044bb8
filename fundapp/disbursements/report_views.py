"""The grantee report page, under /grants/<reference>/reports/<number>, and its actions.

Who sees what:

- anonymous visitors are sent to the login page;
- the grantee (members of the organisation holding the grant) write the report while it is due or changes
  were requested, and read it afterwards;
- programme officers read it and, once it is submitted, accept it or ask for changes;
- finance officers and admins read it;
- an applicant of another organisation gets 404 (another organisation's grants do not exist for them),
  as does anyone asking for a grant or report that does not exist;
- anyone else (reviewers, board members: roles that have no business with grants) gets 404, as on the
  grant's own page: for them the grant does not exist.

A POST a role may not make answers 403 (staff posting the grantee's forms, the grantee accepting). A
refusal by an operation shows its message on the unchanged page (400 for bad input, 409 for the state of
things, 413 for a file over the limit), with what was typed kept in the form.

The report form has two buttons: "Save" posts to the page, "Submit" (``formaction``) posts the same
fields to ``.../submit``, which saves them first, so that a submission refused for something missing never
loses what was typed: the draft is kept and the page lists what is missing.
"""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today
from fundapp.core.permissions import Role
from fundapp.core.storage import format_size, send_stored_file
from fundapp.core.web import show_domain_error
from fundapp.disbursements import reporting
from fundapp.disbursements.models import Grant, GrantReport, ReportFile
from fundapp.disbursements.report_forms import (
    AcceptForm,
    ActionForm,
    ChangesForm,
    ReportFileForm,
    ReportForm,
    indicator_field,
    posted_values,
    spend_field,
)
from fundapp.extensions import db, login_manager

bp = Blueprint("grant_reports", __name__)


@bp.before_request
def _require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


# -- loading ------------------------------------------------------------------------------------------


def _visible_report(reference, number):
    """The report, if the current user may see it; 404 otherwise (another organisation's grant too)."""
    grant = db.session.scalar(select(Grant).where(Grant.reference == reference))
    if grant is None or not grant.can_view(current_user):
        abort(404)
    report = db.session.scalar(
        select(GrantReport).where(GrantReport.grant_id == grant.id, GrantReport.number == number)
    )
    if report is None:
        abort(404)
    return report


def _grantee_report(reference, number):
    """The report, for the grantee's members; fund staff, who only read it, get 403."""
    report = _visible_report(reference, number)
    if not reporting.is_grantee(report, current_user):
        abort(403)
    return report


def _officer_report(reference, number):
    """The report, for programme officers; others who may read it get 403."""
    report = _visible_report(reference, number)
    if not current_user.has_role(Role.PROGRAMME_OFFICER):
        abort(403)
    return report


def _file_or_404(report, file_id):
    report_file = db.session.get(ReportFile, file_id)
    if report_file is None or report_file.report_id != report.id:
        abort(404)
    return report_file


def _reload(report_id):
    """The report again after a rollback (its attributes expired), or 404 if it is gone."""
    report = db.session.get(GrantReport, report_id)
    if report is None:
        abort(404)
    return report


def _report_url(report, **values):
    return url_for("grant_reports.report", reference=report.grant.reference, number=report.number, **values)


def _grant_url(grant):
    """The grant's page, if that blueprint is installed."""
    if "grants.grant" in current_app.view_functions:
        return url_for("grants.grant", reference=grant.reference)
    return None


# -- the page -----------------------------------------------------------------------------------------


def _render(report, *, form=None, posted=None, errors=None, status=200, **forms):
    can_edit = reporting.can_edit_report(report, current_user)
    can_review = reporting.can_review_report(report, current_user)
    if form is None:
        form = ReportForm(formdata=None, data={"narrative": report.narrative})
    rows = reporting.report_form_rows(report)
    return (
        render_template(
            "disbursements/reports/report.html",
            report=report,
            grant=report.grant,
            rows=rows,
            form=form,
            posted=posted if posted is not None else {},
            errors=errors or {},
            can_edit=can_edit,
            can_review=can_review,
            is_grantee=reporting.is_grantee(report, current_user),
            problems=reporting.submission_problems(report) if can_edit else [],
            overdue=reporting.is_overdue(report, fund_today()),
            threshold=reporting.variance_threshold(),
            accept_form=forms.get("accept_form") or AcceptForm(formdata=None),
            changes_form=forms.get("changes_form") or ChangesForm(formdata=None),
            file_form=forms.get("file_form") or ReportFileForm(formdata=None),
            indicator_field=indicator_field,
            spend_field=spend_field,
            allowed_types=reporting.allowed_file_labels(),
            max_size=format_size(_upload_limit()),
            format_size=format_size,
            grant_url=_grant_url(report.grant),
        ),
        status,
    )


@bp.route("/<reference>/reports/<int:number>", methods=["GET", "POST"])
def report(reference, number):
    if request.method == "GET":
        return _render(_visible_report(reference, number))
    report = _grantee_report(reference, number)
    form = ReportForm()
    if not form.validate_on_submit():
        return _render(report, form=form, posted=request.form, status=400)
    failure = _save(report, form)
    if failure is not None:
        return failure
    db.session.commit()
    flash(_("The report is saved. Submit it when it is complete."), "success")
    return redirect(_report_url(report))


def _save(report, form):
    """Save the posted draft; on a refusal, the page again with what was typed (else None)."""
    indicator_values, spend = posted_values(request.form, reporting.report_form_rows(report))
    try:
        reporting.save_report(
            db.session,
            current_user,
            report,
            narrative=form.narrative.data,
            indicator_values=indicator_values,
            spend=spend,
        )
    except reporting.ReportInvalid as error:
        db.session.rollback()
        flash(error.message, "error")
        errors = dict(error.errors)
        if "narrative" in errors:
            form.narrative.errors = [errors.pop("narrative")]
        return _render(_reload(report.id), form=form, posted=request.form, errors=errors, status=400)
    except DomainError as error:
        db.session.rollback()
        show_domain_error(error, form)
        return _render(_reload(report.id), form=form, posted=request.form, status=409)
    return None


@bp.route("/<reference>/reports/<int:number>/submit", methods=["POST"])
def submit(reference, number):
    report = _grantee_report(reference, number)
    saving = "narrative" in request.form
    form = ReportForm() if saving else ActionForm()
    if not form.validate_on_submit():
        return _render(report, posted=request.form, status=400)
    if saving:
        failure = _save(report, form)
        if failure is not None:
            return failure
    try:
        reporting.submit_report(db.session, current_user, report)
    except DomainError as error:
        if saving:
            # The operation refused before changing anything: keep the draft that was just saved.
            db.session.commit()
        else:
            db.session.rollback()
        report = _reload(report.id)
        if isinstance(error, reporting.ReportIncomplete):
            flash(_("The report is not submitted yet: complete what is listed below."), "error")
        else:
            flash(error.message, "error")
        return _render(report, status=409)
    db.session.commit()
    flash(
        _("The report is submitted. The fund's programme officers have been told; you will hear from them."),
        "success",
    )
    return redirect(_report_url(report))


@bp.route("/<reference>/reports/<int:number>/accept", methods=["POST"])
def accept(reference, number):
    report = _officer_report(reference, number)
    form = AcceptForm()
    if not form.validate_on_submit():
        return _render(report, accept_form=form, status=400)
    try:
        reporting.accept_report(db.session, current_user, report, form.comment.data or "")
    except DomainError as error:
        db.session.rollback()
        show_domain_error(error, form)
        return _render(_reload(report.id), accept_form=form, status=400 if error.field else 409)
    db.session.commit()
    flash(_("The report is accepted. The grantee has been told."), "success")
    return redirect(_report_url(report))


@bp.route("/<reference>/reports/<int:number>/request-changes", methods=["POST"])
def request_changes(reference, number):
    report = _officer_report(reference, number)
    form = ChangesForm()
    if not form.validate_on_submit():
        return _render(report, changes_form=form, status=400)
    try:
        reporting.request_changes(db.session, current_user, report, form.reason.data or "")
    except DomainError as error:
        db.session.rollback()
        show_domain_error(error, form)
        return _render(_reload(report.id), changes_form=form, status=400 if error.field else 409)
    db.session.commit()
    flash(_("The report is sent back to the grantee with your request."), "success")
    return redirect(_report_url(report))


# -- files --------------------------------------------------------------------------------------------


def _upload_limit():
    limits = [reporting.file_max_bytes(), current_app.config.get("MAX_CONTENT_LENGTH")]
    return min(limit for limit in limits if limit)


@bp.route("/<reference>/reports/<int:number>/files", methods=["POST"])
def upload_file(reference, number):
    report = _grantee_report(reference, number)
    form = ReportFileForm()
    if not form.validate_on_submit():
        return _render(report, file_form=form, status=400)
    try:
        report_file = reporting.add_report_file(
            db.session,
            current_user,
            report,
            form.file.data,
            kind=form.kind.data or None,
            caption=form.caption.data or "",
        )
    except DomainError as error:
        db.session.rollback()
        show_domain_error(error, form)
        status = 413 if isinstance(error, reporting.ReportFileTooLarge) else 400
        return _render(_reload(report.id), file_form=form, status=status)
    db.session.commit()
    flash(
        _(
            "“%(name)s” is added to the report as %(kind)s.",
            name=report_file.stored_file.original_name,
            kind=str(report_file.kind.label).lower(),
        ),
        "success",
    )
    return redirect(_report_url(report, _anchor="files"))


@bp.route("/<reference>/reports/<int:number>/files/<int:file_id>/remove", methods=["POST"])
def remove_file(reference, number, file_id):
    report = _grantee_report(reference, number)
    report_file = _file_or_404(report, file_id)
    if not ActionForm().validate_on_submit():
        return _render(report, status=400)
    name = report_file.stored_file.original_name
    try:
        reporting.remove_report_file(db.session, current_user, report_file)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _render(_reload(report.id), status=409)
    db.session.commit()
    flash(_("“%(name)s” is removed from the report.", name=name), "success")
    return redirect(_report_url(report, _anchor="files"))


@bp.route("/<reference>/reports/<int:number>/files/<int:file_id>")
def download_file(reference, number, file_id):
    report = _visible_report(reference, number)
    return send_stored_file(_file_or_404(report, file_id).stored_file)


@bp.errorhandler(RequestEntityTooLarge)
def request_too_large(error):
    """A request over MAX_CONTENT_LENGTH: say so on the report page, with the limit, and store nothing."""
    db.session.rollback()
    message = reporting.too_large_message(_upload_limit())
    args = request.view_args or {}
    grant = db.session.scalar(select(Grant).where(Grant.reference == args.get("reference")))
    report = None
    if grant is not None and grant.can_view(current_user):
        report = db.session.scalar(
            select(GrantReport).where(
                GrantReport.grant_id == grant.id, GrantReport.number == args.get("number")
            )
        )
    if report is not None:
        form = ReportFileForm(formdata=None)
        form.file.errors = [message]
        return _render(report, file_form=form, status=413)
    return render_template("errors/error.html", status=413, message=message), 413
