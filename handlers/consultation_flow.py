"""One person's way through a consultation in chat: the privacy notice once, then the items one
at a time ("3 of 12", Skip), resuming at the first item they have neither answered nor
skipped, and a thank-you at the end.

Every item of a consultation is an ordinary item, so a choice is the ordinary ``vote`` button
and a text (an open answer, a rating's why, a clause's comment) the ordinary ``answer`` form;
:func:`after_response` moves the person on once either is stored. Cards here are
confidential: each platform shows them privately (Telegram's private chat, Slack and Discord
ephemerally, the web chat to the visitor, the console as ``(to you)``).
"""

from __future__ import annotations

from dataclasses import replace

from bot.context import Context, Translator, identity_translator
from bot.errors import UserError
from bot.i18n import N_, translator_for
from bot.inputs import INT_MAX, parse_int
from bot.timeparse import format_deadline
from bot.views import Button, Card, clip
from handlers import consent
from services import cards, profile
from services.consultations import WITH_TEXT, next_step, status
from storage.models import Consultation, ConsultationProgress, Item, Participant

#: Clause text shown in chat; the rest is on the web chat page (every platform's limit is
#: larger: Slack's section 3000, Telegram's message and Discord's embed 4096).
CLAUSE_CHARS = 1500

TEXT_LABELS = {
    "rating": N_("Say why"),
    "clause": N_("Comment"),
    "ask": N_("Answer"),
    "statements": N_("Add a statement"),
}


def web_link(ctx: Context, name: str) -> str:
    """A web chat page: ``/c/<item id>`` shows a clause in full, ``/c/<slug>`` the
    consultation."""
    return f"{ctx.settings.base_url.rstrip('/')}/c/{name}"


def start_button(consultation: Consultation, t: Translator = identity_translator) -> Button:
    """Start, naming the consultation by its slug where it fits a button (and a Telegram deep
    link, ``t.me/<bot>?start=SLUG``), else by its id; ``consult`` takes either."""
    slug = consultation.slug or ""
    fits = 0 < len(slug) <= 56 and not slug.isdigit()
    return Button(t("Start"), "consult", slug if fits else str(consultation.id), style="primary")


def title_in(consultation: Consultation, t: Translator) -> str:
    """The consultation's title in ``t``'s language (its Welsh, when the file gives it)."""
    return cards.text_in(consultation.title, consultation.title_cy, t)


def intro_card(consultation: Consultation, items: int, t: Translator = identity_translator) -> Card:
    """The card that introduces a consultation to one reader (a subscriber's chat)."""
    closes = consultation.closes_at
    fields = [(t("Questions"), str(items))]
    if closes is not None:
        fields.append((t("Closes"), format_deadline(closes)))
    return Card(
        title=title_in(consultation, t),
        body=cards.text_in(consultation.introduction, consultation.introduction_cy, t).strip(),
        fields=tuple(fields),
        buttons=(start_button(consultation, t),),
        footer=t(
            "Press Start to answer privately, one question at a time (or send: start {slug}).",
            slug=consultation.slug,
        ),
    )


def public_intro_card(
    consultation: Consultation, items: int, channel_language: str | None = None
) -> Card:
    """The introduction posted in a channel, for everyone there: English, and Welsh beside it
    when the consultation has its Welsh title, unless the channel is set to one language
    (``townhall channel language``), as an item's public card."""
    if channel_language == "cy":
        return intro_card(consultation, items, translator_for("cy"))
    english = intro_card(consultation, items)
    if not consultation.title_cy or channel_language == "en":
        return english
    welsh = intro_card(consultation, items, translator_for("cy"))

    def both(en: str, cy: str, between: str) -> str:
        return en if en == cy or not cy else f"{en}{between}{cy}" if en else cy

    return replace(
        english,
        title=both(english.title, welsh.title, "\n"),
        body=both(english.body, welsh.body, "\n\n"),
        fields=tuple(
            (both(en[0], cy[0], " / "), en[1])
            for en, cy in zip(english.fields, welsh.fields, strict=True)
        ),
        buttons=tuple(
            replace(en, label=both(en.label, cy.label, " / "))
            for en, cy in zip(english.buttons, welsh.buttons, strict=True)
        ),
        footer=both(english.footer, welsh.footer, "\n"),
    )


def item_card(
    ctx: Context, consultation: Consultation, item: Item, position: int, total: int
) -> Card:
    """One item as the flow shows it: where it is, its text, its buttons and Skip."""
    body = ctx.t(cards.KIND_HINTS[item.kind])
    if item.kind == "clause" and item.clause_text:
        text = cards.text_in(item.clause_text, item.clause_text_cy, ctx.t).strip()
        body = clip(text, CLAUSE_CHARS)
        if len(text) > CLAUSE_CHARS:
            body += "\n" + ctx.t("Full text: {url}", url=web_link(ctx, item.short_id))
        body += "\n\n" + ctx.t(cards.KIND_HINTS["clause"])
    elif item.kind == "rating":
        summary = cards.text_in(
            item.regulation_summary or "", item.regulation_summary_cy, ctx.t
        ).strip()
        body = f"{summary}\n\n{body}" if summary else body
    # Scale labels are catalogue messages: a Welsh reader sees them in Welsh (others as typed).
    buttons = [
        Button(cards.label_in(o, ctx.t), "vote", f"{item.short_id}:{o.position}")
        for o in item.options
    ]
    if item.kind == "statements":  # issue 20: the statements one at a time, or add one
        buttons.append(Button(ctx.t("Vote on statements"), "statements", item.short_id))
    if not item.is_choice or item.kind in WITH_TEXT:
        label = ctx.t(TEXT_LABELS.get(item.kind, "Answer"))
        buttons.append(Button(label, "answer", item.short_id, opens_form=True))
    buttons.append(Button(ctx.t("Skip"), "skip", item.short_id))
    return Card(
        title=cards.question_in(item, ctx.t),
        body=body,
        buttons=tuple(buttons),
        footer=ctx.t(
            "{n} of {total} · {title}",
            n=position,
            total=total,
            title=title_in(consultation, ctx.t)[:80],
        ),
        confidential=True,
    )


def follow_up_card(ctx: Context, consultation: Consultation, item: Item) -> Card:
    """After a rating or a stance: the optional why or comment, or on to the next item."""
    question = N_("Why? (optional)") if item.kind == "rating" else N_("Any comment? (optional)")
    return Card(
        title=ctx.t(question),
        body=cards.question_in(item, ctx.t),
        buttons=(
            Button(ctx.t(TEXT_LABELS[item.kind]), "answer", item.short_id, opens_form=True),
            Button(ctx.t("Next"), "consult", str(consultation.id), style="primary"),
        ),
        confidential=True,
    )


def profile_card(
    ctx: Context, consultation: Consultation, question: profile.ProfileQuestion
) -> Card:
    """An "about you" question: its options and "Prefer not to say", one click each."""
    prefix = f"{consultation.id}:{question.key}"
    buttons = [
        Button(label, "profile", f"{prefix}:{n}")
        for n, label in enumerate(question.options_in(ctx.t), 1)
    ]
    buttons.append(Button(ctx.t(profile.PREFER_NOT), "profile", f"{prefix}:-"))
    return Card(
        title=question.question_in(ctx.t),
        body=ctx.t(
            "About you (optional): this helps the team see who took part. Results are only "
            "published for groups of at least {n} people.",
            n=ctx.settings.min_cell,
        ),
        buttons=tuple(buttons),
        footer=ctx.t("We ask once. Send forget to erase it with everything else."),
        confidential=True,
    )


async def answer_profile(ctx: Context, value: str) -> None:
    """A click on an "about you" card (``<consultation id>:<key>:<n or ->``): kept once, then
    the next question or item."""
    number, _, rest = value.partition(":")
    key, _, choice = rest.rpartition(":")
    consultation_id = parse_int(number, low=1, high=INT_MAX)
    consultation = None if consultation_id is None else await ctx.consultations.get(consultation_id)
    consultation = await open_consultation(ctx, consultation)
    every = [*(consultation.profile or [])]
    for item in await ctx.consultations.items(consultation):
        every += item.profile or []
    questions = {q.key: q for q in profile.from_json(every)}
    question = questions.get(key)
    position = parse_int(choice, low=1, high=len(question.options)) if question else None
    if question is None or (choice != "-" and position is None):
        raise UserError(ctx.t("Sorry, that button is out of date."))
    participant, has_consented = await consent.consented(ctx)
    if participant is None or not has_consented:
        raise UserError(ctx.t("Please press Start first."))
    answer = None if position is None else question.options[position - 1]
    await ctx.profiles.record(participant, key, answer, ctx.clock())
    progress = await ctx.consultations.progress_of(participant, consultation)
    if progress is None:
        progress = await ctx.consultations.start(participant, consultation, ctx.clock())
    await show_next(ctx, consultation, participant, progress)


def privacy_in(consultation: Consultation, t: Translator) -> str:
    """The consultation's own privacy text in ``t``'s language (its Welsh, when given)."""
    return cards.text_in(consultation.privacy, consultation.privacy_cy, t).strip()


async def open_consultation(ctx: Context, consultation: Consultation | None) -> Consultation:
    """The consultation if people may answer it now; a clear refusal otherwise."""
    if consultation is None:
        raise UserError(ctx.t("I can't find that consultation."))
    state = status(consultation, ctx.clock())
    if state == "draft":
        raise UserError(ctx.t("This consultation has not opened yet."))
    if state != "open":
        raise UserError(ctx.t("Sorry, this consultation has closed. Thank you for taking part."))
    return consultation


async def begin(ctx: Context, consultation: Consultation) -> None:
    """Start (the privacy notice, once) or resume: show the person's next item."""
    consultation = await open_consultation(ctx, consultation)
    participant, has_consented = await consent.consented(ctx)
    if consent.must_wait(ctx, has_consented):
        card = consent.consent_card(ctx, "answers")
        ctx.notify(
            Card(
                title=card.title,
                body=f"{privacy_in(consultation, ctx.t)}\n\n{card.body}".strip(),
                buttons=card.buttons,
                footer=ctx.t("Then press Start again."),
                confidential=True,
            )
        )
        return
    participant = participant or await ctx.participant()
    progress = await ctx.consultations.progress_of(participant, consultation)
    if progress is None:
        progress = await ctx.consultations.start(participant, consultation, ctx.clock())
        notice = privacy_in(consultation, ctx.t)
        if participant.consented_at is None:  # notice mode: shown now, with Townhall's own
            participant.consented_at = ctx.clock()
            notice = f"{notice}\n\n{consent.privacy_text(ctx)}".strip()
        if notice:
            ctx.notify(
                Card(
                    title=ctx.t("Privacy: {title}", title=title_in(consultation, ctx.t)[:200]),
                    body=notice,
                    confidential=True,
                )
            )
    await show_next(ctx, consultation, participant, progress)


async def show_next(
    ctx: Context,
    consultation: Consultation,
    participant: Participant,
    progress: ConsultationProgress,
) -> None:
    """An "about you" question not yet asked (once consent is given), then the first item not
    answered and not skipped, or the thank-you at the end."""
    progress.awaiting_item_id = None
    items = list(await ctx.consultations.items(consultation))
    done = await ctx.consultations.responded(participant, consultation)
    finished = await ctx.consultations.finished(participant, items, done)
    step = next_step(items, finished, progress.skipped or [])
    # The consultation's own, then those of the item about to be shown.
    wanted = [*(consultation.profile or []), *((step[1].profile or []) if step else [])]
    if wanted and participant.consented_at is not None:
        asked = await ctx.profiles.asked(participant)
        question = profile.pending(profile.from_json(wanted), asked)
        if question is not None:
            ctx.notify(profile_card(ctx, consultation, question))
            return
    if step is not None:
        position, item = step
        ctx.notify(item_card(ctx, consultation, item, position, len(items)))
        return
    answered = sum(1 for item in items if item.id in done)
    if progress.completed_at is None:
        progress.completed_at = ctx.clock()
    ctx.notify(
        Card(
            title=ctx.t("Thanks — you answered {n} of {total}.", n=answered, total=len(items)),
            body=ctx.t(
                "Your answers to “{title}” are recorded. Send mydata to see everything we "
                "hold about you, or forget to erase it.",
                title=title_in(consultation, ctx.t)[:200],
            ),
            confidential=True,
        )
    )


async def _where(
    ctx: Context, item: Item
) -> tuple[Consultation, Participant, ConsultationProgress]:
    assert item.consultation_id is not None
    consultation = await open_consultation(ctx, await ctx.consultations.get(item.consultation_id))
    participant = await ctx.participant()
    progress = await ctx.consultations.progress_of(participant, consultation)
    if progress is None:  # answered without pressing Start (e.g. a typed vote): begun now
        progress = await ctx.consultations.start(participant, consultation, ctx.clock())
    return consultation, participant, progress


async def after_response(ctx: Context, item: Item, *, voted: bool) -> None:
    """A vote or answer on a consultation item was stored: offer the why/comment after a
    rating or stance, else the next item."""
    if item.consultation_id is None:
        return
    consultation, participant, progress = await _where(ctx, item)
    if voted and item.kind in WITH_TEXT and not await ctx.answers.count_by(item, participant.id):
        progress.awaiting_item_id = item.id
        ctx.notify(follow_up_card(ctx, consultation, item))
        return
    await show_next(ctx, consultation, participant, progress)


async def skip(ctx: Context, item: Item) -> None:
    """Skip an item: it counts as reached, not answered; on to the next."""
    consultation, participant, progress = await _where(ctx, item)
    if item.id not in (progress.skipped or []):
        progress.skipped = [*(progress.skipped or []), item.id]
    await show_next(ctx, consultation, participant, progress)


async def wait_for_text(ctx: Context, item: Item) -> bool:
    """A chat without forms: the person's next message in our private chat is their text for
    ``item``. False when the item is not in a consultation."""
    if item.consultation_id is None:
        return False
    _, _, progress = await _where(ctx, item)
    progress.awaiting_item_id = item.id
    question = cards.question_in(item, ctx.t)[:80]
    ctx.notify(ctx.t("Type your answer to “{q}” as your next message here.", q=question))
    return True


async def awaited_item(ctx: Context) -> Item | None:
    """The item this person's next typed message answers, if any."""
    participant = await ctx.participants.find(ctx.event.platform, ctx.event.actor.user_id)
    if participant is None:
        return None
    progress = await ctx.consultations.awaiting(participant)
    if progress is None or progress.awaiting_item_id is None:
        return None
    return await ctx.items.get(progress.awaiting_item_id)
