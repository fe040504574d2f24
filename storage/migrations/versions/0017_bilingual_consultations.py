"""bilingual consultations: a consultation's title, introduction and privacy text in Welsh, and
a clause's title and text and a regulation's summary in Welsh (issue 18)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 22:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty: one language (English), as every consultation before this revision.
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("title_cy", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("introduction_cy", sa.Text(), nullable=True))
        batch.add_column(sa.Column("privacy_cy", sa.Text(), nullable=True))
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("clause_title_cy", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("clause_text_cy", sa.Text(), nullable=True))
        batch.add_column(sa.Column("regulation_summary_cy", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("regulation_summary_cy")
        batch.drop_column("clause_text_cy")
        batch.drop_column("clause_title_cy")
    with op.batch_alter_table("consultations") as batch:
        batch.drop_column("privacy_cy")
        batch.drop_column("introduction_cy")
        batch.drop_column("title_cy")
