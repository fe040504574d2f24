"""Moderation on Discord, end to end through the real discord.py and the fake Discord: what is
Discord's own (commands and the report menu synced, custom ids, the queue as ephemeral
messages, the report menu on cards and replies, ``/townhall redact`` options, direct messages
to authors, the policy role). The story every platform shares (held answers, redaction from the
queue, lazy moderation, refusals) is in test_scenarios.py. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from adapters.discord.render import CUSTOM_ID_TEMPLATE
from bot.views import Button
from storage.db import Database
from tests.conftest import SQLITE_ONLY
from tests.drivers.discord_kit import BOB, CAROL, CITIZENS, GUILD_ID, button_ids
from tests.drivers.discord_moderation_kit import (
    ASK,
    MODERATOR,
    REPORT_MENU,
    Mod,
    embed_text,
    ref_in,
    running,
)
from tests.fakes.discord import ROUTE_CHANNEL_MESSAGES, ROUTE_GUILD_COMMANDS

pytestmark = pytest.mark.timeout(90)

DECISIONS = ("approve", "hide", "redact", "escalate")
ANN, DAN, EVE, FAY = CITIZENS[:4]


@pytest.fixture
async def discord(db_url: str, db: Database) -> AsyncIterator[Mod]:
    async with running(db_url, db) as harness:
        yield harness


@pytest.mark.parametrize(
    ("custom_id", "action", "value"),
    [
        ("mod:approve:12", "mod", "approve:12"),
        ("consent:yes", "consent", "yes"),
        ("forget:confirm", "forget", "confirm"),
        (
            "report:m:810000000000000200:810000000000009999",
            "report",
            "m:810000000000000200:810000000000009999",
        ),
        ("vote:k3m9xq:2", "vote", "k3m9xq:2"),
        (Button("longest", "a", "b" * 62).custom_id, "a", "b" * 62),  # 64 bytes, the most
    ],
)
def test_every_core_button_is_split_at_its_first_colon(
    custom_id: str, action: str, value: str
) -> None:
    """Any button the core renders reaches the core as ACTION(action id, value), not only
    vote and answer: the dynamic button's template splits the custom id at the first colon."""
    match = re.fullmatch(CUSTOM_ID_TEMPLATE, custom_id)
    assert match is not None and (match["action"], match["value"]) == (action, value)


async def test_commands_and_the_report_menu_are_synced(discord: Mod) -> None:
    (put,) = discord.fake.find_calls(method="PUT", route=ROUTE_GUILD_COMMANDS)
    assert put.params["guild_id"] == str(GUILD_ID)
    by_type = {(c.get("type", 1), c["name"]): c for c in put.json}
    assert set(by_type) == {(1, "townhall"), (3, REPORT_MENU)}
    menu = by_type[(3, REPORT_MENU)]
    assert menu["contexts"] == [0] and menu["dm_permission"] is False  # servers only
    group = by_type[(1, "townhall")]
    subcommands = {o["name"]: o for o in group["options"]}
    assert len(subcommands) <= 25  # Discord's limit per command (group)
    assert {"flagged", "report", "privacy", "mydata", "forget", *DECISIONS} <= set(subcommands)
    ask = {o["name"]: o for o in subcommands["ask"]["options"]}
    assert [c["value"] for c in ask["moderation"]["choices"]] == ["strict", "lazy"]
    assert ask["author_notices"]["type"] == 5  # boolean
    assert subcommands["flagged"]["options"][0]["type"] == 4  # integer page
    approve = {o["name"]: o for o in subcommands["approve"]["options"]}
    assert approve["ref"]["required"] and not approve["reason"].get("required", False)


async def test_a_held_answer_appears_once_a_moderator_approves_it(discord: Mod) -> None:
    fake = discord.fake
    short_id, card, thread = await discord.ask()
    await discord.thread_answer(thread, ANN, "More benches near the bus stop")
    message = await discord.write(thread, BOB, "Email me at bob@example.com about the bins")
    (held,) = discord.bot_replies_to(message)
    assert "will appear once a moderator has checked it" in held["content"]
    ref = ref_in(held["content"])
    abusive = await discord.modal_answer(card, short_id, DAN, "You are all fucking idiots")
    assert "will appear once a moderator has checked it" in discord.private_text(abusive)
    other = ref_in(discord.private_text(abusive))

    assert [a["text"] for a in (await discord.tally(short_id))["answers"]] == [
        "More benches near the bus stop"
    ]
    assert await discord.statuses(short_id) == [
        ("More benches near the bus stop", "visible"),
        ("Email me at bob@example.com about the bins", "held"),
        ("You are all fucking idiots", "held"),
    ]

    posted = len(fake.find_calls(method="POST", route=ROUTE_CHANNEL_MESSAGES))
    queue = await discord.queue()
    assert len(fake.find_calls(method="POST", route=ROUTE_CHANNEL_MESSAGES)) == posted
    first = discord.with_button(queue, f"mod:approve:{ref[1:]}")
    second = discord.with_button(queue, f"mod:approve:{other[1:]}")
    assert first is not second  # each set of buttons stays with its own card
    assert button_ids(first) == [f"mod:{d}:{ref[1:]}" for d in DECISIONS]
    labels = [c["label"] for row in first["components"] for c in row["components"]]
    assert labels == ["Approve", "Hide", "Redact", "Escalate"]
    shown = embed_text(first)
    assert f"{ref} on “{ASK}”" in shown and "Email address" in shown
    assert "bob@example.com about the bins" in shown
    assert "Abusive language" in embed_text(second)
    assert "Page 1 of 1, 2 waiting" in discord.private_text(queue)

    click = await discord.click(int(first["id"]), f"mod:approve:{ref[1:]}", MODERATOR)
    assert discord.private_text(click) == f"{ref}: approved and visible."
    assert [a["text"] for a in (await discord.tally(short_id))["answers"]] == [
        "More benches near the bus stop",
        "Email me at bob@example.com about the bins",
    ]
    assert ("discord:" + str(MODERATOR.id), "answer.approve", ref) in await discord.audit()
    again = await discord.queue()
    assert ref not in discord.private_text(again) and other in discord.private_text(again)

    # The public card counts the approved answer once the outbox has run.
    await discord.drain()
    assert "2 answers" in embed_text(fake.get_message(card))


async def test_the_report_menu_finds_thread_answers_not_cards(discord: Mod) -> None:
    short_id, card, thread = await discord.ask()
    _ref, message = await discord.thread_answer(thread, ANN, "The council should resign, all of it")
    await discord.modal_answer(card, short_id, BOB, "Wider pavements")
    assert len((await discord.tally(short_id))["answers"]) == 2

    own = await discord.report(ANN, message)
    assert discord.private_text(own) == "You can't report your own answer."
    # The question card is ours, not an answer: a form answer must not be mistaken for it.
    card_report = await discord.report(DAN, card)
    assert "can't find that answer" in discord.private_text(card_report)

    # The report menu is also understood on a reply to the card outside the thread.
    reply = discord.fake.user_message(
        discord.fake.channel.id,
        CAROL,
        "Open the market on Sundays",
        message_reference={"message_id": str(card), "channel_id": str(discord.fake.channel.id)},
    )
    await discord.fake.dispatch("MESSAGE_CREATE", reply)
    assert await discord.discord.settled.wait(reply["id"]) == ["ok"]
    on_reply = await discord.report(EVE, reply)
    assert "moderator will look" in discord.private_text(on_reply)


@SQLITE_ONLY
async def test_redact_by_the_slash_command_with_a_reason(discord: Mod) -> None:
    """``/townhall redact`` with its typed ``ref`` and ``reason`` (the queue's Redact button is
    in test_scenarios.py)."""
    _, _, thread = await discord.ask("Where is the problem?")
    ref, _ = await discord.thread_answer(
        thread, ANN, "Potholes by SW1A 1AA, ring 020 7946 0958 if you need me"
    )
    done = await discord.slash(MODERATOR, "redact", {"ref": ref, "reason": "phone and postcode"})
    assert discord.private_text(done) == f"{ref}: personal data removed; the rest is visible."
    stored = await discord.answer_row(ref)
    assert stored.redacted and "SW1A" not in stored.text
    assert ("discord:" + str(MODERATOR.id), "answer.redact", ref) in await discord.audit()


async def test_hiding_an_answer_tells_its_author_by_direct_message(discord: Mod) -> None:
    fake = discord.fake
    short_id, _, thread = await discord.ask()
    ref, _ = await discord.thread_answer(thread, ANN, "You are all fucking idiots")
    queue = await discord.queue()
    card = discord.with_button(queue, f"mod:hide:{ref[1:]}")
    since = fake.mark()
    click = await discord.click(int(card["id"]), f"mod:hide:{ref[1:]}", MODERATOR)
    assert discord.private_text(click) == f"{ref}: hidden."
    assert fake.find_calls(method="POST", path="/users/@me/channels", since=since) == []

    await discord.drain()  # the message to the author goes through the outbox
    (dm_call,) = fake.find_calls(method="POST", path="/users/@me/channels", since=since)
    assert int(dm_call.json["recipient_id"]) == ANN.id
    dm_channel = int(dm_call.response["id"])
    (post,) = fake.find_calls(method="POST", path=rf"/channels/{dm_channel}/messages")
    assert post.index > dm_call.index
    (dm,) = fake.channel_messages(dm_channel)
    assert f"hidden your answer {ref}" in dm["content"] and ASK in dm["content"]
    assert await discord.statuses(short_id) == [("You are all fucking idiots", "hidden")]
    assert ("discord:" + str(MODERATOR.id), "answer.hide", ref) in await discord.audit()


async def test_author_notices_off_means_no_direct_message(discord: Mod) -> None:
    fake = discord.fake
    _, _, thread = await discord.ask("Quiet one?", moderation="lazy", author_notices=False)
    ref, _ = await discord.thread_answer(thread, ANN, "Call me on 07700 900123")
    since = fake.mark()
    hidden = await discord.slash(MODERATOR, "hide", {"ref": ref})
    assert discord.private_text(hidden) == f"{ref}: hidden."
    await discord.drain()
    assert fake.find_calls(method="POST", path="/users/@me/channels", since=since) == []


@SQLITE_ONLY
async def test_the_policy_role_does_not_make_a_moderator(discord: Mod) -> None:
    """Refusals themselves are in test_scenarios.py; here, Discord's own way to be staff: a
    member holding the policy role is not a moderator either, and nobody gets a message."""
    short_id, _, thread = await discord.ask()
    ref, _ = await discord.thread_answer(thread, ANN, "My email is ann@example.com")
    approve = await discord.slash(CAROL, "approve", {"ref": ref})
    assert discord.private_text(approve) == "Sorry, only moderators can do that."
    assert await discord.statuses(short_id) == [("My email is ann@example.com", "held")]
    assert discord.fake.find_calls(method="POST", path="/users/@me/channels") == []
