"""The web chat's pure parts: translation, rendering, rate limits, mailbox, links, cookies."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from adapters.web import WebChatAdapter
from adapters.web.identity import COOKIE, Identities
from adapters.web.links import chat_url, embed_snippet
from adapters.web.mailbox import Mailbox
from adapters.web.render import item_of, message
from adapters.web.translate import FormError, button, command, positions, toggles, vote
from bot.config import Settings
from bot.events import EventKind, Target
from bot.ratelimit import RateLimiter
from bot.views import Button, Card, Notice, ResultBar
from tests.conftest import SECRET

SUB = "A" * 22


def test_multi_choice_sends_one_toggle_per_changed_box_with_stable_ids() -> None:
    events = toggles("v1", SUB, "k3m9xq", wanted=[1, 3], chosen=[3, 4])
    assert [(e.action_value, e.event_id) for e in events] == [
        ("k3m9xq:1", f"{SUB}:1"),
        ("k3m9xq:4", f"{SUB}:4"),
    ]
    assert all(e.platform == "web" and e.kind is EventKind.ACTION for e in events)
    assert toggles("v1", SUB, "k3m9xq", wanted=[2], chosen=[2]) == []


def test_buttons_split_at_the_first_colon_and_bad_forms_are_refused() -> None:
    event = button("v1", SUB, "k3m9xq", "mod:approve:12")
    assert (event.action_id, event.action_value) == ("mod", "approve:12")
    assert vote("v1", SUB, "k3m9xq", 2).action_value == "k3m9xq:2"
    assert command("v1", SUB, "k3m9xq", "mydata").text == "mydata"
    for bad in (
        lambda: button("v1", SUB, "x", "no-colon"),
        lambda: button("v1", SUB, "x", "Evil Action:1"),
        lambda: command("v1", SUB, "x", "poll"),  # only the privacy commands
        lambda: vote("v1", "short", "x", 1),  # a submission id we never issue
        lambda: positions(["0"], 3),
        lambda: positions(["4"], 3),
        lambda: positions(["1; drop"], 3),
    ):
        with pytest.raises(FormError):
            bad()
    assert positions(["2", "1", "2"], 3) == [1, 2]


def test_render_messages_and_find_the_item_of_a_card() -> None:
    consent = Card(
        "Before we record your answer",
        "Line one.\n\nLine two.",
        buttons=(Button("I agree", "consent", "yes", style="primary"),),
        confidential=True,
    )
    shown = message(consent)
    assert shown.paragraphs == ("Line one.", "Line two.")
    assert [b.custom_id for b in shown.buttons] == ["consent:yes"]
    assert message(Card("What Townhall holds about you", '{\n "votes": []\n}')).preformatted
    assert message(Notice("Thanks.")).paragraphs == ("Thanks.",)
    bars = message(Card("R", bars=(ResultBar("A", 3, 150.0),))).bars
    assert bars[0].width == "100.0%"  # clamped
    assert item_of(Card("Q", buttons=(Button("Yes", "vote", "k3m9xq:1"),), item="k3m9xq")) == (
        "k3m9xq"
    )
    # From the view's own field, never from its text: a footer naming an item is not enough.
    assert item_of(Card("Results: Q", footer="Poll k3m9xq · closed")) is None
    assert item_of(Card("Results: Q", footer="Poll k3m9xq · closed", item="k3m9xq")) == "k3m9xq"
    assert item_of(Notice("hi")) is None


def test_rate_limiter_allows_a_burst_then_a_steady_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(3, 60.0, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    wait = limiter.hit("a")
    assert wait is not None and 19 < wait <= 20
    assert limiter.hit("b") is None  # per key
    now[0] += 20.0
    assert limiter.hit("a") is None
    assert limiter.hit("a") is not None


def test_mailbox_is_bounded() -> None:
    box = Mailbox(max_people=2, max_each=2)
    for n in range(3):
        box.put("ann", Notice(str(n)))
    box.put("bob", Notice("b"))
    box.put("cat", Notice("c"))  # ann's box, the oldest, goes
    assert box.take("ann") == []
    assert box.take("cat") == [Notice("c")]
    assert len(box) == 1


def test_embed_snippet_is_escaped() -> None:
    snippet = embed_snippet("k3m9xq", "https://consult.example.gov.uk/", title='Say "hi" <now>')
    assert 'src="https://consult.example.gov.uk/c/k3m9xq"' in snippet
    assert 'title="Say &quot;hi&quot; &lt;now&gt;"' in snippet
    assert chat_url("http://h:8080", "abc234") == "http://h:8080/c/abc234"


def test_cookie_round_trip_and_tampering() -> None:
    ids = Identities(SECRET)
    first = ids.read(make_mocked_request("GET", "/c/x"))
    assert not first.known and first.changed
    first.say([Notice("Thanks.")])
    response = web.Response()
    ids.write(response, make_mocked_request("GET", "/c/x"), first)
    value = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    back = ids.read(make_mocked_request("GET", "/c/x", headers={"Cookie": f"{COOKIE}={value}"}))
    assert back.known and back.id == first.id and back.flash == [Notice("Thanks.")]
    assert ids.csrf_ok(back, ids.csrf_token(first))
    other = Identities("another-secret-key-0123456789")
    forged = other.read(make_mocked_request("GET", "/c/x", headers={"Cookie": f"{COOKIE}={value}"}))
    assert not forged.known and forged.id != first.id


async def test_send_and_edit_need_no_platform() -> None:
    settings = Settings(secret_key=SECRET, _env_file=None)  # type: ignore[arg-type, call-arg]
    adapter = WebChatAdapter(settings)
    card = Card(
        "Q?", buttons=(Button("Answer", "answer", "k3m9xq", opens_form=True),), item="k3m9xq"
    )
    ref = await adapter.send(Target("public"), card)
    assert ref.message_id == "/c/k3m9xq" and ref.platform == "web"
    results = await adapter.send(Target("public"), Card("Results: Q?"), reply_to="/c/k3m9xq")
    assert results.message_id.startswith("web-")
    private = await adapter.send(Target("visitor-1", private=True), Notice("Hidden."))
    assert private.channel_id == "visitor-1" and adapter.mailbox.take("visitor-1")
    await adapter.edit(ref, card)
