"""Logging in and out, and the limits on repeated failures."""

from fundapp.core.audit import AuditEvent
from tests.conftest import csrf_token, post_form
from tests.factories import DEFAULT_PASSWORD, make_applicant, make_user


def attempt(client, email, password="wrong password!"):
    return post_form(client, "/login", {"email": email, "password": password})


def test_login_with_right_password_reaches_the_home_page(client, db):
    user = make_applicant(full_name="Aliya D.")
    db.session.commit()

    response = attempt(client, user.email.upper(), DEFAULT_PASSWORD)

    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Welcome, Aliya D." in home
    assert db.session.query(AuditEvent).filter_by(action="user.logged_in").count() == 1


def test_wrong_password_is_refused_at_the_field(client, db):
    user = make_applicant()
    db.session.commit()

    response = attempt(client, user.email)

    assert response.status_code == 200
    assert "The email or password is wrong." in response.get_data(as_text=True)
    assert "Welcome, " not in client.get("/").get_data(as_text=True)


def test_deactivated_account_cannot_log_in(client, db):
    user = make_user(is_active=False)
    db.session.commit()

    response = attempt(client, user.email, DEFAULT_PASSWORD)

    assert "The email or password is wrong." in response.get_data(as_text=True)


def test_logout_needs_post_with_csrf_token(client, db, login_as):
    user = make_applicant(full_name="Marat U.")
    db.session.commit()
    login_as(user)

    assert client.post("/logout").status_code == 400  # no token: refused, still logged in
    assert "Marat U." in client.get("/").get_data(as_text=True)
    assert client.get("/logout").status_code == 405
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert "Marat U." not in client.get("/").get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite_lax(client, db):
    user = make_applicant()
    db.session.commit()

    response = attempt(client, user.email, DEFAULT_PASSWORD)

    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_repeated_failures_on_one_account_answer_429(client, db, app):
    user = make_applicant()
    db.session.commit()
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])

    statuses = [attempt(client, user.email).status_code for _ in range(limit)]
    blocked = attempt(client, user.email, DEFAULT_PASSWORD)

    assert statuses == [200] * limit
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)


def test_account_limit_does_not_block_other_accounts(client, db, app):
    victim, other = make_applicant(), make_applicant()
    db.session.commit()
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit):
        attempt(client, victim.email)

    assert attempt(client, other.email, DEFAULT_PASSWORD).status_code == 302


def test_repeated_failures_from_one_address_answer_429(client, db, app):
    limit = int(app.config["LOGIN_LIMIT_PER_ADDRESS"].split()[0])

    statuses = [attempt(client, f"nobody{n}@example.org").status_code for n in range(limit)]
    blocked = attempt(client, "someone-else@example.org")

    assert statuses == [200] * limit
    assert blocked.status_code == 429


def test_successful_logins_do_not_count_towards_the_limit(client, db, app):
    user = make_applicant()
    db.session.commit()
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])

    for _ in range(limit + 2):
        assert attempt(client, user.email, DEFAULT_PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client)})


def test_login_redirects_only_inside_the_site(client, db):
    user = make_applicant()
    db.session.commit()
    token = csrf_token(client)

    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
    )

    assert response.headers["Location"] == "/"
