"""The donor portal, under /portal: a donor's contacts see their contributions, the projects their money
funds, and their reports; nothing of any other donor.

A user with the DONOR role who is a contact of a donor (``DonorContact.user_id``) sees that donor. Every
object in a URL is checked against it: a grant their money does not fund, a photo of another grant, any
id changed by hand answers 404. Anyone without the donor role gets 403, anonymous visitors the login page.
"""

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user
from sqlalchemy import select

from fundapp.core.permissions import Role
from fundapp.core.storage import send_stored_file
from fundapp.disbursements.models import Grant, GrantReport, ReportFile, ReportFileKind, ReportState
from fundapp.donors import queries
from fundapp.donors.models import Donor, DonorContact, GeneratedReport, ReportJobState, ReportKind
from fundapp.extensions import db, login_manager

bp = Blueprint("portal", __name__)


@bp.before_request
def _require_donor():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role(Role.DONOR):
        abort(403)
    return None


def donor_of(user):
    """The donor whose contact ``user`` is (the first, should an account be linked to several)."""
    return db.session.scalar(
        select(Donor)
        .join(DonorContact, DonorContact.donor_id == Donor.id)
        .where(DonorContact.user_id == user.id)
        .order_by(Donor.id)
        .limit(1)
    )


def _my_donor():
    donor = donor_of(current_user)
    if donor is None or not donor.can_view(current_user):
        abort(403)
    return donor


def _funded_grant(donor, reference):
    grant = db.session.scalar(select(Grant).where(Grant.reference == reference))
    if grant is None or not queries.funds_project(db.session, donor, grant):
        abort(404)
    return grant


def _reports(donor):
    return db.session.scalars(
        select(GeneratedReport)
        .where(
            GeneratedReport.kind == ReportKind.DONOR,
            GeneratedReport.donor_id == donor.id,
            GeneratedReport.state == ReportJobState.DONE,
        )
        .order_by(GeneratedReport.requested_at.desc())
    ).all()


@bp.route("/")
def home():
    donor = _my_donor()
    overview = queries.donor_overview(db.session, donor)
    return render_template(
        "portal/home.html",
        donor=donor,
        figures=overview.figures,
        contributions=overview.contributions,
        projects=overview.projects,
        reports=_reports(donor),
        can_download="reports.download" in current_app.view_functions,
    )


@bp.route("/projects/<reference>")
def project(reference):
    donor = _my_donor()
    grant = _funded_grant(donor, reference)
    row = next((p for p in queries.funded_projects(db.session, donor) if p.grant_id == grant.id), None)
    if row is None:  # funded once, all given back: nothing to show as theirs
        abort(404)
    return render_template(
        "portal/project.html",
        donor=donor,
        project=row,
        indicators=queries.indicators_of(db.session, [grant.id])[grant.id],
        photos=queries.photos_of(db.session, [grant.id])[grant.id],
    )


@bp.route("/projects/<reference>/photos/<int:photo_id>")
def photo(reference, photo_id):
    """A photo of an accepted report of a grant the donor funds (by ``ReportFile`` id)."""
    donor = _my_donor()
    grant = _funded_grant(donor, reference)
    report_file = db.session.scalar(
        select(ReportFile)
        .join(GrantReport, GrantReport.id == ReportFile.report_id)
        .where(
            ReportFile.id == photo_id,
            GrantReport.grant_id == grant.id,
            GrantReport.state == ReportState.ACCEPTED,
            ReportFile.kind == ReportFileKind.PHOTO,
        )
    )
    if report_file is None:
        abort(404)
    return send_stored_file(report_file.stored_file)
