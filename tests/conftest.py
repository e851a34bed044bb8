"""Shared fixtures: the app, a database rolled back after every test, a client and a login helper.

Set FUNDAPP_TEST_DATABASE_URL to run the suite on PostgreSQL; by default it runs on in-memory SQLite.
"""

import contextvars
import os
import re
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient

import config
from fundapp import create_app
from fundapp.core.mail import sent_mail
from fundapp.extensions import db as _db
from fundapp.extensions import limiter
from tests import factories

TEST_DATABASE_URL = config.database_url(os.environ.get("FUNDAPP_TEST_DATABASE_URL") or "sqlite://")


class _TestConfig(config.TestConfig):
    SQLALCHEMY_DATABASE_URI = TEST_DATABASE_URL


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Without this, requests would reuse the app context the ``db`` fixture holds open, sharing ``g``
    (and the CSRF token cached there) and the database session with the test and with each other.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    _TestConfig.INSTANCE_PATH = str(tmp_path_factory.mktemp("instance"))
    _TestConfig.STORAGE_PATH = str(tmp_path_factory.mktemp("files"))
    app = create_app(_TestConfig)
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        from fundapp.reference.data import load_reference_data

        load_reference_data(_db.session)
        _db.session.commit()
        _db.session.remove()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@contextmanager
def rolled_back(app):
    """Inside the block (in an app context of ``app``), the app's engine is swapped for one connection
    holding a transaction, rolled back at the end; every session (the test's and each request's) works in a
    savepoint on it, so commits in views and commands are real but undone at the end."""
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        engines = _db._app_engines[app]
        engine = engines[None]
        engines[None] = connection
        _db.session.remove()
        _db.session.configure(join_transaction_mode="create_savepoint")
        try:
            yield
        finally:
            _db.session.remove()
            engines[None] = engine
            transaction.rollback()
            connection.close()


@pytest.fixture
def db(app):
    """The database, inside a transaction rolled back after the test (see ``rolled_back``)."""
    with rolled_back(app):
        yield _db


@pytest.fixture
def client(app, db):
    limiter.reset()
    sent_mail(app).clear()
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def mail(app):
    """Messages sent during the test (memory backend)."""
    sent = sent_mail(app)
    sent.clear()
    return sent


def csrf_token(client):
    """The CSRF token of the client's session, as a page would embed it."""
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "the base layout carries a CSRF token"
    return match.group(1)


def post_form(client, url, data=None, **kwargs):
    """POST a form the way a browser would, with the session's CSRF token."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=data, **kwargs)


def login(client, user, password=factories.DEFAULT_PASSWORD):
    response = post_form(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def login_as(client):
    def _login(user, password=factories.DEFAULT_PASSWORD):
        return login(client, user, password)

    return _login
