"""bot.testing works as docs/architecture.md ("Testing your own handlers") shows."""

from __future__ import annotations

from bot.config import Settings
from bot.testing import FakeClock, People, RecordingAdapter
from bot.views import Notice
from storage.db import Database
from townhall.app import Townhall


async def test_the_documented_example(settings: Settings, db: Database) -> None:
    adapter, clock, people = RecordingAdapter(), FakeClock(), People()
    app = Townhall(settings, [adapter], db=db, clock=clock)
    await app.start(serve_http=False, background=False)
    try:
        outcome = await app.dispatch(people.command("officer", 'poll "Q?" "A" "B"'))
        assert isinstance(outcome.notices[0], Notice)
        assert "Published poll" in outcome.notices[0].text
        await app.deliverer.drain()
        assert adapter.cards()[0].title == "Q?"
    finally:
        await app.stop()
