"""Identifiers longer than their columns are refused where they enter (issue 12, defect 7).

PostgreSQL raised "value too long" mid-transaction (a traceback, "Sorry, something went
wrong"); SQLite stored them. Both backends now refuse them the same way, in one line.
"""

from __future__ import annotations

from sqlalchemy import func, select

from bot.events import Actor, Event, EventKind, Target
from storage.models import Participant, ProcessedEvent
from tests.support import People, RecordingAdapter
from tests.test_cli import env, run
from tests.test_handlers import create, text_of
from townhall.app import Townhall

__all__ = ["env"]  # the fixture, shared with test_cli

App = tuple[Townhall, RecordingAdapter]
LONG = "x" * 300


async def count(townhall: Townhall, model: type) -> int:
    async with townhall.db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_long_identifiers_in_events_are_refused(app: App, people: People) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Q?" "A" "B"')
    before = await count(townhall, ProcessedEvent)
    user = await townhall.dispatch(people.click("u" * 101, poll, 1))
    assert text_of(user.notices) == (
        "Your user id is too long: at most 100 characters, this one has 101."
    )
    assert not user.failed
    channel = People(channel="c" * 101)
    where = await townhall.dispatch(channel.click("ann", poll, 1))
    assert text_of(where.notices).startswith("The channel id is too long: at most 100")
    event = Event("test", "e" * 201, EventKind.ACTION, Actor("ann"), Target("C1"))
    assert "The event id is too long" in text_of((await townhall.dispatch(event)).notices)
    assert await count(townhall, Participant) == 0
    assert await count(townhall, ProcessedEvent) == before  # nothing stored, not even the id
    fits = await townhall.dispatch(people.click("u" * 100, poll, 1))
    assert "recorded" in text_of(fits.notices)


def test_cli_refuses_a_long_subject_in_one_line(env: dict[str, str]) -> None:
    bad = run(["roles", "grant", f"console:{LONG}", "policy"], env, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "The user id is too long: at most 100 characters, this one has 300." in bad.stderr
    platform = run(["roles", "grant", f"{'p' * 21}:ann", "policy"], env, check=False)
    assert platform.returncode == 2 and "The platform name is too long" in platform.stderr
    assert run(["roles", "grant", f"console:{'x' * 100}", "policy"], env).returncode == 0


def test_chat_refuses_a_long_name_in_one_line(env: dict[str, str]) -> None:
    name = "n" * 101
    bad = run(["chat", "--as", name], env, "help\n", check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr + bad.stdout
    assert "The user name is too long: at most 100 characters" in bad.stderr
    switched = run(["chat", "--as", "ann"], env, f":as {name}\n:as bob\n")
    assert "(to you) The user name is too long" in switched.stdout
    assert "(you are now bob)" in switched.stdout and "Sorry" not in switched.stdout


def test_an_account_email_must_fit_its_audit_subject(env: dict[str, str]) -> None:
    """``dashboard:<email>`` names the account in the audit log (200 characters at most)."""
    email = "a" * 180 + "@example.org"  # 192: a valid address, too long for the subject
    bad = run(["users", "add", email, "--role", "policy"], env, "x" * 16 + "\n", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "too long for an account: at most 190 characters" in bad.stderr


async def test_huge_numbers_are_refused_not_crashed(app: App, people: People) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Q?" "A" "B"')
    huge = await townhall.dispatch(people.click_button("ann", "vote", f"{poll}:{'9' * 30}"))
    assert text_of(huge.notices) == f"That option does not exist: {poll} has options 1 to 2."
    ref = await townhall.dispatch(people.command("mod", f"approve A{'9' * 30}"))
    assert "is not an answer reference" in text_of(ref.notices) and not ref.failed
    biggest = await townhall.dispatch(people.command("mod", f"approve A{'9' * 18}"))
    assert text_of(biggest.notices) == f"There is no answer A{'9' * 18}."
