"""about you: a consultation's profile questions and each person's answers (issue 19)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("consultations", "items"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("profile", sa.JSON(), nullable=True))
    op.create_table(
        "profile_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_profile_answers_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_answers")),
        sa.UniqueConstraint("participant_id", "question", name="uq_profile_answers_once"),
    )
    op.create_index("ix_profile_answers_question_value", "profile_answers", ["question", "value"])


def downgrade() -> None:
    op.drop_index("ix_profile_answers_question_value", table_name="profile_answers")
    op.drop_table("profile_answers")
    for table in ("items", "consultations"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("profile")
