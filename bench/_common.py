"""What the benchmark scripts share: the app on a throwaway database, a test client that logs in and counts
queries, timing figures and the results file.

Not a benchmark itself (hence the underscore); the scripts import it as ``_common``, found next to them.
Importing it puts the project's root on ``sys.path``, so that ``config`` and ``fundapp`` import.
"""

import contextvars
import json
import math
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import config  # noqa: E402
from fundapp.bench.seed import organisation_bin  # noqa: E402, F401 - the benchmarks generate organisations with it

RESULTS = ROOT / "bench" / "results"
DATABASE_URL_HELP = "a PostgreSQL server URL, or a sqlite:/// URL of a new file"


# -- the throwaway database and app -------------------------------------------------------------------------


class ThrowawayDatabase:
    """A database that exists for the length of the ``with`` block: ``.url`` inside it.

    ``url``: None for a temporary SQLite file; a sqlite:/// URL of a file that does not exist yet (removed at
    the end); or a PostgreSQL server URL, on which a fresh database (fundapp_bench_<random>) is created and
    dropped at the end (the role needs CREATEDB)."""

    def __init__(self, url):
        self.given = config.database_url(url) if url else None
        self.url = None
        self._cleanup = None

    def __enter__(self):
        if self.given is None:
            folder = Path(tempfile.mkdtemp(prefix="fundapp-bench-"))
            self.url = f"sqlite:///{folder / 'bench.sqlite3'}"
            self._cleanup = lambda: shutil.rmtree(folder, ignore_errors=True)
        elif self.given.startswith("sqlite"):
            path = Path(make_url(self.given).database or "")
            if not path.name or path.exists():
                raise SystemExit(f"give the URL of a SQLite file that does not exist yet, not {self.given}")
            self.url = self.given
            self._cleanup = lambda: [
                Path(f"{path}{suffix}").unlink(missing_ok=True) for suffix in ("", "-journal", "-wal", "-shm")
            ]
        elif self.given.startswith("postgresql"):
            name = f"fundapp_bench_{uuid.uuid4().hex[:10]}"
            server = create_engine(self.given, isolation_level="AUTOCOMMIT")
            with server.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            self.url = make_url(self.given).set(database=name).render_as_string(hide_password=False)

            def drop():
                with server.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                server.dispose()

            self._cleanup = drop
        else:
            raise SystemExit(f"unsupported database URL: {self.given}")
        return self

    def __exit__(self, *exc):
        if self._cleanup is not None:
            self._cleanup()


def make_app(url, instance):
    """The app on database ``url`` (an existing database too), with files under ``instance``: the test
    settings (mail kept in memory, no Redis, in-memory rate limits) but not TESTING, so that requests run
    as on a server."""
    from fundapp import create_app

    class BenchConfig(config.TestConfig):
        TESTING = False
        INSTANCE_PATH = instance
        STORAGE_PATH = str(Path(instance) / "files")
        SQLALCHEMY_DATABASE_URI = url

    return create_app(BenchConfig)


@contextmanager
def throwaway_app(database_url):
    """The app on a ``ThrowawayDatabase(database_url)`` and a temporary instance folder, inside an app
    context, with the tables created from the models (``db.create_all()``; no migrations). At the end the
    engine is disposed of and the database and the folder are removed."""
    instance = tempfile.mkdtemp(prefix="fundapp-bench-instance-")
    try:
        with ThrowawayDatabase(database_url) as database:
            app = make_app(database.url, instance)
            with app.app_context():
                from fundapp.extensions import db

                db.create_all()
                try:
                    yield app
                finally:
                    db.session.remove()
                    db.engine.dispose()
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def server_version(engine):
    """The database server's version, as "15.20" or "3.40.1"."""
    return ".".join(str(part) for part in engine.dialect.server_version_info or ())


# -- requests ---------------------------------------------------------------------------------------------

TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"})


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context (and database session), as in a
    server; otherwise requests would share the script's session and its identity map."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def isolated_client(app):
    """An ``IsolatedClient`` with its own cookies (its own login) on ``app``."""
    return IsolatedClient(app, app.response_class, use_cookies=True)


class QueryCounter:
    """Counts the statements sent to ``engine`` (BEGIN and other transaction control left out) and keeps
    them since the last ``reset()``. Stops listening at ``close()`` or at the end of a ``with`` block."""

    def __init__(self, engine):
        self.engine = engine
        self.statements = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, connection, cursor, statement, parameters, context, executemany):
        # Transaction control (the BEGIN fundapp issues itself on SQLite) is not a query.
        if statement.strip().split(" ", 1)[0].upper() not in TRANSACTION_CONTROL:
            self.statements.append(statement)

    @property
    def count(self):
        return len(self.statements)

    def reset(self):
        self.statements = []

    def close(self):
        if event.contains(self.engine, "before_cursor_execute", self._record):
            event.remove(self.engine, "before_cursor_execute", self._record)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LoginFailed(Exception):
    """The login form did not let the person in (wrong email or password, inactive account)."""


def log_in(client, email, password):
    """Log ``client`` in as ``email`` through the login form, with the CSRF token the form carries; raises
    ``LoginFailed`` when the form does not redirect."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    if response.status_code != 302:
        raise LoginFailed(f"could not log {email} in: the login form answered {response.status_code}")


# -- figures ------------------------------------------------------------------------------------------------


def percentile(values, share):
    """Nearest-rank percentile: the smallest value at or above ``share`` of the values."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def summary(timings):
    """Median, 95th percentile, minimum and maximum of ``timings`` (ms), rounded to 0.01 ms."""
    return {
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "min_ms": round(min(timings), 2),
        "max_ms": round(max(timings), 2),
    }


def machine(load_before):
    """Where and when the figures were taken, for a result; ``load_before`` is ``os.getloadavg()[0]`` taken
    before the run."""
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        #: The machine's 1-minute load average before and after: other work skews the timings.
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_result(result):
    """Write ``result`` as one JSON line to bench/results/<benchmark>-<database>.json; print and return the
    path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{result['benchmark']}-{result['database']}.json"
    path.write_text(json.dumps(result, sort_keys=True) + "\n", encoding="utf-8")
    print(f"  written to {path.relative_to(ROOT)}")
    return path
