"""``townhall run`` as an operator starts it: only environment variables, a real process, the
fake Slack as its Web API, and signed HTTP requests to its ``/slack/events``."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.models import Base
from tests.fakes.slack import FakeSlack, SlackEventsClient

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).parent.parent
SECRET = "cli-slack-signing-secret-0123456789"
OFFICER = "U0OFFICER"
CHANNEL = "C0HIGHST"


def read(path: Path) -> str:
    return path.read_text()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def empty_database(db_url: str) -> None:
    """The PostgreSQL test database is shared by the session: start from empty tables."""
    if "postgresql" not in db_url:
        return
    db = Database(db_url)
    async with db.transaction() as session:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await db.dispose()


def environment(db_url: str, fake: FakeSlack, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    env.update(
        PYTHONUNBUFFERED="1",
        TOWNHALL_DATABASE_URL=db_url,
        TOWNHALL_SECRET_KEY="slack-cli-test-secret-key-0123456789",
        TOWNHALL_POLICY_TEAM=f"slack:{OFFICER}",
        TOWNHALL_HTTP_PORT=str(port),
        TOWNHALL_REFRESH_INTERVAL="0",
        TOWNHALL_SLACK_BOT_TOKEN=fake.bot_token,
        TOWNHALL_SLACK_SIGNING_SECRET=SECRET,
        TOWNHALL_SLACK_API_URL=fake.api_url,
    )
    return env


@asynccontextmanager
async def townhall_run(env: dict[str, str], log: Path) -> AsyncIterator[list[str]]:
    """Start ``python -m townhall.cli run``; yield once it lists Slack; stop it with SIGINT."""
    with log.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "townhall.cli",
            "run",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
        assert proc.stdout is not None
        said: list[str] = []
        try:
            async with asyncio.timeout(60):
                while not any(line.strip().startswith("slack:") for line in said):
                    line = await proc.stdout.readline()
                    if not line:
                        raise AssertionError(f"townhall run exited:\n{read(log)}")
                    said.append(line.decode())
            yield said
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


async def cli(env: dict[str, str], *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "townhall.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def bar_votes(message: dict[str, Any]) -> dict[str, int]:
    for block in message.get("blocks", []):
        if block.get("block_id") == "th_results":
            lines = block["text"]["text"].splitlines()
            found = (re.search(r"%\s+(.+) \((\d+)\)$", ln) for ln in lines)
            return {m.group(1): int(m.group(2)) for m in found if m}
    return {}


async def test_townhall_run_with_only_slack_settings(db_url: str, tmp_path: Path) -> None:
    await empty_database(db_url)
    async with FakeSlack() as fake:
        port = free_port()
        env = environment(db_url, fake, port)
        async with (
            townhall_run(env, tmp_path / "townhall.log") as said,
            SlackEventsClient(f"http://127.0.0.1:{port}", SECRET, fake=fake) as slack,
        ):
            output = "".join(said)
            assert f"Townhall is running on http://127.0.0.1:{port}" in output
            assert "  slack: on\n" in output

            poll_ack = await slack.slash_command(
                OFFICER, CHANNEL, 'poll "Pedestrianise the high street?" "Yes" "No"'
            )
            ask_ack = await slack.slash_command(
                OFFICER, CHANNEL, 'ask "What would make the high street better?"'
            )
            poll = re.findall(r"Published poll (\w{6})", poll_ack.json()["text"])[0]
            question = re.findall(r"Published question (\w{6})", ask_ack.json()["text"])[0]

            await fake.wait_for_call("chat.postMessage", count=2, timeout=20)
            poll_card, ask_card = fake.bot_messages(CHANNEL)[:2]
            assert poll_card["text"].startswith("Pedestrianise the high street?")

            votes = {"U0AMY": 1, "U0BEN": 2, "U0CAL": 1, "U0DEE": 1}
            for user, choice in votes.items():
                click = await slack.block_action(user, CHANNEL, poll_card, f"vote:{poll}:{choice}")
                assert click.status == 200
            again = await slack.send(slack.sent[-1][0], retry_num=1)  # a duplicate click
            assert again.status == 200

            reply = slack.message_event(
                "U0AMY", CHANNEL, "Wider pavements", thread_ts=ask_card["ts"]
            )
            assert (await slack.event(reply)).status == 200
            form = f"form:answer:{question}"
            assert (await slack.block_action("U0BEN", CHANNEL, ask_card, form)).status == 200
            submitted = await slack.view_submission(
                "U0BEN", form, values={"answer": {"text": "More trees"}}
            )
            assert submitted.json()["response_action"] == "update"

            # Generous bounds: a loaded 2-core machine runs townhall, the fake and pytest at once.
            await fake.wait_until(
                lambda: bar_votes(fake.message(CHANNEL, poll_card["ts"])) == {"Yes": 3, "No": 1},
                timeout=60,
                description="the live results on the poll card",
            )
            await fake.wait_until(
                lambda: len(fake.ephemerals_for(channel=CHANNEL)) >= 5,
                timeout=60,
                description="the private confirmations",
            )
        log = read(tmp_path / "townhall.log")
        assert fake.bot_token not in log and SECRET not in log
        assert "U0AMY" not in log and "Wider pavements" not in log

    poll_json = json.loads(await cli(env, "results", poll, "--json"))
    assert poll_json["participants"] == 4 and poll_json["by_platform"] == {"slack": 4}
    assert poll_json["options"] == [{"label": "Yes", "votes": 3}, {"label": "No", "votes": 1}]
    ask_json = json.loads(await cli(env, "results", question, "--json"))
    assert [a["text"] for a in ask_json["answers"]] == ["Wider pavements", "More trees"]
    assert {a["platform"] for a in ask_json["answers"]} == {"slack"}
