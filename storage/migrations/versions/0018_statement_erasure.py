"""statement erasure: a statement whose author was forgotten stays as a tombstone (issue 20)

Its text is erased and it is left out of the flow, the analysis, the results and the exports;
the row stays so that its id is never reused (docs/opinion-groups.md, "Forget").

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty: no statement was erased before this revision (forget deleted them outright).
    with op.batch_alter_table("statements") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("statements") as batch:
        batch.drop_column("erased_at")
