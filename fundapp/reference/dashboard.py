"""What the reference module adds to navigation and the fund summary."""

from flask_babel import lazy_gettext as _l

from fundapp.core.navigation import register_nav
from fundapp.core.permissions import Role
from fundapp.core.summary import count_by_state, register_counter
from fundapp.reference.models import ReferenceItem

register_nav(_l("Reference data"), "reference.index", roles=[Role.ADMIN], order=88)
#: Items per vocabulary, with the total.
register_counter("reference_items", count_by_state(ReferenceItem, ReferenceItem.vocabulary))
