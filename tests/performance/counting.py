"""Counting the SQL statements a request sends, for the query-count regression tests.

Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE: the test's savepoints, and the BEGIN fundapp
sends itself on SQLite) is not a query and is left out, as bench/officer_list.py does.
"""

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"})


def is_query(statement):
    words = statement.split(None, 1)
    return bool(words) and words[0].upper() not in TRANSACTION_CONTROL


@contextmanager
def counted_queries():
    """The statements sent inside the block, as a list filled while it runs."""
    statements = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if is_query(statement):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def page_queries(client, url):
    """GET ``url`` once to warm up (whatever is loaded once per process), then again counting its queries:
    ``(response, statements)`` of the second request."""
    warm_up = client.get(url)
    assert warm_up.status_code == 200, (url, warm_up.status_code)
    with counted_queries() as statements:
        response = client.get(url)
    return response, list(statements)


def describe(statements):
    """The statements one a line, shortened, for an assertion message."""
    return "\n".join(
        f"{number:3d}. {' '.join(sql.split())[:160]}" for number, sql in enumerate(statements, 1)
    )
