"""The migrations build the schema the models describe, on SQLite and on PostgreSQL, and unwind it again.

Each test drives the real ``fundapp db ...`` command in a subprocess against an empty database of its
own: a SQLite file, and (with FUNDAPP_TEST_DATABASE_URL set) a PostgreSQL database created next to the
test database and dropped afterwards.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

import config
from fundapp.extensions import db

FUNDAPP_SCRIPT = Path(sys.executable).with_name("fundapp")
FUNDAPP = (
    [str(FUNDAPP_SCRIPT)]
    if FUNDAPP_SCRIPT.exists()
    else [sys.executable, "-c", "from fundapp.cli import main; main()"]
)
NO_DRIFT = "No new upgrade operations detected."


def fundapp(database_url, instance_path, *args):
    """Run ``fundapp ARGS`` against ``database_url``; return the finished process."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FUNDAPP_", "FLASK_"))}
    env.update(FUNDAPP_DATABASE_URL=database_url, FUNDAPP_INSTANCE_PATH=str(instance_path))
    return subprocess.run(
        [*FUNDAPP, *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


def explain(result):
    """What a failed command said, short: Alembic's "Detected ..." lines say which model has no migration."""
    detected = [line for line in result.stderr.splitlines() if "Detected " in line]
    if detected:
        return "models and migrations disagree (run make migration m=...):\n" + "\n".join(detected)
    return (result.stdout + result.stderr)[-4000:]


def run_ok(database_url, instance_path, *args):
    result = fundapp(database_url, instance_path, *args)
    assert result.returncode == 0, f"fundapp {' '.join(args)} failed: {explain(result)}"
    return result


def tables_in(database_url):
    engine = sa.create_engine(config.database_url(database_url))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def foreign_key_names_in(database_url, table_names):
    engine = sa.create_engine(config.database_url(database_url))
    try:
        inspector = sa.inspect(engine)
        return {name: {fk["name"] for fk in inspector.get_foreign_keys(name)} for name in table_names}
    finally:
        engine.dispose()


def _postgres_url():
    url = os.environ.get("FUNDAPP_TEST_DATABASE_URL") or ""
    if not url.startswith(("postgresql", "postgres:")):
        message = "needs PostgreSQL: set FUNDAPP_TEST_DATABASE_URL to a postgresql:// URL"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return sa.make_url(config.database_url(url))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path_factory):
    """The URL of an empty database, and an instance folder for the commands run against it."""
    instance_path = tmp_path_factory.mktemp("instance")
    if request.param == "sqlite":
        yield f"sqlite:///{instance_path / 'migrations.sqlite3'}", instance_path
        return

    server_url = _postgres_url()
    name = f"{server_url.database}_migrations_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server_url.set(database=name).render_as_string(hide_password=False), instance_path
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


@pytest.fixture(scope="module")
def upgraded_database(empty_database):
    """The same database after ``fundapp db upgrade``, with what the command printed."""
    database_url, instance_path = empty_database
    result = run_ok(database_url, instance_path, "db", "upgrade")
    return database_url, instance_path, result


@pytest.fixture(scope="module")
def model_tables(app):
    """Every table the models declare (create_app has imported every module's models)."""
    return set(db.metadata.tables)


def test_upgrade_creates_every_table_the_models_declare(upgraded_database, model_tables):
    database_url, _, result = upgraded_database

    assert "Running upgrade  -> " in result.stderr
    assert tables_in(database_url) == model_tables | {"alembic_version"}


def test_upgrade_names_constraints_by_the_naming_convention(upgraded_database, model_tables):
    database_url, _, _ = upgraded_database
    declared = {
        name: {fk.name for fk in db.metadata.tables[name].foreign_key_constraints} for name in model_tables
    }

    reflected = foreign_key_names_in(database_url, model_tables & tables_in(database_url))
    declared = {name: names for name, names in declared.items() if name in reflected}

    assert reflected == declared
    assert all(name.startswith("fk_") for names in reflected.values() for name in names)


def test_models_and_migrations_agree_after_upgrade(upgraded_database):
    database_url, instance_path, _ = upgraded_database

    result = fundapp(database_url, instance_path, "db", "check")

    assert result.returncode == 0, explain(result)
    assert NO_DRIFT in result.stdout


def test_downgrade_to_base_leaves_an_empty_database_that_upgrades_again(upgraded_database, model_tables):
    database_url, instance_path, _ = upgraded_database

    down = run_ok(database_url, instance_path, "db", "downgrade", "base")
    assert "Running downgrade " in down.stderr
    assert tables_in(database_url) == {"alembic_version"}

    run_ok(database_url, instance_path, "db", "upgrade")
    assert tables_in(database_url) == model_tables | {"alembic_version"}
    assert NO_DRIFT in run_ok(database_url, instance_path, "db", "check").stdout
