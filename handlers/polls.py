"""Creating polls, scales and open questions, and voting on them."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.adapter import Outcome
from bot.batcher import Batch
from bot.context import Context
from bot.errors import UserError
from bot.events import Event, EventKind
from bot.grammar import CommandSpec
from bot.i18n import N_, for_person
from bot.inputs import INT_MAX, parse_int
from bot.outcomes import ItemCreated
from bot.router import Router, has_role
from bot.timeparse import parse_deadline
from bot.views import Notice, View
from handlers import consent, consultation_flow
from services import cards, lifecycle, results
from services.limits import MAX_OPTION, MAX_OPTIONS, MAX_QUESTION, MIN_OPTIONS
from storage.items import NewItem
from storage.ledger import EventLedger
from storage.models import Item, Option, Participant
from storage.vote_batches import Person, VoteBatchRepository, VoteRow

router = Router("polls")
policy_only = has_role("policy")

SCALE = (
    N_("Strongly disagree"),
    N_("Disagree"),
    N_("Neither agree nor disagree"),
    N_("Agree"),
    N_("Strongly agree"),
)

POLL = CommandSpec(
    "poll",
    'poll "Question?" "Option A" "Option B" ... [--multi] [--closes 2d] [--results live|closed] '
    '[--cy "Cwestiwn? | Opsiwn A | Opsiwn B"]',
    "Publish a poll here (2-10 options; --multi lets people pick several).",
    flags=frozenset({"multi"}),
    options={"closes": (), "results": ("live", "closed"), "cy": ()},
    min_args=1,
    staff_only=True,
    menu="Publish a poll here (policy team)",
    hint='poll "Question?" "Yes" "No"',
)
SCALE_SPEC = CommandSpec(
    "scale",
    'scale "Statement" [--closes 2d] [--results live|closed] [--cy "Datganiad"]',
    "Publish a 5-point agree/disagree scale here.",
    options={"closes": (), "results": ("live", "closed"), "cy": ()},
    min_args=1,
    max_args=1,
    staff_only=True,
    menu="Publish an agree/disagree scale here (policy team)",
)
ASK = CommandSpec(
    "ask",
    'ask "Open question?" [--closes 2d] [--moderation strict|lazy] [--author-notices yes|no] '
    '[--cy "Cwestiwn agored?"]',
    "Publish an open question; people answer in their own words. strict (default) holds "
    "flagged answers for a moderator; lazy shows them and queues them for review.",
    options={
        "closes": (),
        "moderation": ("strict", "lazy"),
        "author-notices": ("yes", "no"),
        "cy": (),
    },
    min_args=1,
    max_args=1,
    staff_only=True,
    menu="Publish an open question here (policy team)",
    hint='ask "Question?"',
)


def clean_question(text: str) -> str:
    question = " ".join(text.split())
    if not question:
        raise UserError('The question is empty: put it in quotes, e.g. poll "Question?" ...')
    if len(question) > MAX_QUESTION:
        raise UserError(
            f"The question is {len(question)} characters; keep it to {MAX_QUESTION} or fewer."
        )
    return question


def clean_options(labels: list[str]) -> list[str]:
    options = [" ".join(label.split()) for label in labels]
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise UserError(
            f"A poll needs {MIN_OPTIONS} to {MAX_OPTIONS} options; you gave {len(options)}."
        )
    for label in options:
        if not label:
            raise UserError("An option is empty.")
        if all(unicodedata.category(c).startswith("P") or c.isspace() for c in label):
            raise UserError(f"Option {label[:20]!r} is only punctuation: give it words.")
        if len(label) > MAX_OPTION:
            raise UserError(
                f"Option {label[:20]!r}... is too long: at most {MAX_OPTION} characters."
            )
    if len({o.casefold() for o in options}) != len(options):
        raise UserError("Two options are the same.")
    return options


def welsh_text(
    given: str | None, options: list[str], *, with_options: bool
) -> tuple[str | None, list[str]]:
    """``--cy "Cwestiwn? | Opsiwn A | Opsiwn B"``: the Welsh question, then (a poll) each
    option's Welsh in the same order, split at ``|``; the question alone is fine too."""
    if given is None:
        return None, []
    parts = [part.strip() for part in given.split("|")] if with_options else [given]
    question = clean_question(parts[0])
    if len(parts) == 1:
        return question, []
    if len(parts) != len(options) + 1:
        raise UserError(
            f"--cy gives the Welsh question, then one Welsh option per option, split by |: "
            f"{len(options)} options, {len(parts) - 1} given in Welsh."
        )
    return question, clean_options(parts[1:])


async def create_and_publish(
    ctx: Context,
    kind: str,
    question: str,
    options: list[str],
    *,
    before_publish: Callable[[Item], Awaitable[None]] | None = None,
) -> None:
    assert ctx.command is not None
    question_cy, options_cy = welsh_text(
        ctx.command.options.get("cy"), options, with_options=kind in ("poll", "multi")
    )
    closes = ctx.command.options.get("closes")
    closes_at = parse_deadline(closes, ctx.clock()) if closes else None
    item = await ctx.items.create(
        NewItem(
            kind=kind,
            question=question,
            options=options,
            created_by=ctx.event.subject,
            created_at=ctx.clock(),
            closes_at=closes_at,
            results_visibility=ctx.command.options.get("results", "live"),
            moderation=ctx.command.options.get("moderation", "strict"),
            notify_authors=ctx.command.options.get("author-notices", "yes") == "yes",
            question_cy=question_cy,
            options_cy=options_cy,
        )
    )
    if before_publish is not None:  # e.g. a statements item's seed statements
        await before_publish(item)
    target = ctx.event.target
    language = await ctx.channel_languages.of(ctx.event.platform, target.channel_id)
    summary = await results.compute(ctx.session, item, groups=False)
    await ctx.publish(item, cards.public_card(item, summary, language))
    await ctx.record("item.create", item.short_id, kind=kind)
    ctx.produced(ItemCreated(item.short_id, kind))
    ctx.notify(
        ctx.t(
            "Published {kind} {id}. Close it with: close {id} · results: results {id}",
            kind=cards.KIND_NAMES[kind].lower(),
            id=item.short_id,
        )
    )


@router.command(POLL, filters=[policy_only])
async def poll(ctx: Context) -> None:
    assert ctx.command is not None
    question = clean_question(ctx.command.args[0])
    options = clean_options(list(ctx.command.args[1:]))
    kind = "multi" if "multi" in ctx.command.flags else "poll"
    await create_and_publish(ctx, kind, question, options)


@router.command(SCALE_SPEC, filters=[policy_only])
async def scale(ctx: Context) -> None:
    assert ctx.command is not None
    await create_and_publish(ctx, "scale", clean_question(ctx.command.args[0]), list(SCALE))


@router.command(ASK, filters=[policy_only])
async def ask(ctx: Context) -> None:
    assert ctx.command is not None
    await create_and_publish(ctx, "ask", clean_question(ctx.command.args[0]), [])


async def find_item(ctx: Context, short_id: str) -> Item:
    """The item with this short id; a clear refusal when there is none."""
    item = await ctx.items.by_short_id(short_id)
    if item is None:
        raise UserError(ctx.t("I can't find item {id}.", id=short_id[:20]))
    return item


async def open_item(ctx: Context, short_id: str) -> Item:
    """The item, if it exists and is still open; a polite refusal otherwise. An item of a
    consultation takes responses only while the consultation is open (not a draft)."""
    item = await find_item(ctx, short_id)
    if item.status != "open":
        raise UserError(ctx.t("Sorry, this has closed. Thank you for taking part."))
    if item.consultation_id is not None:
        await consultation_flow.open_consultation(
            ctx, await ctx.consultations.get(item.consultation_id)
        )
    return item


VOTE_MESSAGES = {
    "recorded": N_("Thanks, your vote for “{label}” is recorded."),
    "changed": N_("Your vote is now “{label}”."),
    "unchanged": N_("You have already chosen “{label}”."),
    "added": N_("Added “{label}” to your choices."),
    "removed": N_("Removed “{label}” from your choices."),
}


@router.action("vote")
async def vote(ctx: Context) -> None:
    short_id, _, position = ctx.event.action_value.partition(":")
    item = await open_item(ctx, short_id)
    if not item.is_choice:
        raise UserError(
            ctx.t(
                "{id} is an open question: answer it in your own words (answer {id} your text).",
                id=item.short_id,
            )
        )
    position = position.strip()
    if not (position.isascii() and position.isdigit()):
        raise UserError(
            ctx.t(
                "{value!r} is not an option number: vote {id} N, with N from 1 to {n}.",
                value=position[:20],
                id=item.short_id,
                n=len(item.options),
            )
        )
    number = parse_int(position, low=1, high=INT_MAX)  # too large: no such option either
    option = None if number is None else await ctx.items.option_by_position(item, number)
    if option is None:
        raise UserError(
            ctx.t(
                "That option does not exist: {id} has options 1 to {n}.",
                id=item.short_id,
                n=len(item.options),
            )
        )
    participant, has_consented = await consent.consented(ctx)
    if consent.must_wait(ctx, has_consented):
        payload = {"kind": "vote", "item": item.short_id, "position": option.position}
        await consent.hold_for_consent(ctx, "vote", payload)
        return
    participant = participant or await ctx.participant()
    if not has_consented:  # notice mode: the first stored vote comes with the privacy notice
        participant.consented_at = ctx.clock()
    await record_vote(ctx, item, option, participant)
    if not has_consented:  # notice mode: the first stored vote comes with the privacy notice
        ctx.notify(await consent.privacy_notice(ctx, ctx.event))
    await consultation_flow.after_response(ctx, item, voted=True)


async def record_vote(ctx: Context, item: Item, option: Option, participant: Participant) -> None:
    """One vote: a batch of one (the outcome is decided and written as the batch path does)."""
    now = ctx.clock()
    repo = ctx.vote_batches
    pair = (item.id, participant.id)
    chosen = await repo.chosen([pair])
    choice = _Choice.of(item, participant.platform, chosen[pair])
    outcome = choice.click(option)
    await _write_changes(repo, now, {pair: choice})
    if outcome != "unchanged" and cards.results_visible(item):
        await ctx.outbox.refresh_items(
            [item.id], lifecycle.refresh_due(now, ctx.settings.refresh_interval)
        )
    said = ctx.t(VOTE_MESSAGES[outcome], label=cards.label_in(option, ctx.t))
    ctx.notify(Notice(said, success=outcome != "unchanged"))


async def apply_pending_vote(
    ctx: Context, participant: Participant, payload: dict[str, Any]
) -> None:
    """Count a vote that waited for consent, if its item is still open."""
    item = await ctx.items.by_short_id(str(payload["item"]))
    option = (
        await ctx.items.option_by_position(item, int(payload["position"]))
        if item is not None and item.status == "open"
        else None
    )
    if item is None or option is None:
        ctx.notify(
            ctx.t("{id} has closed meanwhile; your vote was not recorded.", id=payload["item"])
        )
        return
    await record_vote(ctx, item, option, participant)


# -- the grouped write path for vote clicks (bot/batcher.py) ------------------------------


def is_vote_click(event: Event) -> bool:
    """A vote button click: what the grouped write path takes."""
    return event.kind is EventKind.ACTION and event.action_id == "vote"


@dataclass(slots=True)
class _Choice:
    """One person's options on one item: before the batch, and as its clicks leave them."""

    item: Item
    platform: str
    before: frozenset[int]
    now: set[int]

    @classmethod
    def of(cls, item: Item, platform: str, chosen: set[int]) -> _Choice:
        return cls(item, platform, frozenset(chosen), set(chosen))

    def click(self, option: Option) -> str:
        """Apply one click; returns the outcome (recorded/changed/unchanged/added/removed)."""
        mine = self.now
        if self.item.kind == "multi":
            outcome = "removed" if option.id in mine else "added"
            mine.symmetric_difference_update({option.id})
            return outcome
        if mine == {option.id}:
            return "unchanged"
        outcome = "changed" if mine else "recorded"
        mine.clear()
        mine.add(option.id)
        return outcome


@dataclass(slots=True)
class _Click:
    index: int
    event: Event
    item: Item
    option: Option
    key: str  # the person's pseudonym


def _in_their_language(ctx: Context, event: Event, chosen: str | None) -> Context:
    """The batch's context speaking to one clicker in their language (as :meth:`Dispatcher.
    translator_for` would: their choice, else their platform's, else the default)."""
    t = for_person(ctx.t, chosen, event.actor.language, ctx.settings.default_language)
    return ctx if t is ctx.t else replace(ctx, t=t)


async def record_votes(batch: Batch) -> list[Outcome | None]:
    """Record a batch of vote clicks with a fixed number of statements, in arrival order.

    Does exactly what :func:`vote` does for each click, with the same replies; a click that
    needs more than recording (a first vote held for consent, a closed or unknown item, a bad
    option, an open question) is left to the ordinary path (``None``).
    """
    events = batch.events
    outcomes: list[Outcome | None] = [None] * len(events)
    if not events:
        return outcomes
    ctx = Context(events[0], batch.session, batch.settings, batch.clock, batch.translator)
    now = ctx.clock()
    repo = ctx.vote_batches
    items: dict[str, Item | None] = {}
    clicks: list[_Click] = []
    for index, event in enumerate(events):
        short_id, _, position = event.action_value.partition(":")
        position = position.strip()
        if not (position.isascii() and position.isdigit() and len(position) <= 2):
            continue
        if short_id not in items:
            items[short_id] = await ctx.items.by_short_id(short_id)
        item = items[short_id]
        if item is None or item.status != "open" or not item.is_choice:
            continue
        if item.consultation_id is not None:  # the flow moves on after it: ordinary path
            continue
        option = next((o for o in item.options if o.position == int(position)), None)
        if option is not None:
            key = repo.pseudonym(event.platform, event.actor.user_id)
            clicks.append(_Click(index, event, item, option, key))
    people = await repo.people({c.key for c in clicks})
    if ctx.settings.consent_mode == "explicit":  # a first vote waits for consent: ordinary path
        clicks = [c for c in clicks if c.key in people and people[c.key].consented]
    # Redeliveries (already in the ledger, or twice in this batch) change nothing.
    claimed = await EventLedger(batch.session).claim_many(
        list(dict.fromkeys((c.event.platform, c.event.event_id) for c in clicks)), now
    )
    fresh: list[_Click] = []
    for click in clicks:
        pair = (click.event.platform, click.event.event_id)
        if pair in claimed:
            claimed.discard(pair)
            fresh.append(click)
        else:
            outcomes[click.index] = Outcome(duplicate=True)
    new = {c.key: (c.key, c.event.platform, c.event.actor.user_id) for c in fresh}
    unconsented = {c.key for c in fresh if c.key not in people or not people[c.key].consented}
    created = await repo.add_people([row for key, row in new.items() if key not in people], now)
    people.update({key: Person(pid, consented=True) for key, pid in created.items()})
    people.update(await repo.people(k for k in unconsented if k not in people))  # created meanwhile
    await repo.mark_consented([people[k].id for k in unconsented if not people[k].consented], now)
    chosen = await repo.chosen(
        ((c.item.id, people[c.key].id) for c in fresh), new=set(created.values())
    )
    choices: dict[tuple[int, int], _Choice] = {}
    for click in fresh:
        mine = (click.item.id, people[click.key].id)
        choices.setdefault(mine, _Choice.of(click.item, click.event.platform, chosen[mine]))
    privately: list[tuple[str, str, dict[str, Any]]] = []  # privacy notices, written together
    changed: dict[int, Item] = {}
    for click in fresh:
        option = click.option
        outcome = choices[(click.item.id, people[click.key].id)].click(option)
        if outcome != "unchanged":
            changed[click.item.id] = click.item
        theirs = _in_their_language(ctx, click.event, people[click.key].language)
        said = theirs.t(VOTE_MESSAGES[outcome], label=cards.label_in(option, theirs.t))
        notices: list[View] = [Notice(said, success=outcome != "unchanged")]
        if click.key in unconsented:  # notice mode: the notice comes with the first vote
            notices.append(await consent.privacy_notice(theirs, click.event, later=privately))
            unconsented.discard(click.key)
        outcomes[click.index] = Outcome(handled=True, notices=notices, language=theirs.language)
    await _write_changes(repo, now, choices)
    await ctx.outbox.send_private_many(privately, now)
    visible = [item.id for item in changed.values() if cards.results_visible(item)]
    await _schedule_refreshes(batch, ctx, visible, now)
    return outcomes


#: A card refresh this process committed is trusted to be still pending only while it is due
#: at least this far ahead (a batch commits well within it), at most half the interval.
REFRESH_MARGIN = timedelta(seconds=0.5)


async def _schedule_refreshes(
    batch: Batch, ctx: Context, item_ids: list[int], now: datetime
) -> None:
    """Ask for the changed cards' refresh, except where this process already committed one
    that is still comfortably ahead: under a burst that is one statement per refresh interval
    per item instead of one per batch. What is remembered is the earliest pending refresh the
    statement left (another worker's may be due sooner than ours). A card published since, or
    a refresh run before its time, waits at most one more interval."""
    pending: dict[int, datetime] = batch.memory.setdefault("pending_refreshes", {})
    margin = min(REFRESH_MARGIN, timedelta(seconds=ctx.settings.refresh_interval / 2))
    due = lifecycle.refresh_due(now, ctx.settings.refresh_interval)
    wanted = [i for i in item_ids if not (i in pending and now + margin < pending[i] <= due)]
    if not wanted:
        return
    pending_due = await ctx.outbox.refresh_items(wanted, due)

    def remember() -> None:
        for item_id in list(pending):
            if pending[item_id] <= now:  # run by now: forget it (the cache stays small)
                del pending[item_id]
        if pending_due is not None:  # the earliest of the cards' pending refreshes
            pending.update(dict.fromkeys(wanted, pending_due))

    batch.after_commit.append(remember)


async def _write_changes(
    repo: VoteBatchRepository, now: datetime, choices: dict[tuple[int, int], _Choice]
) -> None:
    """The net change per (item, person), one statement per kind of change."""
    single: list[VoteRow] = []
    multi_add: list[VoteRow] = []
    multi_remove: list[tuple[int, int, int]] = []
    for (item_id, pid), choice in choices.items():
        old, new, platform = choice.before, choice.now, choice.platform
        if old == new:
            continue
        if choice.item.kind != "multi":
            single.extend(VoteRow(item_id, pid, o, platform) for o in new)
            continue
        multi_add.extend(VoteRow(item_id, pid, o, platform) for o in sorted(new - old))
        multi_remove.extend((item_id, pid, o) for o in sorted(old - new))
    await repo.write(now, single=single, multi_add=multi_add, multi_remove=multi_remove)
