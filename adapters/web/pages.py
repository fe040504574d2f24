"""The web chat's HTTP handlers: show an item, take a vote, an answer or a button press.

POST-redirect-GET: a form is dispatched as core events, the outcome's notices go into the
visitor's cookie and the browser is sent back to the page, which shows them once. A form the
core should not see (no option chosen, an empty answer) is shown again with GOV.UK error
messages and nothing dispatched.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from adapters.web import render, translate
from adapters.web.html import SECURITY_HEADERS, render_page
from adapters.web.identity import Visitor, new_token
from adapters.web.links import chat_path
from adapters.web.model import ChatPage
from bot.events import Event
from bot.i18n import Translator, choose, from_accept_language, translator_for
from bot.inputs import is_blank
from bot.messages import (
    ANSWER_TOO_LONG,
    ENTER_ANSWER,
    SELECT_ONE,
    SELECT_SOME,
    SENT_TWICE,
    UNCHANGED,
    say,
)
from bot.notices import is_next_question
from bot.ratelimit import client_address
from bot.views import Notice, View

if TYPE_CHECKING:
    from adapters.web import WebChatAdapter

log = structlog.get_logger("townhall.web")


class PageUnavailable(Exception):
    """The database did not answer while reading a page: the visitor sees the 503 page."""


MAX_ANSWER = 4000
NO_STORE = {"Cache-Control": "no-store"}


@dataclass
class FormErrors:
    """GOV.UK error summary entries: (field id, message)."""

    items: list[tuple[str, str]] = field(default_factory=list)
    answer_text: str = ""

    def add(self, field_id: str, message: str) -> None:
        self.items.append((field_id, message))

    @property
    def error_list(self) -> list[dict[str, str]]:
        return [{"text": message, "href": f"#{field_id}"} for field_id, message in self.items]

    def message_for(self, field_id: str) -> str:
        return next((m for f, m in self.items if f == field_id), "")


class ChatViews:
    def __init__(self, adapter: WebChatAdapter) -> None:
        self.adapter = adapter
        self.identities = adapter.identities

    def browser_says(self, request: web.Request, visitor: Visitor) -> str:
        """The language this browser asks for: its switch on our page, else Accept-Language."""
        return (
            visitor.language or from_accept_language(request.headers.get("Accept-Language")) or ""
        )

    def language(self, request: web.Request, visitor: Visitor) -> str:
        """A page with no participant behind it (errors): the browser's, else the default."""
        return choose(
            self.browser_says(request, visitor), default=self.adapter.settings.default_language
        )

    # -- GET /c/{item_id} ----------------------------------------------------------------
    async def show(self, request: web.Request) -> web.StreamResponse:
        visitor = self.identities.read(request)
        page = await self._found(request, visitor)
        if not isinstance(page, ChatPage):
            return page  # not found, or the database did not answer
        shown = visitor.flash + await self.adapter.inbox.collect(visitor.id)
        if visitor.flash:
            visitor.flash = []
            visitor.changed = True
        return self._page(request, visitor, page, shown)

    # -- POST /c/{item_id} ---------------------------------------------------------------
    async def submit(self, request: web.Request) -> web.StreamResponse:
        visitor = self.identities.read(request)
        address = client_address(request)
        wait = await self.adapter.limit_client.check(address) or (
            await self.adapter.limit_visitor.check(f"{address} {visitor.id}")
        )
        if wait is not None:
            log.info("web chat rate limited", retry_after=round(wait, 1))
            response = self._message(request, visitor, "rate_limited", status=429)
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        form = await request.post()
        if not self.identities.csrf_ok(visitor, str(form.get("csrf", ""))):
            log.info("web chat form refused", reason="csrf", known=visitor.known)
            return self._refused(request, visitor)
        # The form is read against the page's options and the visitor's choices; the counts
        # are not needed for that (the page the visitor is sent to shows them).
        page = await self._found(request, visitor, counts=False)
        if not isinstance(page, ChatPage):
            return page  # not found, or the database did not answer
        says = self.browser_says(request, visitor)
        try:
            events, errors = self._events(visitor, page, form, says)
        except translate.FormError:
            log.info("web chat form refused", reason="malformed")
            return self._message(request, visitor, "bad_request", status=400)
        if errors.items:
            with contextlib.suppress(PageUnavailable):
                page = await self._load(request, visitor) or page  # with its counts
            return self._page(request, visitor, page, [], errors=errors, status=400)
        notices: list[View] = []
        dispatch = self.adapter.dispatch
        if dispatch is None:
            return self._message(request, visitor, "unavailable", status=503)
        try:
            for event in events:
                outcome = await dispatch(event)
                notices.extend(outcome.notices)
        except Exception:
            # The database did not answer: nothing is acknowledged, the visitor tries again.
            log.exception("web chat dispatch failed")
            return self._message(request, visitor, "unavailable", status=503)
        switched = translate.LANGUAGE_COMMANDS.get(events[0].text) if events else None
        if switched is not None:  # the page's switch: this browser reads it from now on
            visitor.language = switched
            visitor.changed = True
        t = translator_for(switched or page.language)
        if not events:
            notices.append(Notice(say(UNCHANGED, t)))
        elif not notices:  # every event was a duplicate: this form was sent before
            notices.append(Notice(say(SENT_TWICE, t)))
        if page.consultation is not None:  # the page itself shows the next question
            notices = [n for n in notices if not is_next_question(n)]
        visitor.say(notices)
        if not self.identities.fits(visitor):
            # Too much to carry in a cookie (e.g. a copy of what we hold): show it now.
            try:
                fresh = await self._load(request, visitor) or page
            except PageUnavailable:
                fresh = page
            visitor.flash = []
            return self._page(request, visitor, fresh, notices)
        response = web.Response(
            status=303, headers={"Location": page.path or chat_path(page.item_id), **NO_STORE}
        )
        self.identities.write(response, request, visitor)
        return response

    def _events(
        self, visitor: Visitor, page: ChatPage, form: Any, says: str = ""
    ) -> tuple[list[Event], FormErrors]:
        errors = FormErrors()
        sub = str(form.get("sub", ""))
        intent = str(form.get("intent", ""))
        item = page.item_id
        t = translator_for(page.language)
        if intent == "button":
            pressed = str(form.get("button", ""))
            return [translate.button(visitor.id, sub, item, pressed, says)], errors
        if intent == "command":
            name = str(form.get("command", ""))
            return [translate.command(visitor.id, sub, item, name, says)], errors
        if not page.is_open:  # the page changed under the visitor: the core says it closed
            return [translate.vote(visitor.id, sub, item, 1, says)], errors
        takes_text = page.consultation is not None and page.consultation.takes_text
        if intent == "answer" and (page.kind in ("ask", "statements") or takes_text):
            text = str(form.get("answer", "")).strip()
            errors.answer_text = text
            if is_blank(text):
                errors.add("answer", say(ENTER_ANSWER, t))
            elif len(text) > MAX_ANSWER:
                errors.add("answer", say(ANSWER_TOO_LONG, t, limit=MAX_ANSWER))
            return [translate.answer(visitor.id, sub, item, text, says)], errors
        if intent == "vote" and page.kind not in ("ask", "statements") and page.options:
            count = len(page.options)
            chosen = translate.positions(form.getall("choice", []), count)
            if page.kind == "multi":
                if not chosen and not page.chosen:
                    errors.add("choice", say(SELECT_SOME, t))
                return translate.toggles(visitor.id, sub, item, chosen, page.chosen, says), errors
            if len(chosen) != 1:
                errors.add("choice", say(SELECT_ONE, t))
                return [], errors
            return [translate.vote(visitor.id, sub, item, chosen[0], says)], errors
        raise translate.FormError("unknown intent")

    # -- helpers -------------------------------------------------------------------------
    async def _found(
        self, request: web.Request, visitor: Visitor, *, counts: bool = True
    ) -> ChatPage | web.StreamResponse:
        """The page, or the answer when there is none (404) or the database is away (503)."""
        try:
            page = await self._load(request, visitor, counts=counts)
        except PageUnavailable:
            return self._message(request, visitor, "unavailable", status=503)
        return self._not_found(request, visitor) if page is None else page

    async def _load(
        self, request: web.Request, visitor: Visitor, *, counts: bool = True
    ) -> ChatPage | None:
        """The page's state; raises :class:`PageUnavailable` when the database does not answer."""
        loader = self.adapter.pages
        if loader is None:
            raise web.HTTPServiceUnavailable(text="The web chat is not connected to a database.")
        try:
            item = request.match_info["item_id"].lower()
            return await loader(
                item, visitor.id, self.browser_says(request, visitor), counts=counts
            )
        except Exception as exc:
            log.warning("web chat page could not be read", error=type(exc).__name__)
            raise PageUnavailable from None

    def _page(
        self,
        request: web.Request,
        visitor: Visitor,
        page: ChatPage,
        shown: list[View],
        *,
        errors: FormErrors | None = None,
        status: int = 200,
    ) -> web.StreamResponse:
        settings = self.adapter.settings
        t = translator_for(page.language)
        context = {
            "page": page,
            "card": page.card,
            "bars": render.bars(page.card),
            "body": render.paragraphs(page.card.body),
            "messages": [render.message(v, settings.privacy_url) for v in shown],
            "errors": errors or FormErrors(),
            "csrf": self.identities.csrf_token(visitor),
            "new_sub": new_token,
            "action": page.path or chat_path(page.item_id),
            "step": page.consultation,
            "privacy_notice": render.web_text(settings.privacy_notice_in(page.language)),
            "footer": ""
            if page.consultation is not None and page.consultation.finished
            else render.page_footer(page, t),
            "privacy_url": settings.privacy_url,
            "explicit_consent": settings.consent_mode == "explicit",
            "max_answer": MAX_ANSWER,
        }
        return self._html(request, visitor, "webchat/item.html", context, status, t)

    def _not_found(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        return self._message(request, visitor, "not_found", status=404)

    def _refused(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        return self._message(request, visitor, "refused", status=403)

    def _message(
        self, request: web.Request, visitor: Visitor, kind: str, *, status: int
    ) -> web.StreamResponse:
        context = {
            "kind": kind,
            "item_url": str(request.rel_url.path),
            "privacy_url": self.adapter.settings.privacy_url,
        }
        t = translator_for(self.language(request, visitor))
        return self._html(request, visitor, "webchat/message.html", context, status, t)

    def _html(
        self,
        request: web.Request,
        visitor: Visitor,
        template: str,
        context: dict[str, Any],
        status: int,
        t: Translator,
    ) -> web.StreamResponse:
        html = render_page(request, template, context, t)
        response = web.Response(
            text=html,
            status=status,
            content_type="text/html",
            headers={**NO_STORE, **SECURITY_HEADERS},
        )
        self.identities.write(response, request, visitor)
        return response


def routes(adapter: WebChatAdapter) -> list[web.RouteDef]:
    views = ChatViews(adapter)
    return [
        web.get("/c/{item_id}", views.show, name="webchat"),
        web.post("/c/{item_id}", views.submit),
    ]
