"""Consultation broadcast: a published consultation's card to every topic subscriber, privately,
through the durable outbox, against the fake Telegram Bot API; beside a baseline measured in
the same run (the same card sent straight through the Telegram adapter, no database).

    PYTHONPATH=. python bench/consultation_broadcast.py [--db sqlite|postgresql|both]
        [--subscribers 1000] [--refuse-every 0]

Prints messages/s for both and each as a share of Telegram's cap (about 30 messages/s overall
for a bot). ``--refuse-every N``: the fake answers the first send to every Nth subscriber with
429 retry_after 1 s (waited out in real time). Over 100 % means the platform would start
refusing: with pacing on (the default) the outbox keeps under the cap, which bench/broadcast.py
measures; TOWNHALL_OUTBOX_RATE_LIMITS=false shows how fast it goes without it.
Figures only; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bot.context import utc_now
from bot.events import Target
from bot.views import view_from_dict
from services import consultations
from services.consultation_file import load_file
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.people import ParticipantRepository
from storage.subscriptions import SubscriptionRepository
from tests.conftest import SECRET
from tests.drivers.telegram_kit import OFFICER_ID, TOKEN, running, telegram_settings
from tests.fakes.telegram import FakeTelegram

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
CONSULTATION = Path(__file__).resolve().parent.parent / "tests" / "data" / "consultation-12.yaml"
TELEGRAM_CAP = 30.0  # messages per second, all chats together
FIRST_ID = 500_000


async def bench(url: str, subscribers: int, refuse_every: int) -> None:
    db = Database(url)
    settings = telegram_settings(url, refresh_interval=0)
    async with FakeTelegram(token=TOKEN, bot_username="townhall_bench_bot") as fake:
        ids = [FIRST_ID + n for n in range(subscribers)]
        for uid in ids:
            fake.private_chat(fake.user(uid, f"Citizen {uid}"))
        group = fake.group(-1001000000777, "Libraries")
        officer = fake.user(OFFICER_ID, "Officer")
        clock: Any = utc_now
        async with running(fake, db, clock, settings=settings) as harness:
            now = utc_now()
            async with db.transaction() as session:
                people = ParticipantRepository(session, SECRET)
                subscriptions = SubscriptionRepository(session)
                for uid in ids:
                    person = await people.ensure("telegram", str(uid), now)
                    await subscriptions.subscribe(person, "libraries", now)
                plan = load_file(CONSULTATION, now=now)
                await consultations.load(session, plan, new_version=False, actor="bench", now=now)

            # (a) baseline: the same card straight through the adapter, one after another
            card = None
            started = time.perf_counter()
            call = await harness.command(group, officer, "/publish library-bill")
            enqueue = time.perf_counter() - started
            async with db.transaction() as session:
                pending = await OutboxRepository(session).pending("telegram")
                card = view_from_dict(dict(pending[0].view or {}))
            started = time.perf_counter()
            for uid in ids[: min(200, subscribers)]:
                await harness.adapter.send(Target(str(uid), private=True), card)
            baseline = min(200, subscribers) / (time.perf_counter() - started)

            # (b) Townhall: the outbox delivers what publishing queued
            if refuse_every:
                fake.fail_next(
                    "sendMessage",
                    429,
                    retry_after=1,
                    count=sum(1 for uid in ids if uid % refuse_every == 0),
                    predicate=lambda p: int(p.get("chat_id", 0)) % refuse_every == 0,
                )
            started = time.perf_counter()
            while True:
                while await harness.app.deliverer.run_once():
                    pass
                async with db.transaction() as session:
                    if not await OutboxRepository(session).pending("telegram"):
                        break
                await asyncio.sleep(0.2)  # a 429's retry_after, in real time
            elapsed = time.perf_counter() - started
            townhall = subscribers / elapsed
    await db.dispose()
    said = re.search(r"sent to \d+ subscribers?", str(call.params.get("text", "")))
    print(f"{db.url.split(':')[0]}: {subscribers} subscribers ({said and said.group(0)})")
    print(f"  publish (1 transaction, {subscribers} outbox rows)   {enqueue * 1e3:8.0f} ms")
    print(
        f"  baseline: adapter.send, no database      {baseline:8.0f} msg/s"
        f"   {100 * baseline / TELEGRAM_CAP:6.0f} % of Telegram's cap"
    )
    print(
        f"  Townhall: outbox delivery               {townhall:8.0f} msg/s"
        f"   {100 * townhall / TELEGRAM_CAP:6.0f} % of Telegram's cap  ({elapsed:.1f} s)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--refuse-every", type=int, default=0)
    args = parser.parse_args()
    import logging

    from bot import logs

    logs.configure("WARNING")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            await bench(url, args.subscribers, args.refuse_every)
    if args.db in ("postgresql", "both"):
        import asyncpg

        name = f"townhall_bench_{uuid.uuid4().hex[:6]}"
        conn = await asyncpg.connect(PG_URL.replace("+asyncpg", ""))
        await conn.execute(f'CREATE DATABASE "{name}"')
        try:
            url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
            await bench(url, args.subscribers, args.refuse_every)
        finally:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
