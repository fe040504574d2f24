"""Jobs that exactly one worker runs: Telegram long polling, the scheduler, Discord's gateway.

Each such job is a :class:`Role` with a lease in the database (``storage/leases.py``). Every
worker's :class:`LeaseKeeper` tries to take or renew the leases of its roles every
``heartbeat`` seconds; it starts a role when its lease is won and stops it when the lease is
lost (e.g. the database was unreachable for longer than ``ttl``). A worker that dies stops
renewing: once its leases expire (``ttl``, 6 s by default) a survivor takes them at its next
heartbeat, well within 10 s.

Roles marked ``spread`` (Discord's gateway shards) are shared out between the workers rather
than taken by whoever comes first: each worker also holds a presence lease
(``worker:<holder>``) so the workers alive can be counted, takes at most its fair share
(the spread roles divided by the live workers, rounded up) and hands a role over when it holds
more (stopped first, then released, so it never runs twice). A dead worker's presence expires
with its leases, and the survivors' share grows to take them.
"""

from __future__ import annotations

import hashlib
import math
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
    #: Shared out between the live workers (a fair share each) instead of first come.
    spread: bool = False


#: Presence leases (one per worker, only with spread roles) are named with this prefix.
PRESENCE = "worker:"


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
        self.spread = [name for name, role in self.roles.items() if role.spread]
        #: This worker's presence lease (counted by the others to share out spread roles).
        self.presence = f"{PRESENCE}{self.holder}"[:100]
        self.loop = SupervisedLoop("leases", self._pass, max_backoff=heartbeat)

    async def _pass(self) -> float:
        await self.run_once()
        return self.heartbeat

    async def run_once(self) -> set[str]:
        """Take or renew the leases, start what was won and stop what was lost."""
        if not self.roles:
            return set()
        surplus: set[str] = set()
        try:
            async with self.db.transaction() as session:
                if self.spread:
                    held, surplus = await self._claim_shared(LeaseRepository(session))
                else:
                    held = await LeaseRepository(session).claim(
                        list(self.roles), self.holder, self.clock(), self.ttl
                    )
        except Exception:
            # Unsure whether we still hold anything: stop rather than risk running twice.
            await self._stop_roles(set(self.running))
            raise
        await self._stop_roles(self.running - held)
        if surplus:  # stopped above (not renewed, so nobody took them meanwhile): hand over
            log.info("handing over to share out", roles=sorted(surplus), worker=self.holder)
            async with self.db.transaction() as session:
                await LeaseRepository(session).release(sorted(surplus), self.holder)
        for name in sorted(held - self.running):
            log.info("lease won; starting", role=name, worker=self.holder)
            await self.roles[name].start()
            self.running.add(name)
        return held

    async def _claim_shared(self, leases: LeaseRepository) -> tuple[set[str], set[str]]:
        """Renew the presence and the plain roles; keep or take spread roles up to the fair
        share. Returns (held now, spread roles held beyond the share, not renewed)."""
        now = self.clock()
        plain = [name for name in self.roles if name not in self.spread]
        await leases.forget_expired(PRESENCE, now - self.ttl)
        held = await leases.claim([self.presence, *plain], self.holder, now, self.ttl)
        held.discard(self.presence)
        workers = max(1, await leases.live(PRESENCE, now))
        share = math.ceil(len(self.spread) / workers)
        holders = await leases.holders()
        mine = [n for n in self.spread if holders.get(n, ("", now))[0] == self.holder]
        free = [n for n in self.spread if n not in holders or holders[n][1] < now]
        keep = [n for n in mine if holders[n][1] >= now][:share]
        wanted = keep + [n for n in free if n not in keep][: share - len(keep)]
        held |= await leases.claim(wanted, self.holder, now, self.ttl)
        return held, set(mine) - set(wanted)

    async def stop(self) -> None:
        """Stop the loop and every role, and hand the leases back for a survivor to take."""
        await self.loop.stop()
        await self._stop_roles(set(self.running))
        if not self.roles:
            return
        try:
            async with self.db.transaction() as session:
                names = [*self.roles, self.presence] if self.spread else list(self.roles)
                await LeaseRepository(session).release(names, self.holder)
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
