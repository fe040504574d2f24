"""Consultations in chat, through the real core and database (SQLite and PostgreSQL): publish,
the one-at-a-time flow with Skip and resume, rating whys and clause comments, subscriptions and
STOP, reminders before closing, and "you said, we did" reaching each participant once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.adapter import Outcome
from bot.config import Settings
from bot.views import Card
from services import consultation_response, consultations
from services.consultation_file import load_file
from storage.consultations import ConsultationRepository
from storage.db import Database
from storage.outbox import OutboxRepository
from tests.support import FakeClock, People, RecordingAdapter, said
from townhall.app import Townhall

TWELVE = Path(__file__).resolve().parent / "data" / "consultation-12.yaml"
SLUG = "library-bill"

App = tuple[Townhall, RecordingAdapter]


async def load(db: Database, clock: FakeClock) -> None:
    async with db.transaction() as session:
        plan = load_file(TWELVE, now=clock())
        await consultations.load(session, plan, new_version=False, actor="cli", now=clock())


async def shown(db: Database, clock: FakeClock) -> dict[str, object]:
    async with db.transaction() as session:
        found = await ConsultationRepository(session).latest(SLUG)
        assert found is not None
        return await consultations.show(session, found, clock())


async def opened(townhall: Townhall, db: Database, clock: FakeClock, people: People) -> None:
    """Loaded and published (``publish SLUG`` in the officer's channel)."""
    await load(db, clock)
    await townhall.dispatch(people.command("officer", f"publish {SLUG}"))


def cards(outcome: Outcome) -> list[Card]:
    return [n for n in outcome.notices if isinstance(n, Card)]


def step(outcome: Outcome) -> Card:
    """The card the person is looking at now: the last one the bot gave them."""
    found = cards(outcome)
    assert found, said(outcome.notices)
    return found[-1]


def where(card: Card) -> tuple[int, int]:
    found = re.match(r"(\d+) of (\d+)", card.footer)
    assert found, (card.title, card.footer)
    return int(found.group(1)), int(found.group(2))


def button(card: Card, label: str) -> tuple[str, str]:
    for b in card.buttons:
        if b.label == label:
            return b.action_id, b.value
    raise AssertionError(f"no {label!r} on {card.title!r}: {[b.label for b in card.buttons]}")


async def press(app: Townhall, people: People, who: str, card: Card, label: str) -> Outcome:
    action, value = button(card, label)
    return await app.dispatch(people.click_button(who, action, value))


async def write(app: Townhall, people: People, who: str, card: Card, text: str) -> Outcome:
    """The text button (Answer / Say why / Comment) opens a form; ``text`` is submitted."""
    item = next(b.value for b in card.buttons if b.action_id == "answer")
    return await app.dispatch(people.submit(who, item, text))


async def test_a_draft_takes_no_answers_and_publish_opens_it(
    app: App, db: Database, clock: FakeClock, people: People
) -> None:
    townhall, adapter = app
    await load(db, clock)
    first = (await shown(db, clock))["items"][0]["id"]  # type: ignore[index]
    refused = await townhall.dispatch(people.click("ann", str(first), 1))
    assert "not opened yet" in said(refused.notices)
    assert "not opened yet" in said(
        (await townhall.dispatch(people.command("ann", f"start {SLUG}"))).notices
    )
    assert "only the policy team" in said(
        (await townhall.dispatch(people.command("ann", f"publish {SLUG}"))).notices
    )
    told = await townhall.dispatch(people.command("officer", f"publish {SLUG}"))
    assert f"Published consultation {SLUG} (12 questions); sent to 0" in said(told.notices)
    await townhall.deliverer.drain()
    intro = adapter.cards()[-1]
    assert intro.title == "Draft Libraries Bill" and button(intro, "Start")[0] == "consult"
    assert (await shown(db, clock))["status"] == "open"


async def test_a_citizen_completes_twelve_items_with_skip_why_and_comment(
    app: App, db: Database, clock: FakeClock, people: People
) -> None:
    townhall, adapter = app
    await opened(townhall, db, clock, people)
    await townhall.deliverer.drain()
    intro = adapter.cards()[-1]

    outcome = await press(townhall, people, "ann", intro, "Start")
    privacy = cards(outcome)[0]
    assert "We never store your name" in privacy.body  # the consultation's notice, once
    card = step(outcome)
    assert where(card) == (1, 12) and "Skip" in [b.label for b in card.buttons]

    # 1 scale: agree
    card = step(await press(townhall, people, "ann", card, "Agree"))
    # 2 clause 1: a stance, then a comment
    assert where(card) == (2, 12) and card.title == "Clause 1: Duty to provide"
    assert "Each council must provide" in card.body
    follow = step(await press(townhall, people, "ann", card, "Needs changes"))
    assert follow.title.startswith("Any comment")
    card = step(await write(townhall, people, "ann", follow, "Say which service"))
    # 3 clause 2: a comment alone counts
    assert where(card) == (3, 12)
    card = step(await write(townhall, people, "ann", card, "Forty hours is too few"))
    # 4 clause 3: skipped
    assert where(card) == (4, 12)
    card = step(await press(townhall, people, "ann", card, "Skip"))
    # 5-7 clauses 4-6: stances, no comment (Next)
    for position in (5, 6, 7):
        assert where(card) == (position, 12), card.title
        follow = step(await press(townhall, people, "ann", card, "Agree"))
        card = step(await press(townhall, people, "ann", follow, "Next"))
    # 8 rating with a why
    assert where(card) == (8, 12) and card.title == "The Library Fines Regulations 1998"
    assert [b.label for b in card.buttons][:3] == ["Improve", "Keep as is", "Scrap"]
    follow = step(await press(townhall, people, "ann", card, "Scrap"))
    assert follow.title.startswith("Why?")
    card = step(await write(townhall, people, "ann", follow, "Fines put children off"))
    # 9, 10 ratings without a why
    for position in (9, 10):
        assert where(card) == (position, 12)
        follow = step(await press(townhall, people, "ann", card, "Keep as is"))
        card = step(await press(townhall, people, "ann", follow, "Next"))
    # 11 poll, 12 ask
    assert where(card) == (11, 12)
    card = step(await press(townhall, people, "ann", card, "More books"))
    assert where(card) == (12, 12)
    done = step(await write(townhall, people, "ann", card, "Keep libraries open late"))
    assert done.title == "Thanks — you answered 11 of 12."
    assert "mydata" in done.body

    show = await shown(db, clock)
    assert show["participants"] == 1 and show["completed"] == 1
    items = show["items"]
    assert isinstance(items, list)
    async with db.transaction() as session:
        repo = ConsultationRepository(session)
        found = await repo.latest(SLUG)
        assert found is not None
        rating = (await repo.items(found))[7]
        result = (await consultations.item_results(session, rating)).to_json()
    assert [o["votes"] for o in result["options"]] == [0, 0, 1]
    assert [a["text"] for a in result["answers"]] == ["Fines put children off"]


async def test_leaving_and_coming_back_resumes_at_the_first_unanswered(
    app: App, db: Database, clock: FakeClock, people: People
) -> None:
    townhall, _ = app
    await opened(townhall, db, clock, people)
    card = step(await townhall.dispatch(people.command("bob", f"start {SLUG}")))
    card = step(await press(townhall, people, "bob", card, "Disagree"))
    card = step(await press(townhall, people, "bob", card, "Skip"))
    assert where(card) == (3, 12)
    again = await townhall.dispatch(people.command("bob", f"start {SLUG}"))
    assert len(cards(again)) == 1  # no privacy notice the second time
    assert where(step(again)) == (3, 12)
    assert (await shown(db, clock))["completed"] == 0


async def test_subscriptions_broadcast_once_and_forget_removes_them(
    app: App, db: Database, clock: FakeClock, people: People
) -> None:
    townhall, adapter = app
    await load(db, clock)
    told = await townhall.dispatch(people.command("ann", "subscribe Libraries"))
    assert "Subscribed to libraries" in said(told.notices)
    await townhall.dispatch(people.command("ann", "subscribe culture"))
    await townhall.dispatch(people.command("bob", "subscribe libraries"))
    await townhall.dispatch(people.command("cat", "subscribe libraries"))
    await townhall.dispatch(people.command("cat", "stop"))
    await townhall.dispatch(people.command("dan", "subscribe sport"))
    assert "Your topics: culture, libraries" in said(
        (await townhall.dispatch(people.command("ann", "topics"))).notices
    )
    mine = await townhall.dispatch(people.command("ann", "mydata"))
    assert ("Subscriptions", "2") in step(mine).fields and '"topic": "culture"' in step(mine).body

    told = await townhall.dispatch(people.command("officer", f"publish {SLUG}"))
    assert "sent to 2 subscribers" in said(told.notices)  # Ann once (two topics), Bob
    again = await townhall.dispatch(people.command("officer", f"publish {SLUG}"))
    assert "sent to 0 subscribers" in said(again.notices)  # a second channel: no re-send
    await townhall.deliverer.drain()
    private = [s.target.channel_id for s in adapter.sent if s.target.private]
    assert sorted(private) == ["ann", "bob"]

    await townhall.dispatch(people.command("ann", "forget"))
    await townhall.dispatch(people.click_button("ann", "forget", "confirm"))
    async with db.transaction() as session:
        from storage.subscriptions import SubscriptionRepository

        left = await SubscriptionRepository(session).subscribers(["libraries", "culture"])
    assert [r.user_id for r in left] == ["bob"]


async def test_one_reminder_before_closing_to_those_who_did_not_finish(
    app: App, db: Database, clock: FakeClock, people: People
) -> None:
    townhall, adapter = app
    await opened(townhall, db, clock, people)
    await townhall.dispatch(people.command("ann", f"start {SLUG}"))  # started, unfinished
    await townhall.dispatch(people.command("eve", f"start {SLUG}"))
    await townhall.dispatch(people.command("eve", "stop"))  # opted out
    await townhall.deliverer.drain()
    before = len(adapter.sent)
    await townhall.scheduler.run_once()
    assert len(adapter.sent) == before  # 14 days left: not yet
    clock.advance(days=12, hours=1)  # 47 hours before it closes
    await townhall.scheduler.run_once()
    await townhall.scheduler.run_once()  # a second pass (or a restart) sends nothing more
    await townhall.deliverer.drain()
    reminders = [s for s in adapter.sent[before:] if s.target.private]
    assert [s.target.channel_id for s in reminders] == ["ann"]
    card = reminders[0].view
    assert isinstance(card, Card) and card.title == "Reminder: Draft Libraries Bill"
    resumed = await press(townhall, people, "ann", card, "Continue")
    assert where(step(resumed)) == (1, 12)


async def test_the_reminder_comes_in_the_language_the_person_chose(
    app: App, db: Database, clock: FakeClock, people: People
) -> None:
    townhall, adapter = app
    await opened(townhall, db, clock, people)
    await townhall.dispatch(people.command("bob", "language cy"))
    await townhall.dispatch(people.command("bob", f"start {SLUG}"))
    await townhall.deliverer.drain()
    before = len(adapter.sent)
    clock.advance(days=12, hours=1)
    await townhall.scheduler.run_once()
    await townhall.deliverer.drain()
    (reminder,) = [s.view for s in adapter.sent[before:] if s.target.private]
    assert isinstance(reminder, Card) and reminder.title == "Nodyn atgoffa: Draft Libraries Bill"
    assert "Pwyswch Parhau" in reminder.body
    resumed = await press(townhall, people, "bob", reminder, "Parhau")
    assert "1 o 12" in step(resumed).footer


async def test_the_response_reaches_every_participant_once(
    app: App, db: Database, clock: FakeClock, people: People
) -> None:
    townhall, adapter = app
    await opened(townhall, db, clock, people)
    for who in ("ann", "bob", "cat"):
        card = step(await townhall.dispatch(people.command(who, f"start {SLUG}")))
        await press(townhall, people, who, card, "Agree")
    await townhall.dispatch(people.command("cat", "stop"))
    await townhall.dispatch(people.command("bob", "language cy"))  # bob's comes in Welsh
    await townhall.dispatch(people.command("dan", "subscribe libraries"))  # never took part
    await townhall.deliverer.drain()
    before = len(adapter.sent)
    told = await townhall.dispatch(
        people.command("officer", f'respond {SLUG} "We will keep libraries open on Sundays."')
    )
    assert f"Response to {SLUG} recorded; sent to 2 participants." in said(told.notices)
    await townhall.deliverer.drain()
    await townhall.deliverer.drain()
    got = [s for s in adapter.sent[before:] if s.target.private]
    assert sorted(s.target.channel_id for s in got) == ["ann", "bob"]
    card, welsh = (s.view for s in sorted(got, key=lambda s: s.target.channel_id))
    assert isinstance(card, Card) and "open on Sundays" in card.body
    assert "Agree 100% of 3" in dict(card.fields)["What people said"]
    assert isinstance(welsh, Card) and welsh.title.startswith("Dywedoch chi, gwnaethom ni: ")
    assert "Cytuno 100% o 3" in dict(welsh.fields)["Beth ddywedodd pobl"]
    assert ("test:officer", "consultation.respond", SLUG) in await _audit(db)
    refused = await townhall.dispatch(people.command("ann", f'respond {SLUG} "x"'))
    assert "only the policy team" in said(refused.notices)
    with pytest.raises(consultation_response.ResponseRefused):
        async with db.transaction() as session:
            await consultation_response.respond(session, "nope", "x", "cli", clock())
    async with db.transaction() as session:
        assert await OutboxRepository(session).pending() == []


async def test_close_and_results_by_slug(
    app: App, db: Database, clock: FakeClock, people: People
) -> None:
    townhall, _ = app
    await opened(townhall, db, clock, people)
    card = step(await townhall.dispatch(people.command("ann", f"start {SLUG}")))
    await press(townhall, people, "ann", card, "Agree")
    results = step(await townhall.dispatch(people.command("officer", f"results {SLUG}")))
    assert results.title == "Results: Draft Libraries Bill" and results.confidential
    assert "1. My local library meets my needs.: Agree 100% of 1" in results.body
    told = await townhall.dispatch(people.command("officer", f"close {SLUG}"))
    assert f"Closed consultation {SLUG} (12 questions)." in said(told.notices)
    late = await townhall.dispatch(people.command("bob", f"start {SLUG}"))
    assert "closed" in said(late.notices)
    assert (await shown(db, clock))["status"] == "closed"


async def _audit(db: Database) -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from storage.models import AuditEntry

    async with db.transaction() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(r.actor, r.action, r.target) for r in rows]


async def test_the_dashboard_form_sends_the_response(
    settings: Settings, db: Database, clock: FakeClock
) -> None:
    """POST /consultations/{slug}/respond: policy role, CSRF, audited under the account."""
    from dashboard.core import environment
    from tests.dashboard_support import start_dashboard

    await load(db, clock)
    async with db.transaction() as session:
        found = await ConsultationRepository(session).latest(SLUG)
        assert found is not None
        found.status = "open"
    async for dash in start_dashboard(settings, db, clock):
        telegram = People("telegram")
        card = step(await dash.app.dispatch(telegram.command("ann", f"start {SLUG}")))
        await press(dash.app, telegram, "ann", card, "Agree")
        moderator = await dash.sign_in("moderator")
        token = await moderator.csrf("/moderation")
        refused = await moderator.post(
            f"/consultations/{SLUG}/respond", {"csrf": token, "response": "No."}
        )
        assert refused.status == 403
        officer = await dash.sign_in("policy")
        token = await officer.csrf("/items/new")
        forged = await officer.post(f"/consultations/{SLUG}/respond", {"response": "No csrf"})
        assert forged.status == 403
        sent = await officer.post(
            f"/consultations/{SLUG}/respond",
            {"csrf": token, "response": "We will open on Sundays."},
            follow=False,
        )
        assert sent.status == 303 and sent.location == f"/consultations/{SLUG}"
        empty = await officer.post(
            f"/consultations/{SLUG}/respond", {"csrf": token, "response": " "}, follow=False
        )
        assert empty.location == f"/consultations/{SLUG}#respond"
        assert (officer.subject, "consultation.respond", SLUG) in await _audit(db)
        async with db.transaction() as session:
            found = await ConsultationRepository(session).latest(SLUG)
            assert found is not None
            responses = await ConsultationRepository(session).responses(found)
        assert [(r.text, r.recipients) for r in responses] == [("We will open on Sundays.", 1)]
    partial = environment().get_template("dashboard/_consultation_respond.html")
    shown = partial.render(slug=SLUG, csrf="tok")
    assert f'action="/consultations/{SLUG}/respond"' in shown and 'value="tok"' in shown


async def test_explicit_consent_comes_before_the_first_question(
    settings: Settings, db: Database, clock: FakeClock, people: People
) -> None:
    explicit = settings.model_copy(update={"consent": "explicit"})
    townhall = Townhall(explicit, [RecordingAdapter()], db=db, clock=clock)
    await townhall.start(serve_http=False, background=False)
    try:
        await opened(townhall, db, clock, people)
        asked = step(await townhall.dispatch(people.command("ann", f"start {SLUG}")))
        assert "We never store your name" in asked.body and asked.footer.startswith("Then press")
        await press(townhall, people, "ann", asked, "I agree")
        card = step(await townhall.dispatch(people.command("ann", f"start {SLUG}")))
        assert where(card) == (1, 12)
        assert "1 of 12" not in said(
            (await townhall.dispatch(people.command("bob", f"start {SLUG}"))).notices
        )
    finally:
        await townhall.stop()
