"""The web chat's read side: what ``/c/<item id>`` shows one visitor.

Writes go through the dispatcher like every platform's; a page view only reads. The web adapter
never touches the database itself: it is handed :func:`page_loader` and renders the
:class:`~adapters.web.model.ChatPage` it returns (the same item card every platform shows).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aiohttp import web

from adapters.web import WebChatAdapter
from adapters.web.model import ChatPage, PageLoader
from bot.config import Settings
from services import cards, results
from storage.db import Database
from storage.items import SHORT_ID_ALPHABET, SHORT_ID_LENGTH, ItemRepository
from storage.people import ParticipantRepository
from storage.responses import AnswerRepository, VoteRepository

if TYPE_CHECKING:
    from townhall.app import Townhall

PLATFORM = "web"
_SHORT_ID = re.compile(f"^[{SHORT_ID_ALPHABET}]{{{SHORT_ID_LENGTH}}}$")


def page_loader(db: Database, settings: Settings) -> PageLoader:
    """A loader reading through ``db``; pseudonyms keyed with the settings' secret."""
    secret = settings.secret_key.get_secret_value()

    async def load(item_id: str, visitor_id: str) -> ChatPage | None:
        if not _SHORT_ID.match(item_id):
            return None  # not an id we ever issue: no query
        async with db.transaction() as session:
            item = await ItemRepository(session).by_short_id(item_id)
            if item is None:
                return None
            summary = await results.compute(session, item, answer_limit=0)
            card = cards.item_card(item, summary)
            participant = await ParticipantRepository(session, secret).find(PLATFORM, visitor_id)
            chosen: frozenset[int] = frozenset()
            mine = 0
            if participant is not None:
                if item.is_choice:
                    chosen = await VoteRepository(session).positions_chosen(item, participant.id)
                else:
                    mine = await AnswerRepository(session).count_by(item, participant.id)
            return ChatPage(
                item_id=item.short_id,
                kind=item.kind,
                is_open=item.status == "open",
                card=card,
                chosen=chosen,
                my_answers=mine,
                consented=participant is not None and participant.consented_at is not None,
                closes_at=item.closes_at,
                taken_part=summary.participants if item.is_choice else summary.responses,
                results_later=item.is_choice and item.results_visibility == "closed",
            )

    return load


def connect(townhall: Townhall, web_app: web.Application) -> None:
    """Web extension: the web chat reads pages through the running app's own database."""
    adapter = townhall.adapters.get(PLATFORM)
    if isinstance(adapter, WebChatAdapter):
        adapter.attach(page_loader(townhall.db, townhall.settings))
