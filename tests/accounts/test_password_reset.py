"""Password reset by a token bound to the user and expiring."""

import re

import pytest
from itsdangerous import URLSafeTimedSerializer

from fundapp.accounts import operations
from fundapp.accounts.passwords import verify_password
from fundapp.core.errors import DomainError
from tests.conftest import post_form
from tests.factories import DEFAULT_PASSWORD, make_applicant

NEW_PASSWORD = "a brand new password"


def reset_link(mail):
    [message] = mail
    return re.search(r"http://localhost(/password/reset/\S+)", message["body_text"]).group(1)


def test_reset_link_is_mailed_and_sets_the_new_password(client, db, mail):
    user = make_applicant()
    db.session.commit()

    response = post_form(client, "/password/forgot", {"email": user.email})
    assert response.status_code == 302
    link = reset_link(mail)
    assert mail[0]["to_address"] == user.email

    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert not verify_password(user.password_hash, DEFAULT_PASSWORD)


def test_unknown_email_gets_the_same_answer_and_no_mail(client, db, mail):
    response = post_form(client, "/password/forgot", {"email": "nobody@example.org"}, follow_redirects=True)

    assert "If an account has this email" in response.get_data(as_text=True)
    assert mail == []


def test_token_of_user_a_cannot_reset_user_b(client, db, app):
    alice, bob = make_applicant(), make_applicant()
    db.session.commit()
    with app.test_request_context():
        token = operations.make_reset_token(alice)
        # Forge a token for Bob by editing Alice's payload: the signature no longer matches.
        forged_payload = URLSafeTimedSerializer("other-key", salt="x").dumps({"user": bob.id})
        forged = forged_payload.split(".")[0] + "." + token.split(".", 1)[1]

    response = post_form(
        client, f"/password/reset/{forged}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)

    post_form(client, f"/password/reset/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    db.session.refresh(alice)
    db.session.refresh(bob)
    assert verify_password(alice.password_hash, NEW_PASSWORD)
    assert verify_password(bob.password_hash, DEFAULT_PASSWORD)


def test_token_expires(client, db, app, monkeypatch):
    user = make_applicant()
    db.session.commit()
    with app.test_request_context():
        token = operations.make_reset_token(user)
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)

    response = post_form(
        client, f"/password/reset/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )

    assert response.status_code == 404
    assert "expired" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)


def test_token_works_only_once(client, db, app):
    user = make_applicant()
    db.session.commit()
    with app.test_request_context():
        token = operations.make_reset_token(user)
        operations.reset_password(db.session, token, NEW_PASSWORD)
        db.session.commit()
        with pytest.raises(DomainError, match="no longer valid"):
            operations.reset_password(db.session, token, "yet another password")


def test_short_new_password_is_refused_at_the_field(client, db, app):
    user = make_applicant()
    db.session.commit()
    with app.test_request_context():
        token = operations.make_reset_token(user)

    response = post_form(client, f"/password/reset/{token}", {"password": "short", "confirm": "short"})

    assert response.status_code == 200
    assert 'id="password-error"' in response.get_data(as_text=True)
    db.session.refresh(user)
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)
