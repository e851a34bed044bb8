"""Admin pages for users and roles."""

import re

from sqlalchemy import select

from fundapp.accounts.models import User
from fundapp.core.audit import AuditEvent
from fundapp.core.permissions import Role
from tests.conftest import login, post_form
from tests.factories import make_user


def test_admin_changes_roles_and_it_is_audited(client, db):
    admin = make_user(roles=[Role.ADMIN])
    person = make_user(roles=[Role.APPLICANT])
    db.session.commit()
    login(client, admin)

    response = post_form(
        client, f"/admin/users/{person.id}", {"roles": ["reviewer", "board_member"], "is_active": "y"}
    )

    assert response.status_code == 302
    db.session.refresh(person)
    assert person.roles == {Role.REVIEWER, Role.BOARD_MEMBER}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.roles_changed"))
    assert event.before["roles"] == ["applicant"]
    assert event.after["roles"] == ["board_member", "reviewer"]


def test_admin_cannot_remove_own_admin_role(client, db):
    admin = make_user(roles=[Role.ADMIN])
    db.session.commit()
    login(client, admin)

    response = post_form(client, f"/admin/users/{admin.id}", {"roles": ["reviewer"], "is_active": "y"})

    assert "cannot take the admin role from yourself" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.roles == {Role.ADMIN}


def test_unknown_role_is_refused(client, db):
    admin = make_user(roles=[Role.ADMIN])
    person = make_user()
    db.session.commit()
    login(client, admin)

    response = post_form(client, f"/admin/users/{person.id}", {"roles": ["emperor"], "is_active": "y"})

    assert response.status_code == 200
    assert "not a valid choice" in response.get_data(as_text=True).lower()
    db.session.refresh(person)
    assert person.roles == {Role.APPLICANT}


def test_admin_creates_staff_account_and_person_sets_password(client, db, mail, app):
    admin = make_user(roles=[Role.ADMIN])
    db.session.commit()
    login(client, admin)

    response = post_form(
        client,
        "/admin/users/new",
        {"full_name": "Saule Bekova", "email": "saule@fund.example.org", "roles": ["finance_officer"]},
    )

    assert response.status_code == 302
    person = db.session.scalar(select(User).where(User.email == "saule@fund.example.org"))
    assert person.roles == {Role.FINANCE_OFFICER}
    assert person.password_hash is None
    link = re.search(r"http://localhost(/password/reset/\S+)", mail[0]["body_text"]).group(1)
    newcomer = app.test_client()
    post_form(newcomer, link, {"password": "saule's own password", "confirm": "saule's own password"})
    login(newcomer, person, "saule's own password")


def test_staff_account_needs_a_role(client, db):
    admin = make_user(roles=[Role.ADMIN])
    db.session.commit()
    login(client, admin)

    response = post_form(client, "/admin/users/new", {"full_name": "No Role", "email": "norole@example.org"})

    assert "at least one role" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "norole@example.org")) is None


def test_users_list_filters_by_role_and_search(client, db):
    admin = make_user(roles=[Role.ADMIN], full_name="Admin Person")
    make_user(roles=[Role.REVIEWER], full_name="Olga Reviewer")
    make_user(roles=[Role.APPLICANT], full_name="Aliya Applicant")
    db.session.commit()
    login(client, admin)

    page = client.get("/admin/users?role=reviewer").get_data(as_text=True)
    assert "Olga Reviewer" in page and "Aliya Applicant" not in page
    page = client.get("/admin/users?q=aliya").get_data(as_text=True)
    assert "Aliya Applicant" in page and "Olga Reviewer" not in page
