"""The fakes share one base (tests/fakes/base.py): the same lifecycle, call record, fault
injection and loud failure on anything they do not implement, whichever platform."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import pytest

from tests.fakes.base import FakeServer
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.timeout(30)


@dataclass
class Platform:
    make: Callable[[], FakeServer]
    target: str  # what fail_next names
    known: Callable[[FakeServer], tuple[str, str, dict[str, str]]]  # verb, url, headers
    unknown: Callable[[FakeServer], tuple[str, str, dict[str, str]]]


def _tg(method: str) -> Callable[[FakeServer], tuple[str, str, dict[str, str]]]:
    def request(fake: FakeServer) -> tuple[str, str, dict[str, str]]:
        assert isinstance(fake, FakeTelegram)
        return "POST", f"{fake.api_url}/{method}", {}

    return request


def _slack(method: str) -> Callable[[FakeServer], tuple[str, str, dict[str, str]]]:
    def request(fake: FakeServer) -> tuple[str, str, dict[str, str]]:
        assert isinstance(fake, FakeSlack)
        return "POST", f"{fake.api_url}{method}", {"Authorization": f"Bearer {fake.bot_token}"}

    return request


def _discord(path: str) -> Callable[[FakeServer], tuple[str, str, dict[str, str]]]:
    def request(fake: FakeServer) -> tuple[str, str, dict[str, str]]:
        assert isinstance(fake, FakeDiscord)
        return "GET", f"{fake.api_base}{path}", {"Authorization": f"Bot {fake.token}"}

    return request


PLATFORMS = {
    "telegram": Platform(FakeTelegram, "getMe", _tg("getMe"), _tg("frobnicateWidget")),
    "slack": Platform(FakeSlack, "auth.test", _slack("auth.test"), _slack("reactions.add")),
    "discord": Platform(
        lambda: FakeDiscord(patch_discord_py=False),
        "GET /users/@me",
        _discord("/users/@me"),
        _discord("/guilds/1/emojis"),
    ),
}


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> Platform:
    return PLATFORMS[request.param]


async def send(fake: FakeServer, request: tuple[str, str, dict[str, str]]) -> int:
    verb, url, headers = request
    async with (
        aiohttp.ClientSession() as session,
        session.request(verb, url, headers=headers) as response,
    ):
        await response.read()
        return response.status


async def test_one_fault_injection_call_for_every_fake(platform: Platform) -> None:
    async with platform.make() as fake:
        fake.fail_next(platform.target, status=429, retry_after=1, times=2)  # type: ignore[attr-defined]
        statuses = [await send(fake, platform.known(fake)) for _ in range(3)]
        fake.fail_next(platform.target, status=503)  # type: ignore[attr-defined]
        failed = await send(fake, platform.known(fake))
        assert fake.mark() == len(fake.calls) == 4
    assert statuses == [429, 429, 200]
    assert failed == 503
    first, *_, last = fake.calls
    assert first.at <= last.at and first.time == first.timestamp == first.at
    assert [c.status for c in fake.calls] == [429, 429, 200, 503]


async def test_anything_unimplemented_fails_the_test_on_exit(platform: Platform) -> None:
    with pytest.raises(AssertionError, match="does not implement"):
        async with platform.make() as fake:
            await send(fake, platform.unknown(fake))  # each answers as its platform would
    assert len(fake.unhandled) == 1


async def test_start_stop_and_close_are_the_same_on_every_fake(platform: Platform) -> None:
    fake = platform.make()
    await fake.start()
    assert await send(fake, platform.known(fake)) == 200
    await fake.stop()
    await fake.close()  # an alias of stop; stopping twice is harmless
    with pytest.raises(aiohttp.ClientConnectionError):
        await send(fake, platform.known(fake))
