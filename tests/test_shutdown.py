"""SIGTERM under a stream of Telegram webhook votes: a graceful stop.

``townhall run`` stops accepting connections, writes the vote batches waiting and answers them,
delivers what the outbox has due, and exits with 0. Every vote answered 200 before or during
the stop is stored; the ones that were not answered are sent again once it is back (as
Telegram does) and each counts once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    OFFICER_ID,
    fake_telegram,
)
from tests.fakes.telegram import FakeTelegram
from tests.test_slack_cli import empty_database, free_port, read
from tests.test_telegram_kill import counter_mismatches, environment, post, start, votes

pytestmark = pytest.mark.timeout(180)

VOTERS = 60


async def test_sigterm_answers_what_it_took_and_exits_cleanly(
    fake: FakeTelegram, db_url: str, tmp_path: Path
) -> None:
    await empty_database(db_url)
    port = free_port()
    env = environment(db_url, fake, port)
    log = tmp_path / "townhall.log"
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    group = fake.group(-1001000000096, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")

    proc = await start(env, log, port)
    try:
        assert await post(url, fake.command_update(group, officer, '/poll "Q?" "A" "B"')) == 200
        await fake.wait_for_call("sendMessage", lambda c: "reply_markup" in c.params, timeout=30)
        [card] = [m for m in fake.sent_messages(group["id"]) if "reply_markup" in m]
        voters = [fake.user(9000 + n, f"Voter {n}") for n in range(VOTERS)]
        for voter in voters:
            fake.private_chat(voter)  # so the privacy notices can be delivered
        clicks = [fake.button_update(voter, card, "A") for voter in voters]
        statuses: list[int | None] = [None] * VOTERS
        acknowledged = asyncio.Event()

        async def send(n: int) -> None:
            statuses[n] = await post(url, clicks[n])
            if sum(s == 200 for s in statuses) >= VOTERS // 3:
                acknowledged.set()

        stream = [asyncio.create_task(send(n)) for n in range(VOTERS)]
        await asyncio.wait_for(acknowledged.wait(), timeout=60)
        proc.terminate()  # SIGTERM, mid-stream
        await asyncio.gather(*stream)
        await asyncio.wait_for(proc.wait(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, read(log)[-3000:]
    assert "Traceback" not in read(log), read(log)[-3000:]

    answered = sum(s == 200 for s in statuses)
    stored = await votes(db_url)
    assert stored >= answered > 0, (statuses, read(log)[-3000:])  # every answered vote stored

    proc = await start(env, log, port)
    try:
        for n, status in enumerate(statuses):
            if status != 200:  # Telegram sends again what was not acknowledged
                again = [await post(url, clicks[n]) for _ in range(3)]
                assert 200 in again, (again, read(log)[-3000:])
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 60)
    assert proc.returncode == 0, read(log)[-3000:]
    assert await votes(db_url) == VOTERS  # each counted once
    assert await counter_mismatches(db_url) == []
    notices = [m for v in voters for m in fake.sent_messages(v["id"])]
    assert notices, "the privacy notices go out through the outbox"
