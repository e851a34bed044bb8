"""The grant pages, under /grants.

Who sees what: programme officers, finance officers and admins see every grant; an applicant sees the
grants of their organisations (another organisation's grant does not exist for them: 404); anyone else
gets 403 on the list. Bank details are shown to finance officers and the organisation's members only.
Programme officers manage the schedule, the signatures and the grant's life; finance officers approve,
release and record refunds (403 for anyone else). A refusal shows its message on the unchanged page with
status 400; a release retried with the same request key answers with the first result, and the same key
with other details is refused with 409.
"""

import re
import uuid
from decimal import Decimal, InvalidOperation

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from fundapp.accounts.models import Membership
from fundapp.core.errors import Conflict, DomainError
from fundapp.core.formatting import fund_today, local_date
from fundapp.core.money import InvalidAmount, Money
from fundapp.core.navigation import register_nav
from fundapp.core.permissions import Role
from fundapp.core.storage import send_stored_file
from fundapp.core.web import show_domain_error
from fundapp.disbursements import ledger, operations
from fundapp.disbursements.forms import (
    ActionForm,
    ApproveForm,
    ReasonForm,
    RefundForm,
    ReleaseForm,
    ScheduleForm,
    SignForm,
)
from fundapp.disbursements.models import Grant, GrantState, Tranche, TrancheGate, TrancheState
from fundapp.extensions import db, login_manager

bp = Blueprint("grants", __name__)

register_nav(
    _l("Grants"),
    "grants.index",
    roles=[Role.PROGRAMME_OFFICER, Role.FINANCE_OFFICER, Role.ADMIN, Role.APPLICANT],
    order=45,
)

PER_PAGE = 50
STAFF = (Role.PROGRAMME_OFFICER, Role.FINANCE_OFFICER, Role.ADMIN)
_AMOUNT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_GROUPING = re.compile(r"[\s\u00a0\u202f_']")


@bp.before_request
def _require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


# -- loading and access --------------------------------------------------------------------------------------


def _grant_page_loading():
    """What the grant pages show of a grant, to load with it: a fixed number of queries whatever its
    tranches, reports and the people who approved and released them."""
    return (
        joinedload(Grant.organisation),
        joinedload(Grant.call),
        joinedload(Grant.pool),
        selectinload(Grant.tranches).options(
            joinedload(Tranche.approved_by), joinedload(Tranche.released_by)
        ),
        selectinload(Grant.reports),
    )


def _grant(reference):
    grant = db.session.scalar(
        select(Grant).where(Grant.reference == reference).options(*_grant_page_loading())
    )
    if grant is None or not grant.can_view(current_user):
        abort(404)
    return grant


def _tranche(grant, number):
    tranche = next((t for t in grant.tranches if t.number == number), None)
    if tranche is None:
        abort(404)
    return tranche


def _officer():
    if not current_user.has_role(Role.PROGRAMME_OFFICER):
        abort(403)


def _finance():
    if not current_user.has_role(Role.FINANCE_OFFICER):
        abort(403)


def read_amount(text, currency, field):
    """Typed major units as Money; a sign is kept so that the operation can say why it is refused."""
    cleaned = _GROUPING.sub("", text or "")
    if not cleaned:
        raise DomainError(_("Enter an amount."), field=field)
    if "," in cleaned or not _AMOUNT.fullmatch(cleaned):
        raise DomainError(
            _(
                "“%(value)s” is not an amount. Use digits and a dot for decimals, e.g. 1250000.50.",
                value=text,
            ),
            field=field,
        )
    try:
        amount = Money.from_decimal(Decimal(cleaned), currency)
    except (InvalidAmount, InvalidOperation) as error:
        raise DomainError(getattr(error, "message", str(error)), field=field) from None
    if abs(amount.minor) >= 10**17:
        raise DomainError(_("This amount is too large."), field=field)
    return amount


# -- the list ------------------------------------------------------------------------------------------------


@bp.route("")
def index():
    is_staff = current_user.has_role(*STAFF)
    if not is_staff and not current_user.has_role(Role.APPLICANT):
        abort(403)
    query = select(Grant).options(
        joinedload(Grant.organisation), joinedload(Grant.call), joinedload(Grant.pool)
    )
    if not is_staff:
        query = query.where(
            Grant.organisation_id.in_(
                select(Membership.organisation_id).where(Membership.user_id == current_user.id)
            )
        )
    state = request.args.get("state", "")
    try:
        state = GrantState(state) if state else None
    except ValueError:
        state = None
    if state is not None:
        query = query.where(Grant.state == state)
    page = request.args.get("page", 1, type=int)
    pagination = db.paginate(
        query.order_by(Grant.created_at.desc(), Grant.id.desc()),
        page=max(page, 1),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "disbursements/grants/index.html",
        pagination=pagination,
        grants=pagination.items,
        state=state,
        states=list(GrantState),
        is_staff=is_staff,
    )


# -- the grant page ------------------------------------------------------------------------------------------


def _page_context(grant, *, failed=None, errors=None):
    figures = ledger.grant_figures(db.session, grant) if grant.state != GrantState.AGREEMENT else None
    tranches = [
        {
            "tranche": tranche,
            "actions": operations.tranche_actions(tranche, current_user),
            "waiting_for": operations.waiting_for(tranche) if tranche.state == TrancheState.SCHEDULED else "",
        }
        for tranche in grant.tranches
    ]
    return {
        "grant": grant,
        "figures": figures,
        "timeline": operations.grant_timeline(grant),
        "tranches": tranches,
        "actions": operations.grant_actions(grant, current_user),
        "can_see_bank": grant.can_view_bank_details(current_user),
        "is_staff": current_user.has_role(*STAFF),
        "report_links": "grant_reports.report" in current_app.view_functions,
        "failed": failed,
        "errors": errors or {},
        "today": fund_today(),
    }


@bp.route("/<reference>")
def grant(reference):
    grant = _grant(reference)
    # The system's move of tranches whose day has come; a scheduled job does it too.
    if operations.refresh_due(db.session, grant):
        db.session.commit()
    return render_template("disbursements/grants/grant.html", **_page_context(grant))


def _refused(grant, key, error_or_messages):
    """The grant page again, unchanged, with the refusal flashed and marked on the failing form."""
    reference = grant.reference
    db.session.rollback()
    grant = _grant(reference)
    errors = {}
    if isinstance(error_or_messages, DomainError):
        flash(error_or_messages.message, "error")
        errors[f"{key}-{error_or_messages.field or 'form'}"] = error_or_messages.message
    else:
        for field, message in error_or_messages:
            flash(message, "error")
            errors[f"{key}-{field}"] = message
    return render_template(
        "disbursements/grants/grant.html", **_page_context(grant, failed=key, errors=errors)
    ), 400


def _form_problems(form):
    return [
        (name, f"{field.label.text}: {message}" if field.label.text else message)
        for name, field in form._fields.items()
        for message in field.errors
    ] or [("form", _("The form could not be read. Reload the page and try again."))]


def _act(grant, form, key, action, success):
    """Validate ``form``, run ``action()``, commit and go back to the grant; or show the refusal."""
    if not form.validate_on_submit():
        return _refused(grant, key, _form_problems(form))
    try:
        action()
    except DomainError as error:
        return _refused(grant, key, error)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("grants.grant", reference=grant.reference))


# -- the schedule --------------------------------------------------------------------------------------------


def _schedule_rows(form, grant):
    rows = []
    for entry in form.rows:
        row = entry.form
        if row.is_blank():
            continue
        rows.append(
            {
                "amount": read_amount(row.amount.data, grant.currency, "amount"),
                "planned_date": row.planned_date.data,
                "gate": row.gate.data or TrancheGate.NONE.value,
            }
        )
    return rows


@bp.route("/<reference>/schedule", methods=["GET", "POST"])
def schedule(reference):
    _officer()
    grant = _grant(reference)
    if grant.state not in operations.SCHEDULE_STATES:
        flash(
            _("The grant is %(state)s; its schedule can no longer be changed.", state=grant.state.label),
            "error",
        )
        return redirect(url_for("grants.grant", reference=grant.reference))
    full = grant.state == GrantState.AGREEMENT
    if request.method == "GET":
        data = [
            {"amount": f"{t.amount.amount:f}", "planned_date": t.planned_date, "gate": t.gate.value}
            for t in grant.tranches
        ]
        if full:
            data.append({"amount": "", "planned_date": None, "gate": TrancheGate.NONE.value})
        form = ScheduleForm(data={"rows": data})
    else:
        form = ScheduleForm()
    status = 200
    if form.validate_on_submit():
        try:
            operations.update_schedule(db.session, current_user, grant, _schedule_rows(form, grant))
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = 400
        else:
            db.session.commit()
            flash(_("The schedule of %(reference)s is saved.", reference=grant.reference), "success")
            return redirect(url_for("grants.grant", reference=grant.reference))
    elif request.method == "POST":
        for message in _form_problems(form):
            flash(message[1], "error")
        status = 400
    locked = {t.number: t.state not in (TrancheState.SCHEDULED, TrancheState.DUE) for t in grant.tranches}
    return render_template(
        "disbursements/grants/schedule.html", grant=grant, form=form, full=full, locked=locked
    ), status


# -- the agreement and its signatures -----------------------------------------------------------------------


@bp.route("/<reference>/agreement.pdf")
def agreement(reference):
    grant = _grant(reference)
    if grant.agreement_file is None:
        operations.store_agreement(db.session, current_user, grant)
        db.session.commit()
    return send_stored_file(grant.agreement_file)


@bp.route("/<reference>/signed-copy")
def signed_copy(reference):
    grant = _grant(reference)
    if grant.signed_copy_file is None:
        abort(404)
    return send_stored_file(grant.signed_copy_file)


@bp.route("/<reference>/sign", methods=["GET", "POST"])
def sign(reference):
    _officer()
    grant = _grant(reference)
    form = SignForm()
    status = 200
    if form.validate_on_submit():
        try:
            operations.sign_grant(
                db.session,
                current_user,
                grant,
                grantee_signatory=form.grantee_signatory.data,
                grantee_signed_on=form.grantee_signed_on.data,
                fund_signatory=form.fund_signatory.data,
                fund_signed_on=form.fund_signed_on.data,
                signed_copy=form.signed_copy.data,
            )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
            status = 400
        else:
            db.session.commit()
            flash(
                _("%(reference)s is signed and active; its amount is committed.", reference=grant.reference),
                "success",
            )
            return redirect(url_for("grants.grant", reference=grant.reference))
    elif request.method == "POST":
        status = 400
    return render_template("disbursements/grants/sign.html", grant=grant, form=form), status


# -- tranches ------------------------------------------------------------------------------------------------


@bp.route("/<reference>/tranches/<int:number>/approve", methods=["POST"])
def approve(reference, number):
    _finance()
    grant = _grant(reference)
    tranche = _tranche(grant, number)
    form = ApproveForm()
    return _act(
        grant,
        form,
        f"approve-{number}",
        lambda: operations.approve_tranche(
            db.session, current_user, tranche, bank_details_checked=form.bank_details_checked.data
        ),
        _("Tranche %(number)d is approved; another finance officer releases it.", number=number),
    )


@bp.route("/<reference>/tranches/<int:number>/withdraw-approval", methods=["POST"])
def withdraw_approval(reference, number):
    _finance()
    grant = _grant(reference)
    tranche = _tranche(grant, number)
    form = ReasonForm()
    return _act(
        grant,
        form,
        f"withdraw-{number}",
        lambda: operations.withdraw_approval(db.session, current_user, tranche, form.reason.data),
        _("The approval of tranche %(number)d is withdrawn.", number=number),
    )


@bp.route("/<reference>/tranches/<int:number>/cancel", methods=["POST"])
def cancel_tranche(reference, number):
    _officer()
    grant = _grant(reference)
    tranche = _tranche(grant, number)
    form = ReasonForm()
    return _act(
        grant,
        form,
        f"cancel-{number}",
        lambda: operations.cancel_tranche(db.session, current_user, tranche, form.reason.data),
        _("Tranche %(number)d is cancelled.", number=number),
    )


@bp.route("/<reference>/tranches/<int:number>/release", methods=["GET", "POST"])
def release(reference, number):
    _finance()
    grant = _grant(reference)
    tranche = _tranche(grant, number)
    if request.method == "GET":
        form = ReleaseForm(data={"paid_on": fund_today(), "idempotency_key": uuid.uuid4().hex})
    else:
        form = ReleaseForm()
    status = 200
    if form.validate_on_submit():
        already = tranche.state == TrancheState.RELEASED
        try:
            entry = operations.release_tranche(
                db.session,
                current_user,
                tranche,
                paid_on=form.paid_on.data,
                bank_reference=form.bank_reference.data,
                idempotency_key=form.idempotency_key.data,
            )
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
            status = 409
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
            status = 400
        else:
            db.session.commit()
            if already and entry.tranche_id == tranche.id:  # a retry of the request that released it
                flash(
                    _(
                        "Tranche %(number)d was already released by this request; nothing was changed.",
                        number=number,
                    ),
                    "info",
                )
            else:
                flash(
                    _(
                        "Tranche %(number)d is released: %(amount)s paid on %(date)s.",
                        number=number,
                        amount=tranche.amount.format(),
                        date=local_date(tranche.paid_on),
                    ),
                    "success",
                )
            return redirect(url_for("grants.grant", reference=grant.reference))
    elif request.method == "POST":
        status = 400
    return render_template(
        "disbursements/grants/release.html",
        grant=grant,
        tranche=tranche,
        form=form,
        actions=operations.tranche_actions(tranche, current_user),
        can_see_bank=grant.can_view_bank_details(current_user),
    ), status


# -- the grant's life ----------------------------------------------------------------------------------------


def _grant_action(reference, key, run, success, *, with_reason):
    _officer()
    grant = _grant(reference)
    form = ReasonForm() if with_reason else ActionForm()
    return _act(
        grant,
        form,
        key,
        lambda: run(grant, form.reason.data) if with_reason else run(grant),
        success(grant) if callable(success) else success,
    )


@bp.route("/<reference>/suspend", methods=["POST"])
def suspend(reference):
    return _grant_action(
        reference,
        "suspend",
        lambda grant, reason: operations.suspend_grant(db.session, current_user, grant, reason),
        _("The grant is suspended: it pays nothing until it is resumed."),
        with_reason=True,
    )


@bp.route("/<reference>/resume", methods=["POST"])
def resume(reference):
    return _grant_action(
        reference,
        "resume",
        lambda grant: operations.resume_grant(db.session, current_user, grant),
        _("The grant is active again."),
        with_reason=False,
    )


@bp.route("/<reference>/terminate", methods=["POST"])
def terminate(reference):
    return _grant_action(
        reference,
        "terminate",
        lambda grant, reason: operations.terminate_grant(db.session, current_user, grant, reason),
        _("The grant is terminated; its unpaid tranches are cancelled."),
        with_reason=True,
    )


@bp.route("/<reference>/complete", methods=["POST"])
def complete(reference):
    return _grant_action(
        reference,
        "complete",
        lambda grant: operations.complete_grant(db.session, current_user, grant),
        _("The grant is completed."),
        with_reason=False,
    )


@bp.route("/<reference>/close", methods=["POST"])
def close(reference):
    return _grant_action(
        reference,
        "close",
        lambda grant: operations.close_grant(db.session, current_user, grant),
        _("The grant is closed; what it did not pay is back in its pool."),
        with_reason=False,
    )


@bp.route("/<reference>/cancel", methods=["POST"])
def cancel(reference):
    return _grant_action(
        reference,
        "cancel",
        lambda grant, reason: operations.cancel_grant(db.session, current_user, grant, reason),
        _("The grant is cancelled; the money it reserved is free again."),
        with_reason=True,
    )


@bp.route("/<reference>/refund", methods=["GET", "POST"])
def refund(reference):
    _finance()
    grant = _grant(reference)
    if request.method == "GET":
        form = RefundForm(data={"value_date": fund_today(), "idempotency_key": uuid.uuid4().hex})
    else:
        form = RefundForm()
    status = 200
    if form.validate_on_submit():
        try:
            operations.record_refund(
                db.session,
                current_user,
                grant,
                read_amount(form.amount.data, grant.currency, "amount"),
                value_date=form.value_date.data,
                bank_reference=form.bank_reference.data,
                idempotency_key=form.idempotency_key.data or None,
            )
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
            status = 409
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
            status = 400
        else:
            db.session.commit()
            flash(_("The refund is recorded; the money is back in the pool."), "success")
            return redirect(url_for("grants.grant", reference=grant.reference))
    elif request.method == "POST":
        status = 400
    figures = ledger.grant_figures(db.session, grant)
    return render_template(
        "disbursements/grants/refund.html", grant=grant, form=form, figures=figures
    ), status
