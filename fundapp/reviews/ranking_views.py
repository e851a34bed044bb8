"""The ranking of a call's reviewed proposals, for programme officers, with its CSV and XLSX exports.

``/officer/calls/<reference>/ranking?order=mean|normalised&page=N`` (100 ranks a page); the whole ranking
as ``ranking.csv`` and ``ranking.xlsx``. Programme officers only, as every officer page
(``calls.officer_only``).
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
#: Ranks per page; the exports hold the whole ranking.
PER_PAGE = 100


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


def _page_number():
    """The page asked for (1 for anything that is not a positive number)."""
    page = request.args.get("page", "1")
    return min(int(page), 1_000_000) if page.isdigit() and int(page) > 0 else 1


def _attachment(body, mimetype, filename):
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@bp.route("/officer/calls/<reference>/ranking")
@officer_only
def ranking_page(reference):
    call = _call(reference)
    order = _order()
    page = ranking_module.ranking_page(
        db.session, call, order_by=order, page=_page_number(), per_page=PER_PAGE
    )
    return render_template(
        "reviews/ranking.html",
        call=call,
        order=order,
        ranked=page.items,
        page=page,
        reviewed_count=page.reviewed,
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
