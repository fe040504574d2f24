"""Hypothesis-generated Telegram updates at the webhook: never a 5xx, a traceback or a leak."""

from __future__ import annotations

import aiohttp
import pytest

from storage.db import Database
from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    OFFICER_ID,
    WEBHOOK_SECRET,
    fake_telegram,
    running,
)
from tests.fakes.telegram import JSON, FakeTelegram
from tests.fuzz import SECRET_WORDS, Mutant, examples, fuzzing, mutations, raw_bodies, replay
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(240)
CITIZEN_ID = 7319046628
CHAT_ID = -1009731904662


def bases(fake: FakeTelegram, card: JSON, topic_card: JSON) -> list[JSON]:
    group = fake.group(CHAT_ID, "Town square")
    citizen = fake.user(CITIZEN_ID, "Zelda")
    private = fake.private_chat(citizen)
    forum = fake.group(CHAT_ID - 1, "Forum", forum=True)
    return [
        fake.button_update(citizen, card, "B"),
        fake.reply_update(group, citizen, SECRET_WORDS, card),
        fake.command_update(group, citizen, f"/report A1 {SECRET_WORDS}"),
        fake.text_update(private, citizen, SECRET_WORDS),
        fake.reply_update(forum, citizen, SECRET_WORDS, topic_card),
        fake.command_update(private, citizen, "/mydata"),
    ]


async def test_fuzzed_updates_are_refused_or_ignored(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    officer = fake.user(OFFICER_ID, "Olivia")
    group = fake.group(CHAT_ID, "Town square")
    forum = fake.group(CHAT_ID - 1, "Forum", forum=True)
    secrets = [str(CITIZEN_ID), SECRET_WORDS, "Zelda"]
    with fuzzing(secrets) as (findings, _log):
        async with running(fake, db, clock, webhook=True) as h:
            _, card = await h.publish(group, officer, '/poll "Bins?" "A" "B"')
            topic = fake.topic_created_update(forum, officer, "Parking")
            _, topic_card = await h.publish(
                forum, officer, '/ask "Why?"', thread_id=topic["message"]["message_thread_id"]
            )
            updates = examples(mutations(bases(fake, card, topic_card)), 2000)
            raw = examples(raw_bodies(64), 200)

            async def send_update(update: Mutant) -> int:
                return await fake.post_to_webhook(h.webhook_url, update.doc)

            async def send_raw(body: bytes) -> int:
                async with (
                    aiohttp.ClientSession() as http,
                    http.post(
                        h.webhook_url,
                        data=body,
                        headers={
                            "Content-Type": "application/json",
                            "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                        },
                    ) as response,
                ):
                    return response.status

            await replay(updates, send_update, findings)
            await replay(raw, send_raw, findings)
            # still up and still counting
            await h.deliver(fake.button_update(fake.user(5, "Eve"), card, "A"))
