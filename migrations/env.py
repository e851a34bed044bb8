"""Alembic environment of fundapp, run through Flask-Migrate: ``fundapp db upgrade``, ``db migrate``, ...

The target metadata is the app's own (``db.metadata``), which carries the naming convention, so every
constraint and index gets the same name on SQLite and PostgreSQL and a later migration can drop it by
name. SQLite cannot alter most of a table in place, so migrations are rendered and run in batch mode
(copy, change, swap), which is a plain ALTER on PostgreSQL.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from fundapp.core.db import UTCDateTime

config = context.config
if config.config_file_name is not None:
    # Keep the app's own loggers working when migrations run inside a process that set them up.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_extension = current_app.extensions["migrate"]
engine = migrate_extension.db.engine
target_metadata = migrate_extension.db.metadata
config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def render_item(type_, obj, autogen_context):
    """Write the app's column types as plain SQLAlchemy types, so a migration never imports the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def process_revision_directives(context, revision, directives):
    """``db migrate`` with no model change writes no empty revision."""
    if getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")


def configure_args(dialect_name):
    args = dict(migrate_extension.configure_args)
    args.setdefault("compare_type", True)
    args.setdefault("process_revision_directives", process_revision_directives)
    args.setdefault("render_item", render_item)
    if dialect_name == "sqlite":
        args["render_as_batch"] = True
    return args


def run_migrations_offline():
    """Print the SQL (``fundapp db upgrade --sql``) instead of running it."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        **configure_args(engine.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            **configure_args(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
