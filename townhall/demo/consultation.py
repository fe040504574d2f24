"""The demo's consultation: the draft Dental Services Bill, answered item by item for a week.

Loaded as the policy officer would load it (services/consultations.py, audited), then marked
open, then worked through by part of the crowd from every platform: each person starts at a
random moment of the week, goes through the items in order, now and then leaves one out or stops
early, and sometimes adds a comment to a stance or a why to a rating. Votes and open answers are
dispatched like any other; comments and whys go through the same screening and storing code as
every answer (:func:`handlers.questions.store_answer`).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from bot.adapter import Outcome
from bot.config import Settings
from bot.context import Context
from bot.events import Actor, Event, EventKind, Target
from handlers.questions import store_answer
from services import consultations
from services.consultation_file import load_file
from storage.consultation_insights import ConsultationInsights
from storage.consultations import ConsultationRepository
from storage.db import Database
from storage.models import Item
from townhall.demo import sample

DEMO_FILE = Path(__file__).with_name("dental-bill.yaml")
DEMO_SLUG = "dental-bill"

At = Callable[[datetime, Callable[[], Awaitable[None]]], None]
Dispatch = Callable[..., Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class ConsultationReport:
    """What the demo's consultation holds at the end."""

    slug: str
    items: int
    started: int
    completed: int


class ConsultationWeek:
    """Loads the consultation and plans each person's way through it on the demo's clock."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Callable[[], datetime],
        rng: random.Random,
        event: Dispatch,
        officer: str,
    ) -> None:
        self.db, self.settings, self.clock, self.rng = db, settings, clock, rng
        self.event = event
        self.officer = officer
        self.items: list[Item] = []

    def plan(
        self, loaded_at: datetime, ends: datetime, crowd: dict[str, list[str]], at: At
    ) -> None:
        """Schedule the load, then each person's answers: one step per item, a few minutes
        apart, stopping early now and then and leaving the odd item out."""
        at(loaded_at, self.load)
        planned = load_file(DEMO_FILE, now=loaded_at).items
        ratings = [sum(p.kind == "rating" for p in planned[:n]) for n in range(len(planned))]
        rng = self.rng
        hours = (ends - loaded_at).total_seconds() / 3600
        for platform, users in crowd.items():
            for user in rng.sample(users, round(len(users) * sample.CONSULTATION_TURNOUT)):
                when = loaded_at + timedelta(hours=rng.uniform(1, hours * 0.97))
                for index in range(len(planned)):
                    if index and rng.random() > sample.KEEP_GOING:
                        break
                    when += timedelta(minutes=rng.randint(1, 4))
                    if rng.random() >= sample.SKIP:
                        at(when, partial(self._answer, platform, user, index, ratings[index]))

    async def load(self) -> None:
        now = self.clock()
        plan = load_file(DEMO_FILE, now=now)
        async with self.db.transaction() as session:
            existing = await ConsultationRepository(session).latest(plan.slug)
            loaded = await consultations.load(
                session, plan, new_version=existing is not None, actor=self.officer, now=now
            )
            loaded.status = "open"  # as if published in chat straight away
            self.items = list(await ConsultationRepository(session).items(loaded))

    async def _answer(self, platform: str, user: str, index: int, regulation: int) -> None:
        rng, item = self.rng, self.items[index]
        weights: tuple[float, ...] = ()
        texts: tuple[str, ...] = ()
        chance = 0.0
        if item.kind == "scale":
            weights = sample.SCALE_WEIGHTS
        elif item.kind in ("poll", "multi"):
            weights = sample.POLL_WEIGHTS
        elif item.kind == "clause":
            number = item.clause_number or ""
            weights = sample.STANCES.get(number, sample.STANCES["1"])
            texts, chance = sample.CLAUSE_COMMENTS.get(number, ()), sample.COMMENT
        elif item.kind == "rating":
            weights = sample.RATINGS[regulation % len(sample.RATINGS)]
            texts, chance = sample.WHYS[regulation % len(sample.WHYS)], sample.WHY
        only_text = bool(texts) and rng.random() < sample.TEXT_ONLY
        if weights and not only_text:
            [position] = rng.choices(range(1, len(weights) + 1), weights)
            value = f"{item.short_id}:{position}"
            await self.event(platform, user, EventKind.ACTION, action_id="vote", action_value=value)
        if item.kind == "ask" and rng.random() < sample.ASK:
            text = rng.choice(sample.CONSULTATION_ANSWERS)
            await self.event(
                platform,
                user,
                EventKind.SUBMIT,
                text=text,
                action_id="answer",
                action_value=item.short_id,
            )
        elif texts and (only_text or rng.random() < chance):
            await self._comment(platform, user, item, rng.choice(texts))

    async def _comment(self, platform: str, user: str, item: Item, text: str) -> None:
        """A comment on a clause or a why for a rating: screened and stored like any answer."""
        event = Event(
            platform,
            f"demo-{uuid.uuid4().hex}",
            EventKind.SUBMIT,
            Actor(user),
            Target(sample.CHANNELS[platform]),
            received_at=self.clock(),
            text=text,
            action_id="answer",
            action_value=item.short_id,
        )
        async with self.db.transaction() as session:
            ctx = Context(event, session, self.settings, self.clock)
            found = await ctx.items.by_short_id(item.short_id)
            assert found is not None
            await store_answer(ctx, found, text)

    async def report(self) -> ConsultationReport | None:
        if not self.items:
            return None
        async with self.db.transaction() as session:
            repo = ConsultationRepository(session)
            consultation = await repo.latest(DEMO_SLUG)
            assert consultation is not None
            funnel = await ConsultationInsights(session).funnel(consultation, len(self.items))
        return ConsultationReport(DEMO_SLUG, len(self.items), funnel.started, funnel.completed)
