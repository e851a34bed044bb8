"""Admin pages: users and their roles, the mail outbox, the audit log."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from fundapp.accounts import operations
from fundapp.accounts.forms import StaffAccountForm, UserRolesForm
from fundapp.accounts.models import User
from fundapp.core.audit import AuditEvent
from fundapp.core.errors import DomainError
from fundapp.core.mail import OutboxMessage
from fundapp.core.permissions import Role, role_required
from fundapp.core.web import show_domain_error
from fundapp.extensions import db

bp = Blueprint("admin", __name__)
PAGE_SIZE = 50


def _page():
    page = request.args.get("page", "1")
    return max(int(page), 1) if page.isdigit() else 1


@bp.route("/users")
@role_required(Role.ADMIN)
def users():
    query = select(User).order_by(User.email)
    search = (request.args.get("q") or "").strip()
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(func.lower(User.email).like(pattern), func.lower(User.full_name).like(pattern))
        )
    role = request.args.get("role")
    if role in {r.value for r in Role}:
        from fundapp.accounts.models import UserRole

        query = query.where(User.role_grants.any(UserRole.role == Role(role)))
    page = _page()
    people = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "admin/users.html",
        users=people[:PAGE_SIZE],
        has_next=len(people) > PAGE_SIZE,
        page=page,
        search=search,
        role=role,
        roles=list(Role),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user():
    form = StaffAccountForm()
    if form.validate_on_submit():
        try:
            user = operations.invite_staff(
                db.session,
                current_user,
                email=form.email.data,
                full_name=form.full_name.data,
                roles=form.roles.data,
            )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            flash(
                _("Account created; %(email)s has been sent a link to choose a password.", email=user.email),
                "success",
            )
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/new_user.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def user(user_id):
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    form = UserRolesForm(data={"roles": [r.value for r in person.roles], "is_active": person.is_active})
    if form.validate_on_submit():
        try:
            operations.set_user_roles(
                db.session, current_user, person, form.roles.data, is_active=form.is_active.data
            )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            flash(_("Saved the roles of %(email)s.", email=person.email), "success")
            return redirect(url_for("admin.user", user_id=person.id))
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            or_(
                AuditEvent.actor_id == person.id,
                (AuditEvent.entity_type == "User") & (AuditEvent.entity_id == str(person.id)),
            )
        )
        .order_by(AuditEvent.id.desc())
        .limit(20)
    ).all()
    return render_template("admin/user.html", person=person, form=form, events=events)


@bp.route("/outbox")
@role_required(Role.ADMIN)
def outbox():
    page = _page()
    messages = db.session.scalars(
        select(OutboxMessage)
        .order_by(OutboxMessage.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "admin/outbox.html", messages=messages[:PAGE_SIZE], has_next=len(messages) > PAGE_SIZE, page=page
    )


@bp.route("/outbox/<int:message_id>")
@role_required(Role.ADMIN)
def outbox_message(message_id):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return render_template("admin/outbox_message.html", message=message)


@bp.route("/audit")
@role_required(Role.ADMIN)
def audit():
    page = _page()
    events = db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "admin/audit.html", events=events[:PAGE_SIZE], has_next=len(events) > PAGE_SIZE, page=page
    )
