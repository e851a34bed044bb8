"""What the PostgreSQL race tests share: an app on a database of its own, with real commits.

The ``db`` fixture's rolled-back connection cannot be shared between threads, so these tests work in a
database of their own, created from FUNDAPP_TEST_DATABASE_URL and dropped afterwards: each thread has its
own app context, session and connection, and commits for real.
"""

import os
import uuid

import pytest
import sqlalchemy as sa

import config
from fundapp.extensions import db as _db


def _postgres_url():
    url = os.environ.get("FUNDAPP_TEST_DATABASE_URL") or ""
    if not url.startswith(("postgresql", "postgres:")):
        message = "needs PostgreSQL: set FUNDAPP_TEST_DATABASE_URL to a postgresql:// URL"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return sa.make_url(config.database_url(url))


@pytest.fixture
def race_app(app):
    """The app working on a fresh PostgreSQL database (its own, with real commits), dropped afterwards."""
    server_url = _postgres_url()
    name = f"{server_url.database}_race_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = sa.create_engine(server_url.set(database=name), pool_size=24, max_overflow=4)
    try:
        with app.app_context():
            engines = _db._app_engines[app]
            original = engines[None]
            engines[None] = engine
            _db.session.remove()
            try:
                _db.metadata.create_all(engine)
                from fundapp.reference.data import load_reference_data

                load_reference_data(_db.session)
                _db.session.commit()
                yield app
            finally:
                _db.session.remove()
                engines[None] = original
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()
