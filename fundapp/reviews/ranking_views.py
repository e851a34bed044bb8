"""The ranking of a call's reviewed proposals, for programme officers, with its CSV and XLSX exports.

``/officer/calls/<reference>/ranking?order=mean|normalised``; the same table as ``ranking.csv`` and
``ranking.xlsx``. Programme officers only, as every officer page (``calls.officer_only``).
"""

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import format_decimal
from sqlalchemy import select

from fundapp.applications.models import Call
from fundapp.core.permissions import Role, role_required
from fundapp.extensions import db
from fundapp.reviews import ranking as ranking_module

bp = Blueprint("ranking", __name__)

officer_only = role_required(Role.PROGRAMME_OFFICER)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_template_filter("score")
def score(value, signed=False):
    """A score (or a normalised score with its sign) to two decimals in the reader's locale; "—" for none."""
    if value is None:
        return "—"
    value = round(value, 2) + 0.0  # no "-0.00"
    return format_decimal(value, format="+0.00;-0.00" if signed else "0.00")


def _call(reference):
    call = db.session.scalar(select(Call).where(Call.reference == reference))
    if call is None:
        abort(404)
    return call


def _order():
    """The order asked for; anything else (a hand-edited address) ranks by the mean."""
    order = request.args.get("order", "")
    return order if order in ranking_module.ORDERS else "mean"


def _attachment(body, mimetype, filename):
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@bp.route("/officer/calls/<reference>/ranking")
@officer_only
def ranking_page(reference):
    call = _call(reference)
    order = _order()
    ranked = ranking_module.ranking(db.session, call, order_by=order)
    return render_template(
        "reviews/ranking.html",
        call=call,
        order=order,
        ranked=ranked,
        reviewed_count=sum(1 for item in ranked if item.is_reviewed),
    )


@bp.route("/officer/calls/<reference>/ranking.csv")
@officer_only
def ranking_csv(reference):
    call = _call(reference)
    ranked = ranking_module.ranking(db.session, call, order_by=_order())
    return _attachment(
        ranking_module.csv_text(ranked).encode("utf-8"),
        "text/csv; charset=utf-8",
        ranking_module.export_filename(call, "csv"),
    )


@bp.route("/officer/calls/<reference>/ranking.xlsx")
@officer_only
def ranking_xlsx(reference):
    call = _call(reference)
    ranked = ranking_module.ranking(db.session, call, order_by=_order())
    return _attachment(
        ranking_module.xlsx_bytes(ranked), XLSX_MIMETYPE, ranking_module.export_filename(call, "xlsx")
    )
