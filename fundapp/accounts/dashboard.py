"""What the accounts module adds to navigation, home pages and the fund summary."""

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from fundapp.accounts.models import Invitation, Membership, Organisation, User, UserRole
from fundapp.core.db import utcnow
from fundapp.core.navigation import NextAction, register_nav, register_next_actions
from fundapp.core.permissions import Role
from fundapp.core.summary import count_by_state, count_rows, register_counter
from fundapp.extensions import db

register_nav(_l("Home"), "main.home", order=0)
register_nav(_l("Users"), "admin.users", roles=[Role.ADMIN], order=80)
register_nav(_l("Outbox"), "admin.outbox", roles=[Role.ADMIN], order=85)
register_nav(_l("Audit log"), "admin.audit", roles=[Role.ADMIN], order=90)


def _applicant_actions(user):
    actions = []
    if not user.memberships:
        actions.append(
            NextAction(
                _("You belong to no organisation yet: ask a colleague to invite you."),
                url_for("main.home"),
                urgency="urgent",
            )
        )
    for membership in user.memberships:
        organisation = membership.organisation
        url = url_for("accounts.organisation", organisation_id=organisation.id)
        if membership.is_manager and not organisation.bank_iban:
            actions.append(
                NextAction(
                    _("Add the bank details of %(org)s", org=organisation.name_en),
                    url_for("accounts.edit_organisation", organisation_id=organisation.id),
                    _("Needed before the fund can pay a grant."),
                )
            )
        if membership.is_manager and len(organisation.memberships) == 1:
            actions.append(
                NextAction(
                    _("Invite your colleagues to %(org)s", org=organisation.name_en),
                    url,
                    _("Everyone in the organisation can work on its proposals."),
                )
            )
        actions.append(NextAction(_("See %(org)s", org=organisation.name_en), url))
    return actions


def _admin_actions(user):
    actions = []
    without_role = db.session.scalars(
        select(User).where(~User.role_grants.any()).where(User.is_active.is_(True)).limit(5)
    ).all()
    for person in without_role:
        actions.append(
            NextAction(
                _("Give %(name)s a role", name=person.full_name),
                url_for("admin.user", user_id=person.id),
                person.email,
                urgency="urgent",
            )
        )
    actions.append(
        NextAction(_("Create an account for staff, a reviewer or a board member"), url_for("admin.new_user"))
    )
    actions.append(NextAction(_("Check the mail outbox"), url_for("admin.outbox")))
    return actions


register_next_actions(Role.APPLICANT, _applicant_actions)
register_next_actions(Role.ADMIN, _admin_actions)


def _pending_invitations(session):
    return len(
        session.scalars(
            select(Invitation.id).where(
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
        ).all()
    )


register_counter("users_by_role", count_by_state(UserRole, UserRole.role))
register_counter("users", count_rows(User))
register_counter("organisations_by_type", count_by_state(Organisation, Organisation.org_type))
register_counter("memberships", count_rows(Membership))
register_counter("invitations_pending", _pending_invitations)
