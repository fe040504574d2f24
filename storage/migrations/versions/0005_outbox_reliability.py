"""outbox: who asked for a message, when delivery started, and the 'uncertain' status

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-07 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUS = "status IN ('pending', 'sent', 'failed')"
NEW_STATUS = "status IN ('pending', 'sent', 'failed', 'uncertain')"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requested_by", sa.String(length=150), nullable=True))
        batch_op.add_column(
            sa.Column("first_tried_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_constraint(op.f("ck_outbox_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_status"), NEW_STATUS)


def downgrade() -> None:
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'uncertain'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_status"), OLD_STATUS)
        batch_op.drop_column("first_tried_at")
        batch_op.drop_column("requested_by")
