"""The Slack adapter alone, with a scripted dispatch: what it hands the core, and how it
acknowledges Slack when the core is fast, slow, or down. No database needed here."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.slack import SlackAdapter
from bot.adapter import Dispatch, Outcome
from bot.errors import DeliveryError
from bot.events import Event, EventKind, MessageRef, Target
from bot.views import Button, Card, Notice
from tests.fakes.slack import FakeSlack, SlackEventsClient, serve_web_app

pytestmark = pytest.mark.timeout(30)

SECRET = "slack-signing-secret-for-tests-0123"
USER = "U0ANN"
CHANNEL = "C0CONSULT"


class Core:
    """A stand-in for ``Townhall.dispatch``: records events, can be slow or down."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.gate: asyncio.Event | None = None
        self.down = False
        self.seen: set[str] = set()

    async def __call__(self, event: Event) -> Outcome:
        self.events.append(event)
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise OSError("connection refused")
        if event.event_id in self.seen:
            return Outcome(duplicate=True)
        self.seen.add(event.event_id)
        return Outcome(handled=True, notices=[Notice(f"ok: {event.kind.value}")])


@asynccontextmanager
async def running(
    fake: FakeSlack, core: Dispatch | None, **options: Any
) -> AsyncIterator[tuple[SlackAdapter, SlackEventsClient]]:
    adapter = SlackAdapter(
        bot_token=fake.bot_token, signing_secret=SECRET, api_url=fake.api_url, **options
    )
    if core is not None:
        await adapter.start(core)
    web_app = web.Application()
    web_app.router.add_routes(adapter.http_routes())
    try:
        async with serve_web_app(web_app) as base, SlackEventsClient(base, SECRET, fake=fake) as c:
            yield adapter, c
            await adapter.settle()
    finally:
        await adapter.stop()


async def card(adapter: SlackAdapter, fake: FakeSlack) -> dict[str, Any]:
    """A bot message with a vote button and an Answer button, posted by the adapter."""
    view = Card(
        "Open the library on Sundays?",
        buttons=(
            Button("Yes", "vote", "abc123:1"),
            Button("Answer", "answer", "abc123", style="primary", opens_form=True),
        ),
    )
    ref = await adapter.send(Target(CHANNEL), view)
    return fake.message(CHANNEL, ref.message_id)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


async def test_each_kind_of_request_becomes_one_core_event(fake: FakeSlack) -> None:
    core = Core()
    async with running(fake, core) as (adapter, slack):
        message = await card(adapter, fake)
        command = await slack.slash_command(USER, CHANNEL, '  poll "Q?" "A" "B" ', user_name="ann")
        vote = await slack.block_action(USER, CHANNEL, message, "vote:abc123:1")
        form = await slack.block_action(USER, CHANNEL, message, "form:answer:abc123")
        submit = await slack.view_submission(
            USER, "form:answer:abc123", values={"answer": {"text": "Longer opening hours"}}
        )
        reply = slack.message_event(USER, CHANNEL, "a &lt;b&gt; c", thread_ts=message["ts"])
        replied = await slack.event(reply, event_id="Ev0REPLY")
        report = await slack.message_shortcut("U0BOB", CHANNEL, reply["ts"], "report")
        for result in (command, vote, form, submit, replied, report):
            assert result.status == 200

    kinds = [(e.kind, e.action_id, e.action_value) for e in core.events]
    assert kinds == [
        (EventKind.COMMAND, "", ""),
        (EventKind.ACTION, "vote", "abc123:1"),
        (EventKind.SUBMIT, "answer", "abc123"),
        (EventKind.REPLY, "", ""),
        (EventKind.ACTION, "report", f"m:{CHANNEL}:{reply['ts']}"),
    ]  # the form button opened a modal instead of reaching the core
    cmd, click, sub, rep, rpt = core.events
    assert cmd.text == 'poll "Q?" "A" "B"' and cmd.actor.display_name == "ann"
    assert cmd.target.channel_id == CHANNEL and not cmd.target.private
    assert click.target.message_id == message["ts"] and click.actor.user_id == USER
    assert sub.text == "Longer opening hours" and sub.target.channel_id == CHANNEL
    assert rep.text == "a <b> c" and rep.reply_to == message["ts"]
    assert rep.target.message_id == reply["ts"] and rep.event_id == "ev:Ev0REPLY"
    assert rpt.actor.user_id == "U0BOB" and rpt.target.message_id == reply["ts"]
    assert all(e.platform == "slack" for e in core.events)
    # ids are Slack's own stable ids, and never contain the person's Slack id
    assert all(USER not in e.event_id and len(e.event_id) <= 200 for e in core.events)
    assert len({e.event_id for e in core.events}) == 5

    (opened,) = fake.calls_to("views.open")
    assert opened.ok and opened["view"]["callback_id"] == "form:answer:abc123"
    assert json.loads(opened["view"]["private_metadata"]) == {"c": CHANNEL, "m": message["ts"]}
    assert opened["view"]["blocks"][0]["label"]["text"] == "Open the library on Sundays?"
    assert command.json()["text"] == "ok: command"
    assert submit.json()["view"]["blocks"][0]["text"]["text"] == "ok: submit"
    said = sorted(e["text"] for e in fake.ephemerals)
    assert said == ["ok: action", "ok: action", "ok: reply"]


async def test_buttons_on_a_private_card_work_and_the_answer_replaces_it(
    fake: FakeSlack,
) -> None:
    class Consent(Core):
        async def __call__(self, event: Event) -> Outcome:
            await super().__call__(event)
            if event.kind is EventKind.COMMAND:  # e.g. the privacy consent card
                buttons = (Button("I agree", "consent", "yes"), Button("No", "consent", "no"))
                return Outcome(True, notices=[Card("Before we record it", buttons=buttons)])
            return Outcome(True, notices=[Notice("Thanks, recorded.")])

    core = Consent()
    async with running(fake, core) as (adapter, slack):
        command = await slack.slash_command(USER, CHANNEL, "privacy")
        blocks = command.json()["blocks"]
        values = [el["value"] for b in blocks if b["type"] == "actions" for el in b["elements"]]
        assert values == ["consent:yes", "consent:no"]
        # Slack keeps the ephemeral; the person clicks "I agree" on it
        ephemeral = {"type": "message", "ts": "1700000000.999999", "blocks": blocks}
        click = await slack.block_action(
            USER,
            CHANNEL,
            ephemeral,
            "consent:yes",
            response_url=fake.new_response_url(
                channel_id=CHANNEL,
                user_id=USER,
                message_ts="1700000000.999999",
                is_ephemeral=True,
            ),
            is_ephemeral=True,
        )
        assert click.status == 200
        await adapter.settle()
    assert core.events[-1].action_id == "consent" and core.events[-1].action_value == "yes"
    (post,) = fake.responses
    assert post.replace_original and post.text == "Thanks, recorded."


async def test_private_sends_go_to_the_persons_direct_messages(fake: FakeSlack) -> None:
    adapter = SlackAdapter(bot_token=fake.bot_token, signing_secret=SECRET, api_url=fake.api_url)
    fake.add_user(USER)
    ref = await adapter.send(Target(USER, private=True), Notice("A moderator hid your answer."))
    assert ref.channel_id == "D0ANN"
    assert fake.message("D0ANN", ref.message_id)["text"] == "A moderator hid your answer."
    await adapter.edit(ref, Notice("Updated"))
    assert fake.message("D0ANN", ref.message_id)["text"] == "Updated"


async def test_form_button_falls_back_to_the_core_when_the_modal_cannot_open(
    fake: FakeSlack,
) -> None:
    core = Core()
    async with running(fake, core) as (adapter, slack):
        message = await card(adapter, fake)
        fake.fail_next("views.open", "expired_trigger_id")
        result = await slack.block_action(USER, CHANNEL, message, "form:answer:abc123")
        assert result.status == 200
    ((kind, action),) = [(e.kind, e.action_id) for e in core.events]
    assert (kind, action) == (EventKind.ACTION, "answer")  # the core explains how to reply
    assert [e["text"] for e in fake.ephemerals_for(USER)] == ["ok: action"]


async def test_slow_core_is_acknowledged_first_and_answered_later(fake: FakeSlack) -> None:
    core = Core()
    core.gate = asyncio.Event()
    async with running(fake, core, ack_budget=0.05) as (adapter, slack):
        message = await card(adapter, fake)
        command = await slack.slash_command(USER, CHANNEL, "list")
        assert command.json() == {"text": "Working on it…", "response_type": "ephemeral"}
        click = await slack.block_action(USER, CHANNEL, message, "vote:abc123:1")
        assert (click.status, click.body) == (200, "")
        await slack.block_action("U0BOB", CHANNEL, message, "form:answer:abc123")
        submit = await slack.view_submission(
            "U0BOB", "form:answer:abc123", values={"answer": {"text": "Later"}}
        )
        assert submit.json()["view"]["blocks"][0]["text"]["text"] == "Saving your answer…"
        assert fake.responses == []  # nothing said before the commit
        core.gate.set()
        await adapter.settle()
        await fake.wait_for_response(count=2)
        await fake.wait_for_call("views.update")
    assert sorted(r.text or "" for r in fake.responses) == ["ok: action", "ok: command"]
    assert all(r.response_type == "ephemeral" and not r.replace_original for r in fake.responses)
    (update,) = fake.calls_to("views.update")
    assert update.ok and update["view"]["blocks"][0]["text"]["text"] == "ok: submit"


async def test_database_down_nothing_is_acknowledged_as_done(fake: FakeSlack) -> None:
    core = Core()
    core.down = True
    async with running(fake, core) as (adapter, slack):
        message = await card(adapter, fake)
        command = await slack.slash_command(USER, CHANNEL, "list")
        assert command.status == 200 and command.json()["text"].startswith("Sorry, Townhall cannot")

        click = await slack.block_action(USER, CHANNEL, message, "vote:abc123:1")
        assert click.status == 200  # Slack never redelivers a click: apologise instead
        await adapter.settle()
        (sorry,) = fake.ephemerals_for(USER)
        assert sorry["text"].startswith("Sorry, Townhall cannot")

        await slack.block_action("U0BOB", CHANNEL, message, "form:answer:abc123")
        submit = await slack.view_submission(
            "U0BOB", "form:answer:abc123", values={"answer": {"text": "Keep me"}}
        )
        ack = submit.json()
        assert ack["response_action"] == "errors" and "answer" in ack["errors"]
        assert fake.open_views("U0BOB")  # the modal, and the person's text, stay open

        reply = slack.message_event(USER, CHANNEL, "An answer", thread_ts=message["ts"])
        failed = await slack.event(reply)
        assert failed.status == 500  # so Slack delivers the event again
        core.down = False
        again = await slack.send(failed.request, retry_num=1, retry_reason="http_error")
        assert again.status == 200
    replies = [e for e in core.events if e.kind is EventKind.REPLY]
    assert len(replies) == 2 and replies[0].event_id == replies[1].event_id


async def test_requests_before_start_are_not_acknowledged_as_done(fake: FakeSlack) -> None:
    async with running(fake, None) as (adapter, slack):
        message = await card(adapter, fake)
        reply = slack.message_event(USER, CHANNEL, "Too early", thread_ts=message["ts"])
        assert (await slack.event(reply)).status == 500
        command = await slack.slash_command(USER, CHANNEL, "help")
        assert command.json()["text"].startswith("Sorry, Townhall cannot")


async def test_send_and_edit_map_slack_errors_for_the_outbox(fake: FakeSlack) -> None:
    adapter = SlackAdapter(bot_token=fake.bot_token, signing_secret=SECRET, api_url=fake.api_url)
    target = Target(CHANNEL)
    ref = await adapter.send(target, Notice("hello <world> & co"))
    assert ref == MessageRef("slack", CHANNEL, ref.message_id, None)
    stored = fake.message(CHANNEL, ref.message_id)
    assert stored["text"] == "hello &lt;world&gt; &amp; co"
    assert stored["blocks"][0]["text"]["text"] == "hello <world> & co"

    threaded = await adapter.send(target, Notice("in thread"), reply_to=ref.message_id)
    assert threaded.thread_id == ref.message_id
    assert fake.thread_replies(CHANNEL, ref.message_id)[0]["text"] == "in thread"

    fake.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(DeliveryError) as limited:
        await adapter.send(target, Notice("x"))
    assert limited.value.retry_after == 7 and not limited.value.permanent

    for error, permanent in [("channel_not_found", True), ("internal_error", False)]:
        fake.fail_next("chat.postMessage", error)
        with pytest.raises(DeliveryError) as failed:
            await adapter.send(target, Notice("x"))
        assert failed.value.permanent is permanent and failed.value.retry_after is None

    fake.fail_next("chat.update", "fatal_error", status=500)
    with pytest.raises(DeliveryError) as server:
        await adapter.edit(ref, Notice("y"))
    assert not server.value.permanent and server.value.retry_after is None
    with pytest.raises(DeliveryError) as gone:
        await adapter.edit(MessageRef("slack", CHANNEL, "1.000001"), Notice("y"))
    assert gone.value.permanent  # message_not_found

    await adapter.edit(ref, Notice("edited"))
    assert fake.message(CHANNEL, ref.message_id)["text"] == "edited"

    down = SlackAdapter(
        bot_token=fake.bot_token, signing_secret=SECRET, api_url="http://127.0.0.1:9/api/"
    )
    with pytest.raises(DeliveryError) as unreachable:
        await down.send(target, Notice("x"))
    assert not unreachable.value.permanent


# -- Socket Mode -----------------------------------------------------------------------------


@asynccontextmanager
async def socket_mode_server(fake: FakeSlack) -> AsyncIterator[dict[str, Any]]:
    """``apps.connections.open`` plus a Socket Mode websocket; other Web API calls go to the
    fake. The test pushes envelopes through ``state["send"]`` and reads the app's acks."""
    state: dict[str, Any] = {"acks": asyncio.Queue(), "ready": asyncio.Event(), "tokens": []}

    async def connections_open(request: web.Request) -> web.Response:
        state["tokens"].append(request.headers.get("Authorization", ""))
        return web.json_response({"ok": True, "url": state["wss"]})

    async def api(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method,
                fake.api_url + request.match_info["method"],
                params=request.query,
                data=await request.read(),
                headers=headers,
            ) as resp,
        ):
            return web.Response(
                status=resp.status, body=await resp.read(), content_type="application/json"
            )

    async def link(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        state["send"] = ws.send_json
        state["ready"].set()
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await state["acks"].put(json.loads(msg.data))
        return ws

    app = web.Application()
    app.router.add_post("/api/apps.connections.open", connections_open)
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_get("/link", link)
    async with serve_web_app(app) as base:
        state["api_url"] = base + "/api/"
        state["wss"] = base.replace("http://", "ws://") + "/link"
        yield state


async def test_socket_mode_receives_over_the_websocket(fake: FakeSlack) -> None:
    core = Core()
    async with socket_mode_server(fake) as server:
        adapter = SlackAdapter(
            bot_token=fake.bot_token,
            signing_secret=SECRET,
            api_url=server["api_url"],
            app_token="xapp-1-test-app-token",
        )
        assert adapter.http_routes() == []  # nothing to expose publicly
        await adapter.start(core)
        try:
            async with asyncio.timeout(10):
                await server["ready"].wait()
            assert server["tokens"] == ["Bearer xapp-1-test-app-token"]
            slack = SlackEventsClient("http://unused", SECRET, fake=fake)
            command = slack.build_slash_command(USER, CHANNEL, "help")
            await server["send"](
                {
                    "envelope_id": "env-1",
                    "type": "slash_commands",
                    "payload": command.payload,
                    "accepts_response_payload": True,
                }
            )
            ack = await asyncio.wait_for(server["acks"].get(), 10)
            assert ack["envelope_id"] == "env-1"
            assert ack["payload"]["text"] == "ok: command"
            envelope = slack.build_event(
                slack.message_event(
                    USER, CHANNEL, "In the thread", thread_ts=(await card(adapter, fake))["ts"]
                ),
                event_id="Ev0SOCKET",
            ).payload
            await server["send"](
                {
                    "envelope_id": "env-2",
                    "type": "events_api",
                    "payload": envelope,
                    "accepts_response_payload": False,
                    "retry_attempt": 0,
                    "retry_reason": "",
                }
            )
            ack = await asyncio.wait_for(server["acks"].get(), 10)
            assert ack == {"envelope_id": "env-2"}
        finally:
            await adapter.stop()
    assert [(e.kind, e.event_id) for e in core.events] == [
        (EventKind.COMMAND, core.events[0].event_id),
        (EventKind.REPLY, "ev:Ev0SOCKET"),
    ]
