"""leases for one-worker-only jobs; outbox claims and the platform message id of a delivery

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 17:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("acquired_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("platform_message_id", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("claim", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claim")
        batch.drop_column("platform_message_id")
    op.drop_table("leases")
