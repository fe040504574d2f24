"""consultations loaded from files: slug, version, texts, dates; items' place and clause/regulation

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-07 16:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('poll', 'multi', 'scale', 'ask')"
NEW_KINDS = "kind IN ('poll', 'multi', 'scale', 'ask', 'rating', 'clause')"
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("slug", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(
            sa.Column("status", sa.String(length=12), server_default="draft", nullable=False)
        )
        batch.add_column(sa.Column("introduction", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("privacy", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("opens_at", UTC, nullable=True))
        batch.add_column(sa.Column("closes_at", UTC, nullable=True))
        batch.add_column(sa.Column("topics", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("moderation", sa.String(length=10), server_default="strict", nullable=False)
        )
        batch.add_column(sa.Column("source", sa.String(length=500), nullable=True))
        batch.create_unique_constraint(op.f("uq_consultations_slug_version"), ["slug", "version"])
        batch.create_check_constraint(
            op.f("ck_consultations_status"), "status IN ('draft', 'open', 'closed', 'superseded')"
        )
        batch.create_check_constraint(
            op.f("ck_consultations_moderation"), "moderation IN ('strict', 'lazy')"
        )
        batch.create_index(op.f("ix_consultations_slug"), ["slug"])
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("position", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("clause_number", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("clause_title", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("clause_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("regulation_title", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("regulation_summary", sa.Text(), nullable=True))
        batch.drop_constraint(op.f("ck_items_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_items_kind"), NEW_KINDS)


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint(op.f("ck_items_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_items_kind"), OLD_KINDS)
        for column in (
            "regulation_summary",
            "regulation_title",
            "clause_text",
            "clause_title",
            "clause_number",
            "position",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("consultations") as batch:
        batch.drop_index(op.f("ix_consultations_slug"))
        batch.drop_constraint(op.f("ck_consultations_moderation"), type_="check")
        batch.drop_constraint(op.f("ck_consultations_status"), type_="check")
        batch.drop_constraint(op.f("uq_consultations_slug_version"), type_="unique")
        for column in (
            "source",
            "moderation",
            "topics",
            "closes_at",
            "opens_at",
            "privacy",
            "introduction",
            "status",
            "version",
            "slug",
        ):
            batch.drop_column(column)
