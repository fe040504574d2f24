"""Typed results across the seam: a command may arrive parsed, and ``Outcome.results`` says
what the handler did (created item, decision taken, answer stored) beside the human notices."""

from __future__ import annotations

from bot.grammar import ParsedCommand
from bot.outcomes import AnswerStored, Decided, ItemCreated
from bot.testing import People, RecordingAdapter
from townhall.app import Townhall

App = tuple[Townhall, RecordingAdapter]


async def test_a_created_item_is_named_in_the_outcome(app: App, people: People) -> None:
    townhall, _ = app
    outcome = await townhall.dispatch(people.command("officer", 'poll "Lunch?" "Soup" "Salad"'))
    created = outcome.result(ItemCreated)
    assert created is not None and created.kind == "poll"
    assert f"Published poll {created.short_id}." in outcome.notices[0].text  # type: ignore[union-attr]


async def test_a_parsed_command_needs_no_quoting(app: App, people: People) -> None:
    townhall, _ = app
    question = 'It\'s "quoted" --closes 1h; rm -rf'
    parsed = ParsedCommand(
        "poll", (question, "--multi", "B"), frozenset({"multi"}), {"results": "CLOSED"}
    )
    outcome = await townhall.dispatch(people.parsed_command("officer", parsed))
    created = outcome.result(ItemCreated)
    assert created is not None and created.kind == "multi"
    listed = await townhall.dispatch(people.command("officer", f"results {created.short_id}"))
    shown = listed.notices[0]
    assert getattr(shown, "title", "") == f"Results: {question}"
    assert "--multi" in str(shown)


async def test_a_parsed_command_is_held_to_the_grammar(app: App, people: People) -> None:
    townhall, _ = app
    refused = [
        ParsedCommand("poll", ("Q?", "A", "B"), frozenset({"nope"})),
        ParsedCommand("poll", ("Q?", "A", "B"), options={"results": "sometimes"}),
        ParsedCommand("scale", ("One", "Two")),
        ParsedCommand("unheard-of", ()),
    ]
    for parsed in refused:
        outcome = await townhall.dispatch(people.parsed_command("officer", parsed))
        assert outcome.results == [] and not outcome.failed
        assert outcome.result(ItemCreated) is None
    says = [
        str(getattr(o, "text", ""))
        for o in [
            (await townhall.dispatch(people.parsed_command("officer", p))).notices[0]
            for p in refused
        ]
    ]
    assert says[0].startswith("Unknown option --nope.")
    assert says[1] == "--results must be one of: live, closed."
    assert says[2].startswith("Usage: scale")
    assert says[3].startswith("Unknown command 'unheard-of'")


async def test_an_answer_and_a_decision_are_typed_results(app: App, people: People) -> None:
    townhall, _ = app
    made = (await townhall.dispatch(people.command("officer", 'ask "Ideas?"'))).result(ItemCreated)
    assert made is not None
    answered = await townhall.dispatch(people.submit("alice", made.short_id, "More benches"))
    stored = answered.result(AnswerStored)
    assert stored is not None and not stored.held
    assert f"(ref {stored.ref})" in str(getattr(answered.notices[0], "text", ""))
    decision = await townhall.dispatch(people.command("mod", f"hide {stored.ref} off topic"))
    assert decision.result(Decided) == Decided(stored.answer_id, "hide")
    refused = await townhall.dispatch(people.command("alice", f"approve {stored.ref}"))
    assert refused.result(Decided) is None


async def test_a_refused_handler_leaves_no_results(app: App, people: People) -> None:
    """Results are only reported when the handler's transaction committed."""
    townhall, _ = app
    outcome = await townhall.dispatch(people.command("alice", 'poll "Q?" "A" "B"'))
    assert outcome.results == []


def test_a_card_names_its_item_through_the_outbox() -> None:
    from bot.views import Card, view_from_dict, view_to_dict

    card = Card("Q?", footer="Poll k3m9xq", item="k3m9xq")
    assert view_from_dict(view_to_dict(card)) == card
    assert "item" not in view_to_dict(Card("Hello"))  # the stored shape only grows
