"""GET /healthz: the liveness check and the floor of the load test (bench/load.py)."""

from sqlalchemy import event
from sqlalchemy.engine import Engine

from fundapp.core.permissions import Role
from tests.conftest import login
from tests.factories import make_user


def _statements_sent(client, url):
    """The response to GET ``url`` and the SQL statements the app sent to answer it."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    return response, statements


def test_healthz_answers_ok_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "ok\n"


def test_healthz_sends_no_sql_for_an_anonymous_visitor(client):
    response, statements = _statements_sent(client, "/healthz")
    assert response.status_code == 200
    assert statements == []


def test_healthz_sends_no_sql_for_a_signed_in_user(client, db):
    """The session cookie is read, but the user is never loaded: nothing asks for ``current_user``."""
    login(client, make_user(roles=(Role.PROGRAMME_OFFICER,)))
    response, statements = _statements_sent(client, "/healthz")
    assert response.status_code == 200
    assert statements == []
