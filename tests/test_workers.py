"""Several workers on one PostgreSQL (issue 16): the jobs only one worker may run — Telegram
long polling and the scheduler's closes — run once, and move to a survivor within 10 s when
the worker holding them is killed with SIGKILL. Real ``townhall run`` processes against the
fake Telegram; the leases table says who holds what."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from adapters.discord import from_settings as discord_adapter
from storage.db import Database
from storage.items import ItemRepository
from storage.leases import LeaseRepository
from tests.drivers.discord_kit import discord_settings, town_guild
from tests.drivers.telegram_kit import OFFICER_ID, fake_telegram  # noqa: F401 - a fixture
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.test_slack_cli import ROOT, empty_database, free_port, read
from tests.test_telegram_kill import environment as webhook_environment
from tests.test_telegram_kill import start
from tests.waiting import until
from townhall.app import Townhall
from townhall.cli import main

pytestmark = pytest.mark.timeout(240)

JOBS = {"telegram-polling", "scheduler"}  # lease names without their bot's suffix


def environment(db_url: str, fake: FakeTelegram, port: int) -> dict[str, str]:
    """Long polling (no webhook), so that exactly one worker may call getUpdates."""
    env = webhook_environment(db_url, fake, port)
    del env["TOWNHALL_TELEGRAM_WEBHOOK_URL"], env["TOWNHALL_TELEGRAM_WEBHOOK_SECRET"]
    return env


async def holders(db_url: str) -> dict[str, int]:
    """Lease name -> the pid of the worker holding it."""
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            rows = await LeaseRepository(session).holders()
    finally:
        await db.dispose()
    return {name.split(":")[0]: int(holder.split(":")[1]) for name, (holder, _) in rows.items()}


async def item_status(db_url: str) -> list[str]:
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            return [item.status for item in await ItemRepository(session).list()]
    finally:
        await db.dispose()


def conflicts(fake: FakeTelegram) -> int:
    """getUpdates answered 409: a second consumer superseded a pending long poll."""
    return sum(1 for call in fake.calls_to("getUpdates") if call.status == 409)


async def test_two_workers_run_each_job_once_and_a_survivor_takes_over(
    fake: FakeTelegram, pg_database: str, tmp_path: Path
) -> None:
    db_url = pg_database
    await empty_database(db_url)
    group = fake.group(-1001000000123, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    ports = [free_port(), free_port()]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    pairs = zip(ports, logs, strict=True)
    procs = [await start(environment(db_url, fake, p), log, p) for p, log in pairs]
    try:
        by_pid = {proc.pid: n for n, proc in enumerate(procs)}

        async def both_jobs_held() -> bool:
            return set(await holders(db_url)) >= JOBS

        await until(both_jobs_held, "the leased jobs to be taken", within=30, every=0.2)

        # A poll closing in a few seconds: the scheduler closes it once, in one worker.
        closes = (datetime.now(UTC) + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
        fake.push_update(
            fake.command_update(group, officer, f'/poll "Q?" "A" "B" --closes {closes}')
        )

        async def closed() -> bool:
            return await item_status(db_url) == ["closed"]

        await until(closed, "the scheduled close", within=60, every=0.2)
        said = [read(log).count("closed at deadline") for log in logs]
        assert sorted(said) == [0, 1], said
        assert conflicts(fake) == 0  # one getUpdates consumer

        # SIGKILL the worker holding long polling: the other takes every job within 10 s.
        victim = by_pid[(await holders(db_url))["telegram-polling"]]
        survivor = procs[1 - victim]
        procs[victim].send_signal(signal.SIGKILL)
        await procs[victim].wait()

        async def survivor_holds_all() -> bool:
            held = await holders(db_url)
            return all(held.get(job) == survivor.pid for job in JOBS)

        await until(survivor_holds_all, "a survivor to take the leases", within=10, every=0.1)
        # ... and long polling works there: a new command is answered.
        before = len(fake.sent_messages(group["id"]))
        fake.push_update(fake.command_update(group, officer, '/poll "Again?" "A" "B"'))

        def answered() -> bool:
            return len(fake.sent_messages(group["id"])) > before

        await until(answered, "the survivor to poll and answer", within=30, every=0.1)
        assert conflicts(fake) == 0
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 30)
    assert survivor.returncode == 0, read(logs[1 - victim])[-3000:]
    assert await holders(db_url) == {}  # a clean stop hands the leases back


async def test_workers_option_starts_several_on_one_port_and_sigterm_stops_all(
    fake: FakeTelegram, pg_database: str, tmp_path: Path
) -> None:
    db_url = pg_database
    await empty_database(db_url)
    port = free_port()
    log = tmp_path / "workers.log"
    env = environment(db_url, fake, port)
    with log.open("ab") as stderr:
        parent = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "townhall.cli",
            "run",
            "--workers",
            "2",
            cwd=ROOT,
            env=env,
            stdout=stderr,
            stderr=stderr,
        )
    try:

        async def two_running() -> bool:
            if parent.returncode is not None:
                raise AssertionError(read(log))
            return read(log).count("Townhall is running") == 2

        await until(two_running, "two workers on one port", within=60, every=0.2)

        async def jobs_held_once() -> bool:
            held = await holders(db_url)
            return set(held) >= JOBS and len(set(held.values())) == 1

        await until(jobs_held_once, "one worker to take the jobs", within=30, every=0.2)
    finally:
        parent.send_signal(signal.SIGTERM)
        await asyncio.wait_for(parent.wait(), 60)
    assert parent.returncode == 0, read(log)[-3000:]
    assert await holders(db_url) == {}  # every worker stopped cleanly
    assert conflicts(fake) == 0
    # no TOWNHALL_REDIS_URL here: the state the workers share is in PostgreSQL, nothing to say
    assert "warning: 2 workers" not in read(log)


async def test_two_workers_without_redis_hold_one_client_to_one_form_quota(
    pg_database: str, tmp_path: Path
) -> None:
    """Two ``townhall run`` on one PostgreSQL and no Redis: the web chat's per-address limit
    (60 at once, then one a second) is counted in the database, so a client posting to both
    is let through about 60 times, not 60 times on each."""
    db_url = pg_database
    await empty_database(db_url)
    ports = [free_port(), free_port()]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = []
    for port, log in zip(ports, logs, strict=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
        env.update(
            PYTHONUNBUFFERED="1",
            TOWNHALL_DATABASE_URL=db_url,
            TOWNHALL_SECRET_KEY="workers-test-secret-key-0123456789",
            TOWNHALL_HTTP_PORT=str(port),
        )
        procs.append(await start(env, log, port))
    try:
        async with aiohttp.ClientSession() as session:

            async def post(port: int) -> int:
                async with session.post(f"http://127.0.0.1:{port}/c/abcdef", data={}) as r:
                    return r.status

            began = time.monotonic()
            statuses = await asyncio.gather(*(post(ports[n % 2]) for n in range(100)))
            took = time.monotonic() - began
        let_through = sum(1 for status in statuses if status != 429)
        assert 60 <= let_through <= 60 + math.ceil(took), (statuses, took)
    finally:
        for proc in procs:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 30)
    assert all(proc.returncode == 0 for proc in procs), [read(log)[-3000:] for log in logs]


def test_workers_on_sqlite_are_refused_in_one_line(tmp_path: Path) -> None:
    env = {"TOWNHALL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 't.db'}"}
    result = CliRunner().invoke(main, ["run", "--workers", "2"], env=env)
    assert result.exit_code == 2
    assert "--workers needs PostgreSQL" in result.output
    assert not (tmp_path / "t.db").exists()


async def test_one_discord_gateway_session_between_two_workers_and_a_handover(
    pg_database: str,
) -> None:
    """Two Townhalls on one database and one bot token: one gateway session; when its worker
    stops, the other opens one (the lease is handed over at once on a clean stop)."""
    await empty_database(pg_database)
    async with FakeDiscord(guilds=[town_guild()], patch_discord_py=False) as fake:
        settings = discord_settings(pg_database, fake)
        apps = []
        for _ in range(2):
            adapter = discord_adapter(settings)
            adapter.guild_ready_timeout = 0.05
            app = Townhall(settings, [adapter], db=Database(pg_database))
            await app.start(serve_http=False, background=False)
            apps.append(app)
        try:

            def live() -> int:
                return sum(1 for s in fake.sessions if s.connected)

            await until(lambda: live() == 1, "one gateway session", within=10)

            def gateway(app: Townhall) -> bool:
                return any(name.startswith("discord-gateway:") for name in app.leases.running)

            holder = next(a for a in apps if gateway(a))
            other = apps[1 - apps.index(holder)]
            synced = fake.find_calls(
                lambda call: (call.route or "").endswith("/commands"), method="PUT"
            )
            assert len(synced) == 1, synced  # the gateway's holder synced; the other did not
            assert other.adapters["discord"].connected  # logged in, for sending
            await holder.stop()
            apps.remove(holder)

            def taken_over() -> bool:
                return gateway(other) and live() == 1

            await until(taken_over, "the survivor to open the gateway", within=10)
            assert len(fake.sessions) == 2  # one after the other, never two at once
        finally:
            for app in apps:
                await app.stop()
