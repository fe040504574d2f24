"""Discord's gateway in shards (``TOWNHALL_DISCORD_SHARDS``): real discord.py against the fake
Discord, which routes each guild's events to the session of its shard,
``(guild_id >> 22) % shard_count``, as Discord does. In one process a worker runs every shard;
with two workers on one PostgreSQL the shards are shared out, each runs exactly once (never
two sessions of one shard at a time), and killing the worker holding one moves it to the
survivor within 10 s."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

import discord
import pytest
from pydantic import ValidationError

from adapters.discord import DiscordAdapter
from bot.config import Settings
from storage.db import Database
from storage.models import Vote
from tests.drivers.discord_kit import (
    CITIZENS,
    GUILD_ID,
    OFFICER,
    OWNER,
    POLICY_ROLE,
    Harness,
    discord_settings,
    town_guild,
)
from tests.fakes.discord import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    FakeRole,
    GatewaySession,
    shard_of,
)
from tests.test_slack_cli import empty_database, free_port, read
from tests.test_telegram_kill import start
from tests.test_workers import holders
from tests.waiting import until

pytestmark = pytest.mark.timeout(180)

Payload = dict[str, Any]

#: A guild on shard 1 of 2 (the town guild is on shard 0): one more in the timestamp's bits.
VILLAGE_ID = GUILD_ID + (1 << 22)
VILLAGE_CHANNEL_ID = 810_000_000_000_000_210
TOWN_CHANNEL_ID = 810_000_000_000_000_200


def village_guild() -> FakeGuild:
    return FakeGuild(
        id=VILLAGE_ID,
        name="Village",
        channels=[FakeChannel(id=VILLAGE_CHANNEL_ID, name="consultations")],
        roles=[FakeRole(id=810_000_000_000_000_510, name=POLICY_ROLE)],
        members=[FakeMember(OWNER), FakeMember(OFFICER), *(FakeMember(u) for u in CITIZENS)],
        owner_id=OWNER.id,
    )


def live(fake: FakeDiscord) -> list[GatewaySession]:
    return [s for s in fake.sessions if s.live]


def live_shards(fake: FakeDiscord) -> list[tuple[int, int]]:
    return sorted(s.shard for s in live(fake))


def test_the_guilds_fall_on_different_shards() -> None:
    assert shard_of(GUILD_ID, 2) == 0
    assert shard_of(VILLAGE_ID, 2) == 1
    assert shard_of(None, 2) == 0  # DMs: shard 0
    assert shard_of(VILLAGE_ID, 1) == 0


async def publish_poll(
    harness: Harness, guild_id: int, channel_id: int, *, poster: Harness | None = None
) -> tuple[str, int]:
    """The officer publishes a poll in ``channel_id`` through ``harness`` (the worker holding
    the guild's shard); its short id and card's message id, the card posted by ``poster``
    (another worker's outbox, over REST) if given."""
    fake = harness.fake
    payload = fake.slash_command(
        guild_id,
        channel_id,
        OFFICER,
        "townhall",
        "poll",
        {"question": "Open the library on Sundays?", "options": "Yes | No"},
    )
    await harness.deliver(payload)
    match = re.search(r"Published \w+ (\w{6})", harness.reply_text(payload))
    assert match, harness.reply_text(payload)
    poster = poster or harness
    await poster.drain()
    return match.group(1), poster.card_message(match.group(1), channel_id)


async def test_two_shards_in_one_worker_each_get_their_guilds_events(
    db_url: str, db: Database
) -> None:
    async with FakeDiscord(guilds=[town_guild(), village_guild()], patch_discord_py=False) as fake:
        settings = discord_settings(
            db_url, fake, discord_shards=2, discord_guild_ids=f"{GUILD_ID},{VILLAGE_ID}"
        )
        harness = Harness(fake, settings, db)
        app = await harness.start()
        try:
            # Both shards IDENTIFYed, each with its [id, count], and each got only its guild.
            await fake.wait_for(lambda: True if len(live(fake)) == 2 else None, what="2 shards")
            assert sorted(s.identify["shard"] for s in fake.sessions) == [[0, 2], [1, 2]]
            for session in fake.sessions:
                created = [int(e["d"]["id"]) for e in session.events if e["t"] == "GUILD_CREATE"]
                assert created == [GUILD_ID if session.shard == (0, 2) else VILLAGE_ID]
            assert sorted(n.split(":")[0] for n in app.leases.running) == list(SHARDS)
            assert harness.discord.connected
            # Commands synced once (by the worker that opened shard 0), to both guilds.
            synced = fake.find_calls(lambda c: (c.route or "").endswith("/commands"), method="PUT")
            assert sorted(c.params["guild_id"] for c in synced) == sorted(
                [str(GUILD_ID), str(VILLAGE_ID)]
            )

            # A poll in each guild (the slash command itself arrives on that guild's shard),
            # and a click on each card: both are recorded.
            clicks = []
            for guild_id, channel_id in (
                (GUILD_ID, TOWN_CHANNEL_ID),
                (VILLAGE_ID, VILLAGE_CHANNEL_ID),
            ):
                short_id, card = await publish_poll(harness, guild_id, channel_id)
                payload = fake.component_click(card, f"vote:{short_id}:1", CITIZENS[0])
                assert payload["guild_id"] == str(guild_id)
                shard = fake.session_for(guild_id)
                assert shard is not None and shard.shard == (shard_of(guild_id, 2), 2)
                await harness.deliver(payload)
                assert "recorded" in harness.reply_text(payload)
                assert any(
                    e["t"] == "INTERACTION_CREATE" and e["d"]["id"] == payload["id"]
                    for e in shard.events
                )
                clicks.append((short_id, payload))
            for short_id, _ in clicks:
                tally = await harness.tally(short_id)
                assert [o["votes"] for o in tally["options"]] == [1, 0]
            assert await harness.count(Vote) == 2
            # Sending works over REST whatever the shard (the cards above were sent so).
        finally:
            await harness.stop()
        fake.assert_no_unhandled()


async def test_an_invalid_shard_is_refused_like_discord_does() -> None:
    """IDENTIFY with a shard id not below the count: closed with 4010 (Invalid shard)."""
    async with FakeDiscord(guilds=[town_guild()]) as fake:
        client = discord.Client(intents=discord.Intents.none(), shard_id=2, shard_count=2)
        async with client:
            with pytest.raises(discord.ConnectionClosed) as raised:
                await client.start(fake.token, reconnect=False)
        assert raised.value.code == 4010
        assert fake.sessions == []


# -- two workers on one PostgreSQL -----------------------------------------------------------


def one_session_per_shard_at_a_time(fake: FakeDiscord) -> None:
    overlaps = [(s.number, s.shard, s.alongside) for s in fake.sessions if s.alongside]
    assert not overlaps, overlaps


async def test_two_workers_share_the_shards_send_over_rest_and_hand_them_over(
    pg_database: str,
) -> None:
    """Two Townhalls in one process on one PostgreSQL: the shards are shared out (one each),
    each runs in exactly one of them; a worker sends over REST to a guild of a shard it does
    not hold; a clean stop hands its shard over."""
    await empty_database(pg_database)
    async with FakeDiscord(guilds=[town_guild(), village_guild()], patch_discord_py=False) as fake:
        settings = discord_settings(
            pg_database, fake, discord_shards=2, discord_guild_ids=f"{GUILD_ID},{VILLAGE_ID}"
        )
        workers = [Harness(fake, settings, Database(pg_database)) for _ in range(2)]
        for worker in workers:
            await worker.start()
        running = list(workers)
        try:

            def shards(worker: Harness) -> set[str]:
                return {name.split(":")[0] for name in worker.townhall.leases.running}

            def shared_out() -> bool:
                held = [shards(w) for w in workers]
                return len(held[0]) == len(held[1]) == 1 and live_shards(fake) == [(0, 2), (1, 2)]

            # The first worker took both; the second's arrival makes it hand one over.
            await until(shared_out, "one shard in each worker", within=10)
            held = [shards(w) for w in workers]
            assert held[0] | held[1] == set(SHARDS), held
            one_session_per_shard_at_a_time(fake)
            holder = next(w for w in workers if SHARDS[1] in shards(w))
            other = workers[1 - workers.index(holder)]
            assert other.discord.connected and holder.discord.connected

            # A poll in the guild on shard 1 arrives at the holder; the other worker (shard 0)
            # posts the card over REST.
            short_id, card = await publish_poll(
                holder, VILLAGE_ID, VILLAGE_CHANNEL_ID, poster=other
            )

            # The holder stops: its leases are handed back and the other runs both shards.
            await holder.townhall.stop()
            running.remove(holder)

            def took_over() -> bool:
                return shards(other) == set(SHARDS) and live_shards(fake) == [(0, 2), (1, 2)]

            await until(took_over, "the other worker to run both shards", within=10)
            one_session_per_shard_at_a_time(fake)
            click = fake.component_click(card, f"vote:{short_id}:2", CITIZENS[1])
            await other.deliver(click)
            assert "recorded" in other.reply_text(click)
            tally = await other.tally(short_id)
            assert [o["votes"] for o in tally["options"]] == [0, 1]
        finally:
            for worker in running:
                await worker.townhall.stop()
        fake.assert_no_unhandled()


def environment(db_url: str, fake: FakeDiscord, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    env.update(
        PYTHONUNBUFFERED="1",
        TOWNHALL_DATABASE_URL=db_url,
        TOWNHALL_SECRET_KEY="shard-test-secret-key-0123456789-abcdef",
        TOWNHALL_POLICY_TEAM=f"discord:{OFFICER.id}",
        TOWNHALL_HTTP_PORT=str(port),
        TOWNHALL_REFRESH_INTERVAL="0",
        TOWNHALL_DISCORD_TOKEN=fake.token,
        TOWNHALL_DISCORD_API_URL=fake.api_base,
        TOWNHALL_DISCORD_GATEWAY_URL=fake.gateway_url,
        TOWNHALL_DISCORD_GUILD_IDS=f"{GUILD_ID},{VILLAGE_ID}",
        TOWNHALL_DISCORD_SHARDS="2",
    )
    return env


SHARDS = ("discord-gateway-shard-0-of-2", "discord-gateway-shard-1-of-2")


async def shard_holders(db_url: str) -> dict[str, int]:
    """Shard lease -> the pid of the worker holding it."""
    return {name: pid for name, pid in (await holders(db_url)).items() if name in SHARDS}


async def test_two_workers_run_each_shard_once_and_a_killed_ones_move_within_10s(
    pg_database: str, tmp_path: Path
) -> None:
    db_url = pg_database
    await empty_database(db_url)
    async with FakeDiscord(guilds=[town_guild(), village_guild()], patch_discord_py=False) as fake:
        ports = [free_port(), free_port()]
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        procs = [
            await start(environment(db_url, fake, port), log, port)
            for port, log in zip(ports, logs, strict=True)
        ]
        try:

            async def shared_out() -> bool:
                held = await shard_holders(db_url)
                return len(set(held.values())) == 2 and live_shards(fake) == [(0, 2), (1, 2)]

            await until(shared_out, "a shard in each worker", within=30, every=0.1)
            # Exactly once across the workers: never two sessions of one shard at a time.
            one_session_per_shard_at_a_time(fake)
            synced = fake.find_calls(lambda c: (c.route or "").endswith("/commands"), method="PUT")
            assert len(synced) == 2  # one worker synced (to each of the two guilds)

            # SIGKILL the worker holding shard 1: the survivor runs it within 10 s.
            by_pid = {proc.pid: proc for proc in procs}
            victim = by_pid[(await shard_holders(db_url))[SHARDS[1]]]
            survivor = next(p for p in procs if p is not victim)
            before = len(fake.sessions)
            victim.send_signal(signal.SIGKILL)
            await victim.wait()

            async def survivor_runs_both() -> bool:
                held = await shard_holders(db_url)
                return all(held.get(name) == survivor.pid for name in SHARDS) and live_shards(
                    fake
                ) == [(0, 2), (1, 2)]

            await until(survivor_runs_both, "the survivor to run both shards", within=10, every=0.1)
            one_session_per_shard_at_a_time(fake)
            assert all(s.shard != (1, 2) or s.number > before for s in live(fake))

            # ... and shard 1's guild is served there: a command in it is answered.
            payload = fake.slash_command(
                VILLAGE_ID, VILLAGE_CHANNEL_ID, OFFICER, "townhall", "help", {}
            )
            record = await fake.dispatch_interaction(payload)
            await fake.wait_for(lambda: True if record.callbacks else None, timeout=15)
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                await proc.wait()
        survivor_log = read(logs[procs.index(survivor)])
        assert "Discord shard opened" in survivor_log, survivor_log[-3000:]


def test_one_shard_keeps_the_single_gateway_lease_and_more_get_one_each() -> None:
    one = DiscordAdapter("token", api_url="http://discord.test")
    (role,) = one.roles()
    assert role.name.startswith("discord-gateway:")
    three = DiscordAdapter("token", api_url="http://discord.test", shards=3)
    names = [r.name.split(":")[0] for r in three.roles()]
    assert names == [f"discord-gateway-shard-{i}-of-3" for i in range(3)]
    assert {r.name.split(":")[1] for r in three.roles()} == {role.name.split(":")[1]}


def test_the_shards_setting_is_checked() -> None:
    assert Settings(_env_file=None).discord_shards == 1
    assert Settings(_env_file=None, discord_shards=4).discord_shards == 4
    with pytest.raises(ValidationError):
        Settings(_env_file=None, discord_shards=0)


async def test_the_fake_gives_each_shard_its_own_guilds_and_dms_to_shard_0() -> None:
    """Plain discord.py clients, one per shard: READY lists, GUILD_CREATEs and events follow
    ``(guild_id >> 22) % count``; a session without ``shard`` gets every guild."""
    async with FakeDiscord(guilds=[town_guild(), village_guild()]) as fake:
        clients = [
            discord.Client(
                intents=discord.Intents(guilds=True),
                shard_id=shard,
                shard_count=2,
                guild_ready_timeout=0.05,
            )
            for shard in range(2)
        ]
        async with fake.running(clients[0]), fake.running(clients[1]):
            assert [g.id for g in clients[0].guilds] == [GUILD_ID]
            assert [g.id for g in clients[1].guilds] == [VILLAGE_ID]
            for session, guild_id in zip(fake.sessions, (GUILD_ID, VILLAGE_ID), strict=True):
                ready = session.events[0]["d"]
                assert ready["shard"] == [session.shard[0], 2]
                assert [g["id"] for g in ready["guilds"]] == [str(guild_id)]
            assert fake.session_for(VILLAGE_ID) is fake.sessions[1]
            assert fake.session_for(GUILD_ID) is fake.sessions[0]
            assert fake.session_for(None) is fake.sessions[0]  # DMs
        unsharded = discord.Client(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
        async with fake.running(unsharded):
            assert {g.id for g in unsharded.guilds} == {GUILD_ID, VILLAGE_ID}
            assert fake.session_for(VILLAGE_ID) is fake.sessions[2]
