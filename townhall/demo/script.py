"""Plays the sample week through the real dispatcher, on a clock the script moves."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from adapters.web.links import chat_path
from bot.adapter import Outcome
from bot.config import Settings
from bot.dispatch import Dispatcher
from bot.events import Actor, Event, EventKind, Target
from bot.outcomes import AnswerStored, ItemCreated
from bot.router import RouteTable
from bot.views import Card, Notice
from handlers import all_routers
from services.lifecycle import close_due_items
from storage.db import Database
from storage.demo import DemoQueries
from storage.items import ItemRepository, PublicationRepository
from storage.ledger import AuditLog
from townhall.demo.consultation import ConsultationReport, ConsultationWeek
from townhall.demo.sample import (
    ABUSE_ANSWER,
    BAKERY_ANSWER,
    CHANNEL_NAMES,
    CHANNELS,
    ITEMS,
    MODERATOR,
    OFFICERS,
    ONCE_REPORTED_ANSWER,
    PHONE_ANSWER,
    PLATFORMS,
    REPORTED_ANSWER,
    VISIBLE_ANSWERS,
    ItemPlan,
)


@dataclass
class DemoReport:
    """What the demo made: items as (id, kind, status, question), and counts."""

    items: list[tuple[str, str, str, str]] = field(default_factory=list)
    votes: int = 0
    answers: int = 0
    to_review: int = 0  # answers in the moderators' queue (held, reported)
    reports: int = 0
    decisions: int = 0  # moderators' decisions
    participants: int = 0
    #: The consultation answered item by item over the week (townhall/demo/consultation.py).
    consultation: ConsultationReport | None = None


class DemoClock:
    """The demo's own time: each event happens when the script says."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class DemoScript:
    """One run of the sample week."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        now: datetime,
        seed: int,
        outbox_floor: int,
        crowd: dict[str, int],
    ) -> None:
        officers = [f"{p}:{u}" for p, u in OFFICERS.items()]
        self.settings = settings.model_copy(
            update={
                "consent": "notice",
                "policy_team": ",".join([*settings.policy_subjects, *officers]),
                "moderators": ",".join([*settings.moderator_subjects, ":".join(MODERATOR)]),
            }
        )
        self.db = db
        self.now = now.replace(second=0, microsecond=0)
        self.start = self.now - timedelta(days=max(p.days_ago for p in ITEMS))
        self.clock = DemoClock(self.now)
        self.rng = random.Random(seed)
        self.dispatch = Dispatcher(db, self.settings, RouteTable(all_routers()), clock=self.clock)
        self.outbox_floor = outbox_floor
        self.report = DemoReport()
        self.crowd = {p: [self._user_id(p) for _ in range(n)] for p, n in crowd.items()}
        self.recipients = {*CHANNELS.values(), *(u for us in self.crowd.values() for u in us)}
        self.short_ids: dict[str, str] = {}
        #: An answer's text -> its reference (A12), from the handler's typed result.
        self.answer_refs: dict[str, str] = {}
        self.messages: dict[tuple[str, str], str] = {}  # (item key, platform) -> message id
        self._message_seq = 4100
        officer = f"slack:{OFFICERS['slack']}"
        self.consultation = ConsultationWeek(
            db, self.settings, self.clock, self.rng, self._event, officer
        )

    # -- made-up platform identifiers ----------------------------------------------------
    def _user_id(self, platform: str) -> str:
        rng = self.rng
        if platform == "telegram":
            return str(rng.randint(10**8, 7 * 10**9))
        if platform == "slack":
            return "U0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        if platform == "discord":
            return str(rng.randint(10**17, 10**18))
        return "".join(rng.choice("0123456789abcdef") for _ in range(32))

    def _message_id(self, platform: str, at: datetime) -> str:
        self._message_seq += 1
        if platform == "slack":
            return f"{at.timestamp():.0f}.{self._message_seq:06d}"
        if platform == "discord":
            return str((int(at.timestamp() * 1000) - 1420070400000) << 22 | self._message_seq)
        return str(self._message_seq)

    # -- the script ----------------------------------------------------------------------
    async def run(self) -> None:
        steps: list[tuple[datetime, int, Callable[[], Awaitable[None]]]] = []

        def at(when: datetime, step: Callable[[], Awaitable[None]]) -> None:
            steps.append((min(when, self.now), len(steps), step))

        for plan in ITEMS:
            created = self.now - timedelta(days=plan.days_ago)
            at(created, partial(self._create, plan, created))
            if plan.is_choice:
                self._plan_votes(plan, created, at)
        self._plan_answers(self.now - timedelta(days=4.6), at)
        closing = self.now - timedelta(days=6.5 - 3) + timedelta(minutes=1)
        at(closing, self._close_due)
        self.consultation.plan(self.now - timedelta(days=7), self.now, self.crowd, at)
        for when, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
            self.clock.now = when
            await step()
        self.clock.now = self.now
        await self._settle()
        await self._count()

    def _plan_votes(
        self,
        plan: ItemPlan,
        created: datetime,
        at: Callable[[datetime, Callable[[], Awaitable[None]]], None],
    ) -> None:
        rng = self.rng
        ends = self.now if plan.key != "redtape" else created + timedelta(days=2.9)
        hours = (ends - created).total_seconds() / 3600
        for platform, users in self.crowd.items():
            for user in rng.sample(users, round(len(users) * plan.turnout)):
                when = created + timedelta(hours=min(rng.expovariate(1 / 20), hours * 0.98))
                if plan.is_multi:
                    picks = [i for i, p in enumerate(plan.weights, 1) if rng.random() < p] or [1]
                else:
                    picks = rng.choices(range(1, len(plan.weights) + 1), plan.weights)
                    if rng.random() < 0.08:  # changes their mind later
                        picks.append(rng.randint(1, len(plan.weights)))
                for n, position in enumerate(picks):
                    at(
                        when + timedelta(minutes=n * rng.randint(1, 300)),
                        partial(self._vote, plan.key, platform, user, position),
                    )

    def _plan_answers(
        self, created: datetime, at: Callable[[datetime, Callable[[], Awaitable[None]]], None]
    ) -> None:
        rng = self.rng
        writers = [(p, u) for p in PLATFORMS for u in rng.sample(self.crowd[p], 5)]
        rng.shuffle(writers)
        texts = [
            *VISIBLE_ANSWERS,
            PHONE_ANSWER,
            BAKERY_ANSWER,
            ABUSE_ANSWER,
            REPORTED_ANSWER,
            ONCE_REPORTED_ANSWER,
        ]
        when = created + timedelta(minutes=20)
        for (platform, user), text in zip(writers, texts, strict=False):
            when += timedelta(minutes=rng.randint(25, 340))
            at(when, partial(self._answer, platform, user, text))
        # Someone sends the same idea twice: the repeat is held as spam.
        repeat_by = writers[1]
        when += timedelta(minutes=45)
        at(when, partial(self._answer, *repeat_by, texts[1]))
        # Readers report answers; three distinct reports hide one pending review.
        readers = [(p, u) for p in PLATFORMS for u in self.crowd[p] if (p, u) not in writers]
        reporters = rng.sample(readers, 4)
        for n, reporter in enumerate(reporters[:3]):
            at(when + timedelta(hours=2 + n), partial(self._report, reporter, REPORTED_ANSWER))
        at(when + timedelta(hours=7), partial(self._report, reporters[3], ONCE_REPORTED_ANSWER))
        # A moderator works through part of the queue and leaves the rest for the dashboard.
        at(
            when + timedelta(hours=20),
            partial(self._moderate, "redact", BAKERY_ANSWER, "contact details in a public answer"),
        )
        at(
            when + timedelta(hours=20, minutes=4),
            partial(self._moderate, "hide", ABUSE_ANSWER, "abusive towards named people"),
        )

    # -- steps -------------------------------------------------------------------------------
    async def _event(self, platform: str, user: str, kind: EventKind, **kw: Any) -> Outcome:
        message_id = self._message_id(platform, self.clock.now)
        channel = CHANNELS[platform]
        event = Event(
            platform,
            f"demo-{uuid.uuid4().hex}",
            kind,
            Actor(user),
            Target(channel, message_id=message_id),
            received_at=self.clock.now,
            **kw,
        )
        outcome = await self.dispatch(event)
        if outcome.failed or outcome.duplicate:
            raise RuntimeError(f"demo step failed: {_text(outcome)}")
        if kind is not EventKind.ACTION:  # votes only queue refreshes, settled at the end
            await self._settle()
        return outcome

    async def _create(self, plan: ItemPlan, created: datetime) -> None:
        officer_platform = plan.platform
        outcome = await self._event(
            officer_platform, OFFICERS[officer_platform], EventKind.COMMAND, text=plan.command
        )
        made = outcome.result(ItemCreated)
        if made is None:
            raise RuntimeError(f"demo could not create {plan.key}: {_text(outcome)}")
        short_id = made.short_id
        self.short_ids[plan.key] = short_id
        # The officer then shows it on the other platforms and on the public web page.
        async with self.db.transaction() as session:
            item = await ItemRepository(session).by_short_id(short_id)
            assert item is not None
            pubs = PublicationRepository(session)
            audit = AuditLog(session)
            for platform in PLATFORMS:
                if platform == officer_platform:
                    continue
                pub = await pubs.add(item, platform, CHANNELS[platform], None, created)
                message_id = (
                    chat_path(short_id)
                    if platform == "web"
                    else self._message_id(platform, created)
                )
                await pubs.set_message_id(pub.id, message_id, channel_name=CHANNEL_NAMES[platform])
                await audit.record(
                    f"{officer_platform}:{OFFICERS[officer_platform]}",
                    "item.publish",
                    short_id,
                    created,
                    platform=platform,
                    channel=CHANNELS[platform],
                )
            for pub in await pubs.for_item(item.id):
                await session.refresh(pub)
                self.messages[(plan.key, pub.platform)] = pub.message_id or ""

    async def _vote(self, key: str, platform: str, user: str, position: int) -> None:
        value = f"{self.short_ids[key]}:{position}"
        await self._event(platform, user, EventKind.ACTION, action_id="vote", action_value=value)

    async def _answer(self, platform: str, user: str, text: str) -> None:
        short_id = self.short_ids["highstreet"]
        if platform in ("telegram", "slack"):  # by replying to the question's message
            reply_to = self.messages[("highstreet", platform)]
            outcome = await self._event(
                platform, user, EventKind.REPLY, text=text, reply_to=reply_to
            )
        else:  # Discord's modal, the web chat's form
            outcome = await self._event(
                platform,
                user,
                EventKind.SUBMIT,
                text=text,
                action_id="answer",
                action_value=short_id,
            )
        stored = outcome.result(AnswerStored)
        if stored is None:
            raise RuntimeError(f"demo answer was not stored: {_text(outcome)}")
        self.answer_refs[text] = stored.ref

    async def _answer_ref(self, text: str) -> str:
        return self.answer_refs[text]

    async def _report(self, reporter: tuple[str, str], text: str) -> None:
        await self._event(
            *reporter, EventKind.COMMAND, text=f"report {await self._answer_ref(text)}"
        )

    async def _moderate(self, decision: str, text: str, reason: str) -> None:
        ref = await self._answer_ref(text)
        await self._event(*MODERATOR, EventKind.COMMAND, text=f"{decision} {ref} {reason}")

    async def _close_due(self) -> None:
        async with self.db.transaction() as session:
            await close_due_items(session, self.clock())
        await self._settle()

    async def _settle(self) -> None:
        """Mark what the demo queued for its made-up chats as sent, with made-up message ids."""
        now = self.clock()
        async with self.db.transaction() as session:
            await DemoQueries(session).settle(
                after=self.outbox_floor,
                channels=self.recipients,
                at=now,
                message_id=self._message_id,
                channel_names=CHANNEL_NAMES,
            )

    async def _count(self) -> None:
        async with self.db.transaction() as session:
            items = [
                await ItemRepository(session).by_short_id(self.short_ids[p.key]) for p in ITEMS
            ]
            ids = [i.id for i in items if i is not None]
            counts = await DemoQueries(session).counts(
                ids, self.recipients, ":".join(MODERATOR), self.start
            )
        self.report = DemoReport(
            items=[(i.short_id, i.kind, i.status, i.question) for i in items if i is not None],
            consultation=await self.consultation.report(),
            **counts,
        )


def _text(outcome: Outcome) -> str:
    parts = []
    for view in outcome.notices:
        if isinstance(view, Notice):
            parts.append(view.text)
        elif isinstance(view, Card):
            parts.append(view.title)
    return "\n".join(parts)
