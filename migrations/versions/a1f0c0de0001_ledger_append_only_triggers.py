"""ledger append-only triggers

The ledger's journal_entry and posting rows are never updated or deleted: triggers refuse it on SQLite
and PostgreSQL (the same statements fundapp.disbursements.ledger installs with create_all).

hand-written: keep (scripts/regenerate-initial-migration puts it back on top of a new initial revision)

Revision ID: a1f0c0de0001
Revises: 7f5a0a5f61a3
"""

from alembic import op

revision = "a1f0c0de0001"
down_revision = "7f5a0a5f61a3"
branch_labels = None
depends_on = None

TABLES = ("journal_entry", "posting")


def upgrade():
    from fundapp.disbursements.ledger import append_only_statements

    for statement in append_only_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS fundapp_ledger_append_only()")
