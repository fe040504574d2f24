"""Hypothesis-generated Slack requests at ``/slack/events``: never a 5xx, traceback or leak.

Signed payloads mutated from real ones (slash commands, button clicks, message events), and
unsigned requests with odd timestamps, signatures and bodies.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import aiohttp
import pytest
from hypothesis import strategies as st

from tests.drivers.slack_kit import (  # noqa: F401 - slack_fixture is a fixture
    CHANNEL,
    OFFICER,
    SIGNING_SECRET,
    Slack,
    slack_fixture,
)
from tests.fakes.slack import sign_request
from tests.fuzz import SECRET_WORDS, Mutant, examples, fuzzing, mutations, raw_bodies, replay

pytestmark = pytest.mark.timeout(240)
CITIZEN = "U0ZELDA7319"
FORM = "application/x-www-form-urlencoded"


def _form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def encode(kind: str, doc: Any) -> tuple[bytes, str]:
    """A mutated document back into the body Slack would send."""
    if kind == "form":
        fields = [(str(k), _form_value(v)) for k, v in doc.items()]
        # a lone surrogate (a fuzzed trigger_id) is sent as its bytes, as a broken client would
        encoded = urllib.parse.urlencode(fields, encoding="utf-8", errors="surrogatepass")
        return encoded.encode("ascii"), FORM
    if kind == "payload":
        payload = json.dumps(doc)
        return urllib.parse.urlencode({"payload": payload}).encode("utf-8", "surrogatepass"), FORM
    return json.dumps(doc).encode("utf-8", "surrogatepass"), "application/json"


async def test_fuzzed_slack_requests_are_refused_or_ignored(slack: Slack) -> None:
    client = slack.client
    url = client.url
    with fuzzing([CITIZEN, SECRET_WORDS]) as (findings, log):
        poll, card = await slack.publish('poll "Bins on Sundays?" "Yes" "No"')
        question, ask_card = await slack.publish('ask "What would help?"')
        command = client.build_slash_command(CITIZEN, CHANNEL, f"report A1 {SECRET_WORDS}")
        click = client.build_block_action(CITIZEN, CHANNEL, card, f"vote:{poll}:1")
        answer = client.build_block_action(CITIZEN, CHANNEL, ask_card, f"form:answer:{question}")
        reply = client.build_event(
            client.message_event(CITIZEN, CHANNEL, SECRET_WORDS, thread_ts=ask_card["ts"])
        )
        bases: list[tuple[str, Any]] = [
            ("form", command.payload),
            ("payload", json.loads(urllib.parse.parse_qs(click.body.decode())["payload"][0])),
            ("payload", json.loads(urllib.parse.parse_qs(answer.body.decode())["payload"][0])),
            ("json", reply.payload),
        ]
        signed = examples(mutations([doc for _, doc in bases]), 1300)
        unsigned = examples(
            st.tuples(
                st.one_of(st.text(max_size=12), st.just(str(int(time.time())))),
                st.one_of(st.text(max_size=70), st.just("v0=" + "0" * 64)),
                raw_bodies(80),
                st.sampled_from([FORM, "application/json", "text/plain"]),
            ),
            250,
        )
        async with aiohttp.ClientSession() as http:

            async def post(body: bytes, headers: dict[str, str]) -> int:
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    return response.status

            async def send_signed(case: Mutant) -> int:
                body, content_type = encode(bases[case.base][0], case.doc)
                ts = str(int(time.time()))
                return await post(
                    body,
                    {
                        "Content-Type": content_type,
                        "X-Slack-Request-Timestamp": ts,
                        "X-Slack-Signature": sign_request(SIGNING_SECRET, ts, body),
                    },
                )

            async def send_unsigned(case: tuple[str, str, bytes, str]) -> int:
                ts, signature, body, content_type = case
                headers = {
                    "Content-Type": content_type,
                    "X-Slack-Request-Timestamp": ts.encode("utf-8", "replace").decode("latin-1"),
                    "X-Slack-Signature": signature.encode("utf-8", "replace").decode("latin-1"),
                }
                return await post(body, _printable(headers))

            await replay(signed, send_signed, findings)
            await replay(unsigned, send_unsigned, findings)
        # still up and still counting
        vote = await client.block_action("U0EVE", CHANNEL, card, f"vote:{poll}:2")
        assert vote.status == 200
        await slack.app.deliverer.drain()
    assert OFFICER not in log.getvalue()


def _printable(headers: dict[str, str]) -> dict[str, str]:
    """Header values aiohttp can send (no line breaks or other control characters)."""
    return {k: "".join(c for c in v if 32 <= ord(c) < 127) for k, v in headers.items()}
