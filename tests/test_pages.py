"""Error pages, security headers, navigation by role, and the home page's next actions."""

import logging
import re

from fundapp.core.permissions import Role
from tests.conftest import login, post_form
from tests.factories import make_applicant, make_user


def test_pages_send_security_headers(client, db):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_load_nothing_from_other_hosts_and_run_no_inline_script(client, db):
    html = client.get("/login").get_data(as_text=True)
    assert "http://" not in html.replace("http://localhost", "") and "https://" not in html
    assert "<script>" not in html and " style=" not in html
    for asset in ("/bootstrap/static/css/bootstrap.min.css", "/bootstrap/static/js/bootstrap.min.js"):
        response = client.get(asset)
        assert response.status_code == 200
        response.close()


def test_404_page(client, db):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "There is no page at this address." in response.get_data(as_text=True)


def test_403_page(client, db):
    login(client, make_applicant())
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "You do not have permission" in response.get_data(as_text=True)


def test_400_page_for_missing_csrf_token(client, db):
    response = client.post("/login", data={"email": "a@b.org", "password": "x"})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)


def test_413_page_for_too_large_request(client, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = client.post("/login", data={"email": "a" * 5000, "password": "x"})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_429_page(client, db, app):
    limit = int(app.config["LOGIN_LIMIT_PER_ADDRESS"].split()[0])
    for n in range(limit):
        post_form(client, "/login", {"email": f"x{n}@example.org", "password": "wrong password"})
    response = post_form(client, "/login", {"email": "y@example.org", "password": "wrong password"})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_500_page_shows_a_reference_that_is_in_the_log(client, db, app, monkeypatch, caplog):
    def broken_view():
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "main.home", broken_view)
    with caplog.at_level(logging.ERROR, logger="fundapp"):
        response = client.get("/")

    assert response.status_code == 500
    html = response.get_data(as_text=True)
    reference = html.split('<code class="error-reference">', 1)[1].split("<", 1)[0]
    assert len(reference) == 12
    assert "boom" not in html
    assert any(reference in record.getMessage() for record in caplog.records)


def test_navigation_follows_roles(app, db):
    admin = make_user(roles=[Role.ADMIN])
    applicant = make_applicant()
    db.session.commit()

    admin_client, applicant_client = app.test_client(), app.test_client()
    login(admin_client, admin)
    login(applicant_client, applicant)

    assert 'href="/admin/users"' in admin_client.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' not in applicant_client.get("/").get_data(as_text=True)


def test_home_lists_next_actions_of_each_role(client, db):
    applicant = make_applicant()
    organisation = applicant.primary_organisation
    organisation.bank_iban = None
    db.session.commit()
    login(client, applicant)

    html = client.get("/").get_data(as_text=True)

    assert f"Add the bank details of {organisation.name_en}" in html
    assert f"Invite your colleagues to {organisation.name_en}" in html


def test_admin_home_lists_people_without_a_role(client, db):
    admin = make_user(roles=[Role.ADMIN])
    make_user(roles=[], full_name="Roleless Person")
    db.session.commit()
    login(client, admin)

    assert "Give Roleless Person a role" in client.get("/").get_data(as_text=True)


def test_forms_label_every_field(client, db):
    html = client.get("/register").get_data(as_text=True)

    inputs = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html)
    visible = [i for i in inputs if i not in {"csrf_token"}]
    assert visible, "the registration form has fields"
    for field_id in visible:
        assert f'for="{field_id}"' in html, f"field {field_id} has no label"


def test_language_choice_is_remembered_and_shows_russian_labels(client, db):
    response = post_form(client, "/language", {"language": "ru", "next": "/register"})
    assert response.status_code == 302 and response.headers["Location"] == "/register"

    html = client.get("/register").get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert "Мангистауская область" in html  # region names follow the reader's language


def test_unknown_language_is_refused(client, db):
    assert post_form(client, "/language", {"language": "xx"}).status_code == 400
