"""The donor pages of fund staff, under /donors: donors, their contacts, pledges and contributions.

Who sees what: finance officers and admins manage donors (``Donor.can_manage``); programme officers read
them (to know whose money funds a grant); everyone else gets 403, anonymous visitors the login page.
A donor's own contacts use the donor portal (``portal_views``), not these pages.

A contribution's form carries an idempotency key made when the form is shown: a second submission of the
same form (a double click, a retried request) records nothing more (``operations.record_contribution``).
"""

import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fundapp.applications.calls import parse_amount
from fundapp.core.errors import Conflict, DomainError
from fundapp.core.formatting import fund_today
from fundapp.core.permissions import Role
from fundapp.core.web import show_domain_error
from fundapp.disbursements.models import FundingPool
from fundapp.donors import operations, queries
from fundapp.donors.forms import ActionForm, ContactForm, ContributionForm, DonorForm, PledgeForm
from fundapp.donors.models import Donor, DonorContact, Pledge, PledgeState
from fundapp.extensions import db, login_manager

bp = Blueprint("donors", __name__)

STAFF = (Role.FINANCE_OFFICER, Role.PROGRAMME_OFFICER, Role.ADMIN)


@bp.before_request
def _require_staff():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role(*STAFF):
        abort(403)
    return None


def can_manage_donors(user):
    return user.is_authenticated and user.has_role(Role.FINANCE_OFFICER, Role.ADMIN)


@bp.app_context_processor
def _donor_helpers():
    return {"can_manage_donors": can_manage_donors}


def _manager():
    if not can_manage_donors(current_user):
        abort(403)


def _donor(reference):
    donor = db.session.scalar(select(Donor).where(Donor.reference == reference))
    if donor is None or not donor.can_view(current_user):
        abort(404)
    return donor


def _locale():
    return str(get_locale() or "en")


def _base_pools():
    return db.session.scalars(
        select(FundingPool)
        .where(FundingPool.currency == current_app.config["BASE_CURRENCY"])
        .order_by(FundingPool.code)
    ).all()


def _pool_by_code(code):
    return db.session.scalar(select(FundingPool).where(FundingPool.code == code)) if code else None


def _refused(error, form):
    """Roll back, put the error next to its field (or flash it), and give the status to answer with."""
    db.session.rollback()
    show_domain_error(error, form)
    return 409 if isinstance(error, Conflict) else 400


# -- donors -----------------------------------------------------------------------------------------------


@bp.route("/")
def index():
    donors = queries.donors_in_order(db.session)
    totals = queries.donor_totals(db.session, donors)
    return render_template("donors/index.html", donors=donors, totals=totals)


@bp.route("/new", methods=["GET", "POST"])
def new_donor():
    _manager()
    form = DonorForm()
    if request.method == "GET":
        form.preferred_currency.data = current_app.config["BASE_CURRENCY"]
    status = 200
    if form.validate_on_submit():
        try:
            donor = operations.create_donor(db.session, current_user, **_donor_fields(form))
        except DomainError as error:
            status = _refused(error, form)
        else:
            db.session.commit()
            flash(
                _(
                    "The donor %(name)s is recorded as %(reference)s.",
                    name=donor.name,
                    reference=donor.reference,
                ),
                "success",
            )
            return redirect(url_for("donors.donor", reference=donor.reference))
    elif request.method == "POST":
        status = 400
    return render_template("donors/edit.html", form=form, donor=None), status


def _donor_fields(form):
    return {field: getattr(form, field).data or "" for field in operations.DONOR_FIELDS}


@bp.route("/<reference>")
def donor(reference):
    donor = _donor(reference)
    return render_template(
        "donors/donor.html",
        donor=donor,
        figures=queries.donor_figures(db.session, donor),
        contributions=queries.contributions_of(db.session, donor),
        pledges=queries.pledges_of(db.session, donor),
        projects=queries.funded_projects(db.session, donor),
        action_form=ActionForm(),
    )


@bp.route("/<reference>/edit", methods=["GET", "POST"])
def edit_donor(reference):
    _manager()
    donor = _donor(reference)
    form = DonorForm(obj=donor)
    if request.method == "GET":
        form.kind.data = donor.kind.value
    status = 200
    if form.validate_on_submit():
        try:
            operations.update_donor(db.session, current_user, donor, **_donor_fields(form))
        except DomainError as error:
            status = _refused(error, form)
            donor = _donor(reference)
        else:
            db.session.commit()
            flash(_("The donor's details are saved."), "success")
            return redirect(url_for("donors.donor", reference=donor.reference))
    elif request.method == "POST":
        status = 400
    return render_template("donors/edit.html", form=form, donor=donor), status


# -- contacts ---------------------------------------------------------------------------------------------


@bp.route("/<reference>/contacts/new", methods=["GET", "POST"])
def new_contact(reference):
    _manager()
    donor = _donor(reference)
    form = ContactForm()
    status = 200
    if form.validate_on_submit():
        try:
            contact = operations.add_contact(
                db.session,
                current_user,
                donor,
                name=form.name.data,
                email=form.email.data,
                position=form.position.data or "",
                phone=form.phone.data or "",
                portal_access=form.portal_access.data,
            )
        except DomainError as error:
            status = _refused(error, form)
            donor = _donor(reference)
        else:
            db.session.commit()
            if contact.user_id:
                flash(
                    _(
                        "%(name)s is a contact and has been sent a link to the donor portal.",
                        name=contact.name,
                    ),
                    "success",
                )
            else:
                flash(_("%(name)s is a contact of the donor.", name=contact.name), "success")
            return redirect(url_for("donors.donor", reference=donor.reference, _anchor="contacts"))
    elif request.method == "POST":
        status = 400
    return render_template("donors/new_contact.html", form=form, donor=donor), status


def _contact(donor, contact_id):
    contact = db.session.get(DonorContact, contact_id)
    if contact is None or contact.donor_id != donor.id:
        abort(404)
    return contact


@bp.route("/<reference>/contacts/<int:contact_id>/portal", methods=["POST"])
def portal_access(reference, contact_id):
    """Give or take away the contact's access to the donor portal (``grant`` or ``remove``)."""
    _manager()
    donor = _donor(reference)
    contact = _contact(donor, contact_id)
    back = redirect(url_for("donors.donor", reference=donor.reference, _anchor="contacts"))
    if not ActionForm().validate_on_submit() or request.form.get("action") not in ("grant", "remove"):
        flash(_("The form could not be read. Reload the page and try again."), "error")
        return back, 303
    try:
        if request.form["action"] == "grant":
            operations.grant_portal_access(db.session, current_user, contact)
            message = _("%(name)s has been sent a link to the donor portal.", name=contact.name)
        else:
            operations.remove_portal_access(db.session, current_user, contact)
            message = _("%(name)s no longer has access to the donor portal.", name=contact.name)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return back, 303
    db.session.commit()
    flash(message, "success")
    return back


# -- pledges ----------------------------------------------------------------------------------------------


@bp.route("/<reference>/pledges/new", methods=["GET", "POST"])
def new_pledge(reference):
    _manager()
    donor = _donor(reference)
    form = PledgeForm(_base_pools())
    if request.method == "GET":
        form.pledged_on.data = fund_today()
    status = 200
    if form.validate_on_submit():
        pool = _pool_by_code(form.pool.data)
        try:
            amount = parse_amount(form.amount.data, donor.preferred_currency, field_name="amount")
            instalments = []
            for row in form.instalments:
                if not row.due_on.data and not row.amount.data:
                    continue
                if not row.due_on.data or not row.amount.data:
                    raise DomainError(
                        _("Give each instalment both a due date and an amount."), field="instalments"
                    )
                instalments.append(
                    (
                        row.due_on.data,
                        parse_amount(row.amount.data, donor.preferred_currency, field_name="instalments"),
                    )
                )
            operations.record_pledge(
                db.session, current_user, donor, pool, amount, form.pledged_on.data, instalments
            )
        except DomainError as error:
            status = _refused(error, form)
            donor = _donor(reference)
        else:
            db.session.commit()
            flash(_("The pledge of %(amount)s is recorded.", amount=amount.format(_locale())), "success")
            return redirect(url_for("donors.donor", reference=donor.reference, _anchor="pledges"))
    elif request.method == "POST":
        status = 400
    return render_template("donors/new_pledge.html", form=form, donor=donor), status


@bp.route("/<reference>/pledges/<int:pledge_id>/cancel", methods=["POST"])
def cancel_pledge(reference, pledge_id):
    _manager()
    donor = _donor(reference)
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.donor_id != donor.id:
        abort(404)
    back = redirect(url_for("donors.donor", reference=donor.reference, _anchor="pledges"))
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form could not be read. Reload the page and try again."), "error")
        return back, 303
    try:
        operations.cancel_pledge(db.session, current_user, pledge, form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return back, 303
    db.session.commit()
    flash(_("The pledge is cancelled."), "success")
    return back


# -- contributions ----------------------------------------------------------------------------------------


@bp.route("/<reference>/contributions/new", methods=["GET", "POST"])
def new_contribution(reference):
    _manager()
    donor = _donor(reference)
    open_pledges = db.session.scalars(
        select(Pledge)
        .where(Pledge.donor_id == donor.id, Pledge.state == PledgeState.OPEN)
        .order_by(Pledge.pledged_on)
    ).all()
    form = ContributionForm(_base_pools(), open_pledges)
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
        form.value_date.data = fund_today()
    status = 200
    if form.validate_on_submit():
        pool = _pool_by_code(form.pool.data)
        pledge = next((p for p in open_pledges if str(p.id) == form.pledge.data), None)
        try:
            if pool is None:
                raise DomainError(_("Choose the pool."), field="pool")
            amount = parse_amount(form.amount.data, donor.preferred_currency, field_name="amount")
            contribution = operations.record_contribution(
                db.session,
                current_user,
                donor,
                pool,
                amount,
                rate=form.rate.data or None,
                value_date=form.value_date.data,
                bank_reference=form.bank_reference.data or "",
                pledge=pledge,
                idempotency_key=form.idempotency_key.data,
            )
            db.session.commit()
        except DomainError as error:
            status = _refused(error, form)
            donor = _donor(reference)
        except IntegrityError:
            # The same form submitted twice at once: the other request recorded it.
            db.session.rollback()
            flash(_("This contribution was already recorded."), "info")
            return redirect(url_for("donors.donor", reference=reference, _anchor="contributions"))
        else:
            flash(
                _(
                    "%(amount)s from %(donor)s is recorded (%(base)s into %(pool)s).",
                    amount=contribution.amount.format(_locale()),
                    donor=donor.name,
                    base=contribution.base_amount.format(_locale()),
                    pool=pool.code,
                ),
                "success",
            )
            return redirect(url_for("donors.donor", reference=donor.reference, _anchor="contributions"))
    elif request.method == "POST":
        status = 400
    return render_template(
        "donors/new_contribution.html",
        form=form,
        donor=donor,
        base_currency=current_app.config["BASE_CURRENCY"],
    ), status
