"""answer refs never reused (SQLite AUTOINCREMENT, tombstones) and one form for staff actors

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite reuses the highest rowid after a delete unless the table is AUTOINCREMENT;
    # PostgreSQL's identity sequence never does. Rebuilding keeps every row and its id.
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "answers", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    op.create_table(
        "erased_answers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("erased_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_erased_answers_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erased_answers")),
    )
    # Dashboard accounts acting on a chat channel were stored as "<platform>:dashboard:<email>".
    position = sa.func.instr if op.get_bind().dialect.name == "sqlite" else sa.func.strpos
    for name, column_name in (("audit_log", "actor"), ("items", "created_by")):
        column = sa.column(column_name, sa.String)
        op.execute(
            sa.table(name, column)
            .update()
            .where(column.like("%:dashboard:%"), column.not_like("dashboard:%"))
            .values({column_name: sa.func.substr(column, position(column, "dashboard:"))})
        )


def downgrade() -> None:
    op.drop_table("erased_answers")
