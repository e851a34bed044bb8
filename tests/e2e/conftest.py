"""Browser tests: the real app, served from a background thread, driven by Debian's Chromium.

The app gets its own SQLite file (a browser's requests come from the server's threads, so the rolled-back
connection of the other tests cannot be shared). Chromium is Debian's /usr/bin/chromium, never a browser
that Playwright downloads. Without it the tests are skipped, except under CI=true, where that is a failure.
"""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

import config
from fundapp import create_app
from fundapp.extensions import db
from fundapp.reference.data import load_reference_data

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Where screenshots go: the ones the tests take on purpose, and one of the page whenever a test fails.
SCREENSHOTS = Path(os.environ.get("FUNDAPP_SCREENSHOT_DIR") or "/tmp/fundapp-shots")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The base URL of the app, served on a free port of 127.0.0.1 with its own database."""
    folder = tmp_path_factory.mktemp("e2e")

    class BrowserTestConfig(config.TestConfig):
        INSTANCE_PATH = str(folder / "instance")
        STORAGE_PATH = str(folder / "files")
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'browser.sqlite3'}"
        RATELIMIT_STORAGE_URI = "memory://"

    app = create_app(BrowserTestConfig)
    with app.app_context():
        db.create_all()
        load_reference_data(db.session)
        db.session.commit()
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="fundapp-e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser tab (no cookies) speaking English, pointed at the live server."""
    context = browser.new_context(
        base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"failed-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot of the current page as <name>.png in SCREENSHOTS; return its path."""

    def _screenshot(name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _screenshot


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.report_call = report
    return report


@pytest.fixture(scope="session")
def live_app(live_server):
    """The Flask app ``live_server`` serves, to set up data through the operations and to check what the
    browser did. (``live_server`` keeps the app to itself; Flask-SQLAlchemy knows every app it serves.)"""
    apps = [
        candidate
        for candidate in list(db._app_engines)
        if candidate.config["SQLALCHEMY_DATABASE_URI"].endswith("/browser.sqlite3")
    ]
    assert len(apps) == 1, "exactly one live-server app"
    return apps[0]
