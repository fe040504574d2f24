"""vote counters: option_tallies and platform_tallies, kept by triggers on votes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 15:45:00.000000

The counters change in the same transaction (the same statement) as the votes, whichever code
path writes or deletes votes: a vote, a change, a toggle, a vote held for consent and counted
later, erasure, cascades from deleting an item or a person, and the grouped write path.
PostgreSQL uses statement-level triggers with transition tables (one set-based update per
statement, so a batch of N votes costs one counter statement); SQLite uses row triggers.
``townhall doctor`` compares the counters with a full recount.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_FUNCTIONS = [
    """
    CREATE FUNCTION townhall_votes_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO option_tallies (item_id, option_id, votes)
        SELECT item_id, option_id, count(*) FROM new_votes
        GROUP BY item_id, option_id ORDER BY item_id, option_id
      ON CONFLICT (item_id, option_id)
        DO UPDATE SET votes = option_tallies.votes + EXCLUDED.votes;
      INSERT INTO platform_tallies (item_id, platform, participants)
        SELECT p.item_id, p.platform, count(*) FROM (
          SELECT item_id, participant_id, min(platform) AS platform, count(*) AS n
          FROM new_votes GROUP BY item_id, participant_id
        ) p
        WHERE (SELECT count(*) FROM votes v
               WHERE v.item_id = p.item_id AND v.participant_id = p.participant_id) = p.n
        GROUP BY p.item_id, p.platform ORDER BY p.item_id, p.platform
      ON CONFLICT (item_id, platform)
        DO UPDATE SET participants = platform_tallies.participants + EXCLUDED.participants;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION townhall_votes_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE option_tallies t SET votes = t.votes - d.n
      FROM (SELECT item_id, option_id, count(*) AS n FROM old_votes
            GROUP BY item_id, option_id ORDER BY item_id, option_id) d
      WHERE t.item_id = d.item_id AND t.option_id = d.option_id;
      UPDATE platform_tallies t SET participants = t.participants - d.n
      FROM (SELECT o.item_id, o.platform, count(*) AS n
            FROM (SELECT DISTINCT item_id, participant_id, platform FROM old_votes) o
            WHERE NOT EXISTS (SELECT 1 FROM votes v
                              WHERE v.item_id = o.item_id AND v.participant_id = o.participant_id)
            GROUP BY o.item_id, o.platform ORDER BY o.item_id, o.platform) d
      WHERE t.item_id = d.item_id AND t.platform = d.platform;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION townhall_votes_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO option_tallies (item_id, option_id, votes)
        SELECT item_id, option_id, sum(delta) FROM (
          SELECT item_id, option_id, -1 AS delta FROM old_votes
          UNION ALL SELECT item_id, option_id, 1 FROM new_votes
        ) c GROUP BY item_id, option_id HAVING sum(delta) <> 0 ORDER BY item_id, option_id
      ON CONFLICT (item_id, option_id)
        DO UPDATE SET votes = option_tallies.votes + EXCLUDED.votes;
      RETURN NULL;
    END $$
    """,
]

PG_TRIGGERS = [
    "CREATE TRIGGER votes_tally_insert AFTER INSERT ON votes REFERENCING NEW TABLE AS new_votes"
    " FOR EACH STATEMENT EXECUTE FUNCTION townhall_votes_inserted()",
    "CREATE TRIGGER votes_tally_delete AFTER DELETE ON votes REFERENCING OLD TABLE AS old_votes"
    " FOR EACH STATEMENT EXECUTE FUNCTION townhall_votes_deleted()",
    "CREATE TRIGGER votes_tally_update AFTER UPDATE ON votes"
    " REFERENCING OLD TABLE AS old_votes NEW TABLE AS new_votes"
    " FOR EACH STATEMENT EXECUTE FUNCTION townhall_votes_updated()",
]

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER votes_tally_insert AFTER INSERT ON votes BEGIN
      INSERT INTO option_tallies (item_id, option_id, votes)
        VALUES (NEW.item_id, NEW.option_id, 1)
        ON CONFLICT (item_id, option_id) DO UPDATE SET votes = votes + 1;
      INSERT INTO platform_tallies (item_id, platform, participants)
        SELECT NEW.item_id, NEW.platform, 1
        WHERE (SELECT count(*) FROM votes
               WHERE item_id = NEW.item_id AND participant_id = NEW.participant_id) = 1
        ON CONFLICT (item_id, platform) DO UPDATE SET participants = participants + 1;
    END
    """,
    """
    CREATE TRIGGER votes_tally_delete AFTER DELETE ON votes BEGIN
      UPDATE option_tallies SET votes = votes - 1
        WHERE item_id = OLD.item_id AND option_id = OLD.option_id;
      UPDATE platform_tallies SET participants = participants - 1
        WHERE item_id = OLD.item_id AND platform = OLD.platform
          AND NOT EXISTS (SELECT 1 FROM votes
                          WHERE item_id = OLD.item_id AND participant_id = OLD.participant_id);
    END
    """,
    """
    CREATE TRIGGER votes_tally_update AFTER UPDATE OF option_id ON votes
    WHEN OLD.option_id <> NEW.option_id BEGIN
      UPDATE option_tallies SET votes = votes - 1
        WHERE item_id = OLD.item_id AND option_id = OLD.option_id;
      INSERT INTO option_tallies (item_id, option_id, votes)
        VALUES (NEW.item_id, NEW.option_id, 1)
        ON CONFLICT (item_id, option_id) DO UPDATE SET votes = votes + 1;
    END
    """,
]

BACKFILL = [
    "INSERT INTO option_tallies (item_id, option_id, votes)"
    " SELECT item_id, option_id, count(*) FROM votes GROUP BY item_id, option_id",
    "INSERT INTO platform_tallies (item_id, platform, participants)"
    " SELECT item_id, platform, count(DISTINCT participant_id) FROM votes"
    " GROUP BY item_id, platform",
]


def upgrade() -> None:
    op.create_table(
        "option_tallies",
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "option_id",
            sa.Integer(),
            sa.ForeignKey("options.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("votes", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("item_id", "option_id"),
    )
    op.create_table(
        "platform_tallies",
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("participants", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("item_id", "platform"),
    )
    for statement in BACKFILL:
        op.execute(statement)
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    for name in ("votes_tally_insert", "votes_tally_delete", "votes_tally_update"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON votes")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if op.get_bind().dialect.name == "postgresql":
        for name in ("inserted", "deleted", "updated"):
            op.execute(f"DROP FUNCTION IF EXISTS townhall_votes_{name}()")
    op.drop_table("platform_tallies")
    op.drop_table("option_tallies")
