"""The web chat driver: each citizen is a browser (its own cookies) talking HTTP to /c/<id>.

The web chat is for citizens only: the officer publishes and the moderator works the queue
from another platform (here the recording adapter, as from the dashboard or a chat app), and
it offers no report gesture (people there do not see each other's answers), so reports come
from elsewhere too.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.ratelimit import RateLimiter
from bot.views import Card
from storage.db import Database
from tests.drivers.base import Records
from tests.drivers.webchat_kit import Browser, ChatApp, Page, chat_settings, start_chat_app
from tests.support import FakeClock, People, said

INSET = '<div class="govuk-inset-text">'


def _plain(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _cards(text: str) -> list[str]:
    """The core's cards shown on a page (consent, a copy of your data ...), as plain text."""
    out = []
    for start in (m.start() for m in re.finditer(re.escape(INSET), text)):
        depth, pos = 0, start
        for tag in re.finditer(r"<(/?)div\b", text[start:]):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                pos = start + tag.end()
                break
        out.append(_plain(text[start:pos]))
    return out


def _told(page: Page) -> str:
    """The banner and the cards; for a refused form, the page's heading and explanation."""
    if page.status >= 400:
        found = re.search(r"<h1\b.*?</p>", page.text, re.S)
        assert found, page.text
        return _plain(found.group(0))
    return "\n".join(p for p in (page.banner, *_cards(page.text)) if p)


class WebChatDriver(Records):
    platform = "web"
    reports_here = False

    def __init__(self, chat: ChatApp) -> None:
        self.chat = chat
        self.app = chat.app
        self.browsers: dict[str, Browser] = {}
        self.last: dict[str, tuple[str, Page]] = {}  # who -> (path, the page they see)
        self.elsewhere = People()  # officer, moderator and reporters: another platform

    def browser(self, who: str) -> Browser:
        if who not in self.browsers:
            self.browsers[who] = Browser(self.chat.base)
        return self.browsers[who]

    async def platform_says(self, who: str, language: str) -> bool:
        """``who``'s browser is set to ``language`` (its Accept-Language header)."""
        if who in self.browsers:
            await self.browsers[who].close()
        self.browsers[who] = Browser(self.chat.base, accept_language=f"{language},en;q=0.5")
        return True

    async def close_browsers(self) -> None:
        for browser in self.browsers.values():
            await browser.close()

    async def post(
        self, who: str, path: str, data: list[tuple[str, str]], deliveries: int = 1
    ) -> str:
        pages = [await self.browser(who).post(path, data) for _ in range(deliveries)]
        await self.app.deliverer.drain()
        self.last[who] = (path, pages[0])
        return _told(pages[0])

    async def form(
        self,
        who: str,
        item: str,
        intent: str,
        fields: list[tuple[str, str]],
        deliveries: int = 1,
    ) -> str:
        """Post the item page's form (a command's own form for ``command``) with ``fields``;
        ``deliveries`` times the same submission."""
        path = f"/c/{item}"
        page = await self.browser(who).get(path)
        form = page.form_with(f'value="{fields[0][1]}"') if intent == "command" else 0
        data = [
            ("csrf", page.field("csrf", form)),
            ("sub", page.field("sub", form)),
            ("intent", intent),
            *fields,
        ]
        return await self.post(who, path, data, deliveries)

    async def press(self, who: str, custom_id: str) -> str:
        path, page = self.last[who]
        form = page.form_with(custom_id)
        data = [
            ("csrf", page.field("csrf", form)),
            ("sub", page.field("sub", form)),
            ("intent", "button"),
            ("button", custom_id),
        ]
        return await self.post(who, path, data)

    async def core(self, who: str, text: str) -> list[object]:
        outcome = await self.app.dispatch(self.elsewhere.command(who, text))
        await self.app.deliverer.drain()
        return list(outcome.notices)

    # -- the protocol ------------------------------------------------------------------------
    async def publish(self, command: str) -> str:
        item = await self.chat.create(command)
        self.home = item
        return item

    async def vote(self, who: str, item: str, position: int, *, deliveries: int = 1) -> str:
        # the same form sent again: one submission id, one event
        return await self.form(who, item, "vote", [("choice", str(position))], deliveries)

    async def answer(self, who: str, item: str, text: str) -> str:
        return await self.form(who, item, "answer", [("answer", text)])

    async def opinions(self, who: str, item: str) -> str:
        path = f"/c/{item}"
        self.last[who] = (path, await self.browser(who).get(path))
        return await self.press(who, f"statements:{item}")

    async def refused(self, who: str, item: str) -> str:
        return await self.form(who, item, "vote", [("choice", "9")])  # not an option we offer

    async def report(self, who: str, ref: str) -> str:
        return said(await self.core(who, f"report {ref}"))

    async def queue(self) -> list[str]:
        cards = [n for n in await self.core("mod", "flagged") if isinstance(n, Card) and n.buttons]
        return [card.title.split(" ", 1)[0] for card in cards]

    async def decide(self, ref: str, label: str) -> str:
        event = self.elsewhere.click_button("mod", "mod", f"{label.lower()}:{ref[1:]}")
        return said((await self.app.dispatch(event)).notices)

    async def moderate(self, who: str, command: str) -> str:
        if command.startswith("language "):  # a citizen's own: the page's Cymraeg/English switch
            return await self.form(who, self.home, "command", [("command", command)])
        return said(await self.core(who, command))  # moderation is done elsewhere

    async def forge(self, who: str, ref: str, label: str) -> str:
        return await self.form(
            who, self.home, "button", [("button", f"mod:{label.lower()}:{ref[1:]}")]
        )

    async def agree(self, who: str) -> str:
        return await self.press(who, "consent:yes")

    async def decline(self, who: str) -> str:
        return await self.press(who, "consent:no")

    async def mydata(self, who: str) -> str:
        return await self.form(who, self.home, "command", [("command", "mydata")])

    async def forget(self, who: str, *, confirm: bool = True) -> str:
        await self.form(who, self.home, "command", [("command", "forget")])
        return await self.press(who, "forget:confirm" if confirm else "forget:cancel")

    async def close(self, item: str) -> str:
        return said(await self.core("officer", f"close {item}"))

    async def shown(self, item: str) -> str:
        await self.app.deliverer.drain()
        return (await self.browser("passer-by").get(f"/c/{item}")).plain

    # -- consultations: the visitor's page /c/<slug> --------------------------------------------
    async def officer(self, command: str) -> str:
        return said(await self.core("officer", command))

    async def start(self, who: str, slug: str) -> str:
        # A test walks twenty steps in a second; the per-visitor limit (a dozen a minute,
        # refilled as a person reads) is checked in test_web_chat, not here.
        self.chat.web.limit_visitor = RateLimiter(1000, 60.0)
        self.consulting = f"/c/{slug}"
        self.home = getattr(self, "home", slug)  # mydata and forget from the consultation's page
        page = await self.browser(who).get(self.consulting)
        assert page.status == 200, page.text
        self.last[who] = (self.consulting, page)
        return page.plain

    async def step(self, who: str, data: list[tuple[str, str]], form: int) -> str:
        path, page = self.last[who]
        fields = [("csrf", page.field("csrf", form)), ("sub", page.field("sub", form)), *data]
        after = await self.browser(who).post(path, fields)
        await self.app.deliverer.drain()
        self.last[who] = (path, after)
        return after.plain

    async def tap(self, who: str, label: str) -> str:
        """A step button (Skip, Next) or an option of the question on the page."""
        _, page = self.last[who]
        button = re.search(
            rf'<button[^>]*value="([^"]+)"[^>]*>\s*{re.escape(label)}\s*</button>', page.text
        )
        if button:
            custom_id = html.unescape(button.group(1))
            return await self.step(
                who,
                [("intent", "button"), ("button", custom_id)],
                page.form_with(f'value="{custom_id}"'),
            )
        option = re.search(
            rf'value="(\d+)"[^>]*>\s*<label[^>]*>\s*{re.escape(label)}\s*</label>', page.text
        )
        assert option, f"no {label!r} on the page"
        choice = [("intent", "vote"), ("choice", option.group(1))]
        return await self.step(who, choice, page.form_with('name="choice"'))

    async def write(self, who: str, label: str, text: str) -> str:
        _, page = self.last[who]
        form = page.form_with('name="answer"')
        return await self.step(who, [("intent", "answer"), ("answer", text)], form)


@asynccontextmanager
async def webchat_driver(
    db: Database, clock: FakeClock, **settings: Any
) -> AsyncIterator[WebChatDriver]:
    async for chat in start_chat_app(chat_settings(db.url, **settings), db, clock):
        driver = WebChatDriver(chat)
        try:
            yield driver
        finally:
            await driver.close_browsers()
