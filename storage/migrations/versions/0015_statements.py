"""statements: Polis-style conversations (issue 20) — statements and agree/disagree/pass votes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_KINDS = "kind IN ('poll', 'multi', 'scale', 'ask', 'rating', 'clause')"
NEW_KINDS = "kind IN ('poll', 'multi', 'scale', 'ask', 'rating', 'clause', 'statements')"


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint(op.f("ck_items_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_items_kind"), NEW_KINDS)
    op.create_table(
        "statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", BIG, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint(
            "length(text) BETWEEN 1 AND 4000", name=op.f("ck_statements_text_length")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_statements_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_statements_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statements")),
        sa.UniqueConstraint("answer_id", name=op.f("uq_statements_answer_id")),
    )
    op.create_index(op.f("ix_statements_item_id"), "statements", ["item_id"])
    op.create_table(
        "statement_votes",
        sa.Column("id", BIG, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint("value IN (-1, 0, 1)", name=op.f("ck_statement_votes_value")),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_statement_votes_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statements.id"],
            name=op.f("fk_statement_votes_statement_id_statements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_statement_votes_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_votes")),
        sa.UniqueConstraint("statement_id", "participant_id", name="uq_statement_votes_once"),
    )
    op.create_index(op.f("ix_statement_votes_item_id"), "statement_votes", ["item_id"])
    op.create_index(
        op.f("ix_statement_votes_participant_id"), "statement_votes", ["participant_id"]
    )


def downgrade() -> None:
    op.drop_table("statement_votes")
    op.drop_table("statements")
    op.execute("DELETE FROM items WHERE kind = 'statements'")
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint(op.f("ck_items_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_items_kind"), OLD_KINDS)
