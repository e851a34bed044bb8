"""The finance pages, under /finance: funding pools, funds received, the journal, the payment batch.

Who sees what: finance officers see and do everything here. Admins keep the fund's books open until the
donors module records contributions, so they may also see the pools and the journal, create pools and
record funds received; reversing an entry and the payments (bank details) are for finance officers only.
Everyone else gets 403, anonymous visitors the login page.

The payment batch comes as CSV (``payments``) and as an ISO 20022 pain.001 file (``pain001``, validated
against the official schema in its tests), both built from the same list of approved tranches.
"""

import math
import uuid
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from fundapp.applications.calls import parse_amount
from fundapp.applications.models import Call
from fundapp.core.errors import Conflict, DomainError
from fundapp.core.formatting import fund_timezone, fund_today
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.core.web import safe_next_url, show_domain_error
from fundapp.disbursements import ledger, payments, pools
from fundapp.disbursements.finance_forms import (
    EntryFilterForm,
    PaymentFileForm,
    PoolForm,
    ReceiptForm,
    ReverseForm,
)
from fundapp.disbursements.models import (
    EntryKind,
    FundingPool,
    Grant,
    GrantState,
    JournalEntry,
    Posting,
    Restriction,
)
from fundapp.extensions import db, login_manager
from fundapp.reference.models import Vocabulary, reference_items

bp = Blueprint("finance", __name__)

PER_PAGE = 50


# -- access -----------------------------------------------------------------------------------------------


@bp.before_request
def _require_finance_access():
    """Anonymous: the login page. Finance officers and admins come further (each view narrows it down);
    anyone else gets 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role(Role.FINANCE_OFFICER, Role.ADMIN):
        abort(403)
    return None


def can_keep_books(user):
    """See pools and the journal, create pools, record funds received."""
    return user.is_authenticated and user.has_role(Role.FINANCE_OFFICER, Role.ADMIN)


def can_handle_payments(user):
    """Reverse entries, see the payments awaiting release and their bank details."""
    return user.is_authenticated and user.has_role(Role.FINANCE_OFFICER)


def _bookkeeper():
    if not can_keep_books(current_user):
        abort(403)


def _finance_officer():
    if not can_handle_payments(current_user):
        abort(403)


def _pool(code):
    pool = pools.get_pool(db.session, code)
    if pool is None:
        abort(404)
    return pool


def _page_number():
    page = request.args.get("page", "1")
    return min(int(page), 1_000_000) if page.isdigit() and int(page) > 0 else 1


@bp.app_context_processor
def _finance_helpers():
    return {"can_keep_books": can_keep_books, "can_handle_payments": can_handle_payments}


# -- pools ------------------------------------------------------------------------------------------------


def _theme_labels():
    return {item.code: item.label for item in reference_items(Vocabulary.THEME, active_only=False)}


def _reserved_by_pool(pool_ids):
    """``{pool_id: minor}`` reserved by approved grants awaiting signature (``pools.reserved``), in one
    query for all the pools."""
    if not pool_ids:
        return {}
    rows = db.session.execute(
        select(Grant.pool_id, func.sum(Grant.amount_minor))
        .where(Grant.pool_id.in_(pool_ids), Grant.state == GrantState.AGREEMENT)
        .group_by(Grant.pool_id)
    )
    return {pool_id: int(total) for pool_id, total in rows}


@bp.route("/pools", endpoint="pools")
def pool_list():
    _bookkeeper()
    all_pools = db.session.scalars(
        select(FundingPool).options(joinedload(FundingPool.call)).order_by(FundingPool.code)
    ).all()
    figures = ledger.pool_figures_many(db.session, all_pools)
    reserved = _reserved_by_pool([pool.id for pool in all_pools])
    rows, totals = [], {}
    for pool in all_pools:
        figure = figures[pool.id]
        held = Money(reserved.get(pool.id, 0), pool.currency)
        row = {
            "pool": pool,
            "received": figure.received,
            "refunded": figure.refunded,
            "committed": figure.committed,
            "reserved": held,
            "available": figure.available,
            "free": figure.available - held,
            "released": figure.released,
        }
        rows.append(row)
        total = totals.setdefault(
            pool.currency, {key: Money.zero(pool.currency) for key in row if key != "pool"}
        )
        for key, value in row.items():
            if key != "pool":
                total[key] = total[key] + value
    return render_template(
        "disbursements/finance/pools.html",
        rows=rows,
        totals=sorted(totals.items()),
        themes=_theme_labels(),
    )


def _pool_form():
    themes = reference_items(Vocabulary.THEME)
    calls = db.session.scalars(select(Call).order_by(Call.reference.desc())).all()
    form = PoolForm(themes, calls)
    if request.method == "GET":
        form.currency.data = current_app.config["BASE_CURRENCY"]
    return form


@bp.route("/pools/new", methods=["GET", "POST"])
def new_pool():
    _bookkeeper()
    form = _pool_form()
    status = 200
    if form.validate_on_submit():
        restriction = Restriction(form.restriction.data)
        call = db.session.get(Call, int(form.call.data)) if form.call.data else None
        try:
            pool = pools.create_pool(
                db.session,
                current_user,
                code=form.code.data,
                name=form.name.data,
                currency=form.currency.data,
                restriction=restriction,
                theme=form.theme.data or None,
                call=call,
            )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
            status = 400
        else:
            db.session.commit()
            flash(_("The pool %(code)s is created. Record the funds it receives.", code=pool.code), "success")
            return redirect(url_for("finance.pool", code=pool.code))
    elif request.method == "POST":
        status = 400
    return render_template("disbursements/finance/new_pool.html", form=form), status


@bp.route("/pools/<code>/receive", methods=["GET", "POST"])
def receive(code):
    _bookkeeper()
    pool = _pool(code)
    form = ReceiptForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
        form.value_date.data = fund_today()
    status = 200
    if form.validate_on_submit():
        try:
            amount = parse_amount(form.amount.data, pool.currency, field_name="amount")
            entry = pools.receive_funds(
                db.session,
                current_user,
                pool,
                amount,
                value_date=form.value_date.data,
                bank_reference=form.bank_reference.data,
                description=form.description.data,
                idempotency_key=form.idempotency_key.data,
            )
        except Conflict as error:
            db.session.rollback()
            show_domain_error(error, form)
            status = 409
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
            status = 400
        else:
            db.session.commit()
            flash(
                _(
                    "%(amount)s received into %(pool)s is recorded (journal entry %(id)d).",
                    amount=amount.format(_locale()),
                    pool=pool.code,
                    id=entry.id,
                ),
                "success",
            )
            return redirect(url_for("finance.pool", code=pool.code))
    elif request.method == "POST":
        status = 400
    return render_template("disbursements/finance/receive.html", pool=pool, form=form), status


def _locale():
    from flask_babel import get_locale

    return str(get_locale() or "en")


def _entries_page(query, page):
    """``(entries, total, page, pages)`` of ``query`` (JournalEntry rows), newest first, postings loaded;
    a page past the last shows the last."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(page, pages)
    entries = db.session.scalars(
        query.options(
            selectinload(JournalEntry.postings).joinedload(Posting.account),
            joinedload(JournalEntry.recorded_by),
        )
        .order_by(JournalEntry.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return entries, total, page, pages


def _reversal_state(entries):
    """``{entry_id: reversing entry id}`` for the entries of the page that are reversed."""
    ids = [entry.id for entry in entries]
    if not ids:
        return {}
    rows = db.session.execute(
        select(JournalEntry.reverses_id, JournalEntry.id).where(JournalEntry.reverses_id.in_(ids))
    )
    return dict(rows.all())


def _reversible(entry, reversed_by):
    """Whether the journal offers to reverse ``entry`` (``ledger.reverse_entry`` has the final word)."""
    return not (
        entry.reverses_id is not None
        or entry.id in reversed_by
        or entry.kind == EntryKind.RELEASE
        or (entry.kind in (EntryKind.COMMITMENT, EntryKind.DECOMMITMENT) and entry.grant_id is not None)
    )


@bp.route("/pools/<code>")
def pool(code):
    _bookkeeper()
    pool = _pool(code)
    page = _page_number()
    touching = select(JournalEntry).where(
        JournalEntry.id.in_(select(Posting.entry_id).where(Posting.account_id == pool.account_id))
    )
    entries, total, page, pages = _entries_page(touching, page)
    grants = db.session.scalars(
        select(Grant)
        .options(joinedload(Grant.organisation))
        .where(Grant.pool_id == pool.id)
        .order_by(Grant.reference)
    ).all()
    sums = ledger._sums_by_kind(db.session, [grant.account_id for grant in grants])
    grant_rows = []
    for grant in grants:

        def of(kind, grant=grant):
            return sums.get((grant.account_id, kind), 0)

        committed = -(of(EntryKind.COMMITMENT) + of(EntryKind.DECOMMITMENT))
        released = of(EntryKind.RELEASE)
        grant_rows.append(
            {
                "grant": grant,
                "committed": Money(committed, grant.currency),
                "released": Money(released, grant.currency),
                "outstanding": Money(committed - released, grant.currency),
                "url": _grant_url(grant),
            }
        )
    figures = ledger.pool_figures(db.session, pool)
    held = pools.reserved(db.session, pool)
    return render_template(
        "disbursements/finance/pool.html",
        pool=pool,
        figures=figures,
        reserved=held,
        free=figures.available - held,
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        grant_rows=grant_rows,
        themes=_theme_labels(),
    )


def _grant_url(grant):
    if "grants.grant" in current_app.view_functions:
        return url_for("grants.grant", reference=grant.reference)
    return None


# -- the journal ------------------------------------------------------------------------------------------


def _journal(status=200, reverse_form=None, failed_entry=None):
    filters = EntryFilterForm(request.args)
    kind = filters.kind.data if filters.validate() and filters.kind.data else None
    query = select(JournalEntry)
    if kind:
        query = query.where(JournalEntry.kind == EntryKind(kind))
    page = _page_number()
    entries, total, page, pages = _entries_page(query, page)
    reversed_by = _reversal_state(entries)
    return render_template(
        "disbursements/finance/ledger.html",
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        kind=kind,
        filters=filters,
        reversed_by=reversed_by,
        reversible={entry.id for entry in entries if _reversible(entry, reversed_by)},
        reverse_form=reverse_form or ReverseForm(),
        failed_entry=failed_entry,
    ), status


@bp.route("/ledger")
def journal():
    _bookkeeper()
    return _journal()


@bp.route("/ledger/<int:entry_id>/reverse", methods=["POST"])
def reverse(entry_id):
    _finance_officer()
    entry = db.session.get(JournalEntry, entry_id)
    if entry is None:
        abort(404)
    form = ReverseForm()
    if not form.validate_on_submit():
        for message in form.reason.errors or [
            _("The form could not be read. Reload the page and try again.")
        ]:
            flash(message, "error")
        return _journal(400, form, entry_id)
    try:
        reversal = ledger.reverse_entry(db.session, current_user, entry, form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _journal(400, form, entry_id)
    db.session.commit()
    flash(_("Entry %(id)d is reversed by entry %(reversal)d.", id=entry_id, reversal=reversal.id), "success")
    return redirect(safe_next_url(url_for("finance.journal")))


# -- payments ---------------------------------------------------------------------------------------------


def _payments_page(file_form=None, status=200):
    batch = payments.approved_payments(db.session)
    rows = [{"payment": payment, "url": _grant_url(payment.grant)} for payment in batch]
    totals = {}
    for payment in batch:
        currency = payment.amount.currency
        totals[currency] = totals.get(currency, Money.zero(currency)) + payment.amount
    if file_form is None:
        file_form = PaymentFileForm(formdata=None, data={"execution_date": fund_today()})
    return render_template(
        "disbursements/finance/payments.html", rows=rows, totals=sorted(totals.items()), file_form=file_form
    ), status


@bp.route("/payments", endpoint="payments")
def payment_list():
    _finance_officer()
    return _payments_page()


@bp.route("/payments.csv")
def payments_csv():
    _finance_officer()
    stamp = datetime.now(fund_timezone()).strftime("%Y%m%d-%H%M")
    response = Response(payments.payment_batch_csv(db.session), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="payment-batch-{stamp}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/payments.xml")
def payments_pain001():
    """The batch as an ISO 20022 credit transfer file (pain.001.001.03), to pay on the date asked."""
    _finance_officer()
    from fundapp.disbursements.pain001 import credit_transfer_file

    form = PaymentFileForm(request.args)
    if not form.validate():
        for message in form.execution_date.errors:
            flash(message, "error")
        return _payments_page(form, 400)
    if form.execution_date.data < fund_today():
        form.execution_date.errors = [_("The bank cannot pay on a day that has passed.")]
        flash(form.execution_date.errors[0], "error")
        return _payments_page(form, 400)
    xml = credit_transfer_file(db.session, execution_date=form.execution_date.data)
    if xml is None:
        flash(_("No tranche is approved and waiting to be paid."), "info")
        return redirect(url_for("finance.payments"))
    stamp = datetime.now(fund_timezone()).strftime("%Y%m%d-%H%M")
    response = Response(xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="payment-batch-{stamp}.xml"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
