"""How items look, as platform-neutral cards."""

from __future__ import annotations

from dataclasses import replace

from bot.i18n import N_, Translator, count, identity_translator, language_of, translator_for
from bot.timeparse import format_deadline
from bot.views import Button, Card, ResultBar
from services.results import ItemResults
from storage.models import Item, Option

KIND_HINTS = {
    "poll": N_("Choose one option. You can change your vote until it closes."),
    "multi": N_("Choose every option that applies; tap again to remove one."),
    "scale": N_("How far do you agree? You can change your answer until it closes."),
    "ask": N_("Reply to this message, or press Answer, to share your view."),
    "rating": N_("Improve it, keep it as is, or scrap it? You can also say why."),
    "clause": N_("Do you agree with this clause? You can also comment on it."),
    "statements": N_("Agree, disagree or pass on statements one at a time, or add your own."),
}
#: Catalogue messages: a card's footer says them in its reader's language.
KIND_NAMES = {
    "poll": N_("Poll"),
    "multi": N_("Poll"),
    "scale": N_("Scale"),
    "ask": N_("Question"),
    "rating": N_("Rating"),
    "clause": N_("Clause"),
    "statements": N_("Statements"),
}


def text_in(english: str, welsh: str | None, t: Translator) -> str:
    """``welsh`` for a Welsh reader when there is one, else ``english`` (text typed by staff:
    a consultation's title, introduction, privacy text; a clause; a regulation's summary)."""
    return welsh if welsh and language_of(t) == "cy" else english


def question_in(item: Item, t: Translator) -> str:
    """The item's question in ``t``'s language: its Welsh when it has one and ``t`` is Welsh."""
    return item.question_cy if item.question_cy and language_of(t) == "cy" else item.question


def label_in(option: Option, t: Translator) -> str:
    """An option in ``t``'s language: its own Welsh, else the catalogue's (scale labels)."""
    return option.label_cy if option.label_cy and language_of(t) == "cy" else t(option.label)


def results_visible(item: Item) -> bool:
    return item.status == "closed" or item.results_visibility == "live"


def item_card(
    item: Item, results: ItemResults | None = None, t: Translator = identity_translator
) -> Card:
    """The public message for an item: buttons while open, results when visible.

    ``t``: the reader's language for the hint and buttons (the web chat's visitor); a public
    card posted in a channel is English. Scale labels are catalogue messages, so they follow."""
    is_open = item.status == "open"
    buttons: list[Button] = []
    if is_open and item.is_choice:
        buttons = [
            Button(label_in(o, t), "vote", f"{item.short_id}:{o.position}") for o in item.options
        ]
    elif is_open and item.kind == "statements":
        buttons = [
            Button(t("Vote on statements"), "statements", item.short_id, style="primary"),
            Button(t("Add a statement"), "answer", item.short_id, opens_form=True),
        ]
    elif is_open:
        buttons = [Button(t("Answer"), "answer", item.short_id, style="primary", opens_form=True)]
    bars: tuple[ResultBar, ...] = ()
    if results is not None and item.is_choice and results_visible(item):
        labels = {o.position: label_in(o, t) for o in item.options}
        bars = tuple(
            ResultBar(labels.get(o.position, o.label), o.votes, o.percent) for o in results.options
        )
    footer = [f"{t(KIND_NAMES[item.kind])} {item.short_id}"]
    if is_open and item.closes_at is not None:
        footer.append(t("closes {when}", when=format_deadline(item.closes_at)))
    if not is_open:
        footer.append(t("closed"))
    if results is not None:
        if item.is_choice or item.kind == "statements":
            footer.append(count("{n} participant", "{n} participants", results.participants, t))
        else:
            footer.append(count("{n} answer", "{n} answers", results.responses, t))
    if is_open and item.is_choice and item.results_visibility == "closed":
        footer.append(t("results shown when it closes"))
    return Card(
        title=question_in(item, t),
        body=t(KIND_HINTS[item.kind])
        if is_open
        else t("This item is closed. Thank you for taking part."),
        buttons=tuple(buttons),
        bars=bars,
        footer=" · ".join(footer),
        accepts_replies=is_open and not item.is_choice,
        item=item.short_id,
    )


def public_card(
    item: Item, results: ItemResults | None = None, channel_language: str | None = None
) -> Card:
    """The card posted in a channel, for everyone there: English, and Welsh beside it when the
    item has its own Welsh (``--cy``, ``{en:, cy:}`` in a consultation file); a channel set
    to ``en`` or ``cy`` (``townhall channel language``) gets that one."""
    if channel_language == "cy":
        return item_card(item, results, translator_for("cy"))
    english = item_card(item, results)
    if not item.question_cy or channel_language == "en":
        return english
    return _bilingual(english, item_card(item, results, translator_for("cy")))


def _both(en: str, cy: str, between: str) -> str:
    return en if en == cy or not cy else f"{en}{between}{cy}" if en else cy


def _bilingual(english: Card, welsh: Card) -> Card:
    """One card saying both: each text in English, then in Welsh where it differs."""
    both = _both
    return replace(
        english,
        title=both(english.title, welsh.title, "\n"),
        body=both(english.body, welsh.body, "\n\n"),
        buttons=tuple(
            replace(en, label=both(en.label, cy.label, " / "))
            for en, cy in zip(english.buttons, welsh.buttons, strict=True)
        ),
        bars=tuple(
            replace(en, label=both(en.label, cy.label, " / "))
            for en, cy in zip(english.bars, welsh.bars, strict=True)
        ),
        fields=tuple(
            (both(en[0], cy[0], " / "), both(en[1], cy[1], " / "))
            for en, cy in zip(english.fields, welsh.fields, strict=True)
        ),
        footer=both(english.footer, welsh.footer, "\n"),
    )


def results_card(
    item: Item,
    results: ItemResults,
    *,
    show_answers: bool = False,
    t: Translator = identity_translator,
) -> Card:
    """A results summary, posted on close; with the latest answers for the policy team."""
    fields: list[tuple[str, str]] = [
        (t("Participants"), str(results.participants)),
        (t("Responses"), str(results.responses)),
    ]
    if results.by_platform:
        fields.append(
            (
                t("By platform"),
                ", ".join(f"{p}: {n}" for p, n in sorted(results.by_platform.items())),
            )
        )
    body = ""
    if show_answers and not item.is_choice:
        latest = results.answers[-3:]
        body = "\n".join(f"• {a.text[:200]}" for a in latest) if latest else t("No answers yet.")
    labels = {o.position: label_in(o, t) for o in item.options}
    return Card(
        title=t("Results: {title}", title=question_in(item, t)),
        body=body,
        fields=tuple(fields),
        bars=tuple(
            ResultBar(labels.get(o.position, o.label), o.votes, o.percent) for o in results.options
        ),
        footer=t(
            "{kind} {id} · {status}",
            kind=t(KIND_NAMES[item.kind]),
            id=item.short_id,
            status=t(STATUS_NAMES.get(item.status, item.status)),
        ),
        item=item.short_id,
    )


#: An item's status as a card says it.
STATUS_NAMES = {"open": N_("open"), "closed": N_("closed")}


def public_results_card(
    item: Item, results: ItemResults, channel_language: str | None = None
) -> Card:
    """The results posted in a channel when the item closes: in both languages when the item
    has its Welsh and the channel is not set to one (as :func:`public_card`)."""
    if channel_language == "cy":
        return results_card(item, results, t=translator_for("cy"))
    english = results_card(item, results)
    if not item.question_cy or channel_language == "en":
        return english
    return _bilingual(english, results_card(item, results, t=translator_for("cy")))
