"""One story, every platform: the scenario suite runs against a driver per platform.

Each scenario is written once against :class:`tests.drivers.base.PlatformDriver` and runs on
Telegram (python-telegram-bot, webhook), Slack (slack-bolt, signed HTTP), Discord (discord.py
over the fake gateway and REST), the web chat (HTTP to /c/<id>) and the console adapter. The
scenarios that write most to the database run on SQLite and PostgreSQL; the rest on SQLite.
What only one platform does (Telegram's private chat for the queue, Slack's message shortcut,
Discord's context menu ...) stays in that platform's own test files.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from services import consultations
from services.consultation_file import load_file
from storage.consultations import ConsultationRepository
from storage.db import Database
from storage.items import ItemRepository
from storage.profiles import ProfileRepository
from storage.responses import AnswerRepository
from tests.conftest import SQLITE_ONLY
from tests.drivers import DRIVERS
from tests.drivers.base import PlatformDriver, Records, ref_in
from tests.support import FakeClock

pytestmark = [pytest.mark.timeout(90), pytest.mark.parametrize("platform", sorted(DRIVERS))]

#: The scenarios that lean on the database (votes replacing votes, redelivery, reports hiding
#: an answer, erasure) run on SQLite and PostgreSQL; the rest, to keep CI fast, on SQLite.

POLL = 'poll "Open the library on Sundays?" "Yes" "No"'
ASK = 'ask "What would make the high street better?"'
PHONE = "Call me on 07700 900123 about the benches"


class Driver(PlatformDriver, Records):
    """For the type checker: every driver is also a :class:`Records`."""


Start = Callable[..., AbstractAsyncContextManager[Any]]


@pytest.fixture
def start(platform: str, db: Database, clock: FakeClock) -> Start:
    """``async with start(**settings) as d``: the platform's driver on this test's database."""

    def begin(**settings: Any) -> AbstractAsyncContextManager[Any]:
        return DRIVERS[platform](db, clock, **settings)

    return begin


@pytest.fixture
async def d(start: Start) -> AsyncIterator[Driver]:
    async with start() as driver:
        yield driver


def bars(shown: str, label: str) -> int:
    """Votes shown for ``label`` in a card's result bars (``... Yes (2)``; the web chat's
    results table: ``Yes 2 66.7%``)."""
    found = re.findall(rf"{re.escape(label)} (?:\((\d+)\)|(\d+) [\d.]+%)", shown)
    assert found, f"no result bar for {label!r} in {shown!r}"
    return int("".join(found[-1]))


# -- polls ------------------------------------------------------------------------------------


async def test_publish_vote_and_change_the_vote(d: Driver) -> None:
    poll = await d.publish(POLL)
    shown = await d.shown(poll)
    assert "Open the library on Sundays?" in shown and "Yes" in shown

    told = await d.vote("ann", poll, 1)
    assert "Yes" in told and "recorded" in told
    changed = await d.vote("ann", poll, 2)
    assert "No" in changed
    await d.vote("bob", poll, 2)
    assert await d.votes(poll) == [0, 2]
    result = await d.tally(poll)
    assert result["participants"] == 2 and result["by_platform"] == {d.platform: 2}


async def test_a_redelivered_vote_counts_once(d: Driver) -> None:
    poll = await d.publish(POLL)
    await d.vote("ann", poll, 1, deliveries=2)
    await d.vote("bob", poll, 2, deliveries=3)
    assert await d.votes(poll) == [1, 1]
    assert (await d.tally(poll))["participants"] == 2


@SQLITE_ONLY
async def test_refused_input_changes_nothing(d: Driver) -> None:
    poll = await d.publish(POLL)
    await d.vote("ann", poll, 1)
    told = await d.refused("bob", poll)
    assert told.strip() and len(told) < 300, told
    assert "Traceback" not in told
    assert await d.votes(poll) == [1, 0]
    assert "recorded" in await d.vote("bob", poll, 2)  # still open


@SQLITE_ONLY
async def test_close_posts_the_results(d: Driver) -> None:
    poll = await d.publish(POLL)
    for who, choice in (("ann", 1), ("bob", 1), ("cat", 2)):
        await d.vote(who, poll, choice)
    told = await d.close(poll)
    assert f"Closed {poll}" in told
    shown = await d.shown(poll)
    assert bars(shown, "Yes") == 2 and bars(shown, "No") == 1
    late = await d.vote("dan", poll, 2)
    assert "closed" in late.lower()
    assert await d.votes(poll) == [2, 1]


# -- open questions and moderation ------------------------------------------------------------


@SQLITE_ONLY
async def test_an_answer_is_recorded_with_the_privacy_notice(d: Driver) -> None:
    question = await d.publish(ASK)
    told = await d.answer("ann", question, "More benches near the pond")
    assert "recorded" in told and ref_in(told) == "A1"
    assert "privacy notice" in told.lower()  # notice mode: the notice comes with the first answer
    second = await d.answer("ann", question, "And a cafe")
    assert "privacy notice" not in second.lower()
    assert await d.visible(question) == ["More benches near the pond", "And a cafe"]


async def test_three_reports_hide_an_answer(d: Driver) -> None:
    question = await d.publish(ASK)
    ref = ref_in(await d.answer("ann", question, "The park should close at dusk"))
    if d.reports_here:
        assert "own answer" in await d.report("ann", ref)
    for who in ("bob", "bob", "cat"):  # Bob twice counts once
        assert "A moderator will look at it" in await d.report(who, ref)
    assert await d.visible(question) == ["The park should close at dusk"]
    await d.report("dan", ref)
    assert await d.visible(question) == []
    assert (await d.statuses(question)) == {"The park should close at dusk": "hidden"}
    assert ("system:reports", "answer.auto_hide", ref) in await d.audit()


@SQLITE_ONLY
async def test_a_held_answer_appears_once_the_moderator_approves(d: Driver) -> None:
    question = await d.publish(ASK)
    await d.answer("ann", question, "More benches near the pond")
    told = await d.answer("bob", question, PHONE)
    assert "once a moderator has checked it" in told
    held = ref_in(told)
    assert await d.visible(question) == ["More benches near the pond"]
    assert await d.queue() == [held]

    assert f"{held}: approved and visible." in await d.decide(held, "Approve")
    assert await d.visible(question) == ["More benches near the pond", PHONE]
    assert [e[1:] for e in await d.audit() if e[1].startswith("answer.")] == [
        ("answer.approve", held)
    ]
    assert await d.queue() == []


@SQLITE_ONLY
async def test_redact_keeps_the_text_without_the_personal_data(d: Driver) -> None:
    question = await d.publish('ask "Where is the problem?"')
    ref = ref_in(await d.answer("ann", question, "Potholes by SW1A 1AA, ring 020 7946 0958"))
    assert await d.queue() == [ref]
    told = await d.decide(ref, "Redact")
    assert f"{ref}: personal data removed; the rest is visible." in told
    assert await d.visible(question) == ["Potholes by [postcode removed], ring [phone removed]"]
    assert "answer.redact" in [e[1] for e in await d.audit()]


@SQLITE_ONLY
async def test_lazy_moderation_shows_the_answer_and_queues_it(d: Driver) -> None:
    question = await d.publish('ask "Ideas?" --moderation lazy')
    ref = ref_in(await d.answer("ann", question, PHONE))
    assert await d.visible(question) == [PHONE]  # shown at once, and queued for a look
    assert await d.queue() == [ref]
    assert f"{ref}: escalated to the policy team." in await d.decide(ref, "Escalate")
    assert ("answer.escalate", ref) in [e[1:] for e in await d.audit()]


@SQLITE_ONLY
async def test_only_moderators_can_moderate(d: Driver) -> None:
    question = await d.publish(ASK)
    ref = ref_in(await d.answer("ann", question, PHONE))
    assert await d.queue() == [ref]
    refusal = "Sorry, only moderators can do that."
    told = []
    for who in ("bob", "officer"):  # not even the policy team
        told += [await d.moderate(who, "flagged"), await d.moderate(who, f"approve {ref}")]
    for label in ("Approve", "Hide", "Redact", "Escalate"):  # buttons never shown to Bob
        told.append(await d.forge("bob", ref, label))
    assert all(refusal in said and "07700" not in said for said in told), told
    assert await d.statuses(question) == {PHONE: "held"}
    assert not [e for e in await d.audit() if e[1].startswith("answer.")]
    assert await d.queue() == [ref]


# -- privacy ----------------------------------------------------------------------------------


@SQLITE_ONLY
async def test_explicit_consent_stores_an_answer_only_after_i_agree(start: Start) -> None:
    async with start(consent="explicit") as d:
        question = await d.publish(ASK)
        told = await d.answer("ann", question, "Longer opening hours")
        assert "Before we record your answer" in told
        assert (await d.tally(question, include_hidden=True))["responses"] == 0
        agreed = await d.agree("ann")
        assert "your answer is recorded (ref A1)" in agreed
        assert await d.visible(question) == ["Longer opening hours"]
        assert "Before we record" not in await d.answer("ann", question, "And a cafe")

        assert "Before we record your answer" in await d.answer("bob", question, "Bob's idea")
        assert "Understood: nothing was recorded." in await d.decline("bob")
        assert await d.visible(question) == ["Longer opening hours", "And a cafe"]
        assert (await d.tally(question, include_hidden=True))["responses"] == 2


@SQLITE_ONLY
async def test_explicit_consent_holds_a_first_vote_until_i_agree(start: Start) -> None:
    async with start(consent="explicit") as d:
        poll = await d.publish(POLL)
        await d.vote("ann", poll, 1)
        assert await d.votes(poll) == [0, 0]
        await d.agree("ann")
        assert await d.votes(poll) == [1, 0]


async def test_mydata_then_forget(d: Driver) -> None:
    poll = await d.publish(POLL)
    question = await d.publish(ASK)
    await d.vote("ann", poll, 1)
    await d.vote("bob", poll, 1)
    await d.answer("ann", question, "Ann thinks more trees")
    await d.answer("bob", question, "Bob wants a cafe")

    copy = await d.mydata("ann")
    assert "What Townhall holds about you" in copy
    assert "What Townhall holds" not in await d.shown(poll)  # for Ann alone, never in public
    assert '"choice": "Yes"' in copy and "Ann thinks more trees" in copy
    assert "Bob wants a cafe" not in copy

    assert "Nothing was erased." in await d.forget("ann", confirm=False)
    assert await d.votes(poll) == [2, 0]
    erased = await d.forget("ann")
    assert "we erased 1 vote and 1 answer" in erased
    assert await d.votes(poll) == [1, 0]
    assert await d.visible(question) == ["Bob wants a cafe"]
    assert "We hold nothing about you." in await d.mydata("ann")
    assert ("participant.forget", d.platform) in [(e[1], e[2]) for e in await d.audit()]


# -- consultations ----------------------------------------------------------------------------

CONSULTATION = Path(__file__).resolve().parent / "data" / "consultation-12.yaml"
SLUG = "library-bill"


async def load_consultation(d: Driver) -> None:
    """``townhall consultation load tests/data/consultation-12.yaml``: 12 items, a draft."""
    now = d.app.clock()
    async with d.db.transaction() as session:
        plan = load_file(CONSULTATION, now=now)
        await consultations.load(session, plan, new_version=False, actor="cli", now=now)


async def consultation_shown(d: Driver, slug: str = SLUG) -> dict[str, Any]:
    async with d.db.transaction() as session:
        found = await ConsultationRepository(session).latest(slug)
        assert found is not None
        return await consultations.show(session, found, d.app.clock())


async def test_a_citizen_completes_a_twelve_item_consultation(d: Driver) -> None:
    await load_consultation(d)
    told = await d.officer(f"publish {SLUG}")
    assert f"Published consultation {SLUG} (12 questions)" in told

    told = await d.start("ann", SLUG)
    assert "We never store your name" in told and "1 of 12" in told  # the notice, once
    assert "2 of 12" in await d.tap("ann", "Agree")  # a scale
    assert "Any comment?" in await d.tap("ann", "Needs changes")  # clause 1: a stance ...
    assert "3 of 12" in await d.write("ann", "Comment", "Say which service")  # ... a comment
    assert "4 of 12" in await d.write("ann", "Comment", "Forty hours is too few")  # alone
    assert "5 of 12" in await d.tap("ann", "Skip")  # clause 3
    for position in (6, 7, 8):  # clauses 4-6: a stance, no comment
        await d.tap("ann", "Agree")
        assert f"{position} of 12" in await d.tap("ann", "Next")
    assert "Why?" in await d.tap("ann", "Scrap")  # a rating, with a why
    assert "9 of 12" in await d.write("ann", "Say why", "Fines put children off")
    for position in (10, 11):
        await d.tap("ann", "Keep as is")
        assert f"{position} of 12" in await d.tap("ann", "Next")
    assert "12 of 12" in await d.tap("ann", "More books")  # a poll
    told = await d.write("ann", "Answer", "Open late on Thursdays")  # an open question
    assert "Thanks — you answered 11 of 12" in told and "mydata" in told

    shown = await consultation_shown(d)
    assert (shown["participants"], shown["completed"]) == (1, 1)
    rating = shown["items"][7]["id"]
    assert await d.votes(rating) == [0, 0, 1]
    async with d.db.transaction() as session:
        item = await ItemRepository(session).by_short_id(rating)
        assert item is not None
        whys = (await consultations.item_results(session, item)).answers
    assert [a.text for a in whys] == ["Fines put children off"]


async def test_about_you_is_asked_once_skippable_in_mydata_and_forgotten(d: Driver) -> None:
    """Issue 19: "about you" questions after consent, one at a time, each skippable, never
    asked again; mydata shows them, forget erases them."""
    now = d.app.clock()
    async with d.db.transaction() as session:
        plan = load_file(CONSULTATION.with_name("consultation-profile.yaml"), now=now)
        await consultations.load(session, plan, new_version=False, actor="cli", now=now)
    await d.officer("publish park-plan")
    told = await d.start("ann", "park-plan")
    if "How old are you?" not in told:  # the web chat asks once its visitor has answered
        told = await d.tap("ann", "Yes please")
    assert "How old are you?" in told
    told = await d.tap("ann", "25 to 34")
    assert "individual" in told and "How old are you?" not in told
    told = await d.tap("ann", "Prefer not to say")  # kept as declined, never asked again
    if "How often" not in told:  # the web chat's visitor has voted already
        told = await d.tap("ann", "Yes please")
    assert "How often do you visit the park?" in told  # an item's own, just before it
    assert "What else would you like in the park?" in await d.tap("ann", "Every week")
    told = await d.start("ann", "park-plan")
    assert "How old are you?" not in told and "individual" not in told
    copy = await d.mydata("ann")
    assert '"about_you"' in copy and "25 to 34" in copy and "prefer not to say" in copy
    assert "Every week" in copy
    await d.forget("ann")
    async with d.db.transaction() as session:
        assert await ProfileRepository(session).questions() == []


@SQLITE_ONLY
async def test_leaving_a_consultation_and_coming_back_resumes_it(d: Driver) -> None:
    await load_consultation(d)
    await d.officer(f"publish {SLUG}")
    assert "1 of 12" in await d.start("bob", SLUG)
    assert "2 of 12" in await d.tap("bob", "Disagree")
    assert "3 of 12" in await d.tap("bob", "Skip")
    told = await d.start("bob", SLUG)  # later: where Bob left off, no notice again
    assert "3 of 12" in told and "We never store your name" not in told
    assert (await consultation_shown(d))["completed"] == 0


@SQLITE_ONLY
async def test_a_person_who_chose_welsh_reads_welsh_and_counts_with_english_ones(
    d: Driver,
) -> None:
    """Issue 18: ``language cy`` is remembered; the vote is confirmed in Welsh and counted in
    the same tally as English votes; ``language en`` switches back."""
    poll = await d.publish(POLL)
    told = await d.moderate("eve", "language cy")
    assert "O hyn ymlaen, bydd Townhall yn ysgrifennu atoch yn Gymraeg." in told, told
    welsh = await d.vote("eve", poll, 1)
    assert "Diolch, mae eich pleidlais dros “Yes” wedi’i chofnodi." in welsh, welsh
    english = await d.vote("ann", poll, 2)
    assert "Thanks, your vote for “No” is recorded." in english, english
    assert await d.votes(poll) == [1, 1]
    assert "in English" in await d.moderate("eve", "language en")
    assert "Your vote is now “No”." in await d.vote("eve", poll, 2)
    assert await d.votes(poll) == [0, 2]


async def test_a_bilingual_consultation_speaks_welsh_to_a_welsh_reader(d: Driver) -> None:
    """Issue 18: a consultation file's title, introduction, privacy text, "about you"
    questions, regulation and clause in ``{en: ..., cy: ...}``: a Welsh reader goes through it
    all in Welsh; their answers count with everyone's."""
    now = d.app.clock()
    async with d.db.transaction() as session:
        plan = load_file(CONSULTATION.with_name("consultation-cy.yaml"), now=now)
        await consultations.load(session, plan, new_version=False, actor="cli", now=now)
    await d.officer("publish bus-plan")
    if not await d.platform_says("eve", "cy"):  # Telegram's app, the browser: Welsh already
        await d.moderate("eve", "language cy")
    told = await d.start("eve", "bus-plan")
    assert "Rydym yn cadw eich atebion am 12 mis." in told, told
    if "Faint yw eich oed?" not in told:  # the web chat asks once its visitor has answered
        assert "Mae bysiau'n rhedeg tan hanner nos." in told, told
        told = await d.tap("eve", "Cadw fel y mae")
        told = told if "Faint yw eich oed?" in told else await d.tap("eve", "Nesaf")
    assert "Faint yw eich oed?" in told, told
    told = await d.tap("eve", "25 i 34")  # a built-in: catalogue Welsh
    assert "Sut ydych chi'n teithio fel arfer?" in told, told  # a custom one: the file's
    told = await d.tap("eve", "Ar y bws")
    if "Bysiau nos" in told:  # not yet rated (chat): the regulation, in Welsh
        assert "1 o 2 · Cynllun Llwybrau Bysiau" in told, told
        assert "Mae bysiau'n rhedeg tan hanner nos." in told and "Night buses" not in told
        told = await d.tap("eve", "Cadw fel y mae")
        assert "Pam? (dewisol)" in told, told
        told = await d.tap("eve", "Nesaf")
    assert "Cymal 1: Prisiau" in told and "Mae prisiau'n aros yn ddwy bunt." in told, told
    await d.tap("eve", "Cytuno")
    told = await d.tap("eve", "Nesaf")
    assert "Diolch — rydych wedi ateb 2 o 2." in told and "Cynllun Llwybrau Bysiau" in told
    async with d.db.transaction() as session:
        found = await ConsultationRepository(session).latest("bus-plan")
        assert found is not None
        shown = await consultations.show(session, found, now)
    assert await d.votes(shown["items"][0]["id"]) == [0, 1, 0]
    assert await d.votes(shown["items"][1]["id"]) == [1, 0, 0]
    copy = await d.mydata("eve")
    assert "25 to 34" in copy and "By bus" in copy  # kept in English, as everyone's


# -- statements (issue 20) ----------------------------------------------------------------------

STATEMENTS = 'statements "What should the town centre become?" "More trees" "A weekly market"'


async def test_statements_one_at_a_time_and_a_new_one_after_moderation(d: Driver) -> None:
    item = await d.publish(STATEMENTS)
    assert "More trees" in await d.opinions("ann", item)  # fewest votes, oldest first
    assert "A weekly market" in await d.tap("ann", "Agree")
    assert "every statement" in await d.tap("ann", "Pass")
    assert "More trees" in await d.opinions("bob", item)  # bob has voted on none yet

    told = await d.answer("bob", item, "Free parking on Saturdays")
    assert "once a moderator has checked it" in told  # strict: every statement waits
    held = ref_in(told)
    assert "every statement" in await d.opinions("ann", item)  # not shown while held
    assert await d.queue() == [held]
    assert f"{held}: approved and visible." in await d.decide(held, "Approve")
    assert "Free parking on Saturdays" in await d.opinions("ann", item)
    await d.tap("ann", "Disagree")

    result = await d.tally(item)
    assert [(s["text"], s["agree"], s["disagree"], s["pass"]) for s in result["statements"]] == [
        ("More trees", 1, 0, 0),
        ("A weekly market", 0, 0, 1),
        ("Free parking on Saturdays", 0, 1, 0),
    ]
    assert result["participants"] == 1 and result["groups"] == []
    bobs = f'"statement": "S{result["statements"][2]["id"]}"'
    await d.forget("bob")  # Bob's statement goes; Ann's vote on it stays hers, counted nowhere
    assert [s["text"] for s in (await d.tally(item))["statements"]] == [
        "More trees",
        "A weekly market",
    ]
    assert bobs in await d.mydata("ann")


@SQLITE_ONLY
async def test_statements_in_a_consultation_vote_skip_and_resume(d: Driver) -> None:
    """Issue 20: a statements item in the one-at-a-time flow: its statements one by one, the
    next question once all are voted on; Skip moves on; leaving half-way resumes there."""
    now = d.app.clock()
    async with d.db.transaction() as session:
        plan = load_file(CONSULTATION.with_name("consultation-statements.yaml"), now=now)
        await consultations.load(session, plan, new_version=False, actor="cli", now=now)
    await d.officer("publish town-centre")
    assert "1 of 2" in await d.start("ann", "town-centre")
    assert "More trees" in await d.tap("ann", "Vote on statements")
    assert "A weekly market" in await d.tap("ann", "Agree")
    told = await d.start("ann", "town-centre")  # later: back at the statements, not past them
    assert "1 of 2" in told and "Anything else" not in told
    assert "A weekly market" in await d.tap("ann", "Vote on statements")
    assert "2 of 2" in await d.tap("ann", "Disagree")  # every statement voted: the next item
    assert "1 of 2" in await d.start("bob", "town-centre")
    assert "2 of 2" in await d.tap("bob", "Skip")
    item = (await consultation_shown(d, "town-centre"))["items"][0]["id"]
    result = await d.tally(item)
    assert [(s["agree"], s["disagree"]) for s in result["statements"]] == [(1, 0), (0, 1)]
    assert result["participants"] == 1


@SQLITE_ONLY
async def test_a_statement_vote_before_consent_counts_once_i_agree(start: Start) -> None:
    """Explicit consent: the vote waits (apply_pending_opinion), then counts, and the next
    statement follows."""
    async with start(consent="explicit") as d:
        item = await d.publish(STATEMENTS)
        assert "More trees" in await d.opinions("ann", item)
        await d.tap("ann", "Agree")
        assert [s["agree"] for s in (await d.tally(item))["statements"]] == [0, 0]
        assert "A weekly market" in await d.agree("ann")
        assert [s["agree"] for s in (await d.tally(item))["statements"]] == [1, 0]


async def test_a_bilingual_item_shows_each_person_their_language_and_counts_once(
    d: Driver,
) -> None:
    """Issue 18: ``--cy`` gives an item its Welsh; a Welsh reader votes on “Ie”, an English
    reader on “No”, one tally; an answer records the language it was written in."""
    poll = await d.publish(POLL + ' --cy "Agor y llyfrgell ar y Sul? | Ie | Na"')
    await d.moderate("eve", "language cy")
    welsh = await d.vote("eve", poll, 1)
    assert "Diolch, mae eich pleidlais dros “Ie” wedi’i chofnodi." in welsh, welsh
    english = await d.vote("ann", poll, 2)
    assert "Thanks, your vote for “No” is recorded." in english, english
    assert await d.votes(poll) == [1, 1]
    if d.platform != "web":  # a channel's card is for everyone: both languages
        shown = await d.shown(poll)
        assert "Open the library on Sundays?" in shown and "Agor y llyfrgell ar y Sul?" in shown
    question = await d.publish(ASK + ' --cy "Beth fyddai’n gwella’r stryd fawr?"')
    await d.answer("eve", question, "Mwy o feinciau")
    await d.answer("ann", question, "More benches")
    async with d.db.transaction() as session:
        item = await ItemRepository(session).by_short_id(question)
        assert item is not None and item.question_cy == "Beth fyddai'n gwella'r stryd fawr?"
        rows = await AnswerRepository(session).for_item(item)
        assert {a.text: a.language for a in rows} == {"Mwy o feinciau": "cy", "More benches": "en"}


@SQLITE_ONLY
async def test_a_person_whose_platform_says_welsh_reads_welsh_from_the_first_message(
    d: Driver,
) -> None:
    """Issue 18: where the platform says the person reads Welsh (Telegram's app language, the
    browser's Accept-Language), the first reply is Welsh, with no command; the vote counts
    with the English ones, and ``language en`` still wins over what the platform says."""
    if not await d.platform_says("eve", "cy"):
        pytest.skip(f"{d.platform} cannot say a person reads Welsh")
    poll = await d.publish(POLL)
    welsh = await d.vote("eve", poll, 1)
    assert "Diolch, mae eich pleidlais dros “Yes” wedi’i chofnodi." in welsh, welsh
    english = await d.vote("ann", poll, 2)
    assert "Thanks, your vote for “No” is recorded." in english, english
    assert await d.votes(poll) == [1, 1]
    assert "in English" in await d.moderate("eve", "language en")
    assert "Your vote is now “No”." in await d.vote("eve", poll, 2)
    assert await d.votes(poll) == [0, 2]
