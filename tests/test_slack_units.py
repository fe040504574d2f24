"""Pure parts of the Slack adapter: rendering, translation, error mapping, the manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.slack import errors, render, translate
from bot.views import Button, Card, Notice, Prompt, ResultBar
from tests.fakes.slack import validate_blocks, validate_view

MANIFEST = Path(__file__).parent.parent / "adapters" / "slack" / "manifest.yml"


def biggest_card() -> Card:
    """Everything at the core's limits: 300-char question, 10 options of 75 characters."""
    labels = [f"{n} " + "x" * 73 for n in range(10)]
    return Card(
        title="Q" * 299 + "?",
        body="Choose one <option> & tell us *why*. " * 100,
        fields=tuple((f"Field {n}", "value " * 500) for n in range(12)),
        buttons=tuple(Button(lb, "vote", f"k3m9xq:{n}") for n, lb in enumerate(labels, 1)),
        bars=tuple(ResultBar(lb, n * 1000, 10.0) for n, lb in enumerate(labels)),
        footer="Poll k3m9xq · closes Mon 1 Dec 12:00 UTC · 45,000 participants",
    )


def test_card_blocks_respect_block_kit_limits() -> None:
    blocks = render.card_blocks(biggest_card())
    assert validate_blocks(blocks) == []
    kinds = [b["type"] for b in blocks]
    assert kinds == ["section", "section", "section", "section", "section", "actions", "context"]
    assert len(blocks[2]["fields"]) == 10 and len(blocks[3]["fields"]) == 2
    assert len(blocks[1]["text"]["text"]) == render.SECTION_TEXT
    assert blocks[1]["text"]["text"].startswith("Choose one &lt;option&gt; &amp; tell us")
    assert [b["action_id"] for b in blocks[5]["elements"]] == [
        f"vote:k3m9xq:{n}" for n in range(1, 11)
    ]
    payload = render.message(biggest_card())
    assert len(payload["text"]) <= render.FALLBACK_TEXT


def test_clipping_never_cuts_an_entity_in_half() -> None:
    for pad in range(6):
        text = render.mrkdwn(render.escape("x" * (2995 + pad) + "&&&&&&&&"))["text"]
        assert len(text) <= render.SECTION_TEXT and text.endswith(("&amp;…", "x…", "&amp;"))
        assert text.count("&") == text.count("&amp;")


def test_result_bars_and_buttons() -> None:
    card = Card(
        "Lunch?",
        buttons=(
            Button("Yes", "vote", "abc:1", style="primary"),
            Button("Answer", "answer", "abc", opens_form=True),
        ),
        bars=(ResultBar("Yes", 3, 75.0), ResultBar("<No>", 1, 25.0)),
    )
    blocks = render.card_blocks(card)
    (results,) = [b for b in blocks if b.get("block_id") == render.RESULTS_BLOCK]
    assert results["text"]["text"].splitlines() == [
        "`████████░░`  75.0%  Yes (3)",
        "`██░░░░░░░░`  25.0%  &lt;No&gt; (1)",
    ]
    vote, answer = blocks[-1]["elements"]
    assert vote == {
        "type": "button",
        "action_id": "vote:abc:1",
        "value": "vote:abc:1",
        "text": {"type": "plain_text", "text": "Yes", "emoji": True},
        "style": "primary",
    }
    assert answer["action_id"] == "form:answer:abc" and answer["value"] == "answer:abc"
    assert "style" not in answer
    assert render.question_of({"blocks": blocks}) == "Lunch?"
    assert render.question_of({"blocks": render.card_blocks(Card("a < b & *c*"))}) == "a < b & *c*"
    assert render.question_of(None) == ""


def test_notices_and_prompts() -> None:
    several = render.ephemeral(
        [Notice("Thanks"), biggest_card(), biggest_card(), Prompt("Say more", "Why?", "x", "y")]
    )
    assert validate_blocks(several["blocks"]) == []
    assert several["text"].startswith("Thanks\n")
    only = render.ephemeral([Notice("a <b>")])
    assert only["text"] == "a &lt;b&gt;"
    assert only["blocks"] == [
        {"type": "section", "text": {"type": "plain_text", "text": "a <b>", "emoji": True}}
    ]


def test_modals_are_valid_views() -> None:
    modal = render.answer_modal("answer:abc123", "Q" * 300, "C1", "1700000000.000100")
    assert validate_view(modal) == []
    assert modal["callback_id"] == "form:answer:abc123"
    element = modal["blocks"][0]["element"]
    assert element["max_length"] == 3000 and element["multiline"] is True
    assert validate_view(render.notice_modal([Notice("Thanks, your answer is recorded.")])) == []
    assert validate_view(render.notice_modal([])) == []
    assert validate_view(render.notice_modal([biggest_card()])) == []


def test_custom_ids_and_stable_ids() -> None:
    assert translate.split_custom_id("vote:k3m9xq:2") == ("vote", "k3m9xq:2")
    assert translate.split_custom_id("answer:k3m9xq") == ("answer", "k3m9xq")
    assert translate.stable_id("act", "1.2.abc") == "act:1.2.abc"
    long = translate.stable_id("act", "x" * 300)
    assert len(long) <= translate.MAX_EVENT_ID and long == translate.stable_id("act", "x" * 300)
    assert translate.digest({"a": 1, "b": 2}) == translate.digest({"b": 2, "a": 1})


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("a &amp; b &lt;c&gt;", "a & b <c>"),
        ("see <https://example.org/x|the plan>", "see the plan (https://example.org/x)"),
        ("see <https://example.org>", "see https://example.org"),
        ("<mailto:a@b.org|a@b.org>", "a@b.org"),
        ("hi <@U0BOB>", "hi <@U0BOB>"),
    ],
)
def test_message_text_is_stored_as_written(slack: str, plain: str) -> None:
    assert translate.unescape(slack) == plain


def message(**fields: Any) -> dict[str, Any]:
    base = {
        "type": "message",
        "user": "U0ANN",
        "text": "An answer",
        "ts": "1700000000.000200",
        "thread_ts": "1700000000.000100",
        "parent_user_id": "U0BOT",
        "channel": "C1",
        "channel_type": "channel",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("fields", "is_reply"),
    [
        ({}, True),
        ({"parent_user_id": None}, True),  # older payloads: the core checks the thread
        ({"subtype": "thread_broadcast"}, True),
        ({"parent_user_id": "U0CAT"}, False),
        ({"thread_ts": None}, False),
        ({"thread_ts": "1700000000.000200"}, False),  # a thread's own parent
        ({"user": "U0BOT"}, False),
        ({"bot_id": "B0OTHER"}, False),
        ({"subtype": "message_changed"}, False),
        ({"subtype": "channel_join"}, False),
        ({"user": None}, False),
    ],
)
def test_which_messages_are_replies(fields: dict[str, Any], is_reply: bool) -> None:
    event = translate.reply_event({"event_id": "Ev1"}, message(**fields), "U0BOT")
    assert (event is not None) is is_reply
    if event is not None:
        assert event.reply_to == "1700000000.000100" and event.event_id == "ev:Ev1"


def test_retry_after_header() -> None:
    assert errors.retry_after({"retry-after": "12"}) == 12
    assert errors.retry_after({"Retry-After": ["3"]}) == 3
    assert errors.retry_after({}) == errors.DEFAULT_RETRY_AFTER
    assert errors.retry_after({"Retry-After": "soon"}) == errors.DEFAULT_RETRY_AFTER


def test_manifest_points_everything_at_slack_events() -> None:
    text = MANIFEST.read_text()
    lines = [ln.split("#", 1)[0].rstrip() for ln in text.splitlines()]
    urls = [ln.split(": ", 1)[1] for ln in lines if ln.strip().startswith(("url:", "request_url:"))]
    assert urls == ["https://YOUR-HOST/slack/events"] * 3
    assert "message_menu_options_url: https://YOUR-HOST/slack/events" in text
    assert "    - command: /townhall" in lines
    assert f"      callback_id: {translate.REPORT_CALLBACK}" in lines
    assert "      type: message" in lines
    scopes_at = lines.index("    bot:")
    scopes = []
    for ln in lines[scopes_at + 1 :]:
        if not ln.startswith("      - "):
            break
        scopes.append(ln.removeprefix("      - "))
    assert scopes == [
        *("commands", "chat:write", "channels:history", "groups:history"),
        *("channels:read", "groups:read"),  # channel names for the dashboard
    ]
    events_at = lines.index("    bot_events:")
    assert lines[events_at + 1 : events_at + 3] == [
        "      - message.channels",
        "      - message.groups",
    ]
    assert "    is_enabled: true" in lines
