"""Roles and the decorator that guards views by role.

Finer rules ("may this user edit this proposal") are ``can_<verb>(user)`` methods on the models, used by
both the view and the template.
"""

from enum import StrEnum
from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user


class Role(StrEnum):
    APPLICANT = "applicant"
    REVIEWER = "reviewer"
    BOARD_MEMBER = "board_member"
    PROGRAMME_OFFICER = "programme_officer"
    FINANCE_OFFICER = "finance_officer"
    ADMIN = "admin"
    DONOR = "donor"  # a donor's contact on the donor portal

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.APPLICANT: _l("Applicant"),
    Role.REVIEWER: _l("Reviewer"),
    Role.BOARD_MEMBER: _l("Board member"),
    Role.PROGRAMME_OFFICER: _l("Programme officer"),
    Role.FINANCE_OFFICER: _l("Finance officer"),
    Role.ADMIN: _l("Admin"),
    Role.DONOR: _l("Donor"),
}


def role_required(*roles):
    """Let the view run only for a signed-in user holding one of ``roles``.

    Anonymous users are sent to the login page; signed-in users without the role get 403.
    """
    wanted = {Role(role) for role in roles}

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from fundapp.extensions import login_manager

                return login_manager.unauthorized()
            if not wanted & current_user.roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
