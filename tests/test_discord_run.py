"""``townhall run`` as a real process, configured by environment variables only, against the
fake Discord (running here, discord.py globals untouched), then ``townhall results --json``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from storage.db import Database
from tests import waiting
from tests.drivers.discord_kit import CHANNEL_ID, CITIZENS, GUILD_ID, OFFICER, town_guild
from tests.fakes.discord import FakeDiscord

pytestmark = pytest.mark.timeout(120)

Payload = dict[str, Any]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "townhall.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


async def test_townhall_run_with_env_vars_only(db_url: str, db: Database, tmp_path: Path) -> None:
    async with FakeDiscord(guilds=[town_guild()], patch_discord_py=False) as fake:
        port = free_port()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "TOWNHALL_DISCORD_TOKEN": fake.token,
            "TOWNHALL_SECRET_KEY": "discord-run-test-secret-key-0123456789",
            "TOWNHALL_DISCORD_API_URL": fake.api_base,
            "TOWNHALL_DISCORD_GATEWAY_URL": fake.gateway_url,
            "TOWNHALL_DATABASE_URL": db_url,
            "TOWNHALL_POLICY_TEAM": f"discord:{OFFICER.id}",
            "TOWNHALL_HTTP_PORT": str(port),
        }
        log_path = tmp_path / "townhall.log"
        with log_path.open("w") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "townhall.cli",
                "run",
                cwd=tmp_path,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            await drive(fake, env, tmp_path, port, process)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
                try:
                    async with asyncio.timeout(30):
                        await process.wait()
                except TimeoutError:
                    process.kill()
                    await process.wait()
        output = log_path.read_text()
        assert process.returncode == 0, output
        assert "discord: on" in output and "Stopping..." in output
        assert fake.token not in output
        fake.assert_no_unhandled()


async def drive(
    fake: FakeDiscord,
    env: dict[str, str],
    cwd: Path,
    port: int,
    process: asyncio.subprocess.Process,
) -> None:
    async def until(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:  # noqa: ASYNC109
        if process.returncode is not None:
            raise AssertionError(f"townhall run exited with {process.returncode}")
        return await fake.wait_for(check, timeout=timeout, what=what)

    async def answered(payload: Payload) -> Payload:
        await fake.dispatch("INTERACTION_CREATE", payload)
        record = await until(
            lambda: fake.interaction(payload) if fake.interaction(payload).responded else None,
            f"an answer to interaction {payload['id']}",
        )
        if record.response_type == 9:
            return payload
        return fake.get_message(record.original_message_id)

    def card(short_id: str) -> Payload | None:
        for message in fake.channel_messages(CHANNEL_ID, include_ephemeral=False):
            footer = ((message.get("embeds") or [{}])[0].get("footer") or {}).get("text", "")
            if short_id in footer:
                return message
        return None

    # Start-up: migrations, login, global command sync (no guild ids configured), gateway.
    await fake.wait_until_ready(timeout=60)
    await until(lambda: fake.commands.get(None) or None, "the global command sync")
    async with aiohttp.ClientSession() as http:

        async def healthy() -> bool:  # 503 "starting" until start-up has finished
            async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                return r.status == 200

        await waiting.until(healthy, "/healthz to answer 200", within=30, every=0.1)

    poll = fake.slash_command(
        GUILD_ID,
        CHANNEL_ID,
        OFFICER,
        "townhall",
        "poll",
        {"question": "Sunday opening?", "options": "Yes | No"},
    )
    published = await answered(poll)
    poll_id = published["content"].split()[2].rstrip(".")
    poll_card = await until(lambda: card(poll_id), "the poll card (outbox worker)")
    for i, user in enumerate(CITIZENS[:5]):
        click = fake.component_click(int(poll_card["id"]), f"vote:{poll_id}:{1 + i % 2}", user)
        assert "recorded" in (await answered(click))["content"]

    ask = fake.slash_command(
        GUILD_ID, CHANNEL_ID, OFFICER, "townhall", "ask", {"question": "What else?"}
    )
    ask_id = (await answered(ask))["content"].split()[2].rstrip(".")
    ask_card = await until(lambda: card(ask_id), "the question card")
    opened = await answered(
        fake.component_click(int(ask_card["id"]), f"answer:{ask_id}", CITIZENS[0])
    )
    modal = fake.interaction(opened).modal
    assert modal is not None
    submit = fake.modal_submit(modal["custom_id"], {"answer": "Late opening"}, source=opened)
    assert (await answered(submit))["content"].startswith("Thanks, your answer is recorded")

    polled = await cli(env, cwd, "results", poll_id, "--json")
    assert polled.returncode == 0, polled.stderr
    result = json.loads(polled.stdout)
    assert result["participants"] == 5
    assert result["options"] == [{"label": "Yes", "votes": 3}, {"label": "No", "votes": 2}]
    assert result["by_platform"] == {"discord": 5}
    asked = await cli(env, cwd, "results", ask_id, "--json")
    assert asked.returncode == 0, asked.stderr
    assert [a["text"] for a in json.loads(asked.stdout)["answers"]] == ["Late opening"]
