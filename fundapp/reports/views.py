"""The reports pages, under /reports: generated donor and portfolio reports, their progress, downloads.

Staff (finance officers, programme officers, admins) see every generated report and ask for new ones.
A donor's contacts (role donor) may open and download their own donor's reports; any other report is a
404 to them, as if it did not exist. Other signed-in users get 403, anonymous visitors the login page.

The status page refreshes itself every two seconds while the report is queued or being generated, with a
``Refresh`` header and a ``<meta http-equiv="refresh">`` (no script: the CSP forbids inline scripts).
"""

from flask import Blueprint, abort, make_response, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import InputRequired, Optional

from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today
from fundapp.core.permissions import Role
from fundapp.core.storage import send_stored_file
from fundapp.core.web import show_domain_error
from fundapp.donors.models import Donor, GeneratedReport, ReportJobState, ReportKind
from fundapp.extensions import db, login_manager
from fundapp.reports import generation

bp = Blueprint("reports", __name__)

LIST_LIMIT = 200


class DonorReportForm(FlaskForm):
    donor = SelectField(_l("Donor"), coerce=int, validators=[InputRequired(_l("Choose the donor."))])
    date_from = DateField(
        lazy_pgettext("start of a period", "From"),
        validators=[Optional()],
        description=_l("Empty: from the donor's first contribution."),
    )
    date_to = DateField(
        lazy_pgettext("end of a period", "To"), validators=[Optional()], description=_l("Empty: today.")
    )


class PortfolioReportForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(_l("Give the year."))])


@bp.before_request
def _require_sign_in():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not (generation.can_request_reports(current_user) or current_user.has_role(Role.DONOR)):
        abort(403)
    return None


def _require_staff():
    if not generation.can_request_reports(current_user):
        abort(403)


def _report_or_404(report_id):
    report = db.session.get(GeneratedReport, report_id)
    if report is None or not generation.can_view_report(report, current_user):
        abort(404)
    return report


def _donor_choices():
    return [
        (donor.id, f"{donor.reference} · {donor.name}")
        for donor in db.session.scalars(select(Donor).order_by(Donor.reference))
    ]


def _forms():
    donor_form = DonorReportForm(prefix="donor")
    donor_form.donor.choices = _donor_choices()
    portfolio_form = PortfolioReportForm(prefix="portfolio")
    if portfolio_form.year.data is None:
        portfolio_form.year.data = fund_today().year
    return donor_form, portfolio_form


def _index(donor_form, portfolio_form, status=200):
    reports = db.session.scalars(
        select(GeneratedReport)
        .options(selectinload(GeneratedReport.donor), selectinload(GeneratedReport.requested_by))
        .order_by(GeneratedReport.requested_at.desc(), GeneratedReport.id.desc())
        .limit(LIST_LIMIT)
    ).all()
    return (
        render_template(
            "reports/index.html", reports=reports, donor_form=donor_form, portfolio_form=portfolio_form
        ),
        status,
    )


@bp.get("/")
def index():
    _require_staff()
    return _index(*_forms())


def _start(report):
    report_id = report.id
    db.session.commit()
    generation.start_report(report_id)
    return redirect(url_for("reports.status", report_id=report_id))


@bp.post("/donor")
def request_donor_report():
    _require_staff()
    donor_form, portfolio_form = _forms()
    if not donor_form.validate_on_submit():
        return _index(donor_form, portfolio_form, 400)
    donor = db.session.get(Donor, donor_form.donor.data)
    try:
        report = generation.request_report(
            db.session,
            current_user,
            ReportKind.DONOR,
            donor,
            {"from": donor_form.date_from.data, "to": donor_form.date_to.data},
        )
    except DomainError as error:
        db.session.rollback()
        show_domain_error(error, donor_form)
        return _index(donor_form, portfolio_form, 400)
    return _start(report)


@bp.post("/portfolio")
def request_portfolio_report():
    _require_staff()
    donor_form, portfolio_form = _forms()
    if not portfolio_form.validate_on_submit():
        return _index(donor_form, portfolio_form, 400)
    try:
        report = generation.request_report(
            db.session, current_user, ReportKind.PORTFOLIO, None, {"year": portfolio_form.year.data}
        )
    except DomainError as error:
        db.session.rollback()
        show_domain_error(error, portfolio_form)
        return _index(donor_form, portfolio_form, 400)
    return _start(report)


@bp.get("/<int:report_id>")
def status(report_id):
    report = _report_or_404(report_id)
    running = report.state in (ReportJobState.QUEUED, ReportJobState.RUNNING)
    response = make_response(
        render_template(
            "reports/status.html",
            report=report,
            running=running,
            is_staff=generation.can_request_reports(current_user),
        )
    )
    if running:
        response.headers["Refresh"] = "2"
    return response


@bp.get("/<int:report_id>/download")
def download(report_id):
    report = _report_or_404(report_id)
    if not generation.can_download_report(report, current_user):
        abort(404)
    return send_stored_file(report.file)
