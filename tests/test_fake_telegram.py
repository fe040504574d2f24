"""Drive the real python-telegram-bot 22.8 against the fake Bot API server in tests/fakes.

These tests pin down that the fake speaks the Bot API well enough for PTB (request encoding,
result objects PTB can parse, error mapping) and that its builders produce updates PTB accepts.
No Townhall code is imported here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shlex
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ChatFullInfo,
    ChatMemberAdministrator,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.timeout(20)

TOKEN = "123456:TEST-fake-token"
BOT_USERNAME = "townhall_test_bot"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, bot_username=BOT_USERNAME) as server:
        yield server


def make_app(
    fake: FakeTelegram, *, token: str = TOKEN, updater: bool = True
) -> Application[Any, Any, Any, Any, Any, Any]:
    builder = ApplicationBuilder().token(token).base_url(fake.base_url)
    builder = builder.base_file_url(fake.base_file_url)
    if not updater:
        builder = builder.updater(None)
    return builder.build()


@asynccontextmanager
async def polling(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """Run an Application inside the test's loop the way an adapter would (no run_polling)."""
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=10)
    try:
        yield
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@asynccontextmanager
async def bot_for(fake: FakeTelegram, token: str = TOKEN) -> AsyncIterator[Bot]:
    bot = Bot(token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    async with bot:  # initialize() -> getMe, shutdown() on exit
        yield bot


def poll_keyboard(options: list[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(opt, callback_data=f"vote:{i}")] for i, opt in enumerate(options)]
    )


async def poll_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text
    question, *options = shlex.split(update.effective_message.text)[1:]
    await update.effective_message.reply_text(question, reply_markup=poll_keyboard(options))


async def vote_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None and query.message is not None
    option = int(query.data.split(":")[1])
    await query.answer(text=f"Thanks, you voted for option {option}")
    message = query.message
    assert isinstance(message, Message)  # not an InaccessibleMessage
    await query.edit_message_text(f"{message.text}\n1 vote", reply_markup=message.reply_markup)


# ---------------------------------------------------------------------------- start-up


async def test_initialize_calls_get_me(fake: FakeTelegram) -> None:
    app = make_app(fake)
    await app.initialize()
    try:
        assert [c.method for c in fake.calls] == ["getMe"]
        assert app.bot.username == BOT_USERNAME
        assert app.bot.id == 123456
        assert app.bot.bot.can_join_groups is True
    finally:
        await app.shutdown()
    fake.assert_no_unhandled()


async def test_bad_token_is_invalid_token(fake: FakeTelegram) -> None:
    app = make_app(fake, token="999:WRONG")
    with pytest.raises(InvalidToken):
        await app.initialize()
    # a failed initialize() leaves PTB's HTTP clients open and app.shutdown() is then a no-op
    await app.bot.shutdown()
    assert fake.calls[-1].status == 401
    assert fake.calls[-1].response == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }


# ---------------------------------------------------------------------------- polling flow


async def test_polling_command_keyboard_callback_and_edit(fake: FakeTelegram) -> None:
    app = make_app(fake)
    app.add_handler(CommandHandler("poll", poll_command))
    app.add_handler(CallbackQueryHandler(vote_callback, pattern=r"^vote:"))
    town = fake.group(-1001000000001, "Town square")
    alice = fake.user(42, "Alice", username="alice")

    async with polling(app):
        assert [c.method for c in fake.calls[:2]] == ["getMe", "deleteWebhook"]
        await fake.wait_until_polled()

        command = fake.push_update(
            fake.command_update(town, alice, f'/poll@{BOT_USERNAME} "Q?" "A" "B"')
        )
        sent_call = await fake.wait_for_call("sendMessage")
        assert sent_call.params["chat_id"] == town["id"]
        assert sent_call.params["text"] == "Q?"
        assert isinstance(sent_call.params["reply_markup"], dict)  # decoded from the JSON string
        # reply_text in a group quotes the command by default
        assert (
            sent_call.params["reply_parameters"]["message_id"] == command["message"]["message_id"]
        )

        stored = fake.message(town["id"], sent_call.result["message_id"])
        assert stored is not None
        assert stored["from"]["username"] == BOT_USERNAME
        assert stored["reply_to_message"]["message_id"] == command["message"]["message_id"]
        assert stored["reply_markup"] == {
            "inline_keyboard": [
                [{"text": "A", "callback_data": "vote:0"}],
                [{"text": "B", "callback_data": "vote:1"}],
            ]
        }

        click = fake.push_update(fake.button_update(alice, stored, "B"))
        answer_call = await fake.wait_for_call("answerCallbackQuery")
        assert answer_call.ok
        answer = fake.callback_answer(click["callback_query"]["id"])
        assert answer is not None
        assert answer.text == "Thanks, you voted for option 1"
        assert answer.show_alert is False

        edit_call = await fake.wait_for_call("editMessageText")
        assert edit_call.ok, edit_call.error
        edited = fake.message(town["id"], stored["message_id"])
        assert edited is not None
        assert edited["text"] == "Q?\n1 vote"
        assert edited["reply_markup"] == stored["reply_markup"]
        assert edited["edit_date"] > edited["date"]

        await fake.wait_until_updates_consumed()
        stopping = time.monotonic()

    assert time.monotonic() - stopping < 2  # the pending long poll is cancelled, not awaited
    # Updater.stop() confirms what it fetched with one last getUpdates(offset, timeout=0)
    last_poll = fake.calls_to("getUpdates")[-1]
    assert last_poll.params["offset"] == click["update_id"] + 1
    assert last_poll.params["timeout"] == 0
    assert fake.pending_updates == []
    assert [c.status for c in fake.calls_to("getUpdates")].count(499) <= 1
    fake.assert_no_unhandled()
    assert [c.method for c in fake.errors] == []


async def test_polling_shutdown_is_prompt_while_long_polling(fake: FakeTelegram) -> None:
    app = make_app(fake)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=30)
    await fake.wait_until_polled()
    assert fake.polling
    started = time.monotonic()
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    assert time.monotonic() - started < 3
    await fake.wait_for(lambda: not fake.polling, what="the cancelled long poll to end")


async def test_process_update_without_updater(fake: FakeTelegram) -> None:
    app = make_app(fake, updater=False)
    app.add_handler(CommandHandler("poll", poll_command))
    bob = fake.user(7, "Bob")
    chat = fake.private_chat(bob)
    await app.initialize()
    try:
        data = fake.command_update(chat, bob, '/poll "Lunch?" "Pizza" "Salad"')
        await app.process_update(Update.de_json(data, app.bot))
        sent = fake.last_sent(bob["id"])
        assert sent["text"] == "Lunch?"
        assert "reply_to_message" not in sent  # no quoting in private chats
        assert sent["chat"]["type"] == "private"
        assert len(sent["reply_markup"]["inline_keyboard"]) == 2
    finally:
        await app.shutdown()
    assert fake.calls_to("getUpdates") == []


# ---------------------------------------------------------------------------- errors


async def test_429_surfaces_as_retry_after(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta, no warning
    alice = fake.user(42, "Alice")
    chat = fake.private_chat(alice)
    async with bot_for(fake) as bot:
        fake.fail_next("sendMessage", status=429, retry_after=7)
        with pytest.raises(RetryAfter) as excinfo:
            await bot.send_message(chat["id"], "hello")
        assert excinfo.value.retry_after == dt.timedelta(seconds=7)
        failed = fake.calls_to("sendMessage")[-1]
        assert failed.status == 429
        assert failed.response == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }
        # only the next call failed
        message = await bot.send_message(chat["id"], "hello again")
        assert message.text == "hello again"


async def test_injected_failures_map_to_ptb_errors(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    group = fake.group(-1001000000002, "Errors")
    async with bot_for(fake) as bot:
        fake.fail_next("sendMessage", status=502)
        with pytest.raises(NetworkError):
            await bot.send_message(group["id"], "x")
        fake.fail_next("sendMessage", status=400, description="Bad Request: nope")
        with pytest.raises(BadRequest, match=r"(?i)nope"):
            await bot.send_message(group["id"], "x")
        fake.fail_next(
            "sendMessage", status=429, retry_after=3, predicate=lambda p: p["text"] == "y"
        )
        await bot.send_message(group["id"], "x")  # predicate does not match
        with pytest.raises(RetryAfter):
            await bot.send_message(group["id"], "y")


async def test_blocked_user_is_forbidden(fake: FakeTelegram) -> None:
    alice = fake.user(42, "Alice")
    chat = fake.private_chat(alice)
    stranger = fake.user(43, "Stranger")  # never started the bot
    async with bot_for(fake) as bot:
        fake.block_user(alice["id"])
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await bot.send_message(chat["id"], "hi")
        with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
            await bot.send_message(stranger["id"], "hi")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(-100999, "hi")
        fake.unblock_user(alice["id"])
        assert (await bot.send_message(chat["id"], "hi")).text == "hi"


async def test_kicked_and_migrated_chats(fake: FakeTelegram) -> None:
    old = fake.group(-4001, "Old group")
    kicked = fake.group(-1001000000003, "Gone")
    async with bot_for(fake) as bot:
        fake.kick_bot(kicked["id"])
        with pytest.raises(Forbidden, match=r"(?i)kicked from the supergroup chat"):
            await bot.send_message(kicked["id"], "hi")
        new = fake.migrate_chat(old["id"], -1001000000004)
        with pytest.raises(ChatMigrated) as excinfo:
            await bot.send_message(old["id"], "hi")
        assert excinfo.value.new_chat_id == new["id"]
        assert (await bot.send_message(new["id"], "hi")).chat.type == "supergroup"


async def test_flood_limit(fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    group = fake.group(-1001000000005, "Busy")
    fake.set_flood_limit(2, per_seconds=60, chat_id=group["id"])
    async with bot_for(fake) as bot:
        await bot.send_message(group["id"], "1")
        await bot.send_message(group["id"], "2")
        with pytest.raises(RetryAfter) as excinfo:
            await bot.send_message(group["id"], "3")
        retry_after = excinfo.value.retry_after
        assert isinstance(retry_after, dt.timedelta)
        assert dt.timedelta(seconds=1) <= retry_after <= dt.timedelta(seconds=60)


async def test_unknown_method_is_recorded(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("frobnicateWidget", api_kwargs={"level": 3})
    assert [c.method for c in fake.unhandled] == ["frobnicateWidget"]
    assert fake.unhandled[0].params == {"level": 3}
    assert fake.unhandled[0].response is not None
    assert "not implemented by fake" in fake.unhandled[0].response["description"]
    with pytest.raises(AssertionError, match=r"(?i)frobnicateWidget"):
        fake.assert_no_unhandled()
    fake.unhandled.clear()  # provoked on purpose: the check on exit would fail the test


# ---------------------------------------------------------------------------- forum topics


async def test_reply_update_in_forum_topic_parses(fake: FakeTelegram) -> None:
    forum = fake.group(-1001000000006, "Council", forum=True)
    alice = fake.user(42, "Alice")
    topic = fake.create_topic(forum, "Budget 2025")
    async with bot_for(fake) as bot:
        sent = await bot.send_message(forum["id"], "What should we fund?", message_thread_id=topic)
        assert sent.message_thread_id == topic
        assert sent.is_topic_message is True
        # in a topic, a non-reply "replies" to the topic's service message, like on Telegram
        assert sent.reply_to_message is not None
        assert sent.reply_to_message.forum_topic_created is not None
        assert sent.reply_to_message.forum_topic_created.name == "Budget 2025"

        stored = fake.message(forum["id"], sent.message_id)
        assert stored is not None
        update = Update.de_json(fake.reply_update(forum, alice, "Parks!", reply_to=stored), bot)
        message = update.message
        assert message is not None
        assert message.text == "Parks!"
        assert message.chat.is_forum is True
        assert message.message_thread_id == topic
        assert message.is_topic_message is True
        assert message.reply_to_message is not None
        assert message.reply_to_message.message_id == sent.message_id
        assert message.reply_to_message.from_user is not None
        assert message.reply_to_message.from_user.is_bot
        assert message.reply_to_message.from_user.username == BOT_USERNAME
        assert message.reply_to_message.text == "What should we fund?"

        plain = Update.de_json(fake.text_update(forum, alice, "hello", thread_id=topic), bot)
        assert plain.message is not None and plain.message.reply_to_message is not None
        assert plain.message.reply_to_message.forum_topic_created is not None

        # a thread id that was never created is rejected in forums
        with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
            await bot.send_message(forum["id"], "x", message_thread_id=999_999)
        # replying through PTB keeps the topic
        reply = await message.reply_text("Noted")
        assert reply.message_thread_id == topic
        assert reply.reply_to_message is not None
        assert reply.reply_to_message.message_id == message.message_id


async def test_reply_threads_in_plain_supergroups(fake: FakeTelegram) -> None:
    group = fake.group(-1001000000007, "Plain")
    alice = fake.user(42, "Alice")
    async with bot_for(fake) as bot:
        root = await bot.send_message(group["id"], "Root")
        assert root.message_thread_id is None
        stored = fake.message(group["id"], root.message_id)
        assert stored is not None
        update = Update.de_json(fake.reply_update(group, alice, "re", reply_to=stored), bot)
        assert update.message is not None
        assert update.message.message_thread_id == root.message_id
        assert not update.message.is_topic_message


# ---------------------------------------------------------------------------- getUpdates


async def test_get_updates_long_poll_offset_and_limit(fake: FakeTelegram) -> None:
    group = fake.group(-1001000000008, "Queue")
    alice = fake.user(42, "Alice")
    async with bot_for(fake) as bot:
        assert await bot.get_updates(timeout=0) == ()

        pending = asyncio.create_task(bot.get_updates(timeout=30))
        await fake.wait_until_polled()
        await fake.wait_for(lambda: fake.polling, what="the long poll to park")
        first = fake.push_update(fake.text_update(group, alice, "one"))
        got = await asyncio.wait_for(pending, 5)
        assert [u.update_id for u in got] == [first["update_id"]]
        assert got[0].message is not None and got[0].message.text == "one"

        second = fake.push_update(fake.text_update(group, alice, "two"))
        third = fake.push_update(fake.text_update(group, alice, "three"))
        # without a higher offset nothing is confirmed; limit caps the batch
        again = await bot.get_updates(timeout=0, limit=2)
        assert [u.update_id for u in again] == [first["update_id"], second["update_id"]]
        rest = await bot.get_updates(offset=second["update_id"] + 1, timeout=0)
        assert [u.update_id for u in rest] == [third["update_id"]]
        assert [u["update_id"] for u in fake.pending_updates] == [third["update_id"]]
        assert await bot.get_updates(offset=third["update_id"] + 1, timeout=0) == ()
        await fake.wait_until_updates_consumed()

        # an update built earlier but pushed later is renumbered so it cannot be lost
        early = fake.text_update(group, alice, "built early")
        late = fake.push_update(fake.text_update(group, alice, "built late"))
        fake.push_update(early)
        assert early["update_id"] > late["update_id"]


async def test_long_poll_times_out_and_ends_on_close() -> None:
    async with (
        FakeTelegram(token=TOKEN, bot_username=BOT_USERNAME) as fake,
        bot_for(fake) as bot,
    ):
        started = time.monotonic()
        assert await bot.get_updates(timeout=1) == ()
        assert time.monotonic() - started >= 0.9
        pending = asyncio.create_task(bot.get_updates(timeout=30))
        await fake.wait_for(lambda: fake.polling, what="the long poll to park")
        started = time.monotonic()
        await fake.close()
        assert await asyncio.wait_for(pending, 5) == ()
        assert time.monotonic() - started < 3


async def test_newer_get_updates_terminates_older_one(fake: FakeTelegram) -> None:
    async with bot_for(fake) as first, bot_for(fake) as second:
        pending = asyncio.create_task(first.get_updates(timeout=30))
        await fake.wait_for(lambda: fake.polling, what="the first long poll to park")
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
            await asyncio.wait_for(pending, 5)


async def test_allowed_updates_default_withholds_chat_member(fake: FakeTelegram) -> None:
    group = fake.group(-1001000000009, "Members")
    alice = fake.user(42, "Alice")
    async with bot_for(fake) as bot:
        fake.push_update(fake.chat_member_update(group, alice, new_status="member"))
        hello = fake.push_update(fake.text_update(group, alice, "hello"))
        got = await bot.get_updates(timeout=0)
        assert [u.update_id for u in got] == [hello["update_id"]]
        assert [u["chat_member"]["chat"]["id"] for u in fake.withheld_updates] == [group["id"]]

        member = fake.push_update(fake.chat_member_update(group, alice, new_status="left"))
        got = await bot.get_updates(
            offset=hello["update_id"] + 1, timeout=0, allowed_updates=Update.ALL_TYPES
        )
        assert [u.update_id for u in got] == [member["update_id"]]
        assert got[0].chat_member is not None
        assert got[0].chat_member.new_chat_member.status == "left"


async def test_privacy_mode_withholds_plain_group_chatter() -> None:
    async with FakeTelegram(token=TOKEN, bot_username=BOT_USERNAME, privacy_mode=True) as fake:
        group = fake.group(-1001000000010, "Private-ish")
        alice = fake.user(42, "Alice")
        chatter = fake.push_update(fake.text_update(group, alice, "just chatting"))
        other_bot = fake.push_update(fake.command_update(group, alice, "/start@other_bot"))
        command = fake.push_update(fake.command_update(group, alice, "/poll Q A B"))
        mention = fake.push_update(fake.text_update(group, alice, f"hey @{BOT_USERNAME}"))
        assert [u["update_id"] for u in fake.withheld_updates] == [
            chatter["update_id"],
            other_bot["update_id"],
        ]
        assert [u["update_id"] for u in fake.pending_updates] == [
            command["update_id"],
            mention["update_id"],
        ]
        async with bot_for(fake) as bot:
            assert bot.bot.can_read_all_group_messages is False


# ---------------------------------------------------------------------------- webhook


async def test_webhook_set_info_conflict_and_delivery(fake: FakeTelegram) -> None:
    app = make_app(fake, updater=False)
    seen: list[str] = []

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text
        seen.append(update.effective_message.text)

    app.add_handler(MessageHandler(filters.TEXT, on_text))

    secret = "s3cret-Token_1"

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return web.Response(status=403)
        assert request.content_type == "application/json"
        await app.process_update(Update.de_json(await request.json(), app.bot))
        return web.Response()

    web_app = web.Application()
    web_app.router.add_post("/telegram", webhook)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/telegram"
    await app.initialize()
    try:
        assert await app.bot.set_webhook(
            url, secret_token=secret, allowed_updates=["message", "callback_query"]
        )
        assert fake.webhook.url == url
        assert fake.webhook.secret_token == secret
        assert fake.webhook.allowed_updates == ["message", "callback_query"]
        info = await app.bot.get_webhook_info()
        assert info.url == url
        assert info.pending_update_count == 0
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await app.bot.get_updates(timeout=0)

        group = fake.group(-1001000000011, "Hooked")
        alice = fake.user(42, "Alice")
        assert await fake.post_to_webhook(None, fake.text_update(group, alice, "via hook")) == 200
        assert await fake.post_to_webhook(url, fake.text_update(group, alice, "x"), "wrong") == 403
        assert await fake.post_to_webhook(url, fake.text_update(group, alice, "y"), None) == 403
        assert seen == ["via hook"]

        with pytest.raises(BadRequest, match=r"(?i)secret token"):
            await app.bot.set_webhook(url, secret_token="not allowed!")
        assert await app.bot.delete_webhook(drop_pending_updates=True)
        assert fake.webhook.url == ""
        assert (await app.bot.get_webhook_info()).url == ""
    finally:
        await app.shutdown()
        await runner.cleanup()


# ---------------------------------------------------------------------------- builders


async def test_builders_parse_and_reach_ptb_handlers(fake: FakeTelegram) -> None:
    app = make_app(fake, updater=False)
    seen: dict[str, Any] = {}

    async def record(kind: str, update: Update) -> None:
        seen[kind] = update

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await record("photo", update)

    async def on_sticker(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await record("sticker", update)

    async def on_members(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await record("members", update)

    async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await record("edit", update)

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await record("text", update)

    async def on_my_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await record("my_chat_member", update)

    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edit))
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    app.add_handler(MessageHandler(filters.Sticker.ALL, on_sticker))
    app.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, on_members))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(ChatMemberHandler(on_my_member, ChatMemberHandler.MY_CHAT_MEMBER))

    group = fake.group(-4002, "Basic group")
    alice = fake.user(42, "Alice", last_name="Liddell", username="alice")
    bob = fake.user(43, "Bob")
    await app.initialize()
    try:
        added = fake.my_chat_member_update(group, alice, old_status="left", new_status="member")
        text = fake.text_update(group, alice, "hi #townhall see https://example.org @bob_the")
        updates = [
            added,
            text,
            fake.edited_message_update(text["message"], "hi, edited"),
            fake.photo_update(group, alice, caption="our park"),
            fake.sticker_update(group, bob, emoji="🎉"),
            fake.new_chat_members_update(group, [bob], by=alice),
        ]
        ids = [u["update_id"] for u in updates]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        for data in updates:
            await app.process_update(Update.de_json(data, app.bot))
    finally:
        await app.shutdown()

    assert seen["text"].message.text.startswith("hi #townhall")
    kinds = [e.type for e in seen["text"].message.entities]
    assert kinds == ["hashtag", "url", "mention"]
    assert seen["edit"].edited_message.text == "hi, edited"
    assert seen["edit"].edited_message.edit_date is not None
    photo = seen["photo"].message
    assert photo.caption == "our park" and len(photo.photo) == 3
    assert photo.photo[-1].width == 800
    assert seen["sticker"].message.sticker.emoji == "🎉"
    members = seen["members"].message
    assert [u.id for u in members.new_chat_members] == [bob["id"]]
    assert members.from_user.id == alice["id"]
    my_member = seen["my_chat_member"].my_chat_member
    assert my_member.new_chat_member.user.username == BOT_USERNAME
    assert my_member.new_chat_member.status == "member"
    # message ids are per chat and unique
    msg_ids = [m["message_id"] for m in fake.messages(group["id"])]
    assert msg_ids == sorted(set(msg_ids))


async def test_command_entities_like_telegram(fake: FakeTelegram) -> None:
    group = fake.group(-4003, "G")
    alice = fake.user(42, "Alice")
    text = f'/poll@{BOT_USERNAME} "Où?" "Ici" "Là"'
    data = fake.command_update(group, alice, text)
    message = data["message"]
    assert message["entities"] == [
        {"type": "bot_command", "offset": 0, "length": len(f"/poll@{BOT_USERNAME}")}
    ]
    async with bot_for(fake) as bot:
        update = Update.de_json(data, bot)
        assert update.message is not None
        assert update.message.parse_entities() == {
            update.message.entities[0]: f"/poll@{BOT_USERNAME}"
        }
    with pytest.raises(ValueError, match=r"(?i)not a bot command"):
        fake.command_update(group, alice, "poll")


# ---------------------------------------------------------------------------- methods


async def test_callback_query_answered_twice_is_rejected(fake: FakeTelegram) -> None:
    group = fake.group(-1001000000012, "Votes")
    alice = fake.user(42, "Alice")
    async with bot_for(fake) as bot:
        sent = await bot.send_message(group["id"], "Q?", reply_markup=poll_keyboard(["A", "B"]))
        stored = fake.message(group["id"], sent.message_id)
        assert stored is not None
        update = Update.de_json(fake.callback_update(alice, stored, "vote:0"), bot)
        query = update.callback_query
        assert query is not None and query.message is not None
        assert query.data == "vote:0"
        assert query.message.message_id == sent.message_id
        assert query.from_user.id == alice["id"]
        assert query.chat_instance
        assert await query.answer("ok", show_alert=True)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await query.answer("again")
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query("12345")
        assert [(a.text, a.show_alert, a.accepted) for a in fake.callback_answers] == [
            ("ok", True, True),
            ("again", False, False),
            (None, False, False),
        ]
        with pytest.raises(ValueError, match=r"(?i)not on the message's keyboard"):
            fake.callback_update(alice, stored, "vote:9")


async def test_edit_semantics(fake: FakeTelegram) -> None:
    group = fake.group(-1001000000013, "Edits")
    alice = fake.user(42, "Alice")
    async with bot_for(fake) as bot:
        sent = await bot.send_message(group["id"], "Q?", reply_markup=poll_keyboard(["A"]))
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text(
                "Q?", group["id"], sent.message_id, reply_markup=poll_keyboard(["A"])
            )
        # editing text without reply_markup drops the keyboard, as Telegram does
        edited = await bot.edit_message_text("Q (closed)", group["id"], sent.message_id)
        assert isinstance(edited, Message)
        assert edited.reply_markup is None
        stored = fake.message(group["id"], sent.message_id)
        assert stored is not None and "reply_markup" not in stored
        again = await bot.edit_message_reply_markup(
            group["id"], sent.message_id, reply_markup=poll_keyboard(["B"])
        )
        assert not isinstance(again, bool) and again.reply_markup is not None
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", group["id"], 999_999)
        users_msg = fake.text_update(group, alice, "mine")["message"]
        with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
            await bot.edit_message_text("x", group["id"], users_msg["message_id"])
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(
                group["id"],
                "x",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("too long", callback_data="x" * 65)]]
                ),
            )
        assert await bot.delete_message(group["id"], sent.message_id)
        assert fake.message(group["id"], sent.message_id) is None
        assert fake.deleted_messages[-1]["message_id"] == sent.message_id
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await bot.delete_message(group["id"], sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
            await bot.send_message(group["id"], "x", reply_to_message_id=999_999)


async def test_parse_modes(fake: FakeTelegram) -> None:
    group = fake.group(-1001000000014, "Markup")
    async with bot_for(fake) as bot:
        html = await bot.send_message(
            group["id"],
            "<b>Vote</b> now: <a href='https://x.org/p'>poll</a> &amp; more",
            parse_mode=ParseMode.HTML,
        )
        assert html.text == "Vote now: poll & more"
        assert [(e.type, e.offset, e.length) for e in html.entities] == [
            ("bold", 0, 4),
            ("text_link", 10, 4),
        ]
        md = await bot.send_message(
            group["id"], r"*Q?* 1\. _yes_ \(or no\)", parse_mode=ParseMode.MARKDOWN_V2
        )
        assert md.text == "Q? 1. yes (or no)"
        assert [(e.type, e.offset, e.length) for e in md.entities] == [
            ("bold", 0, 2),
            ("italic", 6, 3),
        ]
        emoji = await bot.send_message(group["id"], "🎉 *hi*", parse_mode=ParseMode.MARKDOWN_V2)
        assert [(e.offset, e.length) for e in emoji.entities] == [(3, 2)]  # UTF-16 offsets
        with pytest.raises(BadRequest, match=r"(?i)Character '\.' is reserved"):
            await bot.send_message(group["id"], "Q? 1. yes", parse_mode=ParseMode.MARKDOWN_V2)
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(group["id"], "<b>open", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)Unsupported start tag"):
            await bot.send_message(group["id"], "<div>x</div>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(group["id"], "")
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(group["id"], "x" * 4097)
        # text that looks like JSON stays a string
        assert (await bot.send_message(group["id"], "123")).text == "123"
        assert fake.calls_to("sendMessage")[-1].params["text"] == "123"


async def test_commands_chat_action_chat_and_members(fake: FakeTelegram) -> None:
    group = fake.group(-1001000000015, "Admins", username="admins_town")
    forum = fake.group(-1001000000016, "Forum", forum=True)
    alice = fake.user(42, "Alice")
    chat = fake.private_chat(alice)
    fake.set_member_status(group, alice, "administrator")
    fake.set_member_status(group, fake.bot_id, "administrator")
    async with bot_for(fake) as bot:
        commands = [BotCommand("poll", "Start a poll"), BotCommand("results", "Show results")]
        assert await bot.set_my_commands(commands)
        scope = BotCommandScopeChat(group["id"])
        assert await bot.set_my_commands([BotCommand("close", "Close")], scope=scope)
        assert await bot.get_my_commands() == tuple(commands)
        assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["close"]
        assert fake.commands() == [
            {"command": "poll", "description": "Start a poll"},
            {"command": "results", "description": "Show results"},
        ]
        assert fake.commands({"type": "chat", "chat_id": group["id"]}) == [
            {"command": "close", "description": "Close"}
        ]
        assert isinstance(fake.calls_to("setMyCommands")[0].params["commands"], list)
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Bad-Name", "x")])
        assert await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()

        assert await bot.send_chat_action(group["id"], ChatAction.TYPING)
        # raw clients may send JSON bodies; errors come back in Bot API shape
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{fake.api_url}/sendChatAction", json={"chat_id": group["id"], "action": "x"}
            ) as resp,
        ):
            assert resp.status == 400
            assert await resp.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: wrong parameter action in request",
            }

        info = await bot.get_chat(group["id"])
        assert isinstance(info, ChatFullInfo)
        assert info.title == "Admins" and info.type == "supergroup"
        assert (await bot.get_chat("@admins_town")).id == group["id"]
        assert (await bot.get_chat(forum["id"])).is_forum is True
        assert (await bot.get_chat(chat["id"])).first_name == "Alice"

        member = await bot.get_chat_member(group["id"], alice["id"])
        assert isinstance(member, ChatMemberAdministrator)
        assert (await bot.get_chat_member(forum["id"], alice["id"])).status == "member"
        admins = await bot.get_chat_administrators(group["id"])
        assert sorted(a.user.id for a in admins) == [alice["id"], fake.bot_id]
        with pytest.raises(BadRequest, match=r"(?i)user not found"):
            await bot.get_chat_member(group["id"], 999)
    fake.assert_no_unhandled()


async def test_raw_clients_and_wait_helpers(fake: FakeTelegram) -> None:
    group = fake.group(-1001000000017, "Raw")
    markup = '{"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}'
    async with aiohttp.ClientSession() as session:
        # a JSON body whose reply_markup is itself a JSON string, as Telegram accepts
        async with session.post(
            f"{fake.api_url}/SENDMESSAGE",
            json={"chat_id": str(group["id"]), "text": "true", "reply_markup": markup},
        ) as resp:
            body = await resp.json()
        assert resp.status == 200 and body["ok"], body
        call = fake.calls_to("sendMessage")[-1]  # method names are case-insensitive
        assert call.params["chat_id"] == group["id"]
        assert call.params["text"] == "true"
        assert call.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Go"
        assert body["result"]["reply_markup"] == call.params["reply_markup"]

        since = fake.mark()
        waiter = asyncio.create_task(
            fake.wait_for_call("sendMessage", lambda c: c.params["text"] == "second", since=since)
        )
        async with session.post(
            f"{fake.api_url}/sendMessage", data={"chat_id": str(group["id"]), "text": "second"}
        ) as resp:
            assert resp.status == 200
        assert (await asyncio.wait_for(waiter, 5)).result["text"] == "second"

        async with session.post(
            f"{fake.api_url}/getMe", data=b"{", headers={"Content-Type": "application/json"}
        ) as resp:
            assert resp.status == 400
    with pytest.raises(
        AssertionError, match=r"timed out after 0\.05s waiting for 1 x deleteMessage"
    ):
        await fake.wait_for_call("deleteMessage", timeout=0.05)
    fake.assert_no_unhandled()
