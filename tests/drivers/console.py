"""The console driver: the real console adapter's read-eval-print loop, one typed line at a
time (``:as NAME`` switches who is typing), on the test's database."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from adapters.console import ConsoleAdapter
from bot.config import Settings
from storage.db import Database
from tests.conftest import SECRET
from tests.drivers.base import Records, published_id
from tests.support import FakeClock
from townhall.app import Townhall


class ConsoleDriver(Records):
    platform = "console"

    def __init__(self, app: Townhall, console: ConsoleAdapter, out: io.StringIO) -> None:
        self.app = app
        self.console = console
        self.out = out

    async def type(self, who: str, line: str, *, deliveries: int = 1) -> str:
        """``who`` types ``line``; returns what the console printed meanwhile."""
        start = self.out.tell()
        self.console.stdin = io.StringIO(f":as {who}\n{line}\n")
        await self.console.run()
        if deliveries > 1:  # the same event again, as a platform retrying would send it
            self.console.user = who
            event = self.console.translate(line)
            assert event is not None
            for _ in range(deliveries - 1):
                await self.app.dispatch(event)
        self.out.seek(start)
        printed = self.out.read()
        return printed.split("\n", 1)[1] if printed.startswith("(you are now") else printed

    async def publish(self, command: str) -> str:
        return published_id(await self.type("officer", command))

    async def vote(self, who: str, item: str, position: int, *, deliveries: int = 1) -> str:
        return await self.type(who, f"vote {item} {position}", deliveries=deliveries)

    async def answer(self, who: str, item: str, text: str) -> str:
        return await self.type(who, f"answer {item} {text}")

    async def opinions(self, who: str, item: str) -> str:
        return await self.type(who, f"statements {item}")

    async def refused(self, who: str, item: str) -> str:
        return await self.type(who, f"close {item}")

    async def report(self, who: str, ref: str) -> str:
        return await self.type(who, f"report {ref}")

    async def queue(self) -> list[str]:
        printed = await self.type("mod", "flagged")
        return [f"A{n}" for n in re.findall(r"\[mod approve (\d+)\]", printed)]

    async def decide(self, ref: str, label: str) -> str:
        return await self.type("mod", f"mod {label.lower()} {ref[1:]}")

    async def moderate(self, who: str, command: str) -> str:
        return await self.type(who, command)

    async def forge(self, who: str, ref: str, label: str) -> str:
        return await self.type(who, f"mod {label.lower()} {ref[1:]}")

    async def agree(self, who: str) -> str:
        return await self.type(who, "consent yes")

    async def decline(self, who: str) -> str:
        return await self.type(who, "consent no")

    async def platform_says(self, who: str, language: str) -> bool:
        return False  # the console has no platform language

    async def mydata(self, who: str) -> str:
        return await self.type(who, "mydata")

    async def forget(self, who: str, *, confirm: bool = True) -> str:
        await self.type(who, "forget")
        return await self.type(who, "forget confirm" if confirm else "forget cancel")

    async def close(self, item: str) -> str:
        return await self.type("officer", f"close {item}")

    async def shown(self, item: str) -> str:
        await self.app.deliverer.drain()
        return "\n".join(
            line for line in self.out.getvalue().splitlines() if not line.startswith("(to you)")
        )

    # -- consultations -------------------------------------------------------------------------
    def shown_button(self, label: str) -> str:
        """What to type to press the newest button called ``label`` (``[skip k3m9xq] Skip``)."""
        found = re.findall(rf"^  \[([^\]]+)\] {re.escape(label)}$", self.out.getvalue(), re.M)
        assert found, f"no {label!r} button shown"
        return str(found[-1])

    async def officer(self, command: str) -> str:
        return await self.type("officer", command)

    async def start(self, who: str, slug: str) -> str:
        return await self.type(who, f"start {slug}")

    async def tap(self, who: str, label: str) -> str:
        return await self.type(who, self.shown_button(label))

    async def write(self, who: str, label: str, text: str) -> str:
        typed = self.shown_button(label)  # answer k3m9xq <your answer>
        return await self.type(who, typed.replace("<your answer>", text))


@asynccontextmanager
async def console_driver(
    db: Database, clock: FakeClock, **settings: Any
) -> AsyncIterator[ConsoleDriver]:
    values: dict[str, Any] = {
        "database_url": db.url,
        "secret_key": SECRET,
        "policy_team": "console:officer",
        "moderators": "console:mod",
        "refresh_interval": 0,
        "env": "test",
        "_env_file": None,
    }
    values.update(settings)
    out = io.StringIO()
    console = ConsoleAdapter("officer", stdin=io.StringIO(), stdout=out)
    app = Townhall(Settings(**values), [console], db=db, clock=clock)
    console.settle = app.deliverer.drain
    await app.start(serve_http=False, background=False)
    try:
        yield ConsoleDriver(app, console, out)
    finally:
        await app.stop()
