"""Every route, by every role: the status each one answers.

Later modules add their routes to ROUTES. ``anon`` is a visitor who is not logged in; a 302 for them
means "sent to the login page".
"""

import pytest

from fundapp.core.permissions import Role
from tests.conftest import login
from tests.factories import make_applicant, make_organisation, make_user

PEOPLE = [
    "anon",
    "applicant",
    "outsider",
    "reviewer",
    "board_member",
    "programme_officer",
    "finance_officer",
    "admin",
]

# url template -> expected status per person (same order as PEOPLE)
ROUTES = {
    "/": [200, 200, 200, 200, 200, 200, 200, 200],
    "/login": [200, 302, 302, 302, 302, 302, 302, 302],
    "/register": [200, 302, 302, 302, 302, 302, 302, 302],
    "/password/forgot": [200, 200, 200, 200, 200, 200, 200, 200],
    "/organisations/{org}": [302, 200, 403, 403, 403, 200, 200, 200],
    "/organisations/{org}/edit": [302, 200, 403, 403, 403, 403, 403, 403],
    "/organisations/999999": [302, 404, 404, 404, 404, 404, 404, 404],
    "/admin/users": [302, 403, 403, 403, 403, 403, 403, 200],
    "/admin/users/new": [302, 403, 403, 403, 403, 403, 403, 200],
    "/admin/users/{user}": [302, 403, 403, 403, 403, 403, 403, 200],
    "/admin/users/999999": [302, 403, 403, 403, 403, 403, 403, 404],
    "/admin/outbox": [302, 403, 403, 403, 403, 403, 403, 200],
    "/admin/audit": [302, 403, 403, 403, 403, 403, 403, 200],
    "/no-such-page": [404, 404, 404, 404, 404, 404, 404, 404],
}


@pytest.fixture
def people(db):
    applicant = make_applicant()
    outsider = make_applicant()
    everyone = {"applicant": applicant, "outsider": outsider}
    for role in ("reviewer", "board_member", "programme_officer", "finance_officer", "admin"):
        everyone[role] = make_user(roles=[Role(role)])
    make_organisation(managers=[make_user()])
    db.session.commit()
    return everyone


@pytest.mark.parametrize("url", list(ROUTES))
def test_every_route_answers_each_role_as_expected(app, client, db, people, url):
    target = url.format(org=people["applicant"].primary_organisation.id, user=people["applicant"].id)
    seen = []
    for person in PEOPLE:
        browser = app.test_client()
        if person != "anon":
            login(browser, people[person])
        seen.append(browser.get(target).status_code)
    assert dict(zip(PEOPLE, seen, strict=True)) == dict(zip(PEOPLE, ROUTES[url], strict=True))


def test_anonymous_visitor_is_sent_to_login_with_next(client, db, people):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
