"""Login, registration, organisations, invitations and password reset."""

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fundapp.accounts import operations
from fundapp.accounts.forms import (
    AcceptInvitationForm,
    ConfirmForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    OrganisationForm,
    RegistrationForm,
    ResetPasswordForm,
)
from fundapp.accounts.models import Invitation, Organisation, User
from fundapp.core.errors import DomainError
from fundapp.core.web import safe_next_url, show_domain_error
from fundapp.extensions import db, limiter, login_manager

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id):
    # The roles in the same query: every page asks for them.
    user = (
        db.session.get(User, int(user_id), options=[joinedload(User.role_grants)])
        if str(user_id).isdigit()
        else None
    )
    return user if user is not None and user.is_active else None


def _login_failed(response):
    return g.get("login_failed", False)


def _account_key():
    return "account:" + (request.form.get("email") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_login_failed,
    scope="login-address",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_login_failed,
    scope="login-account",
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = operations.authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user)
            return redirect(safe_next_url(url_for("main.home")))
        g.login_failed = True
        form.password.errors.append(_("The email or password is wrong."))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        flash(_("You are logged in already. To add another organisation, log out first."), "info")
        return redirect(url_for("main.home"))
    form = RegistrationForm()
    form.load_regions()
    if form.validate_on_submit():
        person = {"email": form.email.data, "full_name": form.full_name.data, "password": form.password.data}
        try:
            user, organisation = operations.register_organisation(
                db.session, person=person, organisation=form.organisation_data()
            )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            login_user(user)
            flash(_("%(org)s is registered. Welcome!", org=organisation.name_en), "success")
            return redirect(url_for("accounts.organisation", organisation_id=organisation.id))
    return render_template("accounts/register.html", form=form)


def _organisation_or_404(organisation_id):
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    return organisation


@bp.route("/organisations/<int:organisation_id>")
@login_required
def organisation(organisation_id):
    organisation = _organisation_or_404(organisation_id)
    if not organisation.can_view(current_user):
        abort(403)
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.organisation_id == organisation.id).order_by(Invitation.id.desc())
    ).all()
    return render_template(
        "accounts/organisation.html",
        organisation=organisation,
        invite_form=InviteForm(),
        invitations=[i for i in invitations if i.is_pending],
    )


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(organisation_id):
    organisation = _organisation_or_404(organisation_id)
    if not organisation.can_edit(current_user):
        abort(403)
    form = OrganisationForm(obj=organisation)
    form.load_regions()
    if form.validate_on_submit():
        try:
            operations.update_organisation(db.session, current_user, organisation, form.organisation_data())
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            flash(_("The organisation's details are saved."), "success")
            return redirect(url_for("accounts.organisation", organisation_id=organisation.id))
    return render_template("accounts/edit_organisation.html", form=form, organisation=organisation)


@bp.route("/organisations/<int:organisation_id>/invite", methods=["POST"])
@login_required
def invite(organisation_id):
    organisation = _organisation_or_404(organisation_id)
    if not organisation.can_invite(current_user):
        abort(403)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            operations.invite_colleague(db.session, current_user, organisation, form.email.data)
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=form.email.data.lower()), "success")
            return redirect(url_for("accounts.organisation", organisation_id=organisation.id))
    return render_template(
        "accounts/organisation.html", organisation=organisation, invite_form=form, invitations=[]
    ), 400


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    try:
        invitation = operations.find_invitation(db.session, token)
    except DomainError as error:
        return render_template("accounts/invitation_invalid.html", message=error.message), 404
    signed_in = current_user.is_authenticated
    form = ConfirmForm() if signed_in else AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            if signed_in:
                user = operations.accept_invitation(db.session, invitation, user=current_user)
            else:
                user = operations.accept_invitation(
                    db.session, invitation, full_name=form.full_name.data, password=form.password.data
                )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            if not signed_in:
                login_user(user)
            flash(_("You have joined %(org)s.", org=invitation.organisation.name_en), "success")
            return redirect(url_for("accounts.organisation", organisation_id=invitation.organisation_id))
    return render_template("accounts/accept_invitation.html", invitation=invitation, form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], scope="password-forgot")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        operations.request_password_reset(db.session, form.email.data)
        db.session.commit()
        flash(_("If an account has this email, a link to reset its password is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    try:
        user = operations.user_for_reset_token(db.session, token)
    except DomainError as error:
        return render_template("accounts/invitation_invalid.html", message=error.message), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            operations.reset_password(db.session, token, form.password.data)
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            flash(_("Your password is changed. Log in with it now."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form, user=user)
