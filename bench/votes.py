"""Vote ingestion: events through the real dispatcher vs. a bare INSERT per vote, same run.

    python bench/votes.py [--db sqlite|postgresql|both] [--votes 2000] [--concurrency 64]

Prints votes/s, latency percentiles and this process's CPU per vote for (a) the baseline —
one plain INSERT and commit per vote on the same engine — and (b) Townhall's path — dedup
claim, participant upsert, vote upsert, refresh request, commit — plus the time of one
results read over all the votes.
Figures only; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import text

from bot.config import Settings
from bot.events import Actor, Event, EventKind, Target
from services import results
from storage.db import Database
from storage.items import ItemRepository, NewItem
from townhall.app import Townhall

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def measure(
    n: int, concurrency: int, one: Callable[[int], Awaitable[None]]
) -> tuple[float, list[float], float]:
    """votes/s, each vote's latency, and this process's CPU milliseconds per vote."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            started = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu_ms = (time.process_time() - cpu) * 1e3 / n
    return n / (time.perf_counter() - started), latencies, cpu_ms


def line(label: str, rate: float, lat: list[float], cpu_ms: float) -> str:
    q = statistics.quantiles(lat, n=100)
    return (
        f"  {label:<34} {rate:8.0f} votes/s   p50 {q[49] * 1e3:6.1f} ms   p99 {q[98] * 1e3:6.1f} ms"
        f"   CPU {cpu_ms:5.2f} ms/vote"
    )


async def bench(url: str, n: int, concurrency: int) -> None:
    db = Database(url)
    settings = Settings(
        database_url=url, secret_key="bench-secret-key-0123456789", refresh_interval=2
    )  # type: ignore[arg-type]
    app = Townhall(settings, [], db=db)
    await app.prepare()
    async with db.transaction() as session:
        await session.execute(text("DROP TABLE IF EXISTS bench_baseline"))
        await session.execute(
            text("CREATE TABLE bench_baseline (id INTEGER, item_id INTEGER, option_id INTEGER)")
        )
        item = await ItemRepository(session).create(
            NewItem("poll", "Bench?", ["A", "B", "C"], "bench", datetime.now(UTC))
        )
        short_id = item.short_id

    async def baseline(i: int) -> None:
        async with db.transaction() as session:
            await session.execute(
                text("INSERT INTO bench_baseline VALUES (:i, 1, :o)"), {"i": i, "o": i % 3}
            )

    run = uuid.uuid4().hex[:6]

    async def townhall_vote(i: int) -> None:
        await app.dispatch(
            Event(
                "bench",
                f"{run}-{i}",
                EventKind.ACTION,
                Actor(f"user{i}"),
                Target("C1"),
                action_id="vote",
                action_value=f"{short_id}:{1 + i % 3}",
            )
        )

    print(f"{db.engine.dialect.name}: {n} votes, {concurrency} concurrent")
    print(line("baseline: plain INSERT + commit", *await measure(n, concurrency, baseline)))
    print(line("townhall: dispatch a vote event", *await measure(n, concurrency, townhall_vote)))
    async with db.transaction() as session:
        fresh = await ItemRepository(session).by_short_id(short_id)
        assert fresh is not None
        started = time.perf_counter()
        res = await results.compute(session, fresh)
        took = time.perf_counter() - started
        await session.execute(text("DROP TABLE bench_baseline"))
    print(f"  results over {res.responses} votes: {took * 1e3:.1f} ms")
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--votes", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    import logging

    from bot import logs

    logs.configure("WARNING")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await bench(f"sqlite+aiosqlite:///{tmp}/bench.db", args.votes, args.concurrency)
    if args.db in ("postgresql", "both"):
        import asyncpg

        name = f"townhall_bench_{uuid.uuid4().hex[:6]}"
        admin = PG_URL.replace("+asyncpg", "")
        conn = await asyncpg.connect(admin)
        await conn.execute(f'CREATE DATABASE "{name}"')
        try:
            await bench(PG_URL.rsplit("/", 1)[0] + f"/{name}", args.votes, args.concurrency)
        finally:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
