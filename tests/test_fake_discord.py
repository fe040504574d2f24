"""The real discord.py 2.7.1 against :mod:`tests.fakes.discord` (no Townhall code)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.fakes.discord import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    ROUTE_CHANNEL_MESSAGES,
    ROUTE_GUILD_COMMANDS,
    ROUTE_INTERACTION_CALLBACK,
    ROUTE_WEBHOOK,
    ROUTE_WEBHOOK_MESSAGE,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    FakeUser,
)

pytestmark = pytest.mark.timeout(30)


class Signals:
    """What the bot's callbacks saw; awaitable without sleeps."""

    def __init__(self) -> None:
        self.seen: defaultdict[str, list[Any]] = defaultdict(list)
        self._changed = asyncio.Event()

    def add(self, key: str, value: Any = None) -> None:
        self.seen[key].append(value)
        self._changed.set()

    async def wait(self, key: str, count: int = 1, timeout: float = 5.0) -> list[Any]:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while len(self.seen[key]) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.seen[key]


class CommentModal(discord.ui.Modal, title="Comment on the poll"):
    comment: discord.ui.TextInput[CommentModal] = discord.ui.TextInput(
        label="Your comment", custom_id="comment", style=discord.TextStyle.paragraph
    )

    def __init__(self, signals: Signals) -> None:
        super().__init__()
        self.signals = signals

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Thanks!", ephemeral=True)
        self.signals.add("comment", (interaction.user.id, self.comment.value))


class DetailsModal(discord.ui.Modal, title="Details"):
    """Uses the newer label component (type 18) shape."""

    detail: discord.ui.Label[DetailsModal] = discord.ui.Label(
        text="What should we know?", component=discord.ui.TextInput(custom_id="detail")
    )

    def __init__(self, signals: Signals) -> None:
        super().__init__()
        self.signals = signals

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.detail.component, discord.ui.TextInput)
        await interaction.response.defer()
        self.signals.add("detail", self.detail.component.value)


class PollView(discord.ui.View):
    def __init__(self, signals: Signals) -> None:
        super().__init__(timeout=None)
        self.signals = signals

    @discord.ui.button(label="Yes", custom_id="townhall:poll:yes", style=discord.ButtonStyle.green)
    async def yes(
        self, interaction: discord.Interaction, button: discord.ui.Button[PollView]
    ) -> None:
        await interaction.response.send_message("You voted yes", ephemeral=True)
        self.signals.add("vote", (interaction.user.id, button.custom_id))

    @discord.ui.button(label="Comment", custom_id="townhall:poll:comment")
    async def comment(
        self, interaction: discord.Interaction, button: discord.ui.Button[PollView]
    ) -> None:
        await interaction.response.send_modal(CommentModal(self.signals))
        self.signals.add("modal_opened")

    @discord.ui.button(label="Details", custom_id="townhall:poll:details")
    async def details(
        self, interaction: discord.Interaction, button: discord.ui.Button[PollView]
    ) -> None:
        await interaction.response.send_modal(DetailsModal(self.signals))
        self.signals.add("modal_opened")


def build_group(signals: Signals) -> app_commands.Group:
    group = app_commands.Group(name="townhall", description="Consult the public")

    @group.command(name="poll", description="Start a poll")
    @app_commands.describe(question="What to ask", duration="Minutes", anonymous="Hide voters")
    async def poll(
        interaction: discord.Interaction,
        question: str,
        duration: app_commands.Range[int, 1, 60] = 10,
        anonymous: bool = False,
    ) -> None:
        try:
            await interaction.response.send_message(f"Poll: {question}", view=PollView(signals))
        except discord.HTTPException as exc:
            signals.add("respond_failed", exc.code)
            return
        signals.add("poll", (question, duration, anonymous, interaction.user.id))

    @group.command(name="ask", description="Ask an open question")
    async def ask(interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content=f"Question about {topic} is open")
        followup = await interaction.followup.send("Share the link!", ephemeral=True, wait=True)
        signals.add("ask", (topic, followup.id))

    @ask.autocomplete("topic")
    async def topic_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        signals.add("autocomplete", current)
        topics = ["parks", "parking", "schools"]
        return [app_commands.Choice(name=t, value=t) for t in topics if t.startswith(current)]

    return group


class Bot(discord.Client):
    def __init__(self, fake: FakeDiscord, signals: Signals, *, persistent: bool = False) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.signals = signals
        self.persistent = persistent
        self.tree = app_commands.CommandTree(self)
        guild = discord.Object(fake.guild.id)
        self.tree.add_command(build_group(signals), guild=guild)

        async def summarize(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_message(f"Summary of: {message.content}")
            signals.add("summarize", (message.id, message.content, message.author.id))

        self.tree.add_command(
            app_commands.ContextMenu(name="Summarize", callback=summarize), guild=guild
        )

    async def setup_hook(self) -> None:
        if self.persistent:
            self.add_view(PollView(self.signals))


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def signals() -> Signals:
    return Signals()


async def start_poll(fake: FakeDiscord, bot: Bot, signals: Signals, question: str) -> int:
    """Sync, run /townhall poll and return the poll message id."""
    await bot.tree.sync(guild=discord.Object(fake.guild.id))
    before = len(signals.seen["poll"])
    payload = fake.slash_command(
        fake.guild.id, fake.channel.id, fake.alice, "townhall", "poll", {"question": question}
    )
    await fake.dispatch("INTERACTION_CREATE", payload)
    await signals.wait("poll", before + 1)
    message_id = fake.interaction(payload).original_message_id
    assert message_id is not None
    return message_id


@pytest.mark.parametrize("compression", [True, False], ids=["zlib-stream", "plain-text"])
async def test_login_ready_and_guild_command_sync(compression: bool, signals: Signals) -> None:
    async with FakeDiscord(gateway_compression=compression) as fake:
        bot = Bot(fake, signals)
        async with fake.running(bot):
            session = fake.sessions[0]
            assert session.intents == discord.Intents.default().value
            assert session.connection is not None
            assert session.connection.query["compress"] == "zlib-stream"
            assert (session.connection.zlib is not None) is compression
            assert [f.t for f in fake.gateway_log if f.op == 0][:2] == ["READY", "GUILD_CREATE"]

            assert bot.user is not None and bot.user.id == fake.bot_user.id
            assert bot.application_id == fake.application_id
            guild = bot.get_guild(fake.guild.id)
            assert guild is not None and guild.name == "Town"
            channel = guild.get_channel(fake.channel.id)
            assert isinstance(channel, discord.TextChannel) and channel.name == "general"
            assert guild.me is not None and guild.me.id == fake.bot_user.id
            assert guild.owner_id == fake.alice.id

            synced = await bot.tree.sync(guild=discord.Object(fake.guild.id))
            assert sorted(c.name for c in synced) == ["Summarize", "townhall"]
            assert all(c.id for c in synced)

        assert [c.route for c in fake.calls[:2]] == ["/users/@me", "/oauth2/applications/@me"]
        (put,) = fake.find_calls(method="PUT", route=ROUTE_GUILD_COMMANDS)
        assert put.params["guild_id"] == str(fake.guild.id)
        townhall = next(c for c in put.json if c["name"] == "townhall")
        (poll,) = [o for o in townhall["options"] if o["name"] == "poll"]
        assert poll["type"] == 1
        options = {o["name"]: o for o in poll["options"]}
        assert options["question"]["type"] == 3 and options["question"]["required"] is True
        assert options["duration"]["type"] == 4
        assert (options["duration"]["min_value"], options["duration"]["max_value"]) == (1, 60)
        assert options["anonymous"]["type"] == 5
        assert "1:townhall" in fake.commands[fake.guild.id]
        assert "3:Summarize" in fake.commands[fake.guild.id]
        assert not fake.sessions[0].connected
        fake.assert_no_unhandled()


async def test_slash_command_posts_poll_with_persistent_view(
    fake: FakeDiscord, signals: Signals
) -> None:
    bot = Bot(fake, signals)
    async with fake.running(bot):
        await bot.tree.sync(guild=discord.Object(fake.guild.id))
        payload = fake.slash_command(
            fake.guild.id,
            fake.channel.id,
            fake.alice,
            "townhall",
            "poll",
            {"question": "Lunch?", "duration": 15},
        )
        assert payload["data"]["guild_id"] == str(fake.guild.id)
        assert payload["data"]["options"][0]["options"][1] == {
            "type": 4,
            "name": "duration",
            "value": 15,
        }
        await fake.dispatch("INTERACTION_CREATE", payload)
        assert await signals.wait("poll") == [("Lunch?", 15, False, fake.alice.id)]

        call = await fake.wait_for_call(route=ROUTE_INTERACTION_CALLBACK)
        assert call.params["interaction_id"] == payload["id"]
        assert call.query == {"with_response": "1"}
        assert call.json["type"] == 4
        assert call.json["data"]["content"] == "Poll: Lunch?"
        buttons = call.json["data"]["components"][0]["components"]
        assert [b["custom_id"] for b in buttons] == [
            "townhall:poll:yes",
            "townhall:poll:comment",
            "townhall:poll:details",
        ]

        record = fake.interaction(payload)
        assert record.response_type == 4
        (message,) = fake.channel_messages(fake.channel.id)
        assert int(message["id"]) == record.original_message_id
        assert message["content"] == "Poll: Lunch?"
        assert not message["flags"] & FLAG_EPHEMERAL
        assert message["interaction_metadata"]["user"]["id"] == str(fake.alice.id)

        # The builder checks options against the synced command.
        with pytest.raises(ValueError, match="not in the synced command"):
            fake.slash_command(options={"question": "x", "colour": "red"})
        with pytest.raises(ValueError, match="required options"):
            fake.slash_command(options={"duration": 5})
    fake.assert_no_unhandled()


async def test_button_click_is_ephemeral_and_persistent_view_survives_restart(
    fake: FakeDiscord, signals: Signals
) -> None:
    first = Bot(fake, signals)
    async with fake.running(first):
        message_id = await start_poll(fake, first, signals, "Bike lanes?")
        click = fake.component_click(message_id, "townhall:poll:yes", fake.bob)
        assert click["data"] == {"custom_id": "townhall:poll:yes", "component_type": 2}
        await fake.dispatch("INTERACTION_CREATE", click)
        assert await signals.wait("vote") == [(fake.bob.id, "townhall:poll:yes")]
        call = await fake.wait_for_call(
            lambda c: c.params.get("interaction_id") == click["id"],
            route=ROUTE_INTERACTION_CALLBACK,
        )
        assert call.json["type"] == 4
        assert call.json["data"]["flags"] & FLAG_EPHEMERAL
        ephemeral = fake.get_message(fake.interaction(click).original_message_id or 0)
        assert ephemeral["flags"] & FLAG_EPHEMERAL

        with pytest.raises(ValueError, match="no component"):
            fake.component_click(message_id, "townhall:poll:nope", fake.bob)

    # "Restart": a new Client object that registers the view persistently.
    await fake.wait_until_disconnected()
    second = Bot(fake, signals, persistent=True)
    async with fake.running(second):
        assert len(fake.sessions) == 2
        assert fake.sessions[1].session_id != fake.sessions[0].session_id
        since = fake.mark()
        click = fake.component_click(message_id, "townhall:poll:yes", fake.alice)
        await fake.dispatch("INTERACTION_CREATE", click)
        votes = await signals.wait("vote", 2)
        assert votes[1] == (fake.alice.id, "townhall:poll:yes")
        call = await fake.wait_for_call(route=ROUTE_INTERACTION_CALLBACK, since=since)
        assert call.params["interaction_id"] == click["id"]
        assert call.json["data"]["flags"] & FLAG_EPHEMERAL
    fake.assert_no_unhandled()


async def test_modal_opened_by_button_receives_submitted_text(
    fake: FakeDiscord, signals: Signals
) -> None:
    bot = Bot(fake, signals)
    async with fake.running(bot):
        channel = bot.get_channel(fake.channel.id)
        assert isinstance(channel, discord.TextChannel)
        # channel.send(view=...) stores the view under the new message id.
        sent = await channel.send("Poll: Parks?", view=PollView(signals))
        assert fake.get_message(sent.id)["components"]

        click = fake.component_click(sent.id, "townhall:poll:comment", fake.bob)
        await fake.dispatch("INTERACTION_CREATE", click)
        await signals.wait("modal_opened")
        call = await fake.wait_for_call(route=ROUTE_INTERACTION_CALLBACK)
        assert call.json["type"] == 9
        modal = fake.last_modal()
        assert modal["title"] == "Comment on the poll"
        assert modal["components"][0]["type"] == 1
        assert modal["components"][0]["components"][0]["custom_id"] == "comment"
        assert fake.interaction(click).modal == modal

        with pytest.raises(ValueError, match="no inputs"):
            fake.modal_submit(modal["custom_id"], {"wrong": "x"}, source=click)
        submit = fake.modal_submit(modal["custom_id"], {"comment": "More trees"}, source=click)
        assert submit["data"]["components"] == [
            {"type": 1, "components": [{"type": 4, "custom_id": "comment", "value": "More trees"}]}
        ]
        await fake.dispatch("INTERACTION_CREATE", submit)
        assert await signals.wait("comment") == [(fake.bob.id, "More trees")]
        answer = await fake.wait_for_call(
            lambda c: c.params.get("interaction_id") == submit["id"],
            route=ROUTE_INTERACTION_CALLBACK,
        )
        assert answer.json["type"] == 4 and answer.json["data"]["flags"] & FLAG_EPHEMERAL

        # The newer label (type 18) modal shape round-trips as well.
        click = fake.component_click(sent.id, "townhall:poll:details", fake.bob)
        await fake.dispatch("INTERACTION_CREATE", click)
        await signals.wait("modal_opened", 2)
        modal = await fake.wait_for(lambda: fake.interaction(click).modal, what="the details modal")
        assert modal["components"][0]["type"] == 18
        submit = fake.modal_submit(modal["custom_id"], {"detail": "Near the river"}, source=click)
        assert submit["data"]["components"][0]["type"] == 18
        await fake.dispatch("INTERACTION_CREATE", submit)
        assert await signals.wait("detail") == ["Near the river"]
        answer = await fake.wait_for_call(
            lambda c: c.params.get("interaction_id") == submit["id"],
            route=ROUTE_INTERACTION_CALLBACK,
        )
        assert answer.json["type"] == 6  # deferred update on a modal from a message
    fake.assert_no_unhandled()


async def test_rate_limit_is_waited_out_and_forbidden_raises(
    fake: FakeDiscord, signals: Signals
) -> None:
    bot = Bot(fake, signals)
    async with fake.running(bot):
        channel = bot.get_channel(fake.channel.id)
        assert isinstance(channel, discord.TextChannel)

        fake.rate_limit_next("POST", r"/channels/\d+/messages", retry_after=0.2)
        since = fake.mark()
        loop = asyncio.get_running_loop()
        started = loop.time()
        message = await channel.send("hello")
        assert loop.time() - started >= 0.2
        calls = fake.find_calls(method="POST", route=ROUTE_CHANNEL_MESSAGES, since=since)
        assert [c.status for c in calls] == [429, 200]
        assert calls[0].injected and calls[1].json == calls[0].json
        assert [m["content"] for m in fake.channel_messages(fake.channel.id)] == ["hello"]
        assert fake.get_message(message.id)["content"] == "hello"

        fake.forbid(fake.channel.id)
        with pytest.raises(discord.Forbidden) as excinfo:
            await channel.send("not allowed")
        assert excinfo.value.status == 403
        assert excinfo.value.code == 50013
        assert len(fake.channel_messages(fake.channel.id)) == 1
        fake.allow(fake.channel.id)
        await channel.send("allowed again")
    fake.assert_no_unhandled()


async def test_unknown_route_is_recorded(fake: FakeDiscord, signals: Signals) -> None:
    bot = Bot(fake, signals)
    async with fake.running(bot):
        guild = bot.get_guild(fake.guild.id)
        assert guild is not None
        with pytest.raises(discord.NotFound):
            await guild.fetch_emojis()
    assert [(u.kind, u.method, u.path) for u in fake.unhandled] == [
        ("http", "GET", f"/guilds/{fake.guild.id}/emojis")
    ]
    with pytest.raises(AssertionError, match="unhandled"):
        fake.assert_no_unhandled()
    fake.unhandled.clear()  # provoked on purpose: the check on exit would fail the test


async def test_deferred_response_followup_context_menu_and_duplicate_delivery(
    fake: FakeDiscord, signals: Signals
) -> None:
    bot = Bot(fake, signals)
    async with fake.running(bot):
        await bot.tree.sync(guild=discord.Object(fake.guild.id))

        # Deferred (thinking, ephemeral) → edit @original → followup webhook.
        ask = fake.slash_command(subcommand="ask", options={"topic": "parks"}, user=fake.bob)
        await fake.dispatch("INTERACTION_CREATE", ask)
        ((topic, followup_id),) = await signals.wait("ask")
        assert topic == "parks"
        record = fake.interaction(ask)
        assert [c["type"] for c in record.callbacks] == [5]
        assert record.callbacks[0]["data"]["flags"] == FLAG_EPHEMERAL
        original = fake.get_message(record.original_message_id or 0)
        assert original["content"] == "Question about parks is open"
        assert original["flags"] & FLAG_EPHEMERAL and not original["flags"] & FLAG_LOADING
        assert record.followup_message_ids == [followup_id]
        assert fake.get_message(followup_id)["content"] == "Share the link!"
        routes = [c.route for c in fake.calls if c.route and c.route.startswith("/webhooks")]
        assert routes == [ROUTE_WEBHOOK_MESSAGE, ROUTE_WEBHOOK]

        # Message context menu on a message a user wrote.
        written = fake.user_message(fake.channel.id, fake.alice, "We need more benches")
        menu = fake.message_context_menu(None, None, fake.bob, "Summarize", written["id"])
        assert menu["data"]["type"] == 3 and menu["data"]["target_id"] == written["id"]
        await fake.dispatch("INTERACTION_CREATE", menu)
        assert await signals.wait("summarize") == [
            (int(written["id"]), "We need more benches", fake.alice.id)
        ]

        # The same INTERACTION_CREATE delivered twice: the second answer is rejected.
        poll = fake.slash_command(options={"question": "Twice?"})
        await fake.dispatch("INTERACTION_CREATE", poll)
        await fake.dispatch("INTERACTION_CREATE", poll)
        assert await signals.wait("respond_failed") == [40060]
        await signals.wait("poll")
        record = fake.interaction(poll)
        assert record.deliveries == 2 and len(record.callbacks) == 2
        assert (
            len([m for m in fake.channel_messages(fake.channel.id) if "Twice" in m["content"]]) == 1
        )
    fake.assert_no_unhandled()


async def test_gateway_resume_after_reconnect_request(fake: FakeDiscord, signals: Signals) -> None:
    bot = Bot(fake, signals)
    async with fake.running(bot):
        session = fake.sessions[0]
        await fake.request_reconnect()
        await fake.wait_for(lambda: session.resumes or None, what="RESUME")
        await fake.wait_until_ready()
        assert len(fake.sessions) == 1
        await start_poll(fake, bot, signals, "After resume?")
        assert signals.seen["poll"][0][0] == "After resume?"
    fake.assert_no_unhandled()


async def test_members_intent_and_custom_guilds() -> None:
    carol = FakeUser(id=4242, username="carol")
    guild = FakeGuild(
        id=777,
        name="Council",
        channels=[FakeChannel(id=778, name="town-square")],
        members=[FakeMember(carol)],
    )
    async with FakeDiscord(guilds=[guild]) as fake:
        intents = discord.Intents.default()
        intents.members = True
        client = discord.Client(intents=intents, guild_ready_timeout=0.05)
        async with fake.running(client):
            cached = client.get_guild(777)
            assert cached is not None and cached.owner_id == carol.id
            assert {m.id for m in cached.members} == {carol.id, fake.bot_user.id}
            assert cached.chunked
        fake.assert_no_unhandled()


async def test_wrong_token_is_a_login_failure(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    finally:
        await client.close()
    assert fake.calls[0].status == 401


async def test_autocomplete_returns_choices(fake: FakeDiscord, signals: Signals) -> None:
    bot = Bot(fake, signals)
    async with fake.running(bot):
        await bot.tree.sync(guild=discord.Object(fake.guild.id))
        payload = fake.autocomplete(
            None, None, fake.bob, "townhall", "ask", {"topic": "par"}, "topic"
        )
        assert payload["type"] == 4
        await fake.dispatch("INTERACTION_CREATE", payload)
        assert await signals.wait("autocomplete") == ["par"]
        call = await fake.wait_for_call(route=ROUTE_INTERACTION_CALLBACK)
        assert call.json["type"] == 8
        assert fake.interaction(payload).autocomplete_choices == [
            {"name": "parks", "value": "parks"},
            {"name": "parking", "value": "parking"},
        ]
    fake.assert_no_unhandled()


class Listener(discord.Client):
    def __init__(self, signals: Signals, intents: discord.Intents) -> None:
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.signals = signals

    async def on_message(self, message: discord.Message) -> None:
        self.signals.add("message", (message.author.id, message.content))

    async def on_message_edit(self, before: discord.Message, after: discord.Message) -> None:
        self.signals.add("edit", after.content)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.signals.add("thread", thread.id)


async def test_messages_threads_dms_and_echoed_events(signals: Signals) -> None:
    async with FakeDiscord(echo_events=True) as fake:
        intents = discord.Intents.default()
        intents.message_content = True
        bot = Listener(signals, intents)
        async with fake.running(bot):
            channel = bot.get_channel(fake.channel.id)
            assert isinstance(channel, discord.TextChannel)

            # A user's message arrives through the gateway.
            await fake.dispatch(
                "MESSAGE_CREATE", fake.user_message(content="Hi bot", user=fake.bob)
            )
            assert await signals.wait("message") == [(fake.bob.id, "Hi bot")]

            # The bot's own message is echoed back (as Discord does) and can be edited.
            sent = await channel.send("Results soon")
            assert (await signals.wait("message", 2))[1] == (fake.bot_user.id, "Results soon")
            await sent.edit(content="Results: 3 yes, 1 no")
            assert await signals.wait("edit") == ["Results: 3 yes, 1 no"]
            fetched = await channel.fetch_message(sent.id)
            assert fetched.content == "Results: 3 yes, 1 no" and fetched.edited_at is not None

            # Threads from a message, and posting inside them.
            thread = await sent.create_thread(name="Discussion")
            assert thread.id == sent.id and thread.parent_id == channel.id
            assert await signals.wait("thread") == [thread.id]
            await thread.send("First!")
            assert fake.channel_messages(thread.id)[0]["content"] == "First!"

            # DMs, including a user who blocks them.
            alice = await bot.fetch_user(fake.alice.id)
            await alice.send("Your poll closed")
            (dm_call,) = fake.find_calls(method="POST", route="/users/@me/channels")
            dm_channel_id = int(dm_call.response["id"])
            assert fake.channel_messages(dm_channel_id)[0]["content"] == "Your poll closed"
            fake.block_dms(fake.bob.id)
            bob = await bot.fetch_user(fake.bob.id)
            with pytest.raises(discord.Forbidden) as excinfo:
                await bob.send("hello")
            assert excinfo.value.code == 50007

            # Arbitrary injected failures, and deletes.
            fake.fail_next(
                "GET",
                r"/channels/\d+/messages/\d+",
                404,
                {"message": "Unknown Message", "code": 10008},
            )
            with pytest.raises(discord.NotFound):
                await channel.fetch_message(sent.id)
            await sent.delete()
            assert sent.id not in fake.messages
        fake.assert_no_unhandled()


async def test_disallowed_privileged_intent_fails_identify() -> None:
    async with FakeDiscord(enabled_privileged_intents=0) as fake:
        intents = discord.Intents.default()
        intents.members = True
        client = discord.Client(intents=intents)
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with fake.running(client):
                pass
        assert fake.sessions == []
