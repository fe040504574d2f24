"""A terminal chat against the real core and database: play officer and citizen locally.

Lines are commands in the core grammar (``poll "Q?" "A" "B"``, ``results ID`` ...). Buttons are
pressed with ``vote ID N``, free-text answers given with ``answer ID text``. ``:as NAME``
switches who is typing, ``:quit`` leaves; a trailing `` # comment`` is ignored. Works
interactively and with piped stdin.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import TextIO

from aiohttp import web

from bot import identifiers
from bot.adapter import Capabilities, Dispatch
from bot.errors import UsageError, UserError
from bot.events import Actor, Event, EventKind, MessageRef, Target
from bot.grammar import tokenize
from bot.messages import DATABASE_SILENT, say
from bot.notices import opens_form
from bot.views import Button, Card, View, render_text

PLATFORM = "console"
CHANNEL = "town-square"
#: A typed line is the console's form: an Answer button is pressed with the text after it.
CAPABILITIES = Capabilities(buttons=True, modals=True, threads=False, ephemeral=True)


def typed_form(button: Button) -> str:
    """What to type to press a button: its action id and value words, e.g. ``vote k3m9xq 2``."""
    if opens_form(button.action_id, CAPABILITIES):  # the typed form: text after the id
        return f"answer {button.value} <your answer>"
    return " ".join([button.action_id, *button.value.split(":")])


def format_view(view: View) -> str:
    text = render_text(view)
    if isinstance(view, Card):
        for button in view.buttons:
            text += f"\n  [{typed_form(button)}] {button.label}"
    return text


def strip_comment(line: str) -> str:
    """The line without a trailing ``# comment`` (a lone ``#`` between spaces, outside quotes),
    so lines copied from a commented example work as typed. ``#1`` and hashtags are kept, and a
    quote opens only at the start of a word (the apostrophe in "don't" is not one)."""
    quote = ""
    for i, char in enumerate(line):
        at_word_start = i == 0 or line[i - 1].isspace()
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'“”‘’" and at_word_start:
            quote = {"“": "”", "‘": "’"}.get(char, char)
        elif char == "#" and at_word_start and line[i + 1 : i + 2] in ("", " ", "\t"):
            return line[:i].rstrip()
    return line.strip()


class ConsoleAdapter:
    """Reads lines, dispatches them as events, prints what the bot says."""

    name = PLATFORM
    capabilities: Capabilities = CAPABILITIES

    def __init__(
        self,
        user: str,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        settle: Callable[[], Awaitable[None]] | None = None,
        channel: str = CHANNEL,
    ) -> None:
        self.user = user
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.settle = settle
        self.channel = channel
        self._dispatch: Dispatch | None = None
        #: Buttons shown in this session, by what one types to press them.
        self._buttons: dict[str, Button] = {}

    def http_routes(self) -> list[web.RouteDef]:
        return []

    @property
    def connected(self) -> bool:
        return self._dispatch is not None

    async def start(self, dispatch: Dispatch) -> None:
        self._dispatch = dispatch

    async def stop(self) -> None:
        self._dispatch = None

    async def send(
        self, target: Target, view: View, *, reply_to: str | None = None, key: str | None = None
    ) -> MessageRef:
        message_id = uuid.uuid4().hex[:8]
        where = f"private to {target.channel_id}" if target.private else f"#{target.channel_id}"
        self._show(f"[{where} msg {message_id}] ", view)
        return MessageRef(PLATFORM, target.channel_id, message_id, target.thread_id)

    async def channel_name(self, target: Target) -> str | None:
        return None if target.private else f"#{target.channel_id}"

    async def edit(self, ref: MessageRef, view: View) -> None:
        self._show(f"[#{ref.channel_id} msg {ref.message_id} updated] ", view)

    def _print(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    def _show(self, prefix: str, view: View) -> None:
        if isinstance(view, Card):
            for button in view.buttons:
                self._buttons[typed_form(button)] = button
        self._print(f"{prefix}{format_view(view)}")

    def _switch(self, name: str) -> None:
        """``:as NAME``: type as someone else from now on."""
        if not name:
            self._print("(usage: :as NAME)")
            return
        try:
            identifiers.check_user(name, PLATFORM)
        except UserError as exc:
            self._print(f"(to you) {exc.message}")
            return
        self.user = name
        self._print(f"(you are now {name})")

    def translate(self, line: str) -> Event | None:
        """One typed line to one event; None for blank lines and console meta commands."""
        line = strip_comment(line.strip())
        if not line or line.startswith("#"):
            return None
        word = line.split(maxsplit=1)[0].lstrip("/").lower()
        actor = Actor(self.user, self.user)
        target = Target(self.channel)
        event_id = uuid.uuid4().hex

        def event(kind: EventKind, action_id: str, action_value: str, text: str = "") -> Event:
            return Event(PLATFORM, event_id, kind, actor, target, text, action_id, action_value)

        pressed = self._buttons.get(" ".join(line.split()))
        if pressed is not None:
            return event(EventKind.ACTION, action_id=pressed.action_id, action_value=pressed.value)
        if word == "vote":
            parts = tokenize(line)
            if len(parts) != 3:
                raise UsageError("Usage: vote ID OPTION_NUMBER")
            return event(EventKind.ACTION, action_id="vote", action_value=f"{parts[1]}:{parts[2]}")
        if word == "answer":
            _, _, rest = line.partition(" ")
            short_id, _, text = rest.strip().partition(" ")
            if not short_id:
                raise UsageError("Usage: answer ID your answer")
            return event(EventKind.SUBMIT, text=text, action_id="answer", action_value=short_id)
        return Event(PLATFORM, event_id, EventKind.COMMAND, actor, target, text=line)

    async def run(self) -> None:
        """The read-eval-print loop; returns at end of input or ``:quit``."""
        assert self._dispatch is not None, "start() first"
        interactive = self.stdin.isatty()
        while True:
            if interactive:
                self.stdout.write(f"{self.user}> ")
                self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                break
            stripped = strip_comment(line.strip())
            if stripped in (":quit", ":q", ":exit"):
                break
            if stripped.startswith(":as"):
                self._switch(stripped[3:].strip())
                continue
            try:
                event = self.translate(line)
            except UserError as exc:
                self._print(f"(to you) {exc.message}")
                continue
            if event is None:
                continue
            try:
                outcome = await self._dispatch(event)
            except Exception:
                self._print(f"(to you) {say(DATABASE_SILENT)}")
                continue
            for notice in outcome.notices:
                self._show("(to you) ", notice)
            if self.settle is not None:
                await self.settle()
