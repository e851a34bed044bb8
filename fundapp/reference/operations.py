"""What admins can do with reference data. Each operation checks its rule, changes the item, writes the
audit event and never commits: the caller (a view or a command) commits once."""

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fundapp.core.audit import record_event
from fundapp.core.errors import DomainError
from fundapp.core.permissions import Role
from fundapp.reference.models import ReferenceItem, Vocabulary

#: What an admin may change on an existing item; the code and vocabulary stay fixed, because grants,
#: organisations and exports refer to items by them.
EDITABLE_FIELDS = ("label_en", "label_ru", "label_kk", "sort_order", "is_active")
MAX_CODE_LENGTH = 40
MAX_LABEL_LENGTH = 400
#: Sort orders stay well inside a 4-byte integer column.
MAX_SORT_ORDER = 1_000_000


def can_edit_reference_data(user):
    """Admins edit reference data; ``None`` is the system itself (a CLI command)."""
    return user is None or user.has_role(Role.ADMIN)


def _optional_text(value):
    value = (value or "").strip()
    return value or None


def _checked_label(field, value, *, required):
    value = _optional_text(value)
    if value is None and required:
        raise DomainError(_("Enter the name in English."), field=field)
    if value is not None and len(value) > MAX_LABEL_LENGTH:
        raise DomainError(_("Keep the name under %(n)d characters.", n=MAX_LABEL_LENGTH), field=field)
    return value


def _checked_sort_order(value):
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise DomainError(_("Enter the position as a whole number."), field="sort_order") from None
    if not 0 <= value <= MAX_SORT_ORDER:
        raise DomainError(_("Enter a position from 0 to %(n)d.", n=MAX_SORT_ORDER), field="sort_order")
    return value


def _checked_fields(data):
    """The editable fields present in ``data``, tidied and checked."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable on a reference item: {', '.join(sorted(unknown))}")
    checked = {}
    for field in ("label_en", "label_ru", "label_kk"):
        if field in data:
            checked[field] = _checked_label(field, data[field], required=field == "label_en")
    if "sort_order" in data:
        checked["sort_order"] = _checked_sort_order(data["sort_order"])
    if "is_active" in data:
        checked["is_active"] = bool(data["is_active"])
    return checked


def _identity(item):
    return {"vocabulary": item.vocabulary, "code": item.code}


def update_reference_item(session, actor, item, data):
    """Change an item's labels, sort order or active flag. Only the fields in ``data`` are touched."""
    if not can_edit_reference_data(actor):
        raise DomainError(_("Only admins can change reference data."))
    checked = _checked_fields(data)
    changed = {field: value for field, value in checked.items() if getattr(item, field) != value}
    if not changed:
        return item
    before = {**_identity(item), **{field: getattr(item, field) for field in changed}}
    for field, value in changed.items():
        setattr(item, field, value)
    record_event(
        session, actor, item, "reference_item.updated", before=before, after={**_identity(item), **changed}
    )
    return item


def _code_taken(session, vocabulary, code):
    # Case-insensitive, so that "ia" cannot sit next to "Ia" and confuse whoever picks from the list.
    return (
        session.scalar(
            select(ReferenceItem.id).where(
                ReferenceItem.vocabulary == vocabulary.value, func.lower(ReferenceItem.code) == code.lower()
            )
        )
        is not None
    )


def _checked_code(code, *, field):
    code = _optional_text(code)
    if code is None:
        raise DomainError(_("Enter a code."), field=field)
    if len(code) > MAX_CODE_LENGTH:
        raise DomainError(_("Keep the code under %(n)d characters.", n=MAX_CODE_LENGTH), field=field)
    return code


def add_reference_item(session, actor, vocabulary, data):
    """Add an item to ``vocabulary``. ``data`` holds ``code`` and optionally ``parent_code`` plus the
    editable fields; without a sort order the item goes to the end of the list."""
    if not can_edit_reference_data(actor):
        raise DomainError(_("Only admins can change reference data."))
    vocabulary = Vocabulary(vocabulary)
    data = dict(data)
    code = _checked_code(data.pop("code", None), field="code")
    parent_code = _optional_text(data.pop("parent_code", None))
    if data.get("sort_order") in (None, ""):
        data.pop("sort_order", None)
    checked = _checked_fields(data)
    if "label_en" not in checked:
        raise DomainError(_("Enter the name in English."), field="label_en")
    if _code_taken(session, vocabulary, code):
        raise DomainError(
            _("This list already has an item with the code %(code)s. Choose another code.", code=code),
            field="code",
        )
    if parent_code is not None:
        if parent_code == code:
            raise DomainError(_("An item cannot be its own parent."), field="parent_code")
        parent_exists = session.scalar(
            select(ReferenceItem.id).where(
                ReferenceItem.vocabulary == vocabulary.value, ReferenceItem.code == parent_code
            )
        )
        if parent_exists is None:
            raise DomainError(
                _("This list has no item with the code %(code)s.", code=parent_code), field="parent_code"
            )
    if "sort_order" not in checked:
        last = session.scalar(
            select(func.max(ReferenceItem.sort_order)).where(ReferenceItem.vocabulary == vocabulary.value)
        )
        checked["sort_order"] = min((last if last is not None else -1) + 1, MAX_SORT_ORDER)
    checked.setdefault("is_active", True)
    item = ReferenceItem(vocabulary=vocabulary.value, code=code, parent_code=parent_code, **checked)
    try:
        # A concurrent request may have added the same code since the check: the unique constraint
        # catches it, and the savepoint keeps the rest of the transaction usable.
        with session.begin_nested():
            session.add(item)
    except IntegrityError:
        raise DomainError(
            _("This list already has an item with the code %(code)s. Choose another code.", code=code),
            field="code",
        ) from None
    record_event(
        session,
        actor,
        item,
        "reference_item.added",
        after={**_identity(item), "parent_code": parent_code, **checked},
    )
    return item
