"""No process-wide state that two apps (or two workers' tests) in one process would share:
Discord URLs per client, metrics per app, no warning filters or globals set at import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import discord.gateway
import discord.http
import pytest

from storage.db import Database
from tests.drivers.discord_kit import Harness, discord_settings, town_guild
from tests.fakes.discord import FakeDiscord
from tests.support import People, RecordingAdapter
from townhall.app import Townhall

ROOT = Path(__file__).resolve().parent.parent


def discord_py_urls() -> tuple[str, object]:
    return discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


@pytest.mark.timeout(90)
async def test_two_discord_adapters_in_one_process_each_reach_their_own_discord(
    db_url: str, db: Database
) -> None:
    before = discord_py_urls()
    async with (
        FakeDiscord(guilds=[town_guild()], patch_discord_py=False) as first_fake,
        FakeDiscord(guilds=[town_guild()], patch_discord_py=False) as second_fake,
    ):
        first = Harness(first_fake, discord_settings(db_url, first_fake), db)
        second = Harness(second_fake, discord_settings(db_url, second_fake), db)
        await first.start()
        try:
            await second.start()  # used to re-point discord.py for the whole process
            try:
                assert discord_py_urls() == before
                for harness in (first, second):
                    # Interaction callback (webhook route), outbox post (REST) and the
                    # gateway session all reach this adapter's own Discord.
                    _, message_id = await harness.publish(
                        "scale", {"statement": "Parks need more bins."}
                    )
                    assert harness.fake.get_message(message_id)["channel_id"]
                    assert harness.fake.sessions
                    logins = harness.fake.find_calls(method="GET", path="/users/@me")
                    assert len(logins) == 1
            finally:
                await second.stop()
        finally:
            await first.stop()
        first_fake.assert_no_unhandled()
        second_fake.assert_no_unhandled()
    assert discord_py_urls() == before


async def test_each_app_counts_its_own_events(
    app: tuple[Townhall, RecordingAdapter], people: People
) -> None:
    townhall, _ = app
    other = Townhall(townhall.settings, [], db=townhall.db)  # a second app: no clash
    await townhall.dispatch(people.command("alice", "help"))
    sample = ("townhall_events_total", {"platform": "test", "kind": "command", "outcome": "ok"})
    assert townhall.metrics.registry.get_sample_value(*sample) == 1.0
    assert other.metrics.registry.get_sample_value(*sample) is None
    assert b"townhall_events_total" in other.metrics.render()
    assert b"process_" in townhall.metrics.render()  # the standard collectors are kept


def test_importing_every_module_changes_no_process_state() -> None:
    """Warning filters, discord.py's URLs and the default Prometheus registry are left alone."""
    code = textwrap.dedent(
        """
        import importlib, pkgutil, warnings
        import discord.gateway, discord.http, prometheus_client
        import aiohttp.web  # filters its own NotAppKeyWarning at import: not ours to judge
        import numpy  # likewise its own (binary-compatibility and RankWarning filters)

        filters = list(warnings.filters)
        urls = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        families = {m.name for m in prometheus_client.REGISTRY.collect()}
        for top in ("storage", "bot", "services", "handlers", "adapters", "dashboard", "townhall"):
            package = importlib.import_module(top)
            for info in pkgutil.walk_packages(package.__path__, top + "."):
                if ".migrations" not in info.name:
                    importlib.import_module(info.name)
        assert list(warnings.filters) == filters, "a module filters warnings at import"
        assert (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == urls
        added = {m.name for m in prometheus_client.REGISTRY.collect()} - families
        assert not added, f"module-level metrics: {sorted(added)}"
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
