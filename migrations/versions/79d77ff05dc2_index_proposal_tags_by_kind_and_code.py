"""index proposal tags by kind and code

The officer's proposal list filters by tag (region, Red List category): with this index PostgreSQL finds
the proposals holding a tag without scanning every tag.

Revision ID: 79d77ff05dc2
Revises: a1f0c0de0001
Create Date: 2026-11-24 09:18:47.397696
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "79d77ff05dc2"
down_revision = "a1f0c0de0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_proposal_tag_kind_code_proposal_id", "proposal_tag", ["kind", "code", "proposal_id"], unique=False
    )


def downgrade():
    op.drop_index("ix_proposal_tag_kind_code_proposal_id", table_name="proposal_tag")
