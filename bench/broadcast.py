"""A broadcast through the outbox at Telegram's rate limits, with a kill -9 half way.

    python bench/broadcast.py [--messages 10000] [--db postgresql|sqlite] [--no-kill]
        [--redis] [--shared-state auto|memory|database|redis] [--workers N]

Enqueues ``--messages`` private messages (one per person, as a consultation's broadcast to its
subscribers does) straight into the outbox of a fresh database, starts the test suite's fake
Telegram enforcing the Bot API's limits with 429s (30 messages a second overall, one a second
per private chat), and runs ``townhall run`` against it. When half the messages have arrived it
kills the process with SIGKILL and starts it again. Prints, from the fake's side: throughput as
a share of the 30/s cap (over the whole run, and without the restart gap), 429s
received, duplicates (a message accepted twice) and lost (never accepted), and the outbox rows
held as "uncertain" (in flight at the kill: Telegram has no idempotency key, so they are not
resent blindly). Targets (issue 16): ≥ 95 % of the cap, 0 duplicates, 0 lost.

``--redis``: the workers' shared send budget in Redis (TOWNHALL_REDIS_URL, 127.0.0.1:6379).
``--shared-state``: TOWNHALL_SHARED_STATE (default auto: Redis with ``--redis``, else the
database on PostgreSQL, else memory). ``--workers N``: ``townhall run --workers N`` (the kill
half way then kills the parent, and its workers end with it).
Figures only; nothing asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ingest import free_port, fresh_database, spawn
from sqlalchemy import func, select

from bot.views import Notice, view_to_dict
from storage import migrate
from storage.db import Database
from storage.models import OutboxMessage
from storage.outbox import OutboxRepository

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package
from tests.fakes.telegram import FakeTelegram

CAP = 30  # messages a second, Telegram's overall limit for a bot
FIRST_CHAT = 500_000_000
MARK = "Broadcast #"


async def enqueue(url: str, messages: int) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
        from bot.context import utc_now

        now = utc_now()
        async with db.transaction() as session:
            outbox = OutboxRepository(session)
            for n in range(messages):
                view = view_to_dict(Notice(f"{MARK}{n}: the consultation closes on Friday."))
                await outbox.send(
                    platform="telegram",
                    channel_id=str(FIRST_CHAT + n),
                    view=view,
                    at=now,
                    private=True,
                )
    finally:
        await db.dispose()


async def statuses(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            rows = await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
            return {status: int(count) for status, count in rows.all()}
    finally:
        await db.dispose()


def accepted(fake: FakeTelegram) -> list[tuple[float, str]]:
    """(arrival time, marker) of every sendMessage the fake answered 200."""
    out = []
    for call in fake.calls_to("sendMessage"):
        text = str(call.params.get("text", ""))
        if call.status == 200 and text.startswith(MARK):
            out.append((call.at, text.split(":", 1)[0]))
    return out


def environment(args: argparse.Namespace, url: str, fake: FakeTelegram) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    env.update(
        TOWNHALL_DATABASE_URL=url,
        TOWNHALL_SECRET_KEY="broadcast-bench-secret-key-0123456789-abcdef",
        TOWNHALL_HTTP_HOST="127.0.0.1",
        TOWNHALL_HTTP_PORT=str(free_port()),
        TOWNHALL_LOG_LEVEL="WARNING",
        TOWNHALL_TELEGRAM_TOKEN=fake.token,
        TOWNHALL_TELEGRAM_API_URL=fake.base_url,
    )
    if args.redis:
        env["TOWNHALL_REDIS_URL"] = "redis://127.0.0.1:6379/0"
    env["TOWNHALL_SHARED_STATE"] = args.shared_state
    return env


async def wait_for(check: object, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check() if asyncio.iscoroutinefunction(check) else check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.5)  # the fake shares this loop: look seldom, keep it punctual
    raise SystemExit(f"gave up waiting for {what}")


class FakeInThread:
    """The fake Telegram on an event loop of its own (a thread), so that it stamps arrivals
    punctually whatever the bench's own loop is doing."""

    def __init__(self) -> None:
        self.fake = FakeTelegram(strict_chats=False)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        await self.fake.start()
        self.fake.set_flood_limit(CAP, 1.0, methods=["sendMessage"], across_chats=True)
        self.fake.set_flood_limit(1, 1.0, methods=["sendMessage"])
        self._ready.set()
        await self._stop.wait()
        await self.fake.stop()

    def start(self) -> FakeTelegram:
        self._thread.start()
        self._ready.wait(30)
        return self.fake

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


async def run(args: argparse.Namespace) -> int:
    server = FakeInThread()
    fake = server.start()
    logs = Path(args.logs)
    try:
        async with fresh_database(args.db, "broadcast") as url:
            await enqueue(url, args.messages)
            env = environment(args, url, fake)
            command = [sys.executable, "-m", "townhall.cli", "run", "--workers", str(args.workers)]
            proc = spawn(command, env, logs / "broadcast-1.log")
            if not args.no_kill:
                half = args.messages // 2
                await wait_for(lambda: len(accepted(fake)) >= half, 1800, "half the messages")
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                proc = spawn(command, env, logs / "broadcast-2.log")

            async def settled() -> bool:
                done = await statuses(url)
                return done.get("pending", 0) == 0

            await wait_for(settled, 3600, "the outbox to empty")
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            final = await statuses(url)
    finally:
        server.stop()
    report(args, fake, final, killed=not args.no_kill)
    return 0


def report(
    args: argparse.Namespace, fake: FakeTelegram, final: dict[str, int], *, killed: bool
) -> None:
    got = accepted(fake)
    counts = collections.Counter(marker for _, marker in got)
    delivered = len(counts)
    limited = sum(1 for c in fake.calls_to("sendMessage") if c.status == 429)
    times = sorted(at for at, _ in got)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    rate = delivered / span
    budget = {"redis": "Redis", "database": "the database", "memory": "in process"}[store(args)]
    print(f"broadcast of {args.messages} private messages, fake Telegram capping {CAP}/s")
    print(
        f"  database {args.db}, send budget {budget}, workers {args.workers}, "
        f"kill -9 half way: {killed}"
    )
    print(f"  delivered          {delivered}")
    print(f"  duplicates         {sum(n - 1 for n in counts.values())}")
    print(f"  lost               {args.messages - delivered}")
    print(f"  uncertain rows     {final.get('uncertain', 0)}  (in flight at the kill; not resent)")
    print(f"  outbox             {dict(sorted(final.items()))}")
    print(f"  429s from the fake {limited}")
    print(f"  first to last send {span:8.1f} s -> {rate:6.2f} msgs/s = {rate / CAP:6.1%} of cap")
    if killed and len(times) > 1:
        gap = max(b - a for a, b in itertools.pairwise(times))
        busy = delivered / (span - gap)
        print(
            f"  without the restart {span - gap:7.1f} s -> {busy:6.2f} msgs/s = {busy / CAP:6.1%}"
            f" of cap (kill -9 to the next send: {gap:.1f} s)"
        )


def store(args: argparse.Namespace) -> str:
    """Where the send budget is kept (TOWNHALL_SHARED_STATE, ``auto`` resolved)."""
    if args.shared_state != "auto":
        return str(args.shared_state)
    if args.redis:
        return "redis"
    return "database" if args.db == "postgresql" else "memory"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--no-kill", action="store_true", help="no kill -9 half way")
    parser.add_argument("--redis", action="store_true", help="share the send budget in Redis")
    parser.add_argument(
        "--shared-state",
        choices=["auto", "memory", "database", "redis"],
        default="auto",
        help="where the send budget is kept (TOWNHALL_SHARED_STATE)",
    )
    parser.add_argument("--workers", type=int, default=1, help="townhall run --workers N")
    parser.add_argument("--logs", default=tempfile.gettempdir(), help="directory for logs")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
