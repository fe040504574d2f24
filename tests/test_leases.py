"""The lease keeper sharing out ``spread`` roles (Discord's gateway shards) between the live
workers, on the real database, with a clock moved by hand: a fair share each, handed over by
stopping before releasing, and taken back when a worker dies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.leases import PRESENCE, LeaseKeeper, Role
from bot.testing import FakeClock
from storage.db import Database
from storage.leases import LeaseRepository

SHARDS = [f"shard-{i}" for i in range(3)]


class Workers:
    """Records which worker runs which role, failing at once if a role ever runs twice."""

    def __init__(self) -> None:
        self.running: dict[str, str] = {}
        self.log: list[str] = []

    def roles(self, worker: str, *, plain: tuple[str, ...] = ("scheduler",)) -> list[Role]:
        def start(name: str) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                assert name not in self.running, f"{name} already runs in {self.running[name]}"
                self.running[name] = worker
                self.log.append(f"{worker} +{name}")

            return run

        def stop(name: str) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                assert self.running.pop(name) == worker
                self.log.append(f"{worker} -{name}")

            return run

        spread = [Role(n, start(n), stop(n), spread=True) for n in SHARDS]
        return [*spread, *(Role(n, start(n), stop(n)) for n in plain)]

    def of(self, worker: str) -> set[str]:
        return {name for name, w in self.running.items() if w == worker}


async def test_spread_roles_are_shared_out_and_taken_back_from_a_dead_worker(
    db: Database, clock: FakeClock
) -> None:
    workers = Workers()
    a = LeaseKeeper(db, workers.roles("a"), holder="a", clock=clock)
    b = LeaseKeeper(db, workers.roles("b"), holder="b", clock=clock)

    await a.run_once()  # alone: every shard, and the plain role
    assert workers.of("a") == {*SHARDS, "scheduler"}
    await b.run_once()  # two workers now, but nothing is free yet
    assert workers.of("b") == set()
    await a.run_once()  # a's share is 2 of 3: it stops one, then hands it over
    assert workers.of("a") == {"shard-0", "shard-1", "scheduler"}
    assert workers.log[-1] == "a -shard-2"
    await b.run_once()
    assert workers.of("b") == {"shard-2"}
    for keeper in (a, b, a, b):  # stable: nothing moves any more
        clock.advance(seconds=1)
        await keeper.run_once()
    assert workers.of("a") == {"shard-0", "shard-1", "scheduler"}
    assert workers.of("b") == {"shard-2"}

    # a dies (its process is gone, its leases stay until they expire): b takes everything.
    workers.running = {n: w for n, w in workers.running.items() if w != "a"}
    clock.advance(seconds=3)
    await b.run_once()
    assert workers.of("b") == {"shard-2"}  # a's leases have not expired yet
    clock.advance(seconds=4)
    await b.run_once()
    assert workers.of("b") == {*SHARDS, "scheduler"}

    # A clean stop releases the presence with the roles.
    await b.stop()
    async with db.transaction() as session:
        left = await LeaseRepository(session).holders()
    assert not any(holder == "b" for holder, _ in left.values())
    assert f"{PRESENCE}b" not in left


async def test_a_dead_workers_presence_is_forgotten(db: Database, clock: FakeClock) -> None:
    workers = Workers()
    gone = LeaseKeeper(db, workers.roles("gone", plain=()), holder="gone", clock=clock)
    await gone.run_once()
    clock.advance(seconds=30)  # long dead: its presence row is deleted by the next worker
    alive = LeaseKeeper(db, Workers().roles("alive", plain=()), holder="alive", clock=clock)
    await alive.run_once()
    async with db.transaction() as session:
        names = set(await LeaseRepository(session).holders())
    assert f"{PRESENCE}gone" not in names
    assert f"{PRESENCE}alive" in names
    assert set(alive.running) == set(SHARDS)
