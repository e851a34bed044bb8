"""cover posting sums by account and by entry

The pool balances page sums a pool's postings (nearly all receipts) and picks out its commitments,
de-commitments and refunds by their entry: with the amount in both indexes PostgreSQL reads these sums from
the index alone. The two indexes replace the ones on (account_id, entry_id) and (entry_id), whose queries
they serve as well.

Revision ID: 593c4e16677a
Revises: 79d77ff05dc2
Create Date: 2026-11-24 09:56:03.540006
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "593c4e16677a"
down_revision = "79d77ff05dc2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_posting_account_id_entry_id_amount_minor",
        "posting",
        ["account_id", "entry_id", "amount_minor"],
        unique=False,
    )
    op.create_index(
        "ix_posting_entry_id_account_id_amount_minor",
        "posting",
        ["entry_id", "account_id", "amount_minor"],
        unique=False,
    )
    op.drop_index("ix_posting_account_id_entry_id", table_name="posting")
    op.drop_index("ix_posting_entry_id", table_name="posting")


def downgrade():
    op.create_index("ix_posting_entry_id", "posting", ["entry_id"], unique=False)
    op.create_index("ix_posting_account_id_entry_id", "posting", ["account_id", "entry_id"], unique=False)
    op.drop_index("ix_posting_entry_id_account_id_amount_minor", table_name="posting")
    op.drop_index("ix_posting_account_id_entry_id_amount_minor", table_name="posting")
