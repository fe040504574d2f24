"""shared state in the database: rate limits (GCRA), send windows and the web chat's mailbox

Several workers without Redis share the web chat's form limits, the outbox's send budgets and
a visitor's private messages here (TOWNHALL_SHARED_STATE; docs/deployment.md, Several workers).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("tat", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    op.create_index(op.f("ix_rate_limits_tat"), "rate_limits", ["tat"])
    op.create_table(
        "send_windows",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column(
            "hits", postgresql.ARRAY(sa.Double()).with_variant(sa.JSON(), "sqlite"), nullable=False
        ),
        sa.Column("until", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_windows")),
    )
    op.create_index(op.f("ix_send_windows_until"), "send_windows", ["until"])
    op.create_table(
        "web_mail",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("visitor", sa.String(length=64), nullable=False),
        sa.Column("view", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_mail")),
    )
    op.create_index("ix_web_mail_visitor_id", "web_mail", ["visitor", "id"])
    op.create_index(op.f("ix_web_mail_created_at"), "web_mail", ["created_at"])


def downgrade() -> None:
    op.drop_table("web_mail")
    op.drop_table("send_windows")
    op.drop_table("rate_limits")
