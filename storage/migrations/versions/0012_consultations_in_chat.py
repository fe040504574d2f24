"""consultations in chat: per-person progress, topic subscriptions, opt-outs, responses

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "consultation_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("awaiting_item_id", sa.Integer(), nullable=True),
        sa.Column("completed_at", UTC, nullable=True),
        sa.Column("reminded_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_consultation_progress_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_progress_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_progress")),
        sa.UniqueConstraint(
            "participant_id", "consultation_id", name="uq_consultation_progress_once"
        ),
    )
    op.create_index(
        op.f("ix_consultation_progress_participant_id"),
        "consultation_progress",
        ["participant_id"],
    )
    op.create_index(
        op.f("ix_consultation_progress_consultation_id"),
        "consultation_progress",
        ["consultation_id"],
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_subscriptions_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("participant_id", "topic", name="uq_subscriptions_participant_topic"),
    )
    op.create_index(op.f("ix_subscriptions_topic"), "subscriptions", ["topic"])
    op.create_table(
        "message_opt_outs",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_message_opt_outs_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_message_opt_outs")),
    )
    op.create_table(
        "consultation_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("recipients", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_responses_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_responses")),
    )
    op.create_index(
        op.f("ix_consultation_responses_consultation_id"),
        "consultation_responses",
        ["consultation_id"],
    )


def downgrade() -> None:
    op.drop_table("consultation_responses")
    op.drop_table("message_opt_outs")
    op.drop_table("subscriptions")
    op.drop_table("consultation_progress")
