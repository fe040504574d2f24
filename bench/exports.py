"""Export speed: each format vs. a baseline of the bare SELECT, same database, same run.

    python bench/exports.py [--db sqlite|postgresql|both] [--answers 50000]

Seeds one open question with N answers (and one theme on every tenth), then times (a) the
baseline — the export's SELECT with every row fetched, nothing written — and (b) the export to
CSV, JSON and ODS through ``services.exports.build`` (rows streamed in batches). Prints seconds,
rows/s, output size and the process's peak memory so far. Figures only; nothing asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from services import exports
from storage import migrate
from storage.db import Database
from storage.items import ItemRepository, NewItem
from storage.models import Answer, AnswerTheme, Item, Participant, Theme

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PEOPLE = 1000


async def seed(db: Database, n: int) -> int:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    async with db.transaction() as session:
        item = await ItemRepository(session).create(
            NewItem("ask", "What would make the high street better?", [], "bench", at)
        )
        await session.execute(
            insert(Participant),
            [
                {"pseudonym": uuid.uuid4().hex * 2, "platform": "web", "created_at": at}
                for _ in range(PEOPLE)
            ],
        )
        people = list((await session.execute(select(Participant.id))).scalars())
        theme = Theme(item_id=item.id, name="Parking", created_by="bench", created_at=at)
        session.add(theme)
        await session.flush()
        for start in range(0, n, 5000):
            await session.execute(
                insert(Answer),
                [
                    {
                        "item_id": item.id,
                        "participant_id": people[i % len(people)],
                        "platform": "web",
                        "text": f'Answer number {i}: more benches, fewer empty shops, = and "q"',
                        "status": "visible",
                        "flags": [],
                        "created_at": at + timedelta(seconds=i),
                    }
                    for i in range(start, min(n, start + 5000))
                ],
            )
        ids = (await session.execute(select(Answer.id).where(Answer.item_id == item.id))).scalars()
        tags = [
            {"answer_id": a, "theme_id": theme.id, "tagged_by": "bench", "tagged_at": at}
            for a in ids
            if a % 10 == 0
        ]
        if tags:
            await session.execute(insert(AnswerTheme), tags)
        return item.id


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bench(url: str, n: int) -> None:
    db = Database(url)
    await migrate.upgrade(db)
    item_id = await seed(db, n)
    print(f"{db.engine.dialect.name}: one question, {n} answers")
    async with db.transaction() as session:
        item = await session.get(Item, item_id)
        assert item is not None
        query = (
            select(
                Answer.id, Answer.platform, Answer.created_at, Answer.text, Participant.pseudonym
            )
            .join(Participant, Participant.id == Answer.participant_id)
            .where(Answer.item_id == item.id, Answer.status == "visible")
            .order_by(Answer.created_at, Answer.id)
        )
        started = time.perf_counter()
        fetched = len((await session.execute(query)).all())
        took = time.perf_counter() - started
        print(f"  {'baseline: bare SELECT':<24} {took:7.2f} s {fetched / took:10.0f} rows/s")
        for fmt in exports.FORMATS:
            started = time.perf_counter()
            data = await exports.build(session, [item], fmt, include_hidden=False)
            took = time.perf_counter() - started
            print(
                f"  {'export ' + fmt:<24} {took:7.2f} s {n / took:10.0f} rows/s "
                f"{len(data) / 1e6:8.1f} MB   peak RSS {peak_mb():6.0f} MB"
            )
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--answers", type=int, default=50_000)
    args = parser.parse_args()
    import logging

    from bot import logs

    logs.configure("WARNING")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await bench(f"sqlite+aiosqlite:///{tmp}/bench.db", args.answers)
    if args.db in ("postgresql", "both"):
        import asyncpg

        name = f"townhall_bench_{uuid.uuid4().hex[:6]}"
        admin = PG_URL.replace("+asyncpg", "")
        conn = await asyncpg.connect(admin)
        await conn.execute(f'CREATE DATABASE "{name}"')
        try:
            await bench(PG_URL.rsplit("/", 1)[0] + f"/{name}", args.answers)
        finally:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
