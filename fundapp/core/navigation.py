"""Navigation by role and the "next actions" each role's home page lists.

Modules register their menu entries and action providers; core knows none of them.
"""

from dataclasses import dataclass

from flask import request, url_for
from flask_login import current_user

from fundapp.core.permissions import Role


@dataclass(frozen=True)
class NavEntry:
    label: object
    endpoint: str
    roles: frozenset  # empty: every signed-in user
    order: int


@dataclass(frozen=True)
class NextAction:
    """One thing a person should do next, shown on their home page."""

    label: str
    url: str
    detail: str = ""
    #: "urgent" actions are shown first and highlighted.
    urgency: str = "normal"


_NAV = []
_ACTION_PROVIDERS = {}


def register_nav(label, endpoint, roles=(), order=50):
    _NAV.append(NavEntry(label, endpoint, frozenset(Role(r) for r in roles), order))


def register_next_actions(role, provider):
    """``provider(user)`` returns a list of NextAction for a user holding ``role``."""
    _ACTION_PROVIDERS.setdefault(Role(role), []).append(provider)


def navigation_items():
    if not current_user.is_authenticated:
        return []
    items = []
    for entry in sorted(_NAV, key=lambda e: e.order):
        if entry.roles and not entry.roles & current_user.roles:
            continue
        url = url_for(entry.endpoint)
        items.append({"label": entry.label, "url": url, "active": request.path == url})
    return items


def next_actions_by_role(user):
    """For each role the user holds, in a fixed order, the actions its providers list."""
    sections = []
    for role in Role:
        if role not in user.roles:
            continue
        actions = [action for provider in _ACTION_PROVIDERS.get(role, []) for action in provider(user)]
        actions.sort(key=lambda a: a.urgency != "urgent")
        sections.append((role, actions))
    return sections
