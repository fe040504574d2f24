"""Drive the real slack-bolt AsyncApp / slack_sdk AsyncWebClient against tests.fakes.slack."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import (
    STALE_SECONDS,
    FakeSlack,
    SlackEventsClient,
    bolt_aiohttp_handler,
    serve_bolt_app,
    serve_web_app,
    sign_request,
    validate_blocks,
)

pytestmark = pytest.mark.timeout(20)

SECRET = "test-signing-secret-0123456789"
USER = "U0ALICE"
CHANNEL = "C0POLLS"

POLL_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "block_id": "question", "text": {"type": "mrkdwn", "text": "*Lunch?*"}},
    {
        "type": "actions",
        "block_id": "vote",
        "elements": [
            {
                "type": "button",
                "action_id": "vote_yes",
                "text": {"type": "plain_text", "text": "Yes"},
                "value": "yes",
            },
            {
                "type": "button",
                "action_id": "vote_no",
                "text": {"type": "plain_text", "text": "No"},
                "value": "no",
            },
            {
                "type": "static_select",
                "action_id": "scale",
                "placeholder": {"type": "plain_text", "text": "Rate"},
                "options": [
                    {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)}
                    for i in range(1, 6)
                ],
            },
        ],
    },
]

MODAL = {
    "type": "modal",
    "callback_id": "poll_modal",
    "private_metadata": "chan=C0POLLS",
    "title": {"type": "plain_text", "text": "New poll"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "question",
            "label": {"type": "plain_text", "text": "Question"},
            "element": {"type": "plain_text_input", "action_id": "q"},
        },
        {
            "type": "input",
            "block_id": "kind",
            "optional": True,
            "label": {"type": "plain_text", "text": "Kind"},
            "element": {
                "type": "static_select",
                "action_id": "k",
                "options": [
                    {"text": {"type": "plain_text", "text": "Poll"}, "value": "poll"},
                    {"text": {"type": "plain_text", "text": "Scale"}, "value": "scale"},
                ],
            },
        },
    ],
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def app(fake: FakeSlack) -> AsyncApp:
    return AsyncApp(
        client=AsyncWebClient(token=fake.bot_token, base_url=fake.api_url),
        signing_secret=SECRET,
        process_before_response=True,
    )


@pytest.fixture
async def slack(fake: FakeSlack, app: AsyncApp) -> AsyncIterator[SlackEventsClient]:
    async with serve_bolt_app(app) as url, SlackEventsClient(url, SECRET, fake=fake) as client:
        yield client


def register_poll_command(app: AsyncApp) -> None:
    @app.command("/townhall")
    async def townhall(
        ack: Any, command: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        await ack()
        await client.chat_postMessage(
            channel=command["channel_id"], text="Lunch?", blocks=POLL_BLOCKS
        )
        await respond("Poll created")


async def post_poll(fake: FakeSlack, slack: SlackEventsClient, app: AsyncApp) -> dict[str, Any]:
    register_poll_command(app)
    status, _ = await slack.slash_command(USER, CHANNEL, "new Lunch?")
    assert status == 200
    return fake.bot_messages(CHANNEL)[-1]


# --------------------------------------------------------------------------------------------


async def test_slash_command_posts_blocks_and_responds_ephemeral(
    fake: FakeSlack, app: AsyncApp, slack: SlackEventsClient
) -> None:
    seen: list[dict[str, Any]] = []

    @app.command("/townhall")
    async def townhall(
        ack: Any, command: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        seen.append(command)
        await ack()
        await client.chat_postMessage(
            channel=command["channel_id"], text="Lunch?", blocks=POLL_BLOCKS
        )
        await respond("Poll created")

    result = await slack.slash_command(USER, CHANNEL, "new Lunch?")
    status, body = result
    assert (status, body) == (200, "")
    assert result.request.content_type == "application/x-www-form-urlencoded"

    # the command arrived shaped like Slack's
    cmd = seen[0]
    assert cmd["command"] == "/townhall" and cmd["text"] == "new Lunch?"
    assert cmd["team_id"] == "T0TEST" and cmd["user_id"] == USER and cmd["channel_id"] == CHANNEL
    assert cmd["response_url"].startswith(fake.base_url + "/response/")
    assert cmd["trigger_id"] and cmd["api_app_id"] == "A0TEST"

    # bolt calls auth.test lazily on the first request; slack_sdk sends it as query params
    (auth,) = fake.calls_to("auth.test")
    assert auth.ok and auth.encoding == "query" and auth.token == fake.bot_token

    # chat.postMessage is sent as JSON with a Bearer token; bolt adds team_id
    (post,) = fake.calls_to("chat.postMessage")
    assert post.encoding == "json"
    assert post.headers["Authorization"] == f"Bearer {fake.bot_token}"
    assert post["channel"] == CHANNEL and post["team_id"] == "T0TEST"
    assert post["blocks"][1]["elements"][0]["action_id"] == "vote_yes"
    assert post.response["ts"] == "1700000000.000100"

    stored = fake.message(CHANNEL, post.response["ts"])
    assert stored["text"] == "Lunch?" and stored["user"] == "U0BOT" and stored["bot_id"] == "B0BOT"
    assert [b["block_id"] for b in stored["blocks"]] == ["question", "vote"]
    assert stored["blocks"][1]["elements"][0]["text"]["emoji"] is True  # Slack adds defaults

    (resp,) = fake.responses
    assert resp.ok and resp.response_type == "ephemeral" and resp.text == "Poll created"
    assert resp.replace_original is False and resp.effect == "ephemeral"
    assert fake.ephemerals_for(USER, CHANNEL)[0]["text"] == "Poll created"
    fake.assert_no_unhandled()


async def test_block_action_reaches_action_handler(
    fake: FakeSlack, app: AsyncApp, slack: SlackEventsClient
) -> None:
    poll = await post_poll(fake, slack, app)
    got: list[dict[str, Any]] = []

    @app.action("vote_yes")
    async def vote(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        got.append(body)
        channel, ts = body["channel"]["id"], body["message"]["ts"]
        await client.chat_postEphemeral(
            channel=channel, user=body["user"]["id"], text="Thanks for voting"
        )
        await client.chat_update(channel=channel, ts=ts, text="Lunch? (1 vote)")

    status, _ = await slack.block_action(USER, CHANNEL, poll, "vote_yes")
    assert status == 200

    body = got[0]
    assert body["type"] == "block_actions"
    assert body["container"] == {
        "type": "message",
        "message_ts": poll["ts"],
        "channel_id": CHANNEL,
        "is_ephemeral": False,
    }
    (action,) = body["actions"]
    assert action["action_id"] == "vote_yes" and action["block_id"] == "vote"
    assert action["value"] == "yes" and action["type"] == "button"
    assert body["message"]["blocks"] == poll["blocks"]
    assert body["state"]["values"]["vote"]["scale"] == {
        "type": "static_select",
        "selected_option": None,
    }

    (eph,) = fake.calls_to("chat.postEphemeral")
    assert eph.ok and eph["user"] == USER and eph.response["message_ts"]
    assert fake.ephemerals_for(USER)[-1]["text"] == "Thanks for voting"

    updated = fake.message(CHANNEL, poll["ts"])
    assert updated["text"] == "Lunch? (1 vote)"
    assert updated["blocks"] == poll["blocks"]  # chat.update without blocks keeps them
    assert "edited" in updated
    assert len(fake.message_versions(CHANNEL, poll["ts"])) == 2

    # selects: the option is looked up in the message; unknown options/actions fail loudly
    @app.action("scale")
    async def scale(ack: Any) -> None:
        await ack()

    result = await slack.block_action(USER, CHANNEL, poll["ts"], "scale", "4")
    assert result.status == 200
    sent_action = result.request.payload["actions"][0]
    assert sent_action["selected_option"]["value"] == "4"
    with pytest.raises(ValueError, match="not offered"):
        slack.build_block_action(USER, CHANNEL, poll, "scale", "9")
    with pytest.raises(LookupError):
        slack.build_block_action(USER, CHANNEL, poll, "no_such_button")


async def test_respond_replace_original_updates_the_message(
    fake: FakeSlack, app: AsyncApp, slack: SlackEventsClient
) -> None:
    poll = await post_poll(fake, slack, app)

    @app.action("vote_no")
    async def vote(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="Closed", replace_original=True)

    await slack.block_action(USER, CHANNEL, poll, "vote_no")
    post = await fake.wait_for_response(lambda r: r.replace_original)
    assert post.effect == "replaced" and post.message_ts == poll["ts"]
    assert fake.message(CHANNEL, poll["ts"])["text"] == "Closed"


async def test_view_submission_reaches_view_handler(
    fake: FakeSlack, app: AsyncApp, slack: SlackEventsClient
) -> None:
    submitted: list[dict[str, Any]] = []

    @app.command("/townhall")
    async def open_modal(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.view("poll_modal")
    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        submitted.append(view)
        question = view["state"]["values"]["question"]["q"]["value"]
        if question == "bad":
            await ack(response_action="errors", errors={"question": "Too short"})
        else:
            await ack()

    assert (await slack.slash_command(USER, CHANNEL, "new")).status == 200
    opened = fake.calls_to("views.open")[0]
    assert opened.ok
    view_id = opened.response["view"]["id"]
    assert [v["id"] for v in fake.open_views(USER)] == [view_id]

    # validation errors come back in the ack body; the modal stays open
    result = await slack.view_submission(USER, "poll_modal", values={"question": {"q": "bad"}})
    assert result.status == 200
    assert result.json() == {"response_action": "errors", "errors": {"question": "Too short"}}
    assert fake.open_views(USER)

    status, body = await slack.view_submission(
        USER,
        "poll_modal",
        values={
            "question": {"q": {"type": "plain_text_input", "value": "Lunch?"}},
            "kind": {"k": "scale"},
        },
    )
    assert (status, body) == (200, "")
    view = submitted[-1]
    assert view["id"] == view_id and view["callback_id"] == "poll_modal"
    assert view["private_metadata"] == "chan=C0POLLS"
    assert view["state"]["values"]["question"]["q"] == {
        "type": "plain_text_input",
        "value": "Lunch?",
    }
    assert view["state"]["values"]["kind"]["k"]["selected_option"]["value"] == "scale"
    assert fake.open_views(USER) == []  # an empty ack closes the modal

    # Slack would not submit an empty required input, nor inputs the modal doesn't have
    with pytest.raises(LookupError):
        slack.build_view_submission(
            USER, "poll_modal", values={"nope": {"x": "y"}}, view_id=view_id
        )
    with pytest.raises(ValueError, match="required input question/q is empty"):
        slack.build_view_submission(USER, "poll_modal", values={}, view_id=view_id)


async def test_views_open_trigger_rules(fake: FakeSlack) -> None:
    client = fake.web_client()
    trigger = fake.new_trigger_id(USER)
    await client.views_open(trigger_id=trigger, view=MODAL)
    with pytest.raises(SlackApiError) as reused:
        await client.views_open(trigger_id=trigger, view=MODAL)
    assert reused.value.response["error"] == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as unknown:
        await client.views_open(trigger_id="123.456.abc", view=MODAL)
    assert unknown.value.response["error"] == "invalid_trigger_id"
    bad_title = {**MODAL, "title": {"type": "plain_text", "text": "A title that is far too long"}}
    with pytest.raises(SlackApiError) as invalid:
        await client.views_open(trigger_id=fake.new_trigger_id(USER), view=bad_title)
    assert invalid.value.response["error"] == "invalid_arguments"
    assert (
        "json-pointer:/view/title/text"
        in invalid.value.response["response_metadata"]["messages"][0]
    )
    fake.trigger_ttl = -1.0  # every trigger is already older than Slack's 3 s window
    with pytest.raises(SlackApiError) as expired:
        await client.views_open(trigger_id=fake.new_trigger_id(USER), view=MODAL)
    assert expired.value.response["error"] == "expired_trigger_id"


async def test_thread_reply_message_event_reaches_event_handler(
    fake: FakeSlack, app: AsyncApp, slack: SlackEventsClient
) -> None:
    events: list[dict[str, Any]] = []

    @app.event("message")
    async def on_message(event: dict[str, Any], client: AsyncWebClient) -> None:
        events.append(event)
        if event.get("thread_ts"):
            await client.chat_postMessage(
                channel=event["channel"], thread_ts=event["thread_ts"], text="noted"
            )

    parent = await slack.event(slack.message_event(USER, CHANNEL, "What about lunch?"))
    assert parent.status == 200
    parent_ts = events[0]["ts"]
    reply = slack.message_event("U0BOB", CHANNEL, "Pizza!", thread_ts=parent_ts)
    result = await slack.event(reply)
    assert result.status == 200

    ev = events[1]
    assert ev["type"] == "message" and "subtype" not in ev
    assert ev["thread_ts"] == parent_ts and ev["parent_user_id"] == USER
    assert ev["channel"] == CHANNEL and ev["channel_type"] == "channel" and ev["text"] == "Pizza!"
    envelope = result.request.payload
    assert envelope["type"] == "event_callback" and envelope["event_id"].startswith("Ev")
    assert envelope["authorizations"][0]["user_id"] == "U0BOT"

    replies = fake.thread_replies(CHANNEL, parent_ts)
    assert [r["text"] for r in replies] == ["Pizza!", "noted"]
    assert fake.message(CHANNEL, parent_ts)["reply_count"] == 2

    # bolt drops events authored by its own bot user (auth.test user_id) before any listener
    own = slack.message_event("U0BOT", CHANNEL, "echo", store=False)
    assert (await slack.event(own)).status == 200
    assert len(events) == 2


async def test_event_retries_and_duplicates_are_delivered_again(
    app: AsyncApp, slack: SlackEventsClient
) -> None:
    seen: list[tuple[str, str | None]] = []

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], request: Any) -> None:
        seen.append((body["event_id"], request.headers.get("x-slack-retry-num", [None])[0]))

    first = await slack.event(slack.app_mention_event(USER, CHANNEL, "<@U0BOT> hi"), event_id="Ev1")
    again = await slack.send(first.request, retry_num=1, retry_reason="http_timeout")
    assert first.status == again.status == 200
    assert again.request.body == first.request.body
    assert seen == [("Ev1", None), ("Ev1", "1")]  # bolt does not de-duplicate: the app must


async def test_message_shortcut_reaches_shortcut_handler(
    fake: FakeSlack, app: AsyncApp, slack: SlackEventsClient
) -> None:
    got: list[dict[str, Any]] = []

    @app.shortcut("poll_from_message")
    async def shortcut(ack: Any, shortcut: dict[str, Any]) -> None:
        await ack()
        got.append(shortcut)

    original = fake.post_user_message(USER, CHANNEL, "Should we move the standup?")
    status, _ = await slack.message_shortcut("U0BOB", CHANNEL, original["ts"], "poll_from_message")
    assert status == 200
    assert got[0]["type"] == "message_action" and got[0]["callback_id"] == "poll_from_message"
    assert got[0]["message"]["text"] == "Should we move the standup?"
    assert got[0]["message_ts"] == original["ts"] and got[0]["channel"]["id"] == CHANNEL


@pytest.mark.parametrize(
    "opts",
    [
        {"signing_secret": "not-the-secret"},
        {"bad_signature": True},
        {"stale": True},
        {"omit_headers": ["X-Slack-Signature"]},
        {"omit_headers": ["X-Slack-Request-Timestamp"]},
        {"omit_headers": ["X-Slack-Signature", "X-Slack-Request-Timestamp"]},
    ],
    ids=[
        "wrong-secret",
        "garbage-signature",
        "stale",
        "no-signature",
        "no-timestamp",
        "no-headers",
    ],
)
async def test_badly_signed_requests_are_rejected(
    fake: FakeSlack, app: AsyncApp, slack: SlackEventsClient, opts: dict[str, Any]
) -> None:
    ran: list[str] = []

    @app.command("/townhall")
    async def cmd(ack: Any) -> None:
        ran.append("command")
        await ack()

    @app.event("message")
    async def msg(event: dict[str, Any]) -> None:
        ran.append("event")

    status, body = await slack.slash_command(USER, CHANNEL, "x", **opts)
    assert status == 401 and json.loads(body) == {"error": "invalid request"}
    result = await slack.event(slack.message_event(USER, CHANNEL, "hi", store=False), **opts)
    assert result.status == 401
    assert ran == [] and fake.calls == []  # rejected before authorization (no auth.test)

    # the same bodies, correctly signed, go through
    assert (await slack.send(result.request)).status == 200
    assert ran == ["event"]


async def test_signature_helper_matches_slack_sdk() -> None:
    from slack_sdk.signature import SignatureVerifier

    body = "token=x&team_id=T0TEST"
    ts = int(time.time())
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(body, str(ts), sign_request(SECRET, ts, body))
    assert not verifier.is_valid(
        body, str(ts - STALE_SECONDS), sign_request(SECRET, ts - STALE_SECONDS, body)
    )


async def test_url_verification(slack: SlackEventsClient) -> None:
    result = await slack.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert result.status == 200
    assert result.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_rate_limit_is_waited_out_by_retry_handler(fake: FakeSlack) -> None:
    plain = fake.web_client()
    fake.rate_limit_next("chat.postMessage", retry_after=1)
    with pytest.raises(SlackApiError) as limited:
        await plain.chat_postMessage(channel=CHANNEL, text="hi")
    assert limited.value.response.status_code == 429
    assert limited.value.response["error"] == "ratelimited"
    assert limited.value.response.headers["Retry-After"] == "1"

    patient = AsyncWebClient(
        token=fake.bot_token,
        base_url=fake.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.rate_limit_next("chat.postMessage", retry_after=1)
    started = time.monotonic()
    resp = await patient.chat_postMessage(channel=CHANNEL, text="after the wait")
    waited = time.monotonic() - started
    assert resp["ok"] and waited >= 1.0
    attempts = fake.calls_to("chat.postMessage")[1:]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert [m["text"] for m in fake.bot_messages(CHANNEL)] == ["after the wait"]


async def test_unknown_method_and_bad_token(fake: FakeSlack) -> None:
    client = fake.web_client()
    with pytest.raises(SlackApiError) as unknown:
        await client.api_call(
            "chat.scheduleMessage", json={"channel": CHANNEL, "text": "x", "post_at": 1}
        )
    assert unknown.value.response["error"] == "unknown_method"
    assert [c.method for c in fake.unhandled] == ["chat.scheduleMessage"]
    with pytest.raises(AssertionError, match=r"chat\.scheduleMessage"):
        fake.assert_no_unhandled()
    fake.unhandled.clear()

    with pytest.raises(SlackApiError) as bad:
        await fake.web_client("xoxb-wrong").auth_test()
    assert bad.value.response["error"] == "invalid_auth"


async def test_bolt_with_invalid_token_answers_with_an_error_message() -> None:
    async with FakeSlack() as fake:
        app = AsyncApp(
            client=AsyncWebClient(token="xoxb-revoked", base_url=fake.api_url),
            signing_secret=SECRET,
            process_before_response=True,
        )
        ran: list[bool] = []

        @app.command("/townhall")
        async def cmd(ack: Any) -> None:
            ran.append(True)
            await ack()

        async with serve_bolt_app(app) as url, SlackEventsClient(url, SECRET, fake=fake) as slack:
            status, body = await slack.slash_command(USER, CHANNEL, "x")
        assert status == 200 and "installation" in body and ran == []
        assert fake.calls_to("auth.test")[0].error == "invalid_auth"


async def test_error_injection_and_channel_rules(fake: FakeSlack) -> None:
    client = fake.web_client()
    fake.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as failed:
        await client.chat_postMessage(channel=CHANNEL, text="x")
    assert failed.value.response["error"] == "channel_not_found"
    assert (await client.chat_postMessage(channel=CHANNEL, text="x"))["ok"]

    fake.add_channel("C0PRIVATE", is_member=False)
    with pytest.raises(SlackApiError) as outside:
        await client.chat_postMessage(channel="C0PRIVATE", text="x")
    assert outside.value.response["error"] == "not_in_channel"

    too_long = [
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x" * 76}}],
        }
    ]
    with pytest.raises(SlackApiError) as invalid:
        await client.chat_postMessage(channel=CHANNEL, text="x", blocks=too_long)
    assert invalid.value.response["error"] == "invalid_blocks"
    assert validate_blocks(too_long) == invalid.value.response["errors"]

    # form-encoded calls with blocks as a JSON string are accepted too
    resp = await client.api_call(
        "chat.postMessage",
        data={"channel": CHANNEL, "text": "form", "blocks": json.dumps(POLL_BLOCKS)},
    )
    (form_call,) = [c for c in fake.calls_to("chat.postMessage") if c.encoding == "form"]
    assert isinstance(form_call["blocks"], list) and isinstance(form_call.raw_params["blocks"], str)
    assert fake.message(CHANNEL, resp["ts"])["blocks"][0]["block_id"] == "question"

    # DMs: posting to a user id opens a D channel; permalinks and user lookups work
    fake.add_user(USER, real_name="Alice Example")
    dm = await client.chat_postMessage(channel=USER, text="hello")
    assert dm["channel"] == "D0ALICE"
    link = await client.chat_getPermalink(channel=CHANNEL, message_ts=resp["ts"])
    assert link["permalink"].endswith(f"/archives/{CHANNEL}/p{resp['ts'].replace('.', '')}")
    assert (await client.users_info(user=USER))["user"]["real_name"] == "Alice Example"
    assert (await client.conversations_info(channel=CHANNEL))["channel"]["is_member"] is True


async def test_lazy_listener_and_hold_without_sleeps(
    fake: FakeSlack, app: AsyncApp, slack: SlackEventsClient
) -> None:
    async def ack_fast(ack: Any) -> None:
        await ack("Working on it")

    async def do_work(command: dict[str, Any], client: AsyncWebClient) -> None:
        await client.chat_postMessage(channel=command["channel_id"], text="done later")

    app.command("/townhall")(ack=ack_fast, lazy=[do_work])

    release = fake.hold_next("chat.postMessage")
    status, body = await slack.slash_command(USER, CHANNEL, "slow")
    assert (status, body) == (200, "Working on it")  # acked before the lazy listener finished
    assert fake.calls_to("chat.postMessage") == []
    release.set()
    call = await fake.wait_for_call("chat.postMessage", lambda c: c["text"] == "done later")
    assert call.ok


async def test_mount_bolt_on_existing_aiohttp_app(fake: FakeSlack, app: AsyncApp) -> None:
    @app.command("/townhall")
    async def cmd(ack: Any) -> None:
        await ack(text="pong")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app = web.Application()
    web_app.router.add_get("/healthz", health)
    web_app.router.add_post("/slack/events", bolt_aiohttp_handler(app))
    async with serve_web_app(web_app) as base, SlackEventsClient(base, SECRET, fake=fake) as slack:
        assert slack.url == base + "/slack/events"
        result = await slack.slash_command(USER, CHANNEL, "ping")
        # ack(text=...) alone is answered as text/plain; add e.g. response_type to get JSON
        assert result.status == 200 and result.body == "pong"
        async with aiohttp.ClientSession() as session, session.get(base + "/healthz") as resp:
            assert await resp.text() == "ok"


async def test_wait_for_call_times_out_loudly(fake: FakeSlack) -> None:
    with pytest.raises(AssertionError, match=r"chat\.update"):
        await fake.wait_for_call("chat.update", timeout=0.05)


async def test_unhandled_calls_fail_on_exit() -> None:
    with pytest.raises(AssertionError, match="does not implement"):
        async with FakeSlack() as fake:
            with pytest.raises(SlackApiError):
                await fake.web_client().api_call("reactions.add", json={"name": "tada"})


async def test_without_process_before_response_ack_returns_first(fake: FakeSlack) -> None:
    app = AsyncApp(
        client=AsyncWebClient(token=fake.bot_token, base_url=fake.api_url),
        signing_secret=SECRET,
    )

    @app.command("/townhall")
    async def cmd(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(channel=command["channel_id"], text="after ack")

    release = fake.hold_next("chat.postMessage")
    async with serve_bolt_app(app) as url, SlackEventsClient(url, SECRET, fake=fake) as slack:
        status, _ = await slack.slash_command(USER, CHANNEL, "x")
        assert status == 200 and fake.calls_to("chat.postMessage") == []  # still held
        release.set()
        await fake.wait_for_call("chat.postMessage")
    assert fake.bot_messages(CHANNEL)[0]["text"] == "after ack"


async def test_response_url_in_channel_and_use_limit(fake: FakeSlack) -> None:
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    url = fake.new_response_url(channel_id=CHANNEL, user_id=USER, kind="slash_command")
    hook = AsyncWebhookClient(url)
    first = await hook.send(text="Results are in", response_type="in_channel")
    assert first.status_code == 200
    assert fake.responses[0].effect == "in_channel"
    assert fake.last_message(CHANNEL)["text"] == "Results are in"  # type: ignore[index]
    for _ in range(4):
        assert (await hook.send(text="again")).status_code == 200
    over = await hook.send(text="one too many")
    assert (over.status_code, over.body) == (404, "used_url")
    assert fake.responses[-1].effect == "error:used_url"
