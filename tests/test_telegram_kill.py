"""kill -9 of ``townhall run`` under a stream of Telegram webhook votes.

The votes arrive together, so they are written by the grouped write path (several clicks per
transaction) and the kill lands during grouped commits. Every vote answered 200 is stored; the
ones that were not (the process died under them) are sent again, as Telegram does, once it is
back, and each counts once; the vote counters still equal a full recount.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.models import Vote
from storage.tallies import Mismatch, TallyRepository
from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    OFFICER_ID,
    PUBLIC_WEBHOOK,
    WEBHOOK_SECRET,
    fake_telegram,
)
from tests.fakes.telegram import JSON, FakeTelegram
from tests.test_slack_cli import ROOT, empty_database, free_port, read
from tests.waiting import until

pytestmark = pytest.mark.timeout(180)

VOTERS = 60


def environment(db_url: str, fake: FakeTelegram, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    env.update(
        PYTHONUNBUFFERED="1",
        TOWNHALL_DATABASE_URL=db_url,
        TOWNHALL_SECRET_KEY="kill-test-secret-key-0123456789-abcdef",
        TOWNHALL_POLICY_TEAM=f"telegram:{OFFICER_ID}",
        TOWNHALL_HTTP_PORT=str(port),
        TOWNHALL_REFRESH_INTERVAL="0",
        TOWNHALL_TELEGRAM_TOKEN=fake.token,
        TOWNHALL_TELEGRAM_API_URL=fake.base_url,
        TOWNHALL_TELEGRAM_WEBHOOK_URL=PUBLIC_WEBHOOK,
        TOWNHALL_TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    return env


async def start(env: dict[str, str], log: Path, port: int) -> asyncio.subprocess.Process:
    """``python -m townhall.cli run``, returned once /readyz says ready."""
    with log.open("ab") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "townhall.cli",
            "run",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}/readyz"
    async with aiohttp.ClientSession() as session:

        async def ready() -> bool:
            if proc.returncode is not None:
                raise AssertionError(f"townhall run exited:\n{read(log)}")
            try:
                async with session.get(url) as r:
                    return r.status == 200
            except aiohttp.ClientError:
                return False

        await until(ready, "townhall run to answer ready", within=60, every=0.1)
    return proc


async def post(url: str, update: JSON) -> int | None:
    """The HTTP status, or None when the connection died (the process was killed)."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=update, headers=headers) as r,
        ):
            return r.status
    except (aiohttp.ClientError, ConnectionError):
        return None


async def votes(db_url: str) -> int:
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            return int((await session.execute(select(func.count(Vote.id)))).scalar_one())
    finally:
        await db.dispose()


async def counter_mismatches(db_url: str) -> list[Mismatch]:
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            return await TallyRepository(session).mismatches()
    finally:
        await db.dispose()


@dataclass
class Run:
    """``townhall run`` on a fresh database with one poll card in a group, and how to reach it."""

    env: dict[str, str]
    log: Path
    port: int
    url: str
    card: JSON
    proc: asyncio.subprocess.Process


async def run_with_a_poll(fake: FakeTelegram, db_url: str, tmp_path: Path, chat: int) -> Run:
    await empty_database(db_url)
    port = free_port()
    env = environment(db_url, fake, port)
    log = tmp_path / "townhall.log"
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    group = fake.group(chat, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    proc = await start(env, log, port)
    try:
        assert await post(url, fake.command_update(group, officer, '/poll "Q?" "A" "B"')) == 200
        await fake.wait_for_call("sendMessage", lambda c: "reply_markup" in c.params, timeout=30)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    [card] = [m for m in fake.sent_messages(group["id"]) if "reply_markup" in m]
    return Run(env, log, port, url, card, proc)


async def stream(
    url: str, clicks: list[JSON], then: Callable[[], Awaitable[None]]
) -> list[int | None]:
    """Send every click at once; ``then()`` once a third were answered 200; the statuses."""
    statuses: list[int | None] = [None] * len(clicks)
    acknowledged = asyncio.Event()

    async def send(n: int) -> None:
        statuses[n] = await post(url, clicks[n])
        if sum(s == 200 for s in statuses) >= len(clicks) // 3:
            acknowledged.set()

    sending = [asyncio.create_task(send(n)) for n in range(len(clicks))]
    await asyncio.wait_for(acknowledged.wait(), timeout=60)
    await then()
    await asyncio.gather(*sending)
    return statuses


async def send_again(run: Run, clicks: list[JSON], statuses: list[int | None]) -> None:
    """Restart, and send again what was not answered 200 (as Telegram does), until it is."""
    run.proc = await start(run.env, run.log, run.port)
    try:
        for n, status in enumerate(statuses):
            if status != 200:
                again = [await post(run.url, clicks[n]) for _ in range(3)]
                assert 200 in again, (again, read(run.log)[-3000:])
        assert await post(run.url, clicks[0]) == 200  # a late duplicate changes nothing
    finally:
        run.proc.terminate()
        await asyncio.wait_for(run.proc.wait(), 60)
    assert run.proc.returncode == 0, read(run.log)[-3000:]  # SIGTERM: a clean exit


async def test_kill_9_under_webhook_votes_loses_no_acknowledged_vote(
    fake: FakeTelegram, db_url: str, tmp_path: Path
) -> None:
    run = await run_with_a_poll(fake, db_url, tmp_path, -1001000000097)
    clicks = [
        fake.button_update(fake.user(8000 + n, f"Voter {n}"), run.card, "A") for n in range(VOTERS)
    ]

    async def kill() -> None:
        run.proc.kill()  # SIGKILL, mid-stream
        await run.proc.wait()

    try:
        statuses = await stream(run.url, clicks, kill)
    finally:
        if run.proc.returncode is None:
            run.proc.kill()
            await run.proc.wait()

    answered = sum(s == 200 for s in statuses)
    assert answered > 0
    stored = await votes(db_url)
    assert stored >= answered, (statuses, read(run.log)[-3000:])  # every acknowledged one stored

    await send_again(run, clicks, statuses)
    assert await votes(db_url) == VOTERS  # each counted once
    assert await counter_mismatches(db_url) == []
