"""Inviting colleagues into an organisation."""

import re
from datetime import timedelta

from sqlalchemy import select

from fundapp.accounts.models import Invitation, User
from fundapp.core.db import utcnow
from tests.conftest import login, post_form
from tests.factories import DEFAULT_PASSWORD, make_applicant, make_organisation, make_user


def invitation_link(mail):
    [message] = mail
    return re.search(r"http://localhost(/invitations/\S+)", message["body_text"]).group(1)


def test_manager_invites_a_new_colleague_who_joins_with_a_new_account(client, db, mail):
    manager = make_applicant()
    organisation = manager.primary_organisation
    db.session.commit()
    login(client, manager)

    response = post_form(
        client, f"/organisations/{organisation.id}/invite", {"email": "Colleague@Example.org"}
    )
    assert response.status_code == 302
    assert mail[0]["to_address"] == "colleague@example.org"
    link = invitation_link(mail)

    client.post(
        "/logout",
        data={
            "csrf_token": re.search(
                r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)
            ).group(1)
        },
    )
    page = client.get(link).get_data(as_text=True)
    assert organisation.name_en in page
    response = post_form(
        client,
        link,
        {"full_name": "New Colleague", "password": DEFAULT_PASSWORD, "confirm": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302

    colleague = db.session.scalar(select(User).where(User.email == "colleague@example.org"))
    assert organisation.is_member(colleague)
    assert not colleague.membership_in(organisation).is_manager
    assert {r.value for r in colleague.roles} == {"applicant"}
    assert client.get(link).status_code == 404  # used up


def test_signed_in_user_accepts_with_one_click(client, db, mail, app):
    manager = make_applicant()
    organisation = manager.primary_organisation
    existing = make_user(email="expert@example.org")
    db.session.commit()
    login(client, manager)
    post_form(client, f"/organisations/{organisation.id}/invite", {"email": "expert@example.org"})
    link = invitation_link(mail)

    other_client = app.test_client()
    login(other_client, existing)
    response = post_form(other_client, link)

    assert response.status_code == 302
    db.session.refresh(organisation)
    assert organisation.is_member(existing)


def test_invitation_for_another_address_is_refused(client, db, mail, app):
    manager = make_applicant()
    organisation = manager.primary_organisation
    intruder = make_user(email="intruder@example.org")
    db.session.commit()
    login(client, manager)
    post_form(client, f"/organisations/{organisation.id}/invite", {"email": "friend@example.org"})
    link = invitation_link(mail)

    other_client = app.test_client()
    login(other_client, intruder)
    response = post_form(other_client, link)

    assert "was sent to friend@example.org" in response.get_data(as_text=True)
    assert not organisation.is_member(intruder)


def test_expired_invitation_cannot_be_used(client, db, mail):
    manager = make_applicant()
    organisation = manager.primary_organisation
    db.session.commit()
    login(client, manager)
    post_form(client, f"/organisations/{organisation.id}/invite", {"email": "late@example.org"})
    link = invitation_link(mail)
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    response = client.get(link)

    assert response.status_code == 404
    assert "expired" in response.get_data(as_text=True)


def test_plain_member_cannot_invite(client, db, mail):
    manager = make_applicant()
    member = make_user()
    organisation = manager.primary_organisation
    organisation.memberships.append(type(organisation.memberships[0])(user=member, is_manager=False))
    db.session.commit()
    login(client, member)

    response = post_form(client, f"/organisations/{organisation.id}/invite", {"email": "x@example.org"})

    assert response.status_code == 403
    assert mail == []
    assert db.session.scalar(select(Invitation)) is None


def test_inviting_an_existing_member_is_refused_at_the_field(client, db, mail):
    manager = make_applicant()
    organisation = manager.primary_organisation
    db.session.commit()
    login(client, manager)

    response = post_form(client, f"/organisations/{organisation.id}/invite", {"email": manager.email})

    assert response.status_code == 400
    assert "already a member" in response.get_data(as_text=True)
    assert mail == []


def test_bank_details_are_shown_to_members_and_finance_officers_only(client, db, app):
    manager = make_applicant()
    organisation = manager.primary_organisation
    finance = make_user(roles=["finance_officer"])
    officer = make_user(roles=["programme_officer"])
    outsider_org = make_organisation(managers=[make_user()])
    outsider = outsider_org.memberships[0].user
    db.session.commit()
    url = f"/organisations/{organisation.id}"

    def page_for(user):
        c = app.test_client()
        login(c, user)
        return c.get(url)

    assert organisation.bank_iban in page_for(manager).get_data(as_text=True)
    assert organisation.bank_iban in page_for(finance).get_data(as_text=True)
    officer_page = page_for(officer)
    assert officer_page.status_code == 200
    assert organisation.bank_iban not in officer_page.get_data(as_text=True)
    assert page_for(outsider).status_code == 403


def test_manager_edits_details_and_bad_bin_changes_nothing(client, db):
    manager = make_applicant()
    organisation = manager.primary_organisation
    db.session.commit()
    login(client, manager)
    form = {
        "name_en": "Renamed Society",
        "name_ru": organisation.name_ru,
        "name_kk": organisation.name_kk,
        "bin": organisation.bin,
        "org_type": "ngo",
        "region_id": str(organisation.region_id),
        "legal_address": "Aktau, 1",
        "bank_iban": organisation.bank_iban,
    }

    assert post_form(client, f"/organisations/{organisation.id}/edit", form).status_code == 302
    db.session.refresh(organisation)
    assert organisation.name_en == "Renamed Society"

    response = post_form(
        client, f"/organisations/{organisation.id}/edit", {**form, "name_en": "X", "bin": "1"}
    )
    assert response.status_code == 200
    db.session.refresh(organisation)
    assert organisation.name_en == "Renamed Society"
