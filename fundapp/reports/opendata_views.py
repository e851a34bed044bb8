"""Downloads: the open-data files for anyone (``/open-data``), the XLSX spreadsheets for staff (``/exports``).

``opendata``: the page that explains the IATI and 360Giving files and links to them, and the files
themselves, public (no login: they are open data). ``exports``: grants and tranches for fund staff,
contributions for finance officers and admins (``spreadsheets.can_export_*``); anyone else gets 403, a
visitor who is not signed in the login page.
"""

from datetime import datetime

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user, login_required

from fundapp.core.formatting import fund_timezone
from fundapp.extensions import db
from fundapp.reports import opendata, spreadsheets

bp = Blueprint("opendata", __name__)
exports_bp = Blueprint("exports", __name__)

#: Open data changes when money moves; a few minutes in a cache is fine.
_PUBLIC_CACHE = "public, max-age=300"


def _download(body, mimetype, filename, cache=None):
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if cache:
        headers["Cache-Control"] = cache
    return Response(body, mimetype=mimetype, headers=headers)


@bp.route("")
def index():
    return render_template(
        "opendata/index.html",
        grant_count=opendata.published_count(db.session),
        fund_identifier=opendata.fund_identifier(),
        can_export_grants=spreadsheets.can_export_grants(current_user),
        can_export_contributions=spreadsheets.can_export_contributions(current_user),
    )


@bp.route("/iati.xml")
def iati_xml():
    return _download(opendata.iati_xml(db.session), "application/xml", "iati-activities.xml", _PUBLIC_CACHE)


@bp.route("/360giving.json")
def giving_json():
    package = opendata.giving_package(db.session)
    return _download(opendata.giving_json(package), "application/json", "360giving.json", _PUBLIC_CACHE)


@bp.route("/360giving.csv")
def giving_csv():
    package = opendata.giving_package(db.session)
    return _download(opendata.giving_csv(package), "text/csv; charset=utf-8", "360giving.csv", _PUBLIC_CACHE)


def _stamp():
    return datetime.now(fund_timezone()).strftime("%Y%m%d-%H%M")


def _xlsx(body, name):
    return _download(body, spreadsheets.XLSX_MIMETYPE, f"{name}-{_stamp()}.xlsx", "private, no-store")


@exports_bp.route("/grants.xlsx")
@login_required
def grants_xlsx():
    if not spreadsheets.can_export_grants(current_user):
        abort(403)
    return _xlsx(spreadsheets.grants_xlsx(db.session), "grants")


@exports_bp.route("/tranches.xlsx")
@login_required
def tranches_xlsx():
    if not spreadsheets.can_export_grants(current_user):
        abort(403)
    return _xlsx(spreadsheets.tranches_xlsx(db.session), "tranches")


@exports_bp.route("/contributions.xlsx")
@login_required
def contributions_xlsx():
    if not spreadsheets.can_export_contributions(current_user):
        abort(403)
    return _xlsx(spreadsheets.contributions_xlsx(db.session), "contributions")
