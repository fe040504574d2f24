"""The Discord driver: the real discord.py over the fake gateway and REST.

Officers and members use ``/townhall ...`` and the card's buttons; answers are written in the
question's thread (Discord's own way to talk under a message); what is for one person is an
ephemeral interaction response, or a direct message when there is no interaction to answer.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.grammar import parse_args, split_command
from handlers import all_specs
from storage.db import Database
from tests.drivers.base import CITIZENS, Records, is_start, ref_in
from tests.drivers.discord_kit import CHANNEL_ID, OFFICER, Payload, button_ids
from tests.drivers.discord_kit import CITIZENS as MEMBERS
from tests.drivers.discord_moderation_kit import MODERATOR, Mod, embed_text, running
from tests.fakes.discord import FLAG_EPHEMERAL, FakeUser
from tests.support import FakeClock

SPECS = {spec.name: spec for spec in all_specs()}


def typed(command: str) -> tuple[str, dict[str, Any]]:
    """A command in the core grammar as the ``/townhall`` subcommand and its typed options a
    member fills in (the spec's fields: the reverse of adapters/discord/commands.parsed)."""
    name, rest = split_command(command)
    spec = SPECS[name]
    parsed = parse_args(spec, rest)
    args = list(parsed.args)
    options: dict[str, Any] = {}
    for field in spec.fields:
        key = field.name.replace("-", "_")
        if field.fills == "arg" and args:
            value = args.pop(0)
            options[key] = int(value) if field.kind == "number" else value
        elif field.fills == "args":
            options[key], args = " | ".join(args), []
        elif field.fills == "flag" and field.name in parsed.flags:
            options[key] = True
        elif field.fills == "option" and field.name in parsed.options:
            value = parsed.options[field.name]
            options[key] = value == "yes" if field.kind == "yes/no" else value
    return name, options


USERS: dict[str, FakeUser] = {"officer": OFFICER, "mod": MODERATOR} | dict(
    zip(CITIZENS, MEMBERS, strict=False)
)


class DiscordDriver(Records):
    platform = "discord"

    def __init__(self, harness: Mod) -> None:
        self.h = harness
        self.app = harness.townhall
        self.fake = harness.fake
        self.cards: dict[str, int] = {}
        self.first_seen: dict[str, Payload] = {}  # each card as first shown, buttons and all
        self.written: dict[str, Payload] = {}
        self.queue_cards: dict[str, Payload] = {}

    # -- plumbing ----------------------------------------------------------------------------
    def direct(self, who: str, before: set[int]) -> list[str]:
        """Direct messages the bot sent ``who`` since ``before`` (a set of message ids)."""
        user = USERS[who].id
        dms = {
            int(c.response["id"])
            for c in self.fake.find_calls(method="POST", path="/users/@me/channels")
            if isinstance(c.json, dict) and int(c.json.get("recipient_id", 0)) == user
        }
        return [
            embed_text(m)
            for mid, m in self.fake.messages.items()
            if mid not in before and int(m["channel_id"]) in dms
        ]

    async def told(self, who: str, before: set[int], payload: Payload | None = None) -> str:
        await self.h.drain()
        out = []
        if payload is not None and self.fake.interaction(payload).responded:
            out += [embed_text(m) for m in self.h.private(payload)]
        return "\n".join(out + self.direct(who, before))

    async def slash(self, who: str, sub: str, options: dict[str, Any] | None = None) -> str:
        before = set(self.fake.messages)
        payload = await self.h.slash(USERS[who], sub, options or {})
        return await self.told(who, before, payload)

    async def press(self, who: str, message: Payload, custom_id: str, times: int = 1) -> str:
        before = set(self.fake.messages)
        payload = await self.h.click(int(message["id"]), custom_id, USERS[who], times=times)
        return await self.told(who, before, payload)

    def with_button(self, custom_id: str) -> Payload:
        for message in reversed(list(self.fake.messages.values())):
            if custom_id in button_ids(message):
                return message
        raise AssertionError(f"no message with a {custom_id!r} button")

    # -- the protocol ------------------------------------------------------------------------
    async def publish(self, command: str) -> str:
        item, message_id = await self.h.publish(*typed(command))
        self.cards[item] = message_id
        self.first_seen[item] = copy.deepcopy(self.fake.get_message(message_id))
        return item

    async def vote(self, who: str, item: str, position: int, *, deliveries: int = 1) -> str:
        before = set(self.fake.messages)
        # the card as first shown: a closed card may still show its buttons on someone's screen
        payload = self.fake.component_click(
            self.first_seen[item], f"vote:{item}:{position}", USERS[who]
        )
        await self.h.deliver(payload, times=deliveries)
        return await self.told(who, before, payload)

    async def answer(self, who: str, item: str, text: str) -> str:
        before = set(self.fake.messages)
        thread = self.fake.channels[self.cards[item]]
        message = self.fake.user_message(thread.id, USERS[who], text)
        await self.fake.dispatch("MESSAGE_CREATE", message)
        assert await self.h.discord.settled.wait(message["id"]) == ["ok"]
        replies = [embed_text(m) for m in self.h.bot_replies_to(message)]
        told = "\n".join([*replies, await self.told(who, before)]).strip()
        if "ref A" in told:
            self.written[ref_in(told)] = message
        return told

    async def opinions(self, who: str, item: str) -> str:
        before = set(self.fake.messages)
        custom_id = f"statements:{item}"
        payload = self.fake.component_click(self.first_seen[item], custom_id, USERS[who])
        await self.h.deliver(payload)
        return await self.told(who, before, payload)

    async def refused(self, who: str, item: str) -> str:
        return await self.slash(who, "close", {"item": item})

    async def report(self, who: str, ref: str) -> str:
        before = set(self.fake.messages)
        payload = await self.h.report(USERS[who], self.written[ref])
        return await self.told(who, before, payload)

    async def queue(self) -> list[str]:
        payload = await self.h.queue()
        refs = []
        for message in self.h.private(payload):
            for custom_id in button_ids(message):
                if custom_id.startswith("mod:approve:"):
                    ref = f"A{custom_id.rsplit(':', 1)[1]}"
                    self.queue_cards[ref] = message
                    refs.append(ref)
        return refs

    async def decide(self, ref: str, label: str) -> str:
        custom_id = f"mod:{label.lower()}:{ref[1:]}"
        return await self.press("mod", self.queue_cards[ref], custom_id)

    async def moderate(self, who: str, command: str) -> str:
        return await self.slash(who, *typed(command))

    async def forge(self, who: str, ref: str, label: str) -> str:
        # Discord delivers clicks only on components a message has: a click on the
        # moderator's queue card, sent as someone else (discord.py drops any other)
        before = set(self.fake.messages)
        custom_id = f"mod:{label.lower()}:{ref[1:]}"
        payload = self.fake.component_click(int(self.queue_cards[ref]["id"]), custom_id, USERS[who])
        await self.h.deliver(payload)
        return await self.told(who, before, payload)

    async def agree(self, who: str) -> str:
        return await self.press(who, self.with_button("consent:yes"), "consent:yes")

    async def decline(self, who: str) -> str:
        return await self.press(who, self.with_button("consent:no"), "consent:no")

    async def platform_says(self, who: str, language: str) -> bool:
        return False  # Discord offers no Welsh locale

    async def mydata(self, who: str) -> str:
        return await self.slash(who, "mydata")

    async def forget(self, who: str, *, confirm: bool = True) -> str:
        await self.slash(who, "forget")
        custom_id = "forget:confirm" if confirm else "forget:cancel"
        return await self.press(who, self.with_button(custom_id), custom_id)

    async def close(self, item: str) -> str:
        return await self.slash("officer", "close", {"item": item})

    async def shown(self, item: str) -> str:
        await self.h.drain()
        channels = {CHANNEL_ID, self.cards[item]}  # the channel and the card's thread
        return "\n".join(
            embed_text(m)
            for m in self.fake.messages.values()
            if int(m["channel_id"]) in channels and not m["flags"] & FLAG_EPHEMERAL
        )

    # -- consultations: Start under the introduction, then ephemeral replies -----------------
    async def officer(self, command: str) -> str:
        return await self.slash("officer", *typed(command))

    def labelled(self, label: str) -> tuple[Payload, str]:
        """The newest message with a button called ``label``, and that button's custom id."""
        for message in reversed(list(self.fake.messages.values())):
            for row in message.get("components") or []:
                for button in row["components"]:
                    said = str(button.get("label"))
                    if said == label or (label == "Start" and is_start(said)):
                        return message, str(button["custom_id"])
        raise AssertionError(f"no message with a {label!r} button")

    async def start(self, who: str, slug: str) -> str:
        message, custom_id = self.labelled("Start")
        return await self.press(who, message, custom_id)

    async def tap(self, who: str, label: str) -> str:
        message, custom_id = self.labelled(label)
        return await self.press(who, message, custom_id)

    async def write(self, who: str, label: str, text: str) -> str:
        """The button opens Discord's form; the text is submitted in it."""
        message, custom_id = self.labelled(label)
        before = set(self.fake.messages)
        click = await self.h.click(int(message["id"]), custom_id, USERS[who])
        modal = self.fake.interaction(click).modal
        assert modal is not None, "the button opened no form"
        submit = self.fake.modal_submit(modal["custom_id"], {"answer": text}, source=click)
        return await self.told(who, before, await self.h.deliver(submit))


@asynccontextmanager
async def discord_driver(
    db: Database, clock: FakeClock, **settings: Any
) -> AsyncIterator[DiscordDriver]:
    async with running(db.url, db, clock=clock, **settings) as harness:
        yield DiscordDriver(harness)
