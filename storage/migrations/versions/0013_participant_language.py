"""participant language: the language a person chose with ``language cy|en`` (issue 18)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty until the person chooses: their platform's language (or the instance default)
    # applies meanwhile, so a change of platform setting still reaches them.
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("language")
