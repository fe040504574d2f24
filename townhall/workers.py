"""``townhall run --workers N``: one parent starting N worker processes on one port.

Each worker is an ordinary ``townhall run`` that binds the port with ``SO_REUSEPORT`` (the
kernel spreads connections over them). They share one PostgreSQL: the outbox rows are claimed
with row locks, and the jobs that only one worker may run (Telegram long polling, the
scheduler, Discord's gateway) go by leases (``bot/leases.py``); the web chat's form limits and
mailbox and the outbox's send budgets are kept where ``TOWNHALL_SHARED_STATE`` says (PostgreSQL
or Redis). The parent applies migrations
once, restarts a worker that dies, and on SIGTERM or SIGINT stops them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys

import structlog

from bot.config import ConfigError, Settings
from storage import migrate
from storage.db import Database

log = structlog.get_logger("townhall.workers")

#: How long stopping workers may take before they are killed.
STOP_WITHIN = 20.0
RESTART_AFTER = 1.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def check(settings: Settings, workers: int) -> None:
    """Refuse what cannot work, in one line."""
    if workers < 1:
        raise ConfigError("--workers must be 1 or more.")
    if workers > 1 and settings.database_url.startswith("sqlite"):
        raise ConfigError(
            "--workers needs PostgreSQL (SQLite suits one process): set TOWNHALL_DATABASE_URL "
            "to a postgresql+asyncpg:// URL, or run with --workers 1."
        )


def caveats(settings: Settings, workers: int) -> list[str]:
    """What works, but worse, with these settings: one line each, said at start."""
    if workers > 1 and settings.shared_store == "memory":
        return [
            f"{workers} workers with TOWNHALL_SHARED_STATE={settings.shared_state}: each keeps "
            "its own outbox send budget (up to N times the platforms' rates, met by their "
            "429s) and its own web chat mailbox and form limits (a visitor's private message "
            "may wait on another worker). Set TOWNHALL_SHARED_STATE=database (or auto) to "
            "share them in PostgreSQL, or TOWNHALL_REDIS_URL=redis://HOST:6379/0 for Redis "
            "(docs/deployment.md, Several workers)."
        ]
    return []


async def supervise(settings: Settings, workers: int) -> int:
    """Run ``workers`` worker processes until SIGTERM/SIGINT; returns the exit status."""
    if settings.auto_migrate:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
        finally:
            await db.dispose()
    env = {**os.environ, "TOWNHALL_AUTO_MIGRATE": "false"}  # migrated once, above
    command = [sys.executable, "-m", "townhall.cli", "run", "--reuse-port"]
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    procs: list[asyncio.subprocess.Process] = []

    async def spawn() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(*command, env=env, preexec_fn=_end_with_parent)

    async def keep(index: int) -> None:
        """Restart worker ``index`` whenever it dies, until stopping."""
        while True:
            code = await procs[index].wait()
            if stopping.is_set():
                return
            log.warning("worker exited; restarting", worker=index, code=code)
            await asyncio.sleep(RESTART_AFTER)
            if stopping.is_set():
                return
            procs[index] = await spawn()

    for _ in range(workers):
        procs.append(await spawn())
    log.info("workers started", workers=workers, pids=[p.pid for p in procs])
    keepers = [asyncio.create_task(keep(i)) for i in range(workers)]
    await stopping.wait()
    for proc in procs:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(STOP_WITHIN):
            await asyncio.gather(*(p.wait() for p in procs))
    except TimeoutError:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
        await asyncio.gather(*(p.wait() for p in procs))
    for task in keepers:
        task.cancel()
    return 0


def _end_with_parent() -> None:
    """In a worker, before it runs: SIGTERM when the parent dies, even by SIGKILL (Linux's
    PR_SET_PDEATHSIG), so no worker outlives its parent; elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
