"""Jobs that exactly one worker runs: Telegram long polling, the scheduler, Discord's gateway.

Each such job is a :class:`Role` with a lease in the database (``storage/leases.py``). Every
worker's :class:`LeaseKeeper` tries to take or renew the leases of its roles every
``heartbeat`` seconds; it starts a role when its lease is won and stops it when the lease is
lost (e.g. the database was unreachable for longer than ``ttl``). A worker that dies stops
renewing: once its leases expire (``ttl``, 6 s by default) a survivor takes them at its next
heartbeat, well within 10 s.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import structlog

from bot.context import utc_now
from bot.loops import SupervisedLoop
from storage.db import Database
from storage.leases import LeaseRepository

log = structlog.get_logger("townhall.leases")

TTL = 6.0
HEARTBEAT = 1.5


@dataclass(frozen=True, slots=True)
class Role:
    """A job run by one worker at a time: started when its lease is won, stopped when lost."""

    name: str
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]


def per_bot(job: str, token: str) -> str:
    """A lease name for ``job`` of one bot (two bots on one database each run theirs); the
    token is hashed, never stored."""
    return f"{job}:{hashlib.sha256(token.encode()).hexdigest()[:12]}"


@runtime_checkable
class HasRoles(Protocol):
    """An adapter with jobs only one worker may run (e.g. Telegram long polling)."""

    def roles(self) -> Sequence[Role]: ...


def worker_id() -> str:
    """This process, named for the leases table: host, pid and a random suffix."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class LeaseKeeper:
    def __init__(
        self,
        db: Database,
        roles: Sequence[Role],
        *,
        holder: str | None = None,
        ttl: float = TTL,
        heartbeat: float = HEARTBEAT,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.roles = {role.name: role for role in roles}
        self.holder = holder or worker_id()
        self.ttl = timedelta(seconds=ttl)
        self.heartbeat = heartbeat
        self.clock = clock
        self.running: set[str] = set()
        self.loop = SupervisedLoop("leases", self._pass, max_backoff=heartbeat)

    async def _pass(self) -> float:
        await self.run_once()
        return self.heartbeat

    async def run_once(self) -> set[str]:
        """Take or renew the leases, start what was won and stop what was lost."""
        if not self.roles:
            return set()
        try:
            async with self.db.transaction() as session:
                held = await LeaseRepository(session).claim(
                    list(self.roles), self.holder, self.clock(), self.ttl
                )
        except Exception:
            # Unsure whether we still hold anything: stop rather than risk running twice.
            await self._stop_roles(set(self.running))
            raise
        await self._stop_roles(self.running - held)
        for name in sorted(held - self.running):
            log.info("lease won; starting", role=name, worker=self.holder)
            await self.roles[name].start()
            self.running.add(name)
        return held

    async def stop(self) -> None:
        """Stop the loop and every role, and hand the leases back for a survivor to take."""
        await self.loop.stop()
        await self._stop_roles(set(self.running))
        if not self.roles:
            return
        try:
            async with self.db.transaction() as session:
                await LeaseRepository(session).release(list(self.roles), self.holder)
        except Exception as exc:  # they expire by themselves
            log.warning("leases not released", error=type(exc).__name__)

    async def _stop_roles(self, names: set[str]) -> None:
        for name in sorted(names):
            log.info("lease lost or given up; stopping", role=name, worker=self.holder)
            self.running.discard(name)
            try:
                await self.roles[name].stop()
            except Exception:
                log.exception("role did not stop cleanly", role=name)
