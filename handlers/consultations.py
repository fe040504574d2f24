"""Consultations in chat: the officer's publish/close/results/respond, the citizen's Start and
Skip, topic subscriptions and STOP. The way through the items is handlers/consultation_flow.py.
"""

from __future__ import annotations

import dataclasses
import re

import structlog

from bot.context import Context
from bot.errors import UserError
from bot.events import EventKind
from bot.grammar import CommandSpec, Field
from bot.i18n import N_, choose, translator_for
from bot.inputs import INT_MAX, parse_int
from bot.router import Router, has_role
from bot.views import Card, Notice, view_to_dict
from handlers import consultation_flow
from handlers.polls import open_item
from handlers.privacy import plural
from handlers.questions import store_answer
from services import consultation_response, lifecycle
from services.consultations import status
from storage.models import Consultation

router = Router("consultations")
policy_only = has_role("policy")
log = structlog.get_logger("townhall.consultations")

TOPIC = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
STOP_WORDS = frozenset({"stop", "unsubscribe"})

PUBLISH = CommandSpec(
    "publish",
    "publish SLUG",
    "Open a loaded consultation and post its introduction here, with a Start button; "
    "subscribers to its topics get it privately.",
    min_args=1,
    max_args=1,
    staff_only=True,
    menu="Publish a consultation here (policy team)",
    hint="publish SLUG",
    fields=(Field("slug", "The consultation's name, e.g. dental-bill", required=True, limit=100),),
    publishes=True,
)
RESPOND = CommandSpec(
    "respond",
    'respond SLUG "What we decided ..."',
    "You said, we did: send the policy team's response, with the headline results, to "
    "everyone who took part.",
    min_args=2,
    max_args=2,
    staff_only=True,
    menu="Send participants what was decided (policy team)",
    fields=(
        Field("slug", "The consultation's name", required=True, limit=100),
        Field("text", "What was decided", required=True, limit=4000),
    ),
)
SUBSCRIBE = CommandSpec(
    "subscribe",
    "subscribe TOPIC",
    N_("Hear privately about new consultations on a topic."),
    min_args=1,
    max_args=1,
    menu="Hear about consultations on a topic",
    fields=(Field("topic", "A topic, e.g. health", required=True, limit=60),),
)
UNSUBSCRIBE = CommandSpec(
    "unsubscribe",
    "unsubscribe [TOPIC]",
    N_("Stop hearing about a topic; with no topic, about everything."),
    max_args=1,
    menu="Stop hearing about a topic, or everything",
    fields=(Field("topic", "A topic; leave it out to stop everything", limit=60),),
)
TOPICS = CommandSpec(
    "topics",
    "topics",
    N_("Your subscriptions, and the topics of open consultations."),
    max_args=0,
    menu="Your subscriptions and open topics",
)
STOP = CommandSpec(
    "stop",
    "stop",
    N_("No more consultation messages you did not ask for (subscribe again to undo)."),
    max_args=0,
    menu="Stop consultation messages",
)


async def find_consultation(ctx: Context, slug: str) -> Consultation:
    consultation = await ctx.consultations.latest(slug.strip().lower()[:100])
    if consultation is None:
        raise UserError(ctx.t("I can't find consultation {slug}.", slug=slug[:40]))
    return consultation


# -- the policy team -------------------------------------------------------------------------


@router.command(PUBLISH, filters=[policy_only])
async def publish(ctx: Context) -> None:
    assert ctx.command is not None
    consultation = await find_consultation(ctx, ctx.command.args[0])
    state = status(consultation, ctx.clock())
    if state not in ("draft", "open"):
        raise UserError(
            ctx.t(
                "Consultation {slug} is {state}: it cannot be published.",
                slug=consultation.slug,
                state=state,
            )
        )
    items = len(await ctx.consultations.items(consultation))
    language = await ctx.channel_languages.of(ctx.event.platform, ctx.event.target.channel_id)
    card = consultation_flow.public_intro_card(consultation, items, language)
    sent = 0
    if state == "draft":  # opening it: subscribers hear once, whatever channels follow
        consultation.status = "open"
        if consultation.opens_at is None or consultation.opens_at > ctx.clock():
            consultation.opens_at = ctx.clock()
        recipients = await ctx.subscriptions.subscribers(list(consultation.topics or []))
        for person in recipients:  # each in their language, else the default
            t = translator_for(choose(person.language, default=ctx.settings.default_language))
            mine = consultation_flow.intro_card(consultation, items, t)
            view = view_to_dict(dataclasses.replace(mine, confidential=True))
            await ctx.outbox.send(
                platform=person.platform,
                channel_id=person.user_id,
                view=view,
                at=ctx.clock(),
                private=True,
            )
        sent = len(recipients)
        await ctx.record("consultation.publish", consultation.slug or "", subscribers=sent)
    await ctx.reply(card)
    ctx.notify(
        ctx.t(
            "Published consultation {slug} ({n} questions); sent to {k}. "
            "Close it with: close {slug} · results: results {slug}",
            slug=consultation.slug,
            n=items,
            k=plural(sent, "subscriber"),
        )
    )


async def close_consultation(ctx: Context, consultation: Consultation) -> None:
    """Close every open item of the consultation, and the consultation itself."""
    if consultation.status not in ("draft", "open"):
        raise UserError(ctx.t("Consultation {slug} is already closed.", slug=consultation.slug))
    closed = 0
    for item in await ctx.consultations.open_items(consultation):
        closed += await lifecycle.close_item(ctx.session, item, ctx.event.subject, ctx.clock())
    consultation.status = "closed"
    await ctx.record("consultation.close", consultation.slug or "", items=closed)
    ctx.notify(
        ctx.t("Closed consultation {slug} ({n} questions).", slug=consultation.slug, n=closed)
    )


async def results_of(ctx: Context, consultation: Consultation) -> None:
    """The consultation's headline results, privately to the officer."""
    headline = await consultation_response.headline(ctx.session, consultation, ctx.clock())
    await ctx.record("consultation.results", consultation.slug or "")
    ctx.notify(
        Card(
            title=ctx.t("Results: {title}", title=consultation.title[:200]),
            body=headline.text,
            fields=(
                (ctx.t("Participants"), str(headline.participants)),
                (ctx.t("Completed"), str(headline.completed)),
            ),
            footer=ctx.t(
                "Consultation {slug} · {state}", slug=consultation.slug, state=headline.status
            ),
            confidential=True,
        )
    )


@router.command(RESPOND, filters=[policy_only])
async def respond(ctx: Context) -> None:
    assert ctx.command is not None
    slug, text = ctx.command.args
    try:
        sent = await consultation_response.respond(
            ctx.session,
            slug,
            text,
            ctx.event.subject,
            ctx.clock(),
            ctx.settings.default_language,
        )
    except consultation_response.ResponseRefused as exc:
        raise UserError(ctx.t(str(exc))) from None
    ctx.notify(
        Notice(
            ctx.t(
                "Response to {slug} recorded; sent to {n}.",
                slug=sent.slug,
                n=plural(sent.recipients, "participant"),
            ),
            success=True,
        )
    )


# -- citizens ----------------------------------------------------------------------------------


async def start_by_slug(ctx: Context, slug: str) -> None:
    """``start SLUG`` (and Telegram's deep link ``t.me/<bot>?start=SLUG``)."""
    await consultation_flow.begin(ctx, await find_consultation(ctx, slug))


@router.action("consult")
async def consult(ctx: Context) -> None:
    """The Start button (and Next after a why): start, or resume where the person left off."""
    value = ctx.event.action_value
    number = parse_int(value, low=1, high=INT_MAX)
    if number is not None:
        consultation = await ctx.consultations.get(number)
    else:
        consultation = await ctx.consultations.latest(value.lower()[:100])
    await consultation_flow.begin(ctx, await consultation_flow.open_consultation(ctx, consultation))


@router.action("profile")
async def about_you(ctx: Context) -> None:
    """An "about you" answer, or "Prefer not to say"."""
    await consultation_flow.answer_profile(ctx, ctx.event.action_value or "")


@router.action("skip")
async def skip(ctx: Context) -> None:
    item = await open_item(ctx, ctx.event.action_value)
    if item.consultation_id is None:
        raise UserError(ctx.t("Only a consultation's questions can be skipped."))
    await consultation_flow.skip(ctx, item)


@router.text()
async def typed(ctx: Context) -> None:
    """Free text in a private chat: STOP, or the text a consultation item is waiting for."""
    if ctx.event.kind is not EventKind.TEXT:
        return
    words = ctx.event.text.strip().lower()
    if words in STOP_WORDS:
        await stop_messages(ctx)
        return
    item = await consultation_flow.awaited_item(ctx)
    if item is not None:
        item = await open_item(ctx, item.short_id)
        await store_answer(ctx, item, ctx.event.text)


# -- subscriptions -----------------------------------------------------------------------------


def clean_topic(ctx: Context, topic: str) -> str:
    topic = topic.strip().lower().lstrip("#")
    if not TOPIC.match(topic):
        raise UserError(
            ctx.t("A topic is one word of letters, digits and hyphens, e.g. subscribe health.")
        )
    return topic


@router.command(SUBSCRIBE)
async def subscribe(ctx: Context) -> None:
    assert ctx.command is not None
    topic = clean_topic(ctx, ctx.command.args[0])
    participant = await ctx.participant()
    added = await ctx.subscriptions.subscribe(participant, topic, ctx.clock())
    said = (
        "Subscribed to {topic}: new consultations on it will come to you privately. "
        "Send unsubscribe {topic} or stop to end it."
        if added
        else "You are already subscribed to {topic}."
    )
    ctx.notify(Notice(ctx.t(said, topic=topic), confidential=True, success=added))


@router.command(UNSUBSCRIBE)
async def unsubscribe(ctx: Context) -> None:
    assert ctx.command is not None
    if not ctx.command.args:
        await stop_messages(ctx)
        return
    topic = clean_topic(ctx, ctx.command.args[0])
    participant = await ctx.participants.find(ctx.event.platform, ctx.event.actor.user_id)
    removed = participant is not None and await ctx.subscriptions.unsubscribe(participant, topic)
    said = "Unsubscribed from {topic}." if removed else "You were not subscribed to {topic}."
    ctx.notify(Notice(ctx.t(said, topic=topic), confidential=True, success=removed))


@router.command(TOPICS)
async def topics(ctx: Context) -> None:
    participant = await ctx.participants.find(ctx.event.platform, ctx.event.actor.user_id)
    mine = await ctx.subscriptions.topics_of(participant) if participant is not None else []
    available = await ctx.consultations.open_topics()
    lines = [
        ctx.t("Your topics: {t}", t=", ".join(mine) if mine else ctx.t("none")),
        ctx.t(
            "Open consultations' topics: {t}",
            t=", ".join(available) if available else ctx.t("none"),
        ),
        ctx.t("Send subscribe TOPIC to hear about one, unsubscribe TOPIC or stop to end it."),
    ]
    ctx.notify(Notice("\n".join(lines), confidential=True))


@router.command(STOP)
async def stop(ctx: Context) -> None:
    await stop_messages(ctx)


async def stop_messages(ctx: Context) -> None:
    participant = await ctx.participant()  # the opt-out itself is kept, pseudonymously
    await ctx.subscriptions.stop(participant, ctx.clock())
    ctx.notify(
        Notice(
            ctx.t(
                "Done: no more consultation messages unless you ask (send subscribe TOPIC to "
                "start again)."
            ),
            confidential=True,
            success=True,
        )
    )
