"""Baseline servers for bench/ingest.py, each run as its own process like ``townhall run``.

    python bench/ingest_baselines.py --kind bare|naive|grouped|bolt --platform telegram|slack|web
        --db URL --port N --table NAME [--api URL]

- ``bare``: an aiohttp endpoint that parses the click and answers; no database.
- ``naive``: one SQLAlchemy ORM session and commit per click (the hand-written bot).
- ``grouped``: clicks waiting together are written by one statement in one transaction
  (PostgreSQL: ``INSERT … SELECT unnest(...) ON CONFLICT DO NOTHING``; SQLite: ``executemany``
  of ``INSERT OR IGNORE``); each request is answered only after its batch committed. The next
  batch starts as soon as the previous commit returned (no timer).
- ``bolt`` (Slack only): a bare slack-bolt ``AsyncApp`` on aiohttp, configured like Townhall's
  (signing secret checked, ``process_before_response``), whose action listener only calls
  ``ack()``: what any Slack app pays before doing anything; no database.
Prints ``ready`` once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from aiohttp import web
from ingest_payloads import ENDPOINTS, Click, parse
from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.db import Database


def table_ddl(table: str) -> str:
    return (
        f"CREATE TABLE {table} (event_id VARCHAR(64) PRIMARY KEY, "
        "user_id VARCHAR(64) NOT NULL, option INTEGER NOT NULL)"
    )


def orm_model(table: str) -> Any:
    class Base(DeclarativeBase):
        pass

    class BenchVote(Base):
        __tablename__ = table
        event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
        user_id: Mapped[str] = mapped_column(String(64))
        option: Mapped[int] = mapped_column(Integer)

    return BenchVote


class Grouped:
    """One writer; requests wait on a future resolved when their batch committed."""

    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.table = table
        self.pending: list[tuple[Click, asyncio.Future[None]]] = []
        self.wake = asyncio.Event()
        self.conn: Any = None

    async def start(self) -> None:
        if self.url.startswith("sqlite"):
            import aiosqlite

            self.conn = await aiosqlite.connect(self.url.split("///", 1)[1], isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
                await self.conn.execute(f"PRAGMA {pragma}")
        else:
            import asyncpg

            self.conn = await asyncpg.connect(self.url.replace("+asyncpg", ""))
        asyncio.get_running_loop().create_task(self.writer())

    async def add(self, click: Click) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((click, done))
        self.wake.set()
        await done

    async def write(self, clicks: list[Click]) -> None:
        if self.url.startswith("sqlite"):
            await self.conn.execute("BEGIN IMMEDIATE")
            await self.conn.executemany(
                f"INSERT OR IGNORE INTO {self.table} VALUES (?, ?, ?)",  # noqa: S608
                [(c.event_id, c.user_id, c.option) for c in clicks],
            )
            await self.conn.execute("COMMIT")
        else:
            await self.conn.execute(
                f"INSERT INTO {self.table} SELECT * FROM unnest($1::text[], $2::text[], "  # noqa: S608
                "$3::int[]) ON CONFLICT DO NOTHING",
                [c.event_id for c in clicks],
                [c.user_id for c in clicks],
                [c.option for c in clicks],
            )

    async def writer(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            batch, self.pending = self.pending, []
            if not batch:
                continue
            try:
                await self.write([c for c, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for _, done in batch:
                done.set_result(None)


async def bare_bolt(api: str) -> Any:
    """The request handler of a slack-bolt app that only acknowledges vote clicks."""
    import re

    from ingest_payloads import SLACK_SIGNING_SECRET
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=api),
        signing_secret=SLACK_SIGNING_SECRET,
        process_before_response=True,
    )

    @bolt.action(re.compile(r"^vote-"))
    async def acknowledge(ack: AsyncAck) -> None:
        await ack()

    async def handle(request: web.Request) -> web.Response:
        response = await bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    return handle


async def serve(args: argparse.Namespace) -> None:
    path, ok = ENDPOINTS[args.platform]
    path = path.replace("{item}", "{item_id}")
    headers = {"Location": "/c/done"} if ok == 303 else None
    handle: Any
    if args.kind == "bare":

        async def handle(request: web.Request) -> web.Response:
            parse(args.platform, await request.read(), request.headers)
            return web.Response(status=ok, headers=headers)

    elif args.kind == "naive":
        db = Database(args.db)
        model = orm_model(args.table)

        async def handle(request: web.Request) -> web.Response:
            click = parse(args.platform, await request.read(), request.headers)
            async with db.sessions() as session:
                vote = model(event_id=click.event_id, user_id=click.user_id, option=click.option)
                session.add(vote)
                await session.commit()
            return web.Response(status=ok, headers=headers)

    elif args.kind == "bolt":
        handle = await bare_bolt(args.api)
    else:
        grouped = Grouped(args.db, args.table)
        await grouped.start()

        async def handle(request: web.Request) -> web.Response:
            await grouped.add(parse(args.platform, await request.read(), request.headers))
            return web.Response(status=ok, headers=headers)

    app = web.Application()
    app.router.add_post(path, handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["bare", "naive", "grouped", "bolt"], required=True)
    parser.add_argument("--platform", choices=sorted(ENDPOINTS), required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--table", default="bench_votes")
    parser.add_argument("--api", default="", help="the fake platform API's base URL (bolt)")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
