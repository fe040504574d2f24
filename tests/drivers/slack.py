"""The Slack driver: the real slack-bolt behind Townhall's HTTP server, signed requests in,
Web API calls out to the fake Slack. Answers are written in the card's thread; what is for one
person comes back ephemeral (only they see it)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from storage.db import Database
from tests.drivers.base import CITIZENS, Records, is_start, ref_in
from tests.drivers.slack_kit import CHANNEL, OFFICER, buttons
from tests.drivers.slack_moderation_kit import MODERATOR, Mod, block_text, running
from tests.fakes.slack import SlackHttpResult
from tests.support import FakeClock

IDS = {"officer": OFFICER, "mod": MODERATOR} | {name: f"U0{name.upper()}" for name in CITIZENS}
JSONDict = dict[str, Any]


def _seen(message: JSONDict) -> str:
    """What a person reads in a message: its blocks, or its text when it has none."""
    return block_text(message) if message.get("blocks") else str(message.get("text") or "")


class SlackDriver(Records):
    platform = "slack"

    def __init__(self, slack: Mod) -> None:
        self.s = slack
        self.app = slack.app
        self.fake = slack.fake
        self.cards: dict[str, JSONDict] = {}
        self.written: dict[str, JSONDict] = {}

    # -- plumbing ----------------------------------------------------------------------------
    def mark(self) -> tuple[int, int]:
        return len(self.fake.calls), len(self.fake.responses)

    async def told(self, who: str, since: tuple[int, int], *acks: SlackHttpResult) -> str:
        """What ``who`` read after ``since``: acknowledgements, response-URL posts and
        ephemeral messages meant for them."""
        await self.s.adapter.settle()
        await self.app.deliverer.drain()
        user = IDS[who]
        out = [str(a.json().get("text", "")) for a in acks if a.body.startswith("{")]
        out += [
            _seen(r.body)
            for r in self.fake.responses[since[1] :]
            if r.target and r.target.user_id == user
        ]
        out += [
            _seen(c.params)
            for c in self.fake.calls[since[0] :]
            if c.method == "chat.postEphemeral" and c.ok and c.params.get("user") == user
        ]
        return "\n".join(out)

    async def command(self, who: str, text: str) -> str:
        """``/townhall <text>``: the acknowledgement and every private follow-up."""
        said = await self.s.private(IDS[who], text)
        await self.app.deliverer.drain()
        return "\n".join(_seen(m) for m in said)

    def with_button(self, who: str, label: str) -> tuple[JSONDict, str]:
        for ephemeral in reversed(self.fake.ephemerals_for(IDS[who])):
            for button in (
                b
                for blk in ephemeral.get("blocks") or []
                if blk["type"] == "actions"
                for b in blk["elements"]
            ):
                if button["text"]["text"] == label:
                    return ephemeral, str(button["action_id"])
        raise AssertionError(f"no private message with a {label!r} button for {who}")

    async def press(self, who: str, label: str) -> str:
        ephemeral, action_id = self.with_button(who, label)
        since = self.mark()
        await self.s.click(IDS[who], ephemeral, action_id)
        return await self.told(who, since)

    # -- the protocol ------------------------------------------------------------------------
    async def publish(self, command: str) -> str:
        item, card = await self.s.publish(command)
        self.cards[item] = card
        return item

    async def vote(self, who: str, item: str, position: int, *, deliveries: int = 1) -> str:
        # the card as first shown: a closed card may still show its buttons on someone's screen
        card = self.cards[item]
        action_id = f"vote:{item}:{position}"
        (button,) = [b for b in buttons(card) if b["action_id"] == action_id]
        since = self.mark()
        request = self.s.client.build_block_action(
            IDS[who], CHANNEL, card, action_id, element=button
        )
        for _ in range(deliveries):  # the same payload again: a redelivery
            result = await self.s.client.send(request)
            assert result.status == 200, result.body
        return await self.told(who, since)

    async def answer(self, who: str, item: str, text: str) -> str:
        since = self.mark()
        message = await self.s.reply(IDS[who], self.cards[item], text)
        told = await self.told(who, since)
        if "ref A" in told:
            self.written[ref_in(told)] = message
        return told

    async def opinions(self, who: str, item: str) -> str:
        card = self.cards[item]
        action_id = f"statements:{item}"
        (button,) = [b for b in buttons(card) if b["action_id"] == action_id]
        since = self.mark()
        request = self.s.client.build_block_action(
            IDS[who], CHANNEL, card, action_id, element=button
        )
        result = await self.s.client.send(request)
        assert result.status == 200, result.body
        return await self.told(who, since)

    async def refused(self, who: str, item: str) -> str:
        return await self.command(who, f"close {item}")

    async def report(self, who: str, ref: str) -> str:
        return await self.s.report(IDS[who], self.written[ref])

    async def queue(self) -> list[str]:
        cards = await self.s.private(MODERATOR, "flagged")
        return [
            re.match(r"\*?(A\d+)", block_text(c)).group(1)  # type: ignore[union-attr]
            for c in cards
            if any(b["action_id"].startswith("mod:") for b in _buttons(c))
        ]

    async def decide(self, ref: str, label: str) -> str:
        for ephemeral in reversed(self.fake.ephemerals_for(MODERATOR)):
            if re.match(rf"\*?{ref}\b", block_text(ephemeral)):
                (button,) = [b for b in _buttons(ephemeral) if b["text"]["text"] == label]
                since = self.mark()
                await self.s.click(MODERATOR, ephemeral, button["action_id"])
                return await self.told("mod", since)
        raise AssertionError(f"no queue card for {ref}")

    async def moderate(self, who: str, command: str) -> str:
        return await self.command(who, command)

    async def forge(self, who: str, ref: str, label: str) -> str:
        # a private message of the bot's that never carried the button (a member never sees one)
        data = f"mod:{label.lower()}:{ref[1:]}"
        forged = {"channel": CHANNEL, "user": IDS[who], "ts": f"1799999999.{ref[1:]:0>6}"}
        self.fake.ephemerals.append(
            {**forged, "blocks": [], "text": "", "thread_ts": None, "source": "test"}
        )
        since = self.mark()
        clicked = await self.s.client.block_action(
            IDS[who],
            CHANNEL,
            {**forged, "blocks": []},
            data,
            element={"type": "button", "value": data},
            is_ephemeral=True,
        )
        assert (clicked.status, clicked.body) == (200, "")
        return await self.told(who, since)

    async def agree(self, who: str) -> str:
        return await self.press(who, "I agree")

    async def decline(self, who: str) -> str:
        return await self.press(who, "No thanks")

    async def platform_says(self, who: str, language: str) -> bool:
        return False  # Slack user locales are not read

    async def mydata(self, who: str) -> str:
        return await self.command(who, "mydata")

    async def forget(self, who: str, *, confirm: bool = True) -> str:
        await self.command(who, "forget")
        return await self.press(who, "Yes, erase it" if confirm else "Cancel")

    async def close(self, item: str) -> str:
        return await self.command("officer", f"close {item}")

    async def shown(self, item: str) -> str:
        await self.app.deliverer.drain()
        card = self.cards[item]
        messages = [
            *self.fake.channel_messages(CHANNEL),
            *self.fake.thread_replies(CHANNEL, card["ts"]),
        ]
        return "\n".join(_seen(m) for m in messages)

    # -- consultations: Start under the introduction, then ephemeral cards -------------------
    async def officer(self, command: str) -> str:
        return await self.command("officer", command)

    async def start(self, who: str, slug: str) -> str:
        for message in reversed(self.fake.channel_messages(CHANNEL)):
            found = [b for b in _buttons(message) if is_start(b["text"]["text"])]
            if found:
                since = self.mark()
                request = self.s.client.build_block_action(
                    IDS[who], CHANNEL, message, found[0]["action_id"], element=found[0]
                )
                assert (await self.s.client.send(request)).status == 200
                return await self.told(who, since)
        raise AssertionError("no introduction with a Start button")

    async def tap(self, who: str, label: str) -> str:
        return await self.press(who, label)

    async def write(self, who: str, label: str, text: str) -> str:
        """The button opens a modal; the text is submitted in it."""
        ephemeral, action_id = self.with_button(who, label)
        since = self.mark()
        clicked = await self.s.client.block_action(
            IDS[who], str(ephemeral["channel"]), ephemeral, action_id, is_ephemeral=True
        )
        assert clicked.status == 200, clicked.body
        submitted = await self.s.client.view_submission(
            IDS[who], action_id, values={"answer": {"text": text}}
        )
        assert submitted.status == 200, submitted.body
        told = await self.told(who, since, submitted)
        modal = self.fake.find_view(user_id=IDS[who])  # the form turned into the answer
        return "\n".join([block_text(modal) if modal else "", told])


def _buttons(message: JSONDict) -> list[JSONDict]:
    return buttons({"blocks": message.get("blocks") or []})


@asynccontextmanager
async def slack_driver(
    db: Database, clock: FakeClock, **settings: Any
) -> AsyncIterator[SlackDriver]:
    async with running(db.url, db, clock, **settings) as slack:
        yield SlackDriver(slack)
    slack.fake.assert_no_unhandled()
