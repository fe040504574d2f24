"""Tallies: results of a 1,000,000-vote poll through the app's results service, and the CLI.

    python bench/tally.py [--db sqlite|postgresql] [--votes 1000000] [--runs 5]

Builds a fresh database (a temporary SQLite file, or a new PostgreSQL database dropped at the
end) with one poll and ``--votes`` votes from as many participants (bulk ``INSERT … SELECT``,
seconds), then prints, each as the median of ``--runs``:

- ``services.results.compute`` (what cards, the dashboard and the CLI read) beside a baseline
  of a bare ``SELECT count(*)`` over the item's votes;
- ``townhall results ID --json`` and ``townhall list --json`` as processes (wall and CPU
  seconds, hyperfine-style: one warm-up run, then ``--runs``), beside ``python -c pass``, a
  process that only imports SQLAlchemy's asyncio extension, and the same commands on their
  ordinary path (``--no-fast-path``: pydantic settings and the ORM), which print the same.
Figures only; nothing asserts on time. Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from benchdb import fresh_database
from sqlalchemy import text

from services import results
from storage import migrate
from storage.db import Database
from storage.items import ItemRepository, NewItem

SECRET = "bench-secret-key-0123456789"


async def seed(db: Database, votes: int) -> tuple[str, int]:
    """One poll with ``votes`` votes from as many participants, on four platforms."""
    await migrate.upgrade(db)
    async with db.transaction() as session:
        item = await ItemRepository(session).create(
            NewItem("poll", "Tally?", ["A", "B", "C"], "bench", datetime.now(UTC))
        )
        options = [o.id for o in item.options]
        short_id, item_id = item.short_id, item.id
    series = (
        f"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {votes}) "  # noqa: S608
        if db.is_sqlite
        else ""
    )
    source = "g" if db.is_sqlite else f"generate_series(1, {votes}) AS g(x)"
    pad = "printf('%064d', x)" if db.is_sqlite else "lpad(x::text, 64, '0')"
    platform = (
        "CASE x % 4 WHEN 0 THEN 'telegram' WHEN 1 THEN 'slack' WHEN 2 THEN 'discord' ELSE 'web' END"
    )
    option = f"CASE x % 3 WHEN 0 THEN {options[0]} WHEN 1 THEN {options[1]} ELSE {options[2]} END"
    now = "'2026-12-07 12:00:00'" if db.is_sqlite else "now()"
    async with db.transaction() as session:
        await session.execute(
            text(
                f"{series}INSERT INTO participants (pseudonym, platform, platform_user_id, "  # noqa: S608
                f"created_at) SELECT {pad}, {platform}, x, {now} FROM {source}"
            )
        )
        await session.execute(
            text(
                f"{series}INSERT INTO votes (item_id, option_id, participant_id, multi, platform, "  # noqa: S608
                f"created_at) SELECT {item_id}, {option}, x, false, {platform}, {now} "
                f"FROM {source}"
            )
        )
    async with db.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    return short_id, item_id


async def median_ms(runs: int, once: Callable[[], Awaitable[Any]]) -> float:
    await once()  # warm caches and statement cache
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        await once()
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1e3


def process_times(command: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds (user + sys of the child) of a command, after one warm-up."""
    walls, cpus = [], []
    for n in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)  # noqa: S603
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if n:
            walls.append(wall)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


async def bench(url: str, args: argparse.Namespace) -> None:
    db = Database(url)
    started = time.perf_counter()
    short_id, item_id = await seed(db, args.votes)
    seeded = time.perf_counter() - started
    print(f"{db.engine.dialect.name}: seeded {args.votes:,} votes in {seeded:.1f} s")

    async def service() -> None:
        async with db.transaction() as session:
            item = await ItemRepository(session).by_short_id(short_id)
            assert item is not None
            res = await results.compute(session, item)
            assert res.responses == args.votes

    async def baseline() -> None:
        async with db.transaction() as session:
            await session.execute(
                text("SELECT count(*) FROM votes WHERE item_id = :i"), {"i": item_id}
            )

    for label, once in (
        ("baseline: SELECT count(*) of the votes", baseline),
        ("results service (transaction + item + counters)", service),
    ):
        print(f"  {label:<46} {await median_ms(args.runs, once):9.1f} ms")
    async with db.transaction() as session:  # what a card refresh does with its item loaded
        item = await ItemRepository(session).by_short_id(short_id)
        assert item is not None

        async def counters() -> None:
            assert item is not None
            assert (await results.compute(session, item)).responses == args.votes

        took = await median_ms(max(args.runs, 20), counters)
        print(f"  {'results.compute from counters (item loaded)':<46} {took:9.2f} ms")
    await db.dispose()

    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    env.update(TOWNHALL_DATABASE_URL=url, TOWNHALL_SECRET_KEY=SECRET)
    cli = [sys.executable, "-m", "townhall.cli"]
    commands = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        (
            "python: import sqlalchemy.ext.asyncio",
            [sys.executable, "-c", "import sqlalchemy.ext.asyncio"],
        ),
        (f"townhall results {short_id} --json", [*cli, "results", short_id, "--json"]),
        ("townhall list --json", [*cli, "list", "--json"]),
        (
            f"  the same, ordinary path: results {short_id}",
            [*cli, "results", short_id, "--json", "--no-fast-path"],
        ),
        ("  the same, ordinary path: list", [*cli, "list", "--json", "--no-fast-path"]),
    ]
    print(f"  processes (median of {args.runs}):")
    for label, command in commands:
        wall, cpu = process_times(command, env, args.runs)
        print(f"    {label:<44} wall {wall:6.2f} s   CPU {cpu:6.2f} s")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from bot import logs

    logs.configure("WARNING")
    async with fresh_database(args.db, "tally") as url:
        await bench(url, args)


if __name__ == "__main__":
    asyncio.run(main())
