"""Discord delivery under pressure: rate limits, missing permissions, slow or failing dispatch,
direct messages and answer threads (real discord.py ↔ fake Discord, SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import discord
import discord.gateway
import discord.http
import pytest
from sqlalchemy import select

from adapters.discord import DiscordAdapter
from bot.adapter import Outcome
from bot.config import ConfigError
from bot.errors import DeliveryError
from bot.events import Event, Target
from bot.views import Button, Card, Notice, View
from handlers import all_specs
from storage.db import Database
from storage.models import Item, OutboxMessage
from tests.drivers.discord_kit import (
    BOB,
    CHANNEL_ID,
    CITIZENS,
    GUILD_ID,
    OFFICER,
    OTHER_CHANNEL_ID,
    Harness,
    button_ids,
    discord_settings,
    embed_of,
    running_discord,
    town_guild,
)
from tests.fakes.discord import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    ROUTE_CHANNEL_MESSAGES,
    ROUTE_INTERACTION_CALLBACK,
    ROUTE_MESSAGE_THREADS,
    ROUTE_WEBHOOK,
    ROUTE_WEBHOOK_MESSAGE,
    FakeDiscord,
)

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def harness(db_url: str, db: Database) -> AsyncIterator[Harness]:
    async with running_discord(db_url, db) as h:
        yield h


async def outbox_rows(harness: Harness) -> list[OutboxMessage]:
    async with harness.townhall.db.transaction() as session:
        rows = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows.scalars())


async def test_a_429_on_the_post_is_waited_out_and_the_card_arrives(harness: Harness) -> None:
    fake = harness.fake
    payload = await harness.slash(OFFICER, "scale", {"statement": "Parks need more bins."})
    assert "Published scale" in harness.reply_text(payload)
    fake.rate_limit_next("POST", rf"/channels/{CHANNEL_ID}/messages", retry_after=0.3)
    since = fake.mark()
    await harness.drain()
    posts = fake.find_calls(method="POST", route=ROUTE_CHANNEL_MESSAGES, since=since)
    assert [c.status for c in posts] == [429, 200]
    assert posts[0].injected and posts[1].json == posts[0].json
    (card,) = fake.channel_messages(CHANNEL_ID, include_ephemeral=False)
    assert embed_of(card)["title"] == "Parks need more bins."
    assert len(button_ids(card)) == 5
    assert [r.status for r in await outbox_rows(harness)] == ["sent"]


async def test_a_429_on_the_interaction_answer_is_waited_out_and_nothing_is_lost(
    harness: Harness,
) -> None:
    fake = harness.fake
    short_id, message_id = await harness.publish("poll", {"question": "Q?", "options": "A|B"})
    fake.rate_limit_next("POST", r"/interactions/\d+/[^/]+/callback", retry_after=0.2)
    click = await harness.click(message_id, f"vote:{short_id}:1", BOB)
    calls = fake.find_calls(
        lambda c: c.params.get("interaction_id") == click["id"], route=ROUTE_INTERACTION_CALLBACK
    )
    assert [c.status for c in calls] == [429, 200]
    # Bob's first vote: the privacy notice comes with it (notice mode)
    assert harness.reply_text(click).startswith("Thanks, your vote for “A” is recorded.\n")
    assert [o["votes"] for o in (await harness.tally(short_id))["options"]] == [1, 0]


async def test_a_long_rate_limit_goes_back_to_the_outbox_with_retry_after(
    harness: Harness,
) -> None:
    await harness.slash(OFFICER, "ask", {"question": "Anything else?"})
    harness.fake.rate_limit_next("POST", rf"/channels/{CHANNEL_ID}/messages", retry_after=45)
    before = datetime.now(UTC)
    await harness.drain()
    (row,) = await outbox_rows(harness)
    assert row.status == "pending" and row.attempts == 0
    due = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=UTC)
    assert 40 <= (due - before).total_seconds() <= 60
    assert harness.fake.channel_messages(CHANNEL_ID, include_ephemeral=False) == []


async def test_a_channel_the_bot_cannot_post_in_gives_the_officer_a_clear_message(
    harness: Harness,
) -> None:
    fake = harness.fake
    fake.forbid(OTHER_CHANNEL_ID)
    payload = await harness.slash(
        OFFICER, "poll", {"question": "Q?", "options": "A|B"}, channel_id=OTHER_CHANNEL_ID
    )
    text = harness.reply_text(payload)
    assert "I can't post in this channel" in text and "Send Messages" in text
    assert "nothing was published" in text
    assert harness.discord.settled.results(payload["id"]) == ["no-permission"]
    assert await harness.count(Item) == 0 and await outbox_rows(harness) == []

    # Permission lost between the command and the post: the outbox gives up for good.
    payload = await harness.slash(OFFICER, "poll", {"question": "Q?", "options": "A|B"})
    assert "Published poll" in harness.reply_text(payload)
    fake.forbid(CHANNEL_ID)
    await harness.drain()
    row, told = await outbox_rows(harness)
    assert row.status == "failed" and "missing permission" in (row.last_error or "")
    # ... and tells the officer privately that the card never appeared
    assert told.private and "could not be delivered" in str(told.view)
    posts = fake.find_calls(method="POST", route=ROUTE_CHANNEL_MESSAGES)
    assert len([c for c in posts if str(CHANNEL_ID) in str(c.path)]) == 1


async def test_slow_dispatch_is_deferred_then_the_answer_fills_it_in(harness: Harness) -> None:
    fake = harness.fake
    short_id, message_id = await harness.publish("poll", {"question": "Q?", "options": "A|B"})
    assert harness.discord.client is not None
    harness.discord.client.bridge.defer_after = 0  # as if the database were slower than 3 s
    click = await harness.click(message_id, f"vote:{short_id}:2", BOB)
    record = fake.interaction(click)
    assert [c["type"] for c in record.callbacks] == [5]
    assert record.callbacks[0]["data"]["flags"] == FLAG_EPHEMERAL
    (edit,) = fake.find_calls(method="PATCH", route=ROUTE_WEBHOOK_MESSAGE)
    assert edit.params["message_id"] == "@original"
    answer = harness.reply(click)
    assert answer["flags"] & FLAG_EPHEMERAL and not answer["flags"] & FLAG_LOADING
    assert answer["content"].startswith("Thanks, your vote for “B” is recorded.\n")


async def test_several_cards_with_buttons_are_separate_ephemeral_messages(
    harness: Harness,
) -> None:
    """A notice card with buttons (consent, confirmations) keeps its buttons, one message each."""
    adapter = harness.discord
    cards: list[View] = [
        Notice("Two things to confirm."),
        Card("First", buttons=(Button("Yes", "consent", "yes"), Button("No", "consent", "no"))),
        Card("Second", buttons=(Button("Yes, erase it", "forget", "confirm", style="danger"),)),
    ]

    async def dispatch(event: Event) -> Outcome:
        return Outcome(handled=True, notices=list(cards))

    assert adapter.client is not None
    adapter.client.bridge.dispatch = dispatch
    payload = await harness.slash(BOB, "help")
    first = harness.reply(payload)
    assert first["content"] == "Two things to confirm." and not first["components"]
    record = harness.fake.interaction(payload)
    followups = [harness.fake.get_message(m) for m in record.followup_message_ids]
    assert [embed_of(m)["title"] for m in followups] == ["First", "Second"]
    assert [button_ids(m) for m in followups] == [["consent:yes", "consent:no"], ["forget:confirm"]]
    assert all(m["flags"] & FLAG_EPHEMERAL for m in followups)
    assert len(harness.fake.find_calls(method="POST", route=ROUTE_WEBHOOK)) == 2


async def test_private_sends_are_direct_messages_and_blocked_dms_are_permanent(
    harness: Harness,
) -> None:
    adapter = harness.discord
    ref = await adapter.send(Target(str(BOB.id), private=True), Notice("Your data is ready."))
    message = harness.fake.get_message(int(ref.message_id))
    assert message["content"] == "Your data is ready."
    assert harness.fake.channels[int(ref.channel_id)].type == 1
    harness.fake.block_dms(CITIZENS[0].id)
    with pytest.raises(DeliveryError) as excinfo:
        await adapter.send(Target(str(CITIZENS[0].id), private=True), Notice("hello"))
    assert excinfo.value.permanent
    with pytest.raises(DeliveryError) as excinfo:
        await adapter.edit(ref.__class__("discord", "1", "2"), Notice("gone"))
    assert excinfo.value.permanent  # unknown channel: 404


async def test_database_down_answers_with_an_apology_and_records_nothing() -> None:
    async def broken(event: Event) -> Outcome:
        raise OSError("connection refused")

    async with FakeDiscord(guilds=[town_guild()]) as fake:
        adapter = DiscordAdapter(
            fake.token, guild_ids=[GUILD_ID], guild_ready_timeout=0.05, commands=all_specs()
        )
        await adapter.start(broken)
        try:
            payload = fake.slash_command(
                GUILD_ID, CHANNEL_ID, OFFICER, "townhall", "list", {"status": "open"}
            )
            await fake.dispatch("INTERACTION_CREATE", payload)
            assert await adapter.settled.wait(payload["id"]) == ["error"]
            (call,) = fake.find_calls(route=ROUTE_INTERACTION_CALLBACK)
            assert call.json["type"] == 4 and call.json["data"]["flags"] == FLAG_EPHEMERAL
            assert "can't reach its database" in call.json["data"]["content"]
        finally:
            await adapter.stop()
        fake.assert_no_unhandled()


async def test_thread_answers_with_the_message_content_intent(db_url: str, db: Database) -> None:
    async with FakeDiscord(guilds=[town_guild()], patch_discord_py=False, echo_events=True) as fake:
        settings = discord_settings(db_url, fake, discord_thread_answers=True)
        harness = Harness(fake, settings, db)
        await harness.start()
        try:
            assert fake.sessions[0].intents == (1 << 0) | (1 << 9) | (1 << 15)
            short_id, message_id = await harness.publish("ask", {"question": "Ideas for the park?"})
            (thread_call,) = fake.find_calls(method="POST", route=ROUTE_MESSAGE_THREADS)
            assert thread_call.params["message_id"] == str(message_id)
            thread = fake.channels[message_id]  # a thread has its starter message's id
            assert thread.parent_id == CHANNEL_ID

            # In the thread, in reply to the card, and elsewhere (ignored).
            in_thread = fake.user_message(thread.id, BOB, "A water fountain, please")
            await fake.dispatch("MESSAGE_CREATE", in_thread)
            assert await harness.discord.settled.wait(in_thread["id"]) == ["ok"]
            reply = fake.user_message(
                CHANNEL_ID,
                CITIZENS[0],
                "More shade",
                message_reference={"message_id": str(message_id), "channel_id": str(CHANNEL_ID)},
            )
            await fake.dispatch("MESSAGE_CREATE", reply)
            assert await harness.discord.settled.wait(reply["id"]) == ["ok"]
            chatter = fake.user_message(CHANNEL_ID, CITIZENS[1], "Nice weather today")
            await fake.dispatch("MESSAGE_CREATE", chatter)
            await fake.dispatch("MESSAGE_CREATE", in_thread)  # redelivered: not stored twice
            assert await harness.discord.settled.wait(in_thread["id"], 2) == ["ok", "duplicate"]
            assert harness.discord.settled.results(chatter["id"]) == []

            answers = (await harness.tally(short_id))["answers"]
            assert sorted(a["text"] for a in answers) == ["A water fountain, please", "More shade"]
            confirmations = [
                m
                for m in fake.channel_messages(thread.id)
                if m["author"]["id"] == str(fake.bot_user.id)
            ]
            assert len(confirmations) == 1
            assert confirmations[0]["content"].startswith("Thanks, your answer is recorded")
            assert confirmations[0]["message_reference"]["message_id"] == in_thread["id"]
        finally:
            await harness.stop()
        fake.assert_no_unhandled()


async def test_a_rejected_token_or_intent_fails_start_clearly_and_restores_discord_py() -> None:
    async def unused(event: Event) -> Outcome:
        raise AssertionError("nothing should be dispatched")

    async with FakeDiscord(guilds=[town_guild()], patch_discord_py=False) as fake:
        before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        wrong = DiscordAdapter("not-the-token", api_url=fake.base_url, gateway_url=fake.gateway_url)
        with pytest.raises(ConfigError, match="TOWNHALL_DISCORD_TOKEN"):
            await wrong.start(unused)
        assert fake.calls[0].path == "/users/@me" and fake.calls[0].status == 401
        assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)

    async with FakeDiscord(guilds=[town_guild()], enabled_privileged_intents=0) as fake:
        threads = DiscordAdapter(fake.token, thread_answers=True, guild_ready_timeout=0.05)
        with pytest.raises(RuntimeError, match="PrivilegedIntentsRequired"):
            await threads.start(unused)
        assert threads.client is None


async def test_a_post_that_failed_after_taking_effect_is_not_posted_twice(
    harness: Harness,
) -> None:
    """A 5xx storm where Discord created the message but the answer was an error: the retry
    carries the same nonce (``enforce_nonce``), so Discord returns the message it made."""
    from sqlalchemy import update

    fake = harness.fake
    await harness.slash(OFFICER, "ask", {"question": "Posted once?"})
    route = rf"/channels/{CHANNEL_ID}/messages"
    fake.fail_next("POST", route, 503, after_effect=True, count=3)
    for _ in range(4):
        await harness.drain()
        async with harness.townhall.db.transaction() as session:  # the backoff has passed
            await session.execute(update(OutboxMessage).values(due_at=datetime.now(UTC)))
    await harness.drain()
    (row,) = await outbox_rows(harness)
    assert row.status == "sent" and row.attempts == 3
    (card,) = fake.channel_messages(CHANNEL_ID, include_ephemeral=False)
    assert embed_of(card)["title"] == "Posted once?"
    posts = fake.find_calls(method="POST", route=ROUTE_CHANNEL_MESSAGES)
    nonces = {c.json["nonce"] for c in posts if c.json and "Posted once?" in str(c.json)}
    assert len(nonces) == 1 and len([c for c in posts if "Posted once?" in str(c.json)]) == 4
