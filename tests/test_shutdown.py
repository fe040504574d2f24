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

from tests.drivers.telegram_kit import fake_telegram  # noqa: F401 - a fixture
from tests.fakes.telegram import FakeTelegram
from tests.test_slack_cli import read
from tests.test_telegram_kill import (
    counter_mismatches,
    run_with_a_poll,
    send_again,
    stream,
    votes,
)

pytestmark = pytest.mark.timeout(180)

VOTERS = 60


async def test_sigterm_answers_what_it_took_and_exits_cleanly(
    fake: FakeTelegram, db_url: str, tmp_path: Path
) -> None:
    run = await run_with_a_poll(fake, db_url, tmp_path, -1001000000096)
    voters = [fake.user(9000 + n, f"Voter {n}") for n in range(VOTERS)]
    for voter in voters:
        fake.private_chat(voter)  # so the privacy notices can be delivered
    clicks = [fake.button_update(voter, run.card, "A") for voter in voters]

    async def terminate() -> None:
        run.proc.terminate()  # SIGTERM, mid-stream

    try:
        statuses = await stream(run.url, clicks, terminate)
        await asyncio.wait_for(run.proc.wait(), 60)
    finally:
        if run.proc.returncode is None:
            run.proc.kill()
            await run.proc.wait()
    assert run.proc.returncode == 0, read(run.log)[-3000:]
    assert "Traceback" not in read(run.log), read(run.log)[-3000:]

    answered = sum(s == 200 for s in statuses)
    stored = await votes(db_url)
    assert stored >= answered > 0, (statuses, read(run.log)[-3000:])  # every answered one stored

    await send_again(run, clicks, statuses)
    assert await votes(db_url) == VOTERS  # each counted once
    assert await counter_mismatches(db_url) == []
    notices = [m for v in voters for m in fake.sent_messages(v["id"])]
    assert notices, "the privacy notices go out through the outbox"
