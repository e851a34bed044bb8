"""The database base every model derives from."""

import math
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

#: Constraint names Alembic can rely on, the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow():
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An instant stored in UTC and always read back timezone-aware.

    SQLite keeps no time zone, so a naive value read from it is taken as UTC; a naive value written is
    refused, because it would be ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant (with time zone) is required")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqrt(value):
    return None if value is None or value < 0 else math.sqrt(value)


def configure_engine(engine):
    """Make SQLite behave: real transactions (with savepoints), one writer at a time waiting its turn, and
    enforced foreign keys.

    Python's sqlite3 module opens transactions lazily and breaks SAVEPOINT; SQLAlchemy's documented
    recipe takes over the BEGIN itself.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # SQRT is built into PostgreSQL but only into SQLite builds with the math extension.
        dbapi_connection.create_function("SQRT", 1, _sqrt, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # IMMEDIATE takes the write lock at the start, waiting (sqlite3's timeout) while another
        # connection holds it. A deferred BEGIN that later writes fails at once with "database is
        # locked" when two requests overlap (a double click), instead of waiting its turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
