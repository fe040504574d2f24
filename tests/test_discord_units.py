"""Pure translation and rendering of the Discord adapter (no network, no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import discord
import pytest

from adapters.discord import api_base, delivery_error
from adapters.discord.client import intents_for
from adapters.discord.interactions import missing_post_permissions
from adapters.discord.render import (
    AnswerModal,
    card_embed,
    card_view,
    message_parts,
    notice_messages,
)
from adapters.discord.translate import command, modal_answer, split_options
from bot.errors import DeliveryError
from bot.grammar import ParsedCommand, check
from bot.views import Button, Card, Notice, ResultBar
from handlers.polls import POLL


@pytest.mark.parametrize(
    ("typed", "read_back"),
    [
        ("Open the library on Sundays?", "Open the library on Sundays?"),
        ('Say "yes" or \\no\\', 'Say "yes" or \\no\\'),
        ("It's £5 — ok?", "It's £5 — ok?"),
        ("It’s “quoted” „twice« »", 'It\'s "quoted" "twice" "'),
        ("$HOME `id` ; rm -rf / | && ' --multi", "$HOME `id` ; rm -rf / | && ' --multi"),
        ("", ""),
    ],
)
def test_arguments_reach_the_core_as_typed_quotes_straightened(typed: str, read_back: str) -> None:
    """The same argument the grammar reads from the text typed in quotes on another platform."""
    assert command("ask", [typed]).args == (read_back,)


def test_typed_options_become_a_parsed_command_the_core_checks() -> None:
    parsed = check(
        POLL,
        command(
            "poll",
            ["Which “days”?", *split_options(" Mon |Tue||  Wed ")],
            flags=["multi"],
            options={"closes": " 2d ", "results": "CLOSED", "status": None},
        ),
    )
    assert parsed.name == "poll"
    assert parsed.args == ('Which "days"?', "Mon", "Tue", "Wed")
    assert parsed.flags == {"multi"}
    assert parsed.options == {"closes": "2d", "results": "closed"}
    assert command("help") == ParsedCommand("help")
    assert command("list", options={"status": ""}) == ParsedCommand("list")


def test_modal_answers_are_read_from_both_component_shapes() -> None:
    rows = {
        "custom_id": "answer:k3m9xq",
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "answer", "value": "Benches"}]}
        ],
    }
    labels = {
        "custom_id": "answer:k3m9xq",
        "components": [{"type": 18, "component": {"type": 4, "custom_id": "answer", "value": "x"}}],
    }
    assert modal_answer(rows) == ("k3m9xq", "Benches")
    assert modal_answer(labels) == ("k3m9xq", "x")
    assert modal_answer({"custom_id": "answer:k3m9xq", "components": []}) == ("k3m9xq", "")
    assert modal_answer({"custom_id": "0f3a9c", "components": []}) is None
    assert modal_answer({"custom_id": "vote:k3m9xq:1"}) is None
    assert modal_answer(None) is None


def test_card_embed_respects_discord_limits() -> None:
    question = "Should we " + "really " * 60 + "do it?"
    bars = tuple(ResultBar(f"Option {'x' * 120} {n}", n * 3, n * 10.0) for n in range(10))
    card = Card(
        title=question,
        body="Choose one.",
        fields=(("Participants", "12"),),
        buttons=tuple(Button(f"Option {n}", "vote", f"abc123:{n}") for n in range(1, 11)),
        bars=bars,
        footer="Poll abc123 · 12 participants",
    )
    embed = card_embed(card)
    title = embed.title or ""
    assert 250 <= len(title) <= 256 and title.endswith("…")  # clipped at a word: no "really …"
    assert (embed.description or "").startswith(question)
    results = [f for f in embed.fields if f.name in ("Results", "\u200b")]
    assert len(results) == 2 and all(len(f.value or "") <= 1024 for f in results)
    shown = "\n".join(f.value or "" for f in results).splitlines()
    assert len(shown) == 10 and shown[3].startswith("`███░░░░░░░` 30%")
    assert embed.footer.text == "Poll abc123 · 12 participants"
    assert len(embed) <= 6000
    assert embed.colour == discord.Colour.blurple()


def test_buttons_fill_rows_of_five_with_short_labels() -> None:
    buttons = tuple(
        Button("L" * 100 if n == 1 else f"B{n}", "vote", f"abc123:{n}") for n in range(1, 13)
    )
    view = card_view(Card("Q?", buttons=buttons))
    assert view is not None and view.timeout is None
    rows = view.to_components()
    assert [len(r["components"]) for r in rows] == [5, 5, 2]
    first = rows[0]["components"][0]
    assert first["custom_id"] == "vote:abc123:1" and len(first["label"]) == 80
    assert card_view(Card("Closed")) is None
    many = card_view(Card("Q?", buttons=tuple(Button(str(n), "x", str(n)) for n in range(30))))
    assert many is not None and len(many.children) == 25
    styles = card_view(
        Card(
            "Q?", buttons=(Button("A", "a", "1", style="primary"), Button("D", "d", "2", "danger"))
        )
    )
    assert styles is not None
    assert [c["style"] for c in styles.to_components()[0]["components"]] == [1, 4]


def test_notices_group_text_and_keep_buttons_with_their_card() -> None:
    plain = notice_messages([Notice("One."), Notice("Two."), Card("Results: Q?")])
    assert len(plain) == 1
    assert plain[0].content == "One.\n\nTwo." and len(plain[0].embeds) == 1
    assert plain[0].view is None
    secret = Card("Privacy", buttons=(Button("I agree", "consent", "yes"),), confidential=True)
    mixed = notice_messages([Notice("Thanks."), secret, Notice("Held.", confidential=True)])
    assert [(m.content, len(m.embeds), m.view is not None, m.confidential) for m in mixed] == [
        ("Thanks.", 0, False, False),
        (None, 1, True, True),
        ("Held.", 0, False, True),
    ]
    assert notice_messages([]) == []
    long = message_parts(Notice("x" * 5000))
    assert len(long.content or "") == 2000 and long.embeds == [] and long.view is None


def test_answer_modal_has_a_4000_character_text_input() -> None:
    modal = AnswerModal("k3m9xq", "What would make the high street a better place to spend time?")
    data = modal.to_dict()
    assert data["custom_id"] == "answer:k3m9xq" and len(data["title"]) == 45
    (label,) = data["components"]
    assert label["type"] == 18 and label["description"].startswith("What would make")
    assert label["component"]["max_length"] == 4000 and label["component"]["custom_id"] == "answer"


@dataclass
class _Response:
    status: int
    reason: str = "reason"
    headers: dict[str, str] = field(default_factory=dict)


def _http(
    cls: type[discord.HTTPException], status: int, code: int = 0, retry_after: str = ""
) -> Any:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return cls(_Response(status, headers=headers), {"message": "x", "code": code})


def test_discord_failures_map_to_what_the_outbox_should_do() -> None:
    forbidden = delivery_error(_http(discord.Forbidden, 403, 50013))
    assert forbidden.permanent and "missing permission" in str(forbidden)
    assert delivery_error(_http(discord.NotFound, 404, 10003)).permanent
    limited = delivery_error(discord.RateLimited(42.5))
    assert limited.retry_after == 42.5 and not limited.permanent
    raw_429 = delivery_error(_http(discord.HTTPException, 429, retry_after="7"))
    assert raw_429.retry_after == 7.0
    server = delivery_error(_http(discord.DiscordServerError, 503))
    assert not server.permanent and server.retry_after is None
    assert delivery_error(_http(discord.HTTPException, 400, 50035)).permanent
    assert not delivery_error(ConnectionResetError()).permanent
    assert not delivery_error(TimeoutError()).permanent
    assert delivery_error(ValueError("invalid literal for int()")).permanent
    same = DeliveryError("x", retry_after=1)
    assert delivery_error(same) is same


def test_api_base_and_intents() -> None:
    assert api_base("http://proxy:8080/") == "http://proxy:8080/api/v10"
    assert api_base("http://127.0.0.1:1/api/v10") == "http://127.0.0.1:1/api/v10"
    assert api_base("https://discord.com/api/v9/") == "https://discord.com/api/v9"
    minimal = intents_for(thread_answers=False)
    assert minimal.value == discord.Intents(guilds=True).value
    threads = intents_for(thread_answers=True)
    assert threads.message_content and threads.guild_messages and not threads.members


def test_missing_post_permissions() -> None:
    everything = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
    assert missing_post_permissions(everything, in_thread=False) == []
    assert missing_post_permissions(everything, in_thread=True) == ["Send Messages in Threads"]
    assert missing_post_permissions(discord.Permissions.none(), in_thread=False) == [
        "View Channel",
        "Send Messages",
        "Embed Links",
    ]
