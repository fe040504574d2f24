"""Polls through the real python-telegram-bot: an officer publishes, 30 citizens vote.

Runs in polling and in webhook mode, on SQLite and PostgreSQL. The stored tallies (the same
JSON ``townhall results ID --json`` prints), the ``answerCallbackQuery`` toasts and the edited
message must agree, and the message is edited far less often than people click.
"""

from __future__ import annotations

import copy

import pytest

from storage.db import Database
from storage.models import ProcessedEvent, Vote
from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    BOT_USERNAME,
    OFFICER_ID,
    WAIT,
    bars_of,
    callback_answers_for,
    count_rows,
    fake_telegram,
    keyboard_of,
    running,
    tally,
)
from tests.fakes.telegram import JSON, FakeTelegram
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(90)

OPTIONS = ["Yes", "No", "Only <in> winter & spring"]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_thirty_citizens_vote_and_everything_agrees(
    fake: FakeTelegram, db: Database, clock: FakeClock, mode: str
) -> None:
    webhook = mode == "webhook"
    group = fake.group(-1001000000001, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    async with running(fake, db, clock, webhook=webhook) as h:
        quoted = " ".join(f'"{o}"' for o in OPTIONS)
        poll, card = await h.publish(
            group, officer, f'/poll@{BOT_USERNAME} "Open the <library> on Sundays?" {quoted}'
        )
        # the card: HTML-escaped text, one callback button per row, data = the core's custom_id
        assert card["text"].startswith("Open the <library> on Sundays?")
        assert card["entities"][0]["type"] == "bold"
        assert keyboard_of(card) == [[(o, f"vote:{poll}:{i}")] for i, o in enumerate(OPTIONS, 1)]
        assert bars_of(card) == [(o, 0) for o in OPTIONS]

        citizens = [fake.user(1000 + n, f"Citizen {n}") for n in range(30)]
        final: dict[int, str] = {}
        clicks: list[JSON] = []
        last_click: dict[int, JSON] = {}

        async def wave(choices: list[tuple[JSON, str]], *, twice: set[int]) -> None:
            """Everyone in ``choices`` clicks once; those in ``twice`` are delivered twice."""
            updates = []
            for citizen, label in choices:
                update = fake.button_update(citizen, card, label)
                updates.append(update)
                if citizen["id"] in twice:
                    updates.append(update)  # the same update again
                final[citizen["id"]] = label
                last_click[citizen["id"]] = update
                clicks.append(update)
            since = fake.mark()
            statuses = await h.deliver_all(updates)
            if webhook:
                assert statuses == [200] * len(updates)
                answered = len(choices)  # a redelivered update id is not processed again
            else:
                # the fake renumbers a re-pushed update: PTB gets the same click twice
                answered = len(updates)
            await fake.wait_for_call(
                "answerCallbackQuery", count=answered, since=since, timeout=WAIT
            )

        first = [(c, OPTIONS[n % 3]) for n, c in enumerate(citizens)]
        await wave(first, twice={c["id"] for c in citizens[::7]})
        clock.advance(seconds=2)  # TOWNHALL_REFRESH_INTERVAL: one edit for the whole wave
        await h.app.deliverer.drain()
        # a few change their minds (and one presses the same button again)
        second = [
            (c, OPTIONS[1] if final[c["id"]] == OPTIONS[0] else OPTIONS[0])
            for n, c in enumerate(citizens)
            if n % 5 == 0
        ]
        second.append((citizens[1], final[citizens[1]["id"]]))
        await wave(second, twice={citizens[0]["id"]})
        clock.advance(seconds=2)
        await h.app.deliverer.drain()

        result = await h.tally(poll)

    expected = {o: sum(1 for label in final.values() if label == o) for o in OPTIONS}
    assert result["participants"] == 30 and result["responses"] == 30
    assert result["options"] == [{"label": o, "votes": expected[o]} for o in OPTIONS]
    assert result["by_platform"] == {"telegram": 30}
    assert await count_rows(db, Vote) == 30

    # the message shows the same numbers, and was edited once per refresh, not per click
    message = fake.message(group["id"], card["message_id"])
    assert message is not None
    assert bars_of(message) == [(o, expected[o]) for o in OPTIONS]
    assert "30 participants" in message["text"]
    assert keyboard_of(message) == keyboard_of(card)  # still open: buttons kept
    edits = fake.calls_to("editMessageText")
    assert len(edits) == 2 < len(clicks)
    assert all(e.ok for e in edits), [(e.status, e.response) for e in edits]

    # every person's last toast confirms what is stored for them
    for citizen_id, label in final.items():
        [text] = callback_answers_for(fake, [last_click[citizen_id]])
        assert text is not None and f"“{label}”" in text, (citizen_id, text)
    toasts = [a.text or "" for a in fake.callback_answers if a.accepted]
    if webhook:
        assert sum("recorded" in t for t in toasts) == 30
        assert sum("now “" in t for t in toasts) == 6
    else:
        # Polling: the fake re-pushes a click under a new update id with the same callback
        # query (Telegram never does), and only the first answer to a query is accepted. The
        # grouped write path answers both clicks of a pair together, so for the five people
        # clicked twice in the first wave either answer may be the accepted one.
        assert 30 - 5 <= sum("recorded" in t for t in toasts) <= 30
        assert 6 - 1 <= sum("now “" in t for t in toasts) <= 6
    assert any("already chosen" in t for t in toasts)
    assert all(len(t) <= 200 for t in toasts)
    assert not [a for a in fake.callback_answers if a.show_alert]
    # updates are recorded once each (the ledger the core deduplicates with)
    processed = await count_rows(db, ProcessedEvent)
    distinct_updates = len({u["update_id"] for u in clicks}) + 1  # + the /poll command
    if webhook:
        assert processed == distinct_updates
    else:
        assert processed == distinct_updates + len(citizens[::7]) + 1


async def test_a_click_after_close_is_refused_and_results_are_posted(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    group = fake.group(-1001000000002, "Council")
    officer = fake.user(OFFICER_ID, "Olivia")
    ann, bob = fake.user(2001, "Ann"), fake.user(2002, "Bob")
    async with running(fake, db, clock) as h:
        scale, card = await h.publish(group, officer, '/scale "Parking charges are fair"')
        assert len(keyboard_of(card)) == 5
        click = fake.button_update(ann, card, "Agree")
        await h.deliver(click)
        await fake.wait_for_call("answerCallbackQuery", timeout=WAIT)

        closed = await h.command(group, officer, f"/close {scale}")
        assert closed.params["text"].startswith(f"Closed {scale}")
        await h.app.deliverer.drain()
        summary = fake.last_sent(group["id"])
        assert summary["text"].startswith("Results: Parking charges are fair")
        assert summary["reply_to_message"]["message_id"] == card["message_id"]
        assert ("Agree", 1) in bars_of(summary)
        message = fake.message(group["id"], card["message_id"])
        assert message is not None
        assert "reply_markup" not in message  # the keyboard is gone
        assert "closed" in message["text"]

        # a stale keyboard (a client that had not refreshed) is still clickable
        late = fake.callback_update(bob, card, f"vote:{scale}:2", check_keyboard=False)
        await h.deliver(late)
        await fake.wait_for_call("answerCallbackQuery", count=2, timeout=WAIT)
        [toast] = callback_answers_for(fake, [late])
        assert toast is not None and "closed" in toast
        assert (await h.tally(scale))["responses"] == 1


async def test_updates_redelivered_after_a_restart_count_once(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    """Polling: if the bot dies before its next getUpdates confirms what it fetched, Telegram
    sends those updates again, with the same ids, to the restarted bot."""
    group = fake.group(-1001000000006, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    citizens = [fake.user(2100 + n, f"Citizen {n}") for n in range(3)]
    async with running(fake, db, clock) as h:
        poll, card = await h.publish(group, officer, '/poll "Q?" "A" "B"')
        clicks = [fake.button_update(c, card, "A") for c in citizens]
        await h.deliver_all(clicks)
        await fake.wait_for_call("answerCallbackQuery", count=3, timeout=WAIT)
    answers = len(fake.callback_answers)

    fake._queue.extend(copy.deepcopy(clicks))  # the confirmation was lost: same ids again
    async with running(fake, db, clock) as h:
        await h.settle()
    assert fake.pending_updates == []
    assert len(fake.callback_answers) == answers  # duplicates are not processed or answered
    assert await count_rows(db, Vote) == 3
    assert (await tally(db, poll))["options"][0] == {"label": "A", "votes": 3}


async def test_one_persons_clicks_keep_their_order(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    """Updates are processed concurrently, but one person's in the order they were made: a
    quick "A" then "B" leaves "B" standing, even when both come in one getUpdates batch."""
    group = fake.group(-1001000000007, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    citizens = [fake.user(2200 + n, f"Citizen {n}") for n in range(10)]
    async with running(fake, db, clock) as h:
        poll, card = await h.publish(group, officer, '/poll "Q?" "A" "B" "C"')
        since = fake.mark()
        batch = [fake.button_update(c, card, label) for c in citizens for label in "ABC"]
        fake.push_updates(batch)  # queued together: one batch for PTB
        await fake.wait_for_call("answerCallbackQuery", count=30, since=since, timeout=WAIT)
        result = await h.tally(poll)
    assert [o["votes"] for o in result["options"]] == [0, 0, 10]
    toasts = callback_answers_for(fake, batch)
    assert all(t is not None and "“C”" in t for t in toasts[2::3])
