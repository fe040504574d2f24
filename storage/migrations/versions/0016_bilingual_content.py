"""bilingual content: an item's question and options in Welsh, each answer's language, a
channel's language for its public cards (issue 18)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:25:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty: the item is in one language (English), as every item before this revision.
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("question_cy", sa.String(length=300), nullable=True))
    with op.batch_alter_table("options") as batch:
        batch.add_column(sa.Column("label_cy", sa.String(length=200), nullable=True))
    # The language the person read the question in when they answered; empty for older ones.
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    # No row: a channel's cards show both languages when the item has its Welsh.
    op.create_table(
        "channel_languages",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("channel_id", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=4), nullable=False),
        sa.CheckConstraint(
            "language IN ('en', 'cy', 'both')", name=op.f("ck_channel_languages_language")
        ),
        sa.PrimaryKeyConstraint("platform", "channel_id", name=op.f("pk_channel_languages")),
    )


def downgrade() -> None:
    op.drop_table("channel_languages")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("options") as batch:
        batch.drop_column("label_cy")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("question_cy")
