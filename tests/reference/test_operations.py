"""The reference operations, without HTTP."""

import pytest
from sqlalchemy import select

from fundapp.core.audit import AuditEvent
from fundapp.core.errors import DomainError
from fundapp.core.permissions import Role
from fundapp.reference.models import Vocabulary
from fundapp.reference.operations import add_reference_item, update_reference_item
from tests.factories import make_user, region


def test_saving_unchanged_values_writes_no_event(db):
    admin = make_user(roles=[Role.ADMIN])
    item = region("KZ-47")

    update_reference_item(
        db.session, admin, item, {"label_en": " Mangystau Region ", "label_ru": item.label_ru}
    )

    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reference_item.updated")).all()
        == []
    )


def test_empty_translation_is_stored_as_missing(db):
    admin = make_user(roles=[Role.ADMIN])
    item = region("KZ-47")

    update_reference_item(db.session, admin, item, {"label_kk": "  "})

    assert item.label_kk is None


def test_only_admins_change_reference_data(db):
    officer = make_user(roles=[Role.PROGRAMME_OFFICER])

    with pytest.raises(DomainError):
        update_reference_item(db.session, officer, region("KZ-47"), {"label_en": "Changed"})
    with pytest.raises(DomainError):
        add_reference_item(
            db.session, officer, Vocabulary.DAC_SECTOR, {"code": "31320", "label_en": "Fishery"}
        )


def test_sort_order_outside_the_range_is_refused(db):
    admin = make_user(roles=[Role.ADMIN])

    with pytest.raises(DomainError) as refused:
        update_reference_item(db.session, admin, region("KZ-47"), {"sort_order": 10**12})

    assert refused.value.field == "sort_order"


def test_added_sub_item_keeps_its_parent(db):
    admin = make_user(roles=[Role.ADMIN])

    item = add_reference_item(
        db.session,
        admin,
        Vocabulary.THREAT,
        {"code": "5.4.9", "parent_code": "5.4", "label_en": "Seal by-catch in nets"},
    )

    assert (item.parent_code, item.is_active, item.label_ru) == ("5.4", True, None)
