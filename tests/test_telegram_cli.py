"""The issue's done-when: ``townhall run`` with only the Telegram token and API URL set (the URL
pointing at the fake), an officer creates items, citizens vote and answer, and
``townhall results ID --json`` agrees. Real processes, env vars only, bounded waits."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys

import pytest

from storage.db import Database
from storage.items import PublicationRepository
from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    OFFICER_ID,
    bars_of,
    fake_telegram,
)
from tests.fakes.telegram import FakeTelegram
from tests.waiting import until

pytestmark = pytest.mark.timeout(120)
TOWNHALL = [sys.executable, "-m", "townhall.cli"]
BOOT = 30.0  # starting a Python process that imports SQLAlchemy, PTB, ...


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def cli(env: dict[str, str], *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *TOWNHALL, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def recorded(db: Database, chat_id: int, message_id: int) -> None:
    """Wait (bounded) until the outbox has stored which message shows a publication."""

    async def stored() -> bool:
        async with db.transaction() as session:
            repo = PublicationRepository(session)
            return await repo.find_by_message("telegram", str(chat_id), str(message_id)) is not None

    await until(stored, "the publication's message id", within=BOOT, every=0.05)


async def test_townhall_run_against_the_fake(fake: FakeTelegram, db: Database) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOWNHALL_", "PTB_"))}
    env.update(
        TOWNHALL_DATABASE_URL=db.url,
        TOWNHALL_SECRET_KEY="telegram-cli-test-secret-0123456789",
        TOWNHALL_POLICY_TEAM=f"telegram:{OFFICER_ID}",
        TOWNHALL_TELEGRAM_TOKEN=fake.token,
        TOWNHALL_TELEGRAM_API_URL=fake.base_url,
        TOWNHALL_HTTP_PORT=str(free_port()),
        TOWNHALL_REFRESH_INTERVAL="0.2",
    )
    group = fake.group(-1001000000030, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    citizens = [fake.user(6000 + n, f"Citizen {n}") for n in range(5)]
    # the first card meets a rate limit: the outbox waits it out
    fake.fail_next(
        "sendMessage", status=429, retry_after=1, predicate=lambda p: "reply_markup" in p
    )

    run = await asyncio.create_subprocess_exec(
        *TOWNHALL, "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        await fake.wait_until_polled(timeout=BOOT)
        assert fake.commands()  # setMyCommands on start

        fake.push_update(fake.command_update(group, officer, '/poll "Sunday opening?" "Yes" "No"'))
        card_call = await fake.wait_for_call(
            "sendMessage", lambda c: c.ok and "reply_markup" in c.params, timeout=BOOT
        )
        assert [c.status for c in fake.calls_to("sendMessage") if "reply_markup" in c.params] == [
            429,
            200,
        ]
        card = card_call.result
        poll = re.findall(r"Poll (\w{6})", card["text"])[0]
        for n, citizen in enumerate(citizens):
            fake.push_update(fake.button_update(citizen, card, "Yes" if n < 3 else "No"))
        await fake.wait_for_call("answerCallbackQuery", count=5, timeout=BOOT)

        def shows_all_votes() -> bool:
            message = fake.message(group["id"], card["message_id"])
            return message is not None and bars_of(message) == [("Yes", 3), ("No", 2)]

        await fake.wait_for(shows_all_votes, timeout=BOOT, what="the card to show 5 votes")

        fake.push_update(fake.command_update(group, officer, '/ask "What should change?"'))
        ask_call = await fake.wait_for_call(
            "sendMessage",
            lambda c: c.ok and c.params.get("text", "").startswith("<b>What should change?"),
            timeout=BOOT,
        )
        question = re.findall(r"Question (\w{6})", ask_call.result["text"])[0]
        # the outbox records the card's message id just after Telegram answered; a reply that
        # raced ahead of that would not be recognised (a window of milliseconds)
        await recorded(db, group["id"], ask_call.result["message_id"])
        for n, citizen in enumerate(citizens[:3]):
            fake.push_update(
                fake.reply_update(group, citizen, f"Answer {n}", reply_to=ask_call.result)
            )
        await fake.wait_for_call(
            "sendMessage", lambda c: "recorded" in c.params.get("text", ""), count=3, timeout=BOOT
        )

        poll_json = json.loads(await cli(env, "results", poll, "--json"))
        question_json = json.loads(await cli(env, "results", question, "--json"))
    finally:
        if run.returncode is None:
            run.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(run.communicate(), BOOT)

    assert run.returncode == 0, err.decode()
    assert "telegram: on" in out.decode()
    assert fake.token not in out.decode() + err.decode()
    assert poll_json["options"] == [{"label": "Yes", "votes": 3}, {"label": "No", "votes": 2}]
    assert poll_json["participants"] == 5 and poll_json["by_platform"] == {"telegram": 5}
    assert question_json["kind"] == "ask" and question_json["responses"] == 3
    assert sorted(a["text"] for a in question_json["answers"]) == [
        "Answer 0",
        "Answer 1",
        "Answer 2",
    ]
    # a graceful stop confirmed every update it fetched
    assert fake.pending_updates == []
