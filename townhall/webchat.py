"""The web chat's read side: what ``/c/<item id>`` shows one visitor.

Writes go through the dispatcher like every platform's; a page view only reads. The web adapter
never touches the database itself: it is handed :func:`page_loader` and renders the
:class:`~adapters.web.model.ChatPage` it returns (the same item card every platform shows).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from adapters.web import CLIENT_LIMIT, VISITOR_LIMIT, WebChatAdapter
from adapters.web.links import chat_path
from adapters.web.model import ChatPage, ConsultationStep, PageLoader
from bot.config import Settings
from bot.context import Clock, utc_now
from bot.i18n import Translator, choose, translator_for
from bot.mailbox import DatabaseMailbox
from bot.ratelimit import DatabaseRateLimiter
from bot.views import Card
from services import cards, consultations, results
from storage.consultations import ConsultationRepository
from storage.db import Database
from storage.items import SHORT_ID_ALPHABET, SHORT_ID_LENGTH, ItemRepository
from storage.models import Item, Participant
from storage.people import ParticipantRepository
from storage.responses import AnswerRepository, VoteRepository

if TYPE_CHECKING:
    from townhall.app import Townhall

PLATFORM = "web"
_SHORT_ID = re.compile(f"^[{SHORT_ID_ALPHABET}]{{{SHORT_ID_LENGTH}}}$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def page_loader(db: Database, settings: Settings, clock: Clock = utc_now) -> PageLoader:
    """A loader reading through ``db``; pseudonyms keyed with the settings' secret."""
    secret = settings.secret_key.get_secret_value()

    default = settings.default_language

    async def load(
        item_id: str, visitor_id: str, browser_says: str = "", *, counts: bool = True
    ) -> ChatPage | None:
        """An item's page, else (a slug) a consultation's page, in the visitor's language: the
        one they chose (``language cy``, the page's switch), else their browser's, else the
        instance default."""
        page = (
            await item_page(item_id, visitor_id, browser_says, counts)
            if _SHORT_ID.match(item_id)
            else None
        )
        if page is None and _SLUG.match(item_id):
            return await consultation_page(
                db, secret, item_id, visitor_id, clock(), browser_says, default
            )
        return page

    async def item_page(
        item_id: str, visitor_id: str, browser_says: str, counts: bool
    ) -> ChatPage | None:
        async with db.transaction() as session:
            item = await ItemRepository(session).by_short_id(item_id)
            if item is None:
                return None
            participant = await ParticipantRepository(session, secret).find(PLATFORM, visitor_id)
            language, t = _language(participant, browser_says, default)
            summary = (
                await results.compute(session, item, answer_limit=0, groups=False)
                if counts
                else results.uncounted(item)
            )
            card = cards.item_card(item, summary, t)
            if item.kind == "clause" and item.clause_text:  # the clause in full, above its hint
                card = replace(card, body=f"{item.clause_text.strip()}\n\n{card.body}")
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
                language=language,
                content_language=_content_language(item, language),
            )

    return load


def _content_language(item: Item, language: str) -> str:
    """The language the item's own text is shown in: English unless it has the reader's."""
    if language == "cy" and item.question_cy:
        return "cy"
    return "en"


def _language(
    participant: Participant | None, browser_says: str, default: str
) -> tuple[str, Translator]:
    chosen = participant.language if participant is not None else None
    language = choose(chosen, browser_says, default=default)
    return language, translator_for(language)


async def consultation_page(
    db: Database,
    secret: str,
    slug: str,
    visitor_id: str,
    now: datetime,
    browser_says: str = "",
    default: str = "en",
) -> ChatPage | None:
    """``/c/<slug>``: the visitor's next question of an open consultation (or, once they
    reached the end or it closed, the thanks and the policy team's responses)."""
    if len(slug) > 100:
        return None
    async with db.transaction() as session:
        repo = ConsultationRepository(session)
        consultation = await repo.latest(slug)
        if consultation is None or consultation.status in ("draft", "superseded"):
            return None
        items = list(await repo.items(consultation))
        participant = await ParticipantRepository(session, secret).find(PLATFORM, visitor_id)
        language, t = _language(participant, browser_says, default)
        responded: set[int] = set()
        skipped: list[int] = []
        awaiting = None
        if participant is not None:
            responded = await repo.responded(participant, consultation)
            progress = await repo.progress_of(participant, consultation)
            if progress is not None:
                skipped = list(progress.skipped or [])
                awaiting = progress.awaiting_item_id
        is_open = consultations.status(consultation, now) == "open"
        finished = (
            await repo.finished(participant, items, responded) if participant is not None else set()
        )
        step = consultations.next_step(items, finished, skipped) if is_open else None
        current = next((i for i in items if i.id == awaiting), None) if is_open else None
        if current is not None:
            step = (items.index(current) + 1, current)
        responses = tuple(r.text for r in await repo.responses(consultation))
        title = cards.text_in(consultation.title, consultation.title_cy, t)
        introduction = cards.text_in(
            consultation.introduction, consultation.introduction_cy, t
        ).strip()
        base = ConsultationStep(
            slug=slug,
            title=title,
            introduction=introduction,
            privacy=cards.text_in(consultation.privacy, consultation.privacy_cy, t).strip(),
            total=len(items),
            answered=sum(1 for i in items if i.id in responded),
            responses=responses,
        )
        if step is None:
            card = Card(title=title, body=introduction)
            return ChatPage(
                item_id=items[-1].short_id if items else slug,
                kind="ask",
                is_open=False,
                card=card,
                consented=participant is not None and participant.consented_at is not None,
                path=chat_path(slug),
                consultation=replace(base, finished=True),
                language=language,
            )
        position, item = step
        summary = await results.compute(session, item, answer_limit=0, groups=False)
        card = cards.item_card(item, summary, t)
        chosen: frozenset[int] = frozenset()
        if participant is not None and item.is_choice:
            chosen = await VoteRepository(session).positions_chosen(item, participant.id)
        if current is not None:  # a stance or rating given: the why, or on to the next
            buttons = ((t("Next"), f"consult:{consultation.id}"),)
        else:
            buttons = ((t("Skip"), f"skip:{item.short_id}"),)
        return ChatPage(
            item_id=item.short_id,
            kind=item.kind,
            is_open=True,
            card=replace(card, bars=()),  # no running results mid-consultation
            chosen=chosen,
            consented=participant is not None and participant.consented_at is not None,
            closes_at=consultation.closes_at,
            taken_part=summary.participants if item.is_choice else summary.responses,
            path=chat_path(slug),
            consultation=replace(
                base,
                position=position,
                takes_text=item.kind in consultations.WITH_TEXT,
                buttons=buttons,
                detail=(
                    cards.text_in(item.clause_text or "", item.clause_text_cy, t)
                    or cards.text_in(item.regulation_summary or "", item.regulation_summary_cy, t)
                ).strip(),
            ),
            language=language,
            content_language=_content_language(item, language),
        )


def connect(townhall: Townhall, web_app: web.Application) -> None:
    """Web extension: the web chat reads pages through the running app's own database, and
    keeps its mailbox and form limits there when the shared state lives in the database."""
    adapter = townhall.adapters.get(PLATFORM)
    if isinstance(adapter, WebChatAdapter):
        adapter.attach(page_loader(townhall.db, townhall.settings, townhall.clock))
        if townhall.settings.shared_store == "database":
            db = townhall.db
            adapter.share(
                DatabaseMailbox(db),
                DatabaseRateLimiter(db, *CLIENT_LIMIT, prefix="web-client"),
                DatabaseRateLimiter(db, *VISITOR_LIMIT, prefix="web-visitor"),
            )
