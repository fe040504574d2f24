"""The Slack adapter end to end: real slack-bolt over real HTTP to Townhall's own server.

Requests are signed like Slack's and posted to ``/slack/events`` on the server that
``Townhall.start(serve_http=True)`` runs; the adapter's Web API calls go to ``FakeSlack``.
Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Answer, Item, OutboxMessage, ProcessedEvent, Vote
from tests.drivers.slack_kit import (  # noqa: F401 - slack is a fixture
    ASK,
    CHANNEL,
    OFFICER,
    POLL,
    SIGNING_SECRET,
    Slack,
    bar_votes,
    buttons,
    slack_fixture,
    slack_settings,
    texts,
)
from tests.fakes.slack import SlackHttpResult

pytestmark = pytest.mark.timeout(60)

# --------------------------------------------------------------------------------------------


async def test_poll_is_published_and_thirty_members_vote(slack: Slack) -> None:
    poll, card = await slack.publish(POLL)
    assert card["blocks"][0]["text"]["text"] == "*Should the library open on Sundays?*"
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in buttons(card)] == [
        ("Yes", f"vote:{poll}:1", f"vote:{poll}:1"),
        ("No", f"vote:{poll}:2", f"vote:{poll}:2"),
        ("Only in winter", f"vote:{poll}:3", f"vote:{poll}:3"),
    ]
    assert card["text"].startswith("Should the library open on Sundays?")

    members = [f"U0M{n:02d}" for n in range(1, 31)]
    first = {m: n % 3 + 1 for n, m in enumerate(members)}
    clicks = await asyncio.gather(
        *(slack.client.block_action(m, CHANNEL, card, f"vote:{poll}:{first[m]}") for m in members)
    )
    assert [c.status for c in clicks] == [200] * 30 and all(c.body == "" for c in clicks)

    # five people change their mind; Slack-style duplicates of some clicks arrive again
    changers = members[:5]
    final = dict(first)
    changes: list[SlackHttpResult] = []
    for m in changers:
        final[m] = first[m] % 3 + 1
        changes.append(await slack.client.block_action(m, CHANNEL, card, f"vote:{poll}:{final[m]}"))
    duplicates = [
        await slack.client.send(changes[0].request),
        await slack.client.send(changes[1].request, retry_num=1, retry_reason="http_timeout"),
        await slack.client.send(clicks[10].request, retry_num=2, retry_reason="http_timeout"),
        await slack.client.send(clicks[29].request),
    ]
    assert [d.status for d in duplicates] == [200] * 4
    await slack.adapter.settle()

    labels = {1: "Yes", 2: "No", 3: "Only in winter"}
    for m in members:
        said = texts(slack.fake.ephemerals_for(m, CHANNEL))
        expected = [f"Thanks, your vote for “{labels[first[m]]}” is recorded."]
        if m in changers:
            expected.append(f"Your vote is now “{labels[final[m]]}”.")
        assert len(said) == len(expected), m
        assert all(want in got for want, got in zip(expected, said, strict=True)), m
    assert {e["source"] for e in slack.fake.ephemerals} == {"response_url"}

    await slack.app.deliverer.drain()
    tally = await slack.results(poll)
    counts = {label: sum(1 for m in members if final[m] == pos) for pos, label in labels.items()}
    assert tally["participants"] == 30 and tally["responses"] == 30
    assert tally["options"] == [{"label": lb, "votes": counts[lb]} for lb in labels.values()]
    assert tally["by_platform"] == {"slack": 30}
    assert await slack.count(Vote) == 30

    assert slack.fake.calls_to("chat.update")
    shown = slack.fake.message(CHANNEL, card["ts"])
    assert bar_votes(shown) == counts
    assert "30 participants" in shown["blocks"][-1]["elements"][0]["text"]
    assert buttons(shown) == buttons(card)  # still open: the same buttons


async def test_open_question_answers_in_thread_and_in_modal(slack: Slack) -> None:
    question, card = await slack.publish(ASK)
    (answer_button,) = buttons(card)
    assert answer_button["action_id"] == f"form:answer:{question}"
    assert answer_button["value"] == f"answer:{question}"
    assert answer_button["style"] == "primary"

    # a reply in the item's thread (Slack escapes &, < and >)
    reply = slack.client.message_event(
        "U0ANN", CHANNEL, "More benches &amp; fewer empty shops", thread_ts=card["ts"]
    )
    first = await slack.client.event(reply)
    assert first.status == 200
    retried = await slack.client.send(first.request, retry_num=1, retry_reason="http_timeout")
    assert retried.status == 200
    await slack.adapter.settle()
    (thanks,) = slack.fake.ephemerals_for("U0ANN", CHANNEL)
    assert "Thanks, your answer is recorded" in thanks["text"]
    assert thanks["thread_ts"] == card["ts"] and thanks["source"] == "chat.postEphemeral"

    # the Answer button opens a modal; submitting it stores the answer
    clicked = await slack.client.block_action("U0BOB", CHANNEL, card, f"form:answer:{question}")
    assert clicked.status == 200
    modal = slack.fake.find_view(callback_id=f"form:answer:{question}", user_id="U0BOB")
    assert modal is not None
    assert modal["blocks"][0]["label"]["text"] == "What would make the high street better?"
    submitted = await slack.client.view_submission(
        "U0BOB",
        f"form:answer:{question}",
        values={"answer": {"text": "Free parking on Saturdays"}},
    )
    assert submitted.status == 200
    ack = submitted.json()
    assert ack["response_action"] == "update"
    assert "Thanks, your answer is recorded" in str(ack["view"]["blocks"])
    again = await slack.client.send(submitted.request)  # an exact duplicate: closes, no change
    assert (again.status, again.body) == (200, "")

    tally = await slack.results(question)
    assert tally["answers"] == [
        {
            "text": "More benches & fewer empty shops",
            "platform": "slack",
            "status": "visible",
            "language": "en",
        },
        {
            "text": "Free parking on Saturdays",
            "platform": "slack",
            "status": "visible",
            "language": "en",
        },
    ]
    assert tally["participants"] == 2 and tally["by_platform"] == {"slack": 2}
    async with slack.app.db.transaction() as session:
        stored = (await session.execute(select(Answer).order_by(Answer.id))).scalars().all()
    assert [(a.channel_id, a.message_id) for a in stored] == [
        (CHANNEL, reply["ts"]),
        (CHANNEL, None),
    ]

    # not answers: the bot itself, edits, deletions, other bots, top-level chatter, and
    # threads someone else started
    ledger = await slack.count(ProcessedEvent)
    other = slack.fake.post_user_message("U0CAT", CHANNEL, "Unrelated thread")
    ignored = [
        slack.client.message_event("U0BOT", CHANNEL, "echo", thread_ts=card["ts"], store=False),
        slack.client.message_event(
            "U0ANN", CHANNEL, "edited", ts=reply["ts"], subtype="message_changed"
        ),
        slack.client.message_event("U0ANN", CHANNEL, "", ts=reply["ts"], subtype="message_deleted"),
        slack.client.message_event("bot", CHANNEL, "beep", subtype="bot_message"),
        slack.client.message_event("U0DAN", CHANNEL, "top-level chatter"),
        slack.client.message_event("U0DAN", CHANNEL, "in their thread", thread_ts=other["ts"]),
    ]
    for event in ignored:
        assert (await slack.client.event(event)).status == 200
    await slack.adapter.settle()
    assert await slack.count(ProcessedEvent) == ledger
    assert len((await slack.results(question))["answers"]) == 2
    assert slack.fake.ephemerals_for("U0DAN") == []


async def test_thread_reply_to_a_poll_points_to_the_buttons(slack: Slack) -> None:
    poll, card = await slack.publish(POLL)
    reply = slack.client.message_event("U0ANN", CHANNEL, "Yes please", thread_ts=card["ts"])
    assert (await slack.client.event(reply)).status == 200
    await slack.adapter.settle()
    (hint,) = slack.fake.ephemerals_for("U0ANN", CHANNEL)
    assert hint["text"].startswith("Please use the buttons to vote")
    assert (await slack.results(poll))["responses"] == 0


async def test_report_shortcut_reaches_the_core(slack: Slack) -> None:
    _, card = await slack.publish(ASK)
    reply = slack.client.message_event("U0ANN", CHANNEL, "Rude words", thread_ts=card["ts"])
    assert (await slack.client.event(reply)).status == 200
    result = await slack.client.message_shortcut("U0BOB", CHANNEL, reply["ts"], "report")
    assert (result.status, result.body) == (200, "")
    await slack.adapter.settle()
    # the reporter hears back privately; the core found the answer from the message's
    # channel and ts (without the moderation handler it says the button is not active)
    (answer,) = slack.fake.ephemerals_for("U0BOB", CHANNEL)
    assert answer["source"] == "response_url"
    assert answer["text"] and not answer["text"].startswith("I can't find that answer")


@pytest.mark.parametrize(
    "broken",
    [
        {"signing_secret": "not-the-signing-secret"},
        {"bad_signature": True},
        {"stale": True},
        {"omit_headers": ["X-Slack-Signature"]},
        {"omit_headers": ["X-Slack-Request-Timestamp"]},
        {"omit_headers": ["X-Slack-Signature", "X-Slack-Request-Timestamp"]},
    ],
    ids=["wrong-secret", "garbage", "stale", "no-signature", "no-timestamp", "no-headers"],
)
async def test_badly_signed_requests_are_rejected_and_change_nothing(
    slack: Slack, broken: dict[str, Any]
) -> None:
    status, _ = await slack.command(OFFICER, POLL, **broken)
    assert status == 401
    event = slack.client.message_event("U0ANN", CHANNEL, "hi", thread_ts="1700000000.000100")
    assert (await slack.client.event(event, **broken)).status == 401
    click = await slack.client.send(
        slack.client.build_block_action(
            "U0ANN",
            CHANNEL,
            {"ts": "1.2", "blocks": []},
            "vote",
            element={"type": "button", "value": "vote:abcdef:1"},
        ),
        **broken,
    )
    assert click.status == 401
    await slack.app.deliverer.drain()
    assert slack.fake.calls == []  # not even auth.test
    assert await slack.count(ProcessedEvent) == 0 and await slack.count(Item) == 0
    assert await slack.count(OutboxMessage) == 0


async def test_non_officer_is_refused_privately(slack: Slack) -> None:
    result = await slack.command("U0CITIZEN", POLL)
    assert result.status == 200
    assert result.json() == {
        "text": "Sorry, only the policy team can do that.",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "plain_text",
                    "text": "Sorry, only the policy team can do that.",
                    "emoji": True,
                },
            }
        ],
        "response_type": "ephemeral",
    }
    await slack.app.deliverer.drain()
    assert slack.fake.calls_to("chat.postMessage") == []
    assert await slack.count(Item) == 0


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ('poll "Q? "A"', "I couldn't read that: No closing quotation (check your quotes)."),
        ('poll "Q?" "Only one"', "A poll needs 2 to 10 options; you gave 1."),
        ("frobnicate", "Unknown command 'frobnicate'. Send help to see what I can do."),
    ],
)
async def test_usage_errors_are_answered_privately(slack: Slack, text: str, answer: str) -> None:
    result = await slack.command(OFFICER, text)
    assert result.status == 200
    body = result.json()
    assert body["response_type"] == "ephemeral" and body["text"] == answer
    await slack.app.deliverer.drain()
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_bare_command_shows_help(slack: Slack) -> None:
    body = (await slack.command(OFFICER, "")).json()
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("Townhall commands:")
    assert 'ask "Open question?"' in body["blocks"][0]["text"]["text"]


async def test_duplicate_slash_command_publishes_once(slack: Slack) -> None:
    first = await slack.command(OFFICER, POLL)
    again = await slack.client.send(first.request)
    assert (again.status, again.body) == (200, "")
    await slack.app.deliverer.drain()
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    assert await slack.count(Item) == 1


async def test_rate_limited_post_is_waited_out(slack: Slack) -> None:
    slack.fake.rate_limit_next("chat.postMessage", retry_after=3)
    poll, _ = await publish_without_card(slack, POLL)
    (limited,) = slack.fake.calls_to("chat.postMessage")
    assert limited.status == 429
    await slack.app.deliverer.drain()
    slack.clock.advance(seconds=2.5)
    await slack.app.deliverer.drain()
    assert len(slack.fake.calls_to("chat.postMessage")) == 1  # Retry-After: 3 is honoured
    slack.clock.advance(seconds=0.5)
    await slack.app.deliverer.drain()
    posted = slack.fake.calls_to("chat.postMessage", ok=True)
    assert len(posted) == 1
    card = slack.fake.message(CHANNEL, posted[0].response["ts"])
    assert [b["value"] for b in buttons(card)] == [f"vote:{poll}:{n}" for n in (1, 2, 3)]

    # the live-results edit is rate limited too, and also waits
    slack.fake.rate_limit_next("chat.update", retry_after=2)
    await slack.client.block_action("U0ANN", CHANNEL, card, f"vote:{poll}:2")
    await slack.app.deliverer.drain()
    assert [c.status for c in slack.fake.calls_to("chat.update")] == [429]
    slack.clock.advance(seconds=1)
    await slack.app.deliverer.drain()
    assert len(slack.fake.calls_to("chat.update")) == 1
    slack.clock.advance(seconds=1)
    await slack.app.deliverer.drain()
    assert [c.status for c in slack.fake.calls_to("chat.update")] == [429, 200]
    assert bar_votes(slack.fake.message(CHANNEL, card["ts"]))["No"] == 1


async def publish_without_card(slack: Slack, text: str) -> tuple[str, SlackHttpResult]:
    result = await slack.command(OFFICER, text)
    match = re.search(r"Published \w+ (\w{6})", result.json()["text"])
    assert match
    await slack.app.deliverer.drain()
    return match.group(1), result


async def test_channel_the_bot_is_not_in_fails_for_good(slack: Slack) -> None:
    slack.fake.add_channel("C0PRIVATE", is_member=False)
    result = await slack.client.slash_command(OFFICER, "C0PRIVATE", POLL)
    assert result.status == 200
    await slack.app.deliverer.drain()
    call, notice = slack.fake.calls_to("chat.postMessage")
    assert call.error == "not_in_channel" and notice.params["channel"] == OFFICER
    async with slack.app.db.transaction() as session:
        row, told = (await session.execute(select(OutboxMessage))).scalars().all()
    assert row.status == "failed" and "not_in_channel" in (row.last_error or "")
    # the officer is told privately that the card never appeared
    assert (
        told.private and told.channel_id == OFFICER and "could not be delivered" in str(told.view)
    )


async def test_closing_updates_the_card_and_posts_results_in_its_thread(slack: Slack) -> None:
    poll, card = await slack.publish(POLL)
    await slack.client.block_action("U0ANN", CHANNEL, card, f"vote:{poll}:1")
    closed = (await slack.command(OFFICER, f"close {poll}")).json()
    assert closed["text"].startswith(f"Closed {poll}")
    await slack.app.deliverer.drain()
    shown = slack.fake.message(CHANNEL, card["ts"])
    assert buttons(shown) == [] and bar_votes(shown) == {"Yes": 1, "No": 0, "Only in winter": 0}
    (summary,) = slack.fake.thread_replies(CHANNEL, card["ts"])
    assert summary["text"].startswith("Results: Should the library open on Sundays?")
    late = await slack.client.block_action("U0BOB", CHANNEL, card, f"vote:{poll}:2")
    assert late.status == 200
    await slack.adapter.settle()
    assert texts(slack.fake.ephemerals_for("U0BOB")) == [
        "Sorry, this has closed. Thank you for taking part."
    ]


async def test_results_command_shows_a_private_card(slack: Slack) -> None:
    poll, card = await slack.publish(POLL)
    await slack.client.block_action("U0ANN", CHANNEL, card, f"vote:{poll}:3")
    body = (await slack.command(OFFICER, f"results {poll}")).json()
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][0]["text"]["text"] == "*Results: Should the library open on Sundays?*"
    assert "Only in winter (1)" in str(body["blocks"])


async def test_url_verification_handshake(slack: Slack) -> None:
    result = await slack.client.url_verification("challenge-123")
    assert result.status == 200 and result.json() == {"challenge": "challenge-123"}
