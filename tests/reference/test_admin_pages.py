"""Admins see and edit the reference lists; nobody else can."""

import pytest
from sqlalchemy import func, select

from fundapp.core.audit import AuditEvent
from fundapp.core.permissions import Role
from fundapp.reference.models import ReferenceItem, Vocabulary
from tests.conftest import login, post_form
from tests.factories import make_user, region

ROUTES = ["/admin/reference/", "/admin/reference/region", "/admin/reference/threat/new"]


def sign_in_admin(client, db):
    admin = make_user(roles=[Role.ADMIN])
    db.session.commit()
    login(client, admin)
    return admin


def edit_url(item):
    return f"/admin/reference/{item.vocabulary}/{item.id}"


def item_fields(item, **changes):
    fields = {
        "label_en": item.label_en,
        "label_ru": item.label_ru or "",
        "label_kk": item.label_kk or "",
        "sort_order": str(item.sort_order),
        "is_active": "y" if item.is_active else "",
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value != ""}


def stored_gbf_codes(db):
    return db.session.scalars(
        select(ReferenceItem.code).where(ReferenceItem.vocabulary == Vocabulary.GBF_TARGET)
    ).all()


def test_index_lists_every_vocabulary_with_its_count(client, db):
    sign_in_admin(client, db)

    page = client.get("/admin/reference/").get_data(as_text=True)

    assert "Global Biodiversity Framework targets" in page
    assert "IUCN Red List categories" in page
    assert '<td class="text-end">23</td>' in page
    assert 'href="/admin/reference/"' in page  # the navigation entry


def test_vocabulary_page_lists_items_in_three_languages(client, db):
    sign_in_admin(client, db)

    page = client.get("/admin/reference/region").get_data(as_text=True)

    assert "KZ-33" in page
    assert "Zhetysu Region" in page and "Жетысуская область" in page and "Жетісу облысы" in page


def test_unknown_vocabulary_is_not_found(client, db):
    sign_in_admin(client, db)

    assert client.get("/admin/reference/species").status_code == 404


def test_admin_edits_labels_order_and_active_flag(client, db):
    admin = sign_in_admin(client, db)
    item = region("KZ-47")

    response = post_form(
        client,
        edit_url(item),
        item_fields(
            item, label_en="Mangystau Region (Caspian)", label_kk="Маңғыстау", sort_order="99", is_active=""
        ),
    )

    assert response.status_code == 302
    db.session.expire_all()
    item = region("KZ-47")
    assert (item.label_en, item.label_kk, item.sort_order, item.is_active) == (
        "Mangystau Region (Caspian)",
        "Маңғыстау",
        99,
        False,
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reference_item.updated"))
    assert event.actor_id == admin.id
    assert event.entity_type == "ReferenceItem" and event.entity_id == str(item.id)
    assert (
        event.before["label_en"] == "Mangystau Region"
        and event.after["label_en"] == "Mangystau Region (Caspian)"
    )
    assert event.before["is_active"] is True and event.after["is_active"] is False
    assert "label_ru" not in event.after  # only what changed


def test_empty_english_name_is_refused_at_the_field(client, db):
    sign_in_admin(client, db)
    item = region("KZ-47")

    response = post_form(client, edit_url(item), item_fields(item, label_en="   "))

    assert response.status_code == 200
    assert 'id="label_en-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert region("KZ-47").label_en == "Mangystau Region"


def test_admin_adds_an_item_at_the_end_of_the_list(client, db):
    sign_in_admin(client, db)

    response = post_form(
        client,
        "/admin/reference/gbf_target/new",
        {"code": "24", "label_en": "A target from a later framework", "is_active": "y"},
    )

    assert response.status_code == 302
    item = db.session.scalar(
        select(ReferenceItem).where(
            ReferenceItem.vocabulary == Vocabulary.GBF_TARGET, ReferenceItem.code == "24"
        )
    )
    assert item.label_en == "A target from a later framework" and item.is_active
    assert item.sort_order == 23
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "reference_item.added")
        )
        == 1
    )


def test_duplicate_code_is_refused_at_the_field_and_nothing_is_stored(client, db):
    sign_in_admin(client, db)
    before = sorted(stored_gbf_codes(db))

    response = post_form(
        client,
        "/admin/reference/gbf_target/new",
        {"code": "3", "label_en": "Conserve 30% again", "is_active": "y"},
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="code-error"' in page
    assert "This list already has an item with the code 3." in page
    assert sorted(stored_gbf_codes(db)) == before
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "reference_item.added")
        )
        == 0
    )


def test_same_code_in_another_letter_case_counts_as_a_duplicate(client, db):
    sign_in_admin(client, db)

    response = post_form(
        client,
        "/admin/reference/protected_area_category/new",
        {"code": "ia", "label_en": "Strict Nature Reserve", "is_active": "y"},
    )

    assert 'id="code-error"' in response.get_data(as_text=True)


def test_parent_code_must_name_an_item_of_the_list(client, db):
    sign_in_admin(client, db)

    response = post_form(
        client,
        "/admin/reference/threat/new",
        {"code": "13.1", "parent_code": "13", "label_en": "Something new", "is_active": "y"},
    )

    assert 'id="parent_code-error"' in response.get_data(as_text=True)
    assert (
        db.session.scalar(
            select(ReferenceItem).where(
                ReferenceItem.vocabulary == Vocabulary.THREAT, ReferenceItem.code == "13.1"
            )
        )
        is None
    )


@pytest.mark.parametrize("role", [role for role in Role if role != Role.ADMIN])
def test_every_other_role_gets_403(client, db, role):
    user = make_user(roles=[role])
    db.session.commit()
    login(client, user)

    for url in [*ROUTES, edit_url(region("KZ-47"))]:
        assert client.get(url).status_code == 403, url


def test_staff_without_admin_role_cannot_post_an_edit(client, db):
    officer = make_user(roles=[Role.PROGRAMME_OFFICER])
    db.session.commit()
    login(client, officer)
    item = region("KZ-47")

    response = post_form(client, edit_url(item), item_fields(item, label_en="Hijacked"))

    assert response.status_code == 403
    db.session.expire_all()
    assert region("KZ-47").label_en == "Mangystau Region"


@pytest.mark.parametrize("url", ROUTES)
def test_anonymous_is_sent_to_login(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_post_without_csrf_token_is_refused(client, db):
    sign_in_admin(client, db)
    item = region("KZ-47")

    response = client.post(edit_url(item), data=item_fields(item, label_en="No token"))

    assert response.status_code == 400
    db.session.expire_all()
    assert region("KZ-47").label_en == "Mangystau Region"
