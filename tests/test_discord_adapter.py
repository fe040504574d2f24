"""The Discord adapter end to end: real discord.py ↔ fake Discord, the real core, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database
from storage.models import Item, OutboxMessage, Vote
from tests.drivers.discord_kit import (
    BOB,
    CAROL,
    CITIZENS,
    GUILD_ID,
    OFFICER,
    Harness,
    bar_counts,
    button_ids,
    embed_of,
    running_discord,
)
from tests.fakes.discord import (
    FLAG_EPHEMERAL,
    ROUTE_GUILD_COMMANDS,
    ROUTE_INTERACTION_CALLBACK,
)

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def harness(db_url: str, db: Database) -> AsyncIterator[Harness]:
    async with running_discord(db_url, db) as h:
        yield h


async def test_officer_poll_30_members_duplicates_and_results_agree(
    harness: Harness, db_url: str
) -> None:
    fake = harness.fake
    # The command was synced to the configured guild, with typed options.
    (put,) = fake.find_calls(method="PUT", route=ROUTE_GUILD_COMMANDS)
    assert put.params["guild_id"] == str(GUILD_ID)
    (group,) = [c for c in put.json if c["name"] == "townhall"]
    subcommands = {o["name"]: o for o in group["options"]}
    assert set(subcommands) == {
        *("ask", "close", "help", "list", "poll", "results", "scale", "flagged", "report"),
        *("approve", "hide", "redact", "escalate", "privacy", "mydata", "forget", "language"),
        *("publish", "respond", "subscribe", "unsubscribe", "topics", "stop", "statements"),
    }
    poll_options = {o["name"]: o for o in subcommands["poll"]["options"]}
    assert poll_options["multi"]["type"] == 5
    assert [c["value"] for c in poll_options["results"]["choices"]] == ["live", "closed"]
    assert fake.sessions[0].intents == 1  # guilds only: no privileged intent by default

    short_id, message_id = await harness.publish(
        "poll",
        {"question": "Open the library on “Sundays”?", "options": "Yes | No | It's complicated"},
    )
    card = fake.get_message(message_id)
    assert embed_of(card)["title"] == 'Open the library on "Sundays"?'
    assert button_ids(card) == [f"vote:{short_id}:{n}" for n in (1, 2, 3)]
    labels = ["Yes", "No", "It's complicated"]

    # 30 members vote at once; then every 4th changes their mind, again all at once. Every
    # 7th first click is delivered twice (the second copy right behind the first).
    rounds: list[list[tuple[int, int, bool, str]]] = [[], []]
    expected: dict[int, int] = {}
    for i, user in enumerate(CITIZENS):
        first = i % 3 + 1
        rounds[0].append((user.id, first, i % 7 == 0, "recorded"))
        expected[user.id] = first
        if i % 4 == 0:
            second = first % 3 + 1
            rounds[1].append((user.id, second, False, "now"))
            expected[user.id] = second
    clicks: list[tuple[int, int, bool, str]] = []
    payloads = []
    for batch in rounds:
        sent = []
        for user_id, choice, twice, word in batch:
            payload = fake.component_click(message_id, f"vote:{short_id}:{choice}", user_id)
            for _ in range(2 if twice else 1):
                await fake.dispatch("INTERACTION_CREATE", payload)
            sent.append(payload)
            clicks.append((user_id, choice, twice, word))
        for payload, (_, _, twice, _) in zip(sent, batch, strict=True):
            await harness.discord.settled.wait(payload["id"], count=2 if twice else 1)
        payloads.extend(sent)

    for (_user, choice, twice, word), payload in zip(clicks, payloads, strict=True):
        record = fake.interaction(payload)
        assert record.deliveries == (2 if twice else 1)
        assert len(record.callbacks) == 1, "a duplicate delivery must not be answered twice"
        settled = sorted(harness.discord.settled.results(payload["id"]))
        assert settled == (["ok", "repeat"] if twice else ["ok"])
        text = harness.reply_text(payload)
        assert word in text and f"“{labels[choice - 1]}”" in text, text

    totals = [sum(1 for c in expected.values() if c == n) for n in (1, 2, 3)]
    await harness.drain()  # live results: the coalesced edit of the public card
    tally = await harness.tally(short_id)
    assert tally["participants"] == 30 and tally["responses"] == 30
    assert [o["votes"] for o in tally["options"]] == totals
    assert tally["by_platform"] == {"discord": 30}
    assert await harness.count(Vote) == 30
    assert bar_counts(fake.get_message(message_id)) == dict(zip(labels, totals, strict=True))
    edits = fake.find_calls(method="PATCH", path=rf"/channels/\d+/messages/{message_id}")
    assert 1 <= len(edits) < len(clicks)

    # The officer's private results card is an embed; the CLI prints the same JSON.
    payload = await harness.slash(OFFICER, "results", {"item": short_id})
    private = harness.reply(payload)
    assert private["flags"] & FLAG_EPHEMERAL
    assert embed_of(private)["title"].startswith("Results: Open the library")
    cli = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "townhall.cli", "results", short_id, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "TOWNHALL_DATABASE_URL": db_url, "TOWNHALL_SECRET_KEY": "x" * 32},
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == tally


async def test_open_question_modal_answers_are_stored(harness: Harness) -> None:
    fake = harness.fake
    short_id, message_id = await harness.publish(
        "ask", {"question": "What would make the high street better?"}
    )
    assert button_ids(fake.get_message(message_id)) == [f"answer:{short_id}"]

    click = await harness.click(message_id, f"answer:{short_id}", BOB)
    assert harness.discord.settled.results(click["id"]) == ["modal"]
    modal = fake.interaction(click).modal
    assert modal is not None and modal["custom_id"] == f"answer:{short_id}"
    assert modal["title"] == "What would make the high street better?"
    (label,) = modal["components"]
    assert label["component"]["max_length"] == 4000 and label["component"]["style"] == 2

    text = "More benches, fewer empty shops.\nAnd a “market” on Saturdays!"
    submit = fake.modal_submit(modal["custom_id"], {"answer": text}, source=click)
    await harness.deliver(submit)
    assert harness.reply_text(submit).startswith("Thanks, your answer is recorded")
    empty = fake.modal_submit(modal["custom_id"], {"answer": "   "}, source=click)
    await harness.deliver(empty)
    assert harness.reply_text(empty) == "Your answer is empty."

    tally = await harness.tally(short_id)
    assert [(a["text"], a["platform"]) for a in tally["answers"]] == [(text, "discord")]
    await harness.drain()
    assert "1 answer" in embed_of(fake.get_message(message_id))["footer"]["text"]


async def test_buttons_and_forms_survive_a_restart(harness: Harness) -> None:
    fake = harness.fake
    poll_id, poll_message = await harness.publish(
        "poll", {"question": "Bike lanes?", "options": "Yes|No"}
    )
    ask_id, ask_message = await harness.publish("ask", {"question": "Where?"})
    first = await harness.click(poll_message, f"vote:{poll_id}:1", CITIZENS[0])
    opened = await harness.click(ask_message, f"answer:{ask_id}", CITIZENS[1])
    modal_id = fake.interaction(opened).modal["custom_id"]  # type: ignore[index]

    await harness.restart()
    assert len(fake.sessions) == 2

    # Old buttons still count, and a form opened before the restart is accepted after it.
    await harness.click(poll_message, f"vote:{poll_id}:2", CITIZENS[2])
    submit = fake.modal_submit(modal_id, {"answer": "Along the river"}, source=opened)
    await harness.deliver(submit)
    assert harness.reply_text(submit).startswith("Thanks, your answer is recorded")
    reopened = await harness.click(ask_message, f"answer:{ask_id}", CITIZENS[3])
    assert fake.interaction(reopened).modal is not None

    # A redelivery of a click from before the restart changes nothing; Discord refuses the
    # second answer (40060 "already acknowledged") and the adapter takes that in its stride.
    await harness.deliver(first)
    assert harness.discord.settled.results(first["id"]) == ["duplicate"]
    second_try = fake.find_calls(
        lambda c: c.params.get("interaction_id") == first["id"], route=ROUTE_INTERACTION_CALLBACK
    )
    assert [c.status for c in second_try] == [200, 400]
    assert second_try[1].response["code"] == 40060

    tally = await harness.tally(poll_id)
    assert [o["votes"] for o in tally["options"]] == [1, 1]
    answers = (await harness.tally(ask_id))["answers"]
    assert [a["text"] for a in answers] == ["Along the river"]
    await harness.drain()
    assert bar_counts(fake.get_message(poll_message)) == {"Yes": 1, "No": 1}


async def test_roles_member_refused_discord_policy_role_allowed(harness: Harness) -> None:
    fake = harness.fake
    refused = await harness.slash(BOB, "poll", {"question": "Q?", "options": "A | B"})
    assert harness.reply_text(refused) == "Sorry, only the policy team can do that."
    assert await harness.count(Item) == 0

    payload = await harness.slash(
        CAROL,
        "poll",
        {"question": "Which days?", "options": "Mon|Tue|Wed", "multi": True, "closes": "2d"},
    )
    assert "Published poll" in harness.reply_text(payload)
    await harness.drain()
    (card,) = [m for m in fake.channel_messages(fake.channel.id, include_ephemeral=False)]
    assert "closes" in embed_of(card)["footer"]["text"]
    short_id = embed_of(card)["footer"]["text"].split()[1]
    await harness.click(int(card["id"]), f"vote:{short_id}:1", BOB)
    toggled = await harness.click(int(card["id"]), f"vote:{short_id}:2", BOB)
    assert harness.reply_text(toggled) == "Added “Tue” to your choices."
    assert (await harness.tally(short_id))["kind"] == "multi"

    # Everyone may ask for help; only the policy team sees the staff commands.
    help_payload = await harness.slash(BOB, "help")
    assert "poll" not in harness.reply_text(help_payload)
    listing = await harness.slash(CAROL, "list", {"status": "open"})
    assert short_id in harness.reply_text(listing)
    closed = await harness.slash(OFFICER, "close", {"item": short_id})
    assert "Closed" in harness.reply_text(closed)
    await harness.drain()
    assert button_ids(fake.get_message(int(card["id"]))) == []
    results_post = fake.channel_messages(fake.channel.id, include_ephemeral=False)[-1]
    assert embed_of(results_post)["title"] == "Results: Which days?"
    assert results_post["message_reference"]["message_id"] == card["id"]
    assert await harness.count(OutboxMessage) >= 2
