"""The web chat: a public page per item (``/c/<item id>``) for citizens on no chat platform.

Anyone can vote or answer there with no account, as an anonymous participant (a random id in a
signed cookie), through the same handlers as every platform: a vote is an ACTION, an answer a
SUBMIT, a card button an ACTION, dispatched and committed before the page answers.

``send()``: the web has no message to post. Publishing an item to ``("web", "public")`` returns
a :class:`MessageRef` whose message id is the item's page, ``/c/<item id>``, so a publication on
the web records where the item lives (the dashboard links it). The page always renders the
current card from the database, so ``edit()`` has nothing to do. Private messages to a visitor
(a moderator hid their answer) wait in a :class:`Mailbox` for their next page view.

Several workers share the mailbox and the form limits (``TOWNHALL_SHARED_STATE``): in Redis,
made here from its URL, or in the database, handed over by the application (:meth:`share`).
"""

from __future__ import annotations

import structlog
from aiohttp import web

from adapters.web.identity import Identities, new_token
from adapters.web.links import chat_path
from adapters.web.mailbox import Inbox, Mailbox, RedisMailbox
from adapters.web.model import ChatPage, PageLoader
from adapters.web.render import item_of
from adapters.web.translate import CAPABILITIES, PLATFORM
from bot.adapter import Capabilities, Dispatch
from bot.config import Settings
from bot.events import MessageRef, Target
from bot.ratelimit import Limit, RateLimiter, SharedRateLimiter
from bot.views import View

log = structlog.get_logger("townhall.web")

CLIENT_LIMIT = (60, 60.0)  # a school or office shares one address: generous
VISITOR_LIMIT = (12, 60.0)  # one person: a dozen answers or votes a minute

__all__ = ["ChatPage", "PageLoader", "WebChatAdapter", "from_settings"]


class WebChatAdapter:
    """Serves ``/c/<item id>`` on Townhall's HTTP server; needs a page loader to read items."""

    name = PLATFORM
    capabilities: Capabilities = CAPABILITIES

    def __init__(self, settings: Settings, pages: PageLoader | None = None) -> None:
        self.settings = settings
        self.pages = pages
        self.identities = Identities(
            settings.secret_key.get_secret_value(), force_secure=settings.env == "production"
        )
        self.mailbox = Mailbox()
        #: Form posts per client address, and per visitor at one address (burst, seconds).
        self.limit_client: Limit = RateLimiter(*CLIENT_LIMIT)
        self.limit_visitor: Limit = RateLimiter(*VISITOR_LIMIT)
        #: Where private messages wait: this process, or Redis or the database shared by
        #: every worker (the database's are given by :meth:`share`).
        self.inbox: Inbox = self.mailbox
        if settings.shared_store == "redis" and settings.redis_url:
            url = settings.redis_url
            self.inbox = RedisMailbox(url)
            self.limit_client = SharedRateLimiter(*CLIENT_LIMIT, url, prefix="townhall-client")
            self.limit_visitor = SharedRateLimiter(*VISITOR_LIMIT, url, prefix="townhall-visitor")
        self.dispatch: Dispatch | None = None

    def attach(self, pages: PageLoader) -> None:
        """Give the adapter its read side (the app does, once the database exists)."""
        self.pages = pages

    def share(self, inbox: Inbox, limit_client: Limit, limit_visitor: Limit) -> None:
        """Keep private messages and form limits where every worker sees them (the app
        does, with the database's, once it exists)."""
        self.inbox = inbox
        self.limit_client = limit_client
        self.limit_visitor = limit_visitor

    @property
    def connected(self) -> bool:
        return self.dispatch is not None

    async def start(self, dispatch: Dispatch) -> None:
        self.dispatch = dispatch

    async def stop(self) -> None:
        self.dispatch = None
        if isinstance(self.inbox, RedisMailbox):
            await self.inbox.close()

    def http_routes(self) -> list[web.RouteDef]:
        from adapters.web.pages import routes

        return routes(self)

    async def send(
        self, target: Target, view: View, *, reply_to: str | None = None, key: str | None = None
    ) -> MessageRef:
        if target.private:  # to one visitor: shown on their next page
            await self.inbox.post(target.channel_id, view)
            return MessageRef(PLATFORM, target.channel_id, f"mail-{new_token()}")
        item_id = item_of(view)
        if item_id is not None and reply_to is None:  # an item published to the web
            return MessageRef(PLATFORM, target.channel_id, chat_path(item_id), target.thread_id)
        # Results posted on close (a reply under the item) and anything else: the page itself
        # shows them, there is nothing to post.
        return MessageRef(PLATFORM, target.channel_id, f"web-{new_token()}", target.thread_id)

    async def channel_name(self, target: Target) -> str | None:
        return None if target.private else "Public page"

    async def edit(self, ref: MessageRef, view: View) -> None:
        """Nothing to do: every page view renders the item's current card."""


def from_settings(settings: Settings) -> WebChatAdapter:
    return WebChatAdapter(settings)
