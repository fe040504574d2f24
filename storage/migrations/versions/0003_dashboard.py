"""dashboard accounts, answer themes and private publications

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'policy', 'moderator')", name=op.f("ck_dashboard_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_users")),
        sa.UniqueConstraint("email", name=op.f("uq_dashboard_users_email")),
    )
    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_themes_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
        sa.UniqueConstraint("item_id", "name", name="uq_themes_item_name"),
    )
    op.create_table(
        "answer_themes",
        sa.Column(
            "answer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("tagged_by", sa.String(length=254), nullable=False),
        sa.Column("tagged_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_answer_themes_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_answer_themes_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("answer_id", "theme_id", name=op.f("pk_answer_themes")),
    )
    with op.batch_alter_table("answer_themes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_themes_theme_id"), ["theme_id"], unique=False)

    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Earlier publications did not record privacy: Slack direct messages have "D" channel ids,
    # Telegram private chats positive ids (groups and channels are negative).
    publications = sa.table(
        "publications",
        sa.column("platform", sa.String()),
        sa.column("channel_id", sa.String()),
        sa.column("private", sa.Boolean()),
    )
    op.execute(
        publications.update()
        .where(
            sa.or_(
                sa.and_(publications.c.platform == "slack", publications.c.channel_id.like("D%")),
                sa.and_(
                    publications.c.platform == "telegram",
                    sa.not_(publications.c.channel_id.like("-%")),
                ),
            )
        )
        .values(private=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_column("private")

    with op.batch_alter_table("answer_themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_themes_theme_id"))
    op.drop_table("answer_themes")
    op.drop_table("themes")
    op.drop_table("dashboard_users")
