"""Citizens' privacy on Discord, end to end through the real discord.py and the fake Discord:
what is Discord's own (the copy of someone's data as an embed, the erasure and consent cards as
ephemeral messages, the public cards and the export after an erasure, consent for a thread
answer by direct message). The story every platform shares (mydata, forget, explicit consent
given or declined) is in test_scenarios.py. SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from storage.db import Database
from tests.conftest import SQLITE_ONLY
from tests.drivers.discord_kit import BOB, CITIZENS, bar_counts, button_ids, embed_of
from tests.drivers.discord_moderation_kit import MODERATOR, embed_text, ref_in, running
from tests.fakes.discord import FLAG_EPHEMERAL

pytestmark = pytest.mark.timeout(90)

ANN, DAN, EVE = CITIZENS[:3]


@SQLITE_ONLY
async def test_mydata_and_forget_as_discord_shows_them(db_url: str, db: Database) -> None:
    async with running(db_url, db) as discord:
        fake = discord.fake
        poll_id, poll_card = await discord.publish(
            "poll", {"question": "Bike lanes?", "options": "Yes | No"}
        )
        ask_id, ask_card, thread = await discord.ask()
        await discord.click(poll_card, f"vote:{poll_id}:1", ANN)
        await discord.click(poll_card, f"vote:{poll_id}:2", BOB)
        await discord.thread_answer(thread, ANN, "A covered market")
        await discord.modal_answer(ask_card, ask_id, BOB, "Fewer empty shops")

        mine = await discord.slash(ANN, "mydata")
        (held,) = discord.private(mine)
        embed = embed_of(held)
        assert embed["title"] == "What Townhall holds about you"
        assert {f["name"]: f["value"] for f in embed["fields"]} == {"Votes": "1", "Answers": "1"}
        data = json.loads(embed["description"])
        assert [v["choice"] for v in data["votes"]] == ["Yes"]
        assert [a["text"] for a in data["answers"]] == ["A covered market"]
        assert "Fewer empty shops" not in embed_text(held) and str(ANN.id) not in embed_text(held)

        asked = await discord.slash(ANN, "forget")
        card = discord.with_button(asked, "forget:confirm")
        assert embed_of(card)["title"] == "Erase everything about you?"
        labels = [c["label"] for row in card["components"] for c in row["components"]]
        assert labels == ["Yes, erase it", "Cancel"]
        erased = await discord.click(int(card["id"]), "forget:confirm", ANN)
        assert discord.private_text(erased) == (
            "Done: we erased 1 vote and 1 answer, and forgot who you are."
        )
        assert [r["text"] for r in await discord.export_rows(ask_id)] == ["Fewer empty shops"]
        forgets = [(who, what) for who, what, _ in await discord.audit() if "forget" in what]
        assert len(forgets) == 1 and forgets[0][1] == "participant.forget"
        assert str(ANN.id) not in forgets[0][0]  # a citizen is audited by pseudonym only

        await discord.drain()  # the public cards catch up
        assert bar_counts(fake.get_message(poll_card)) == {"Yes": 0, "No": 1}
        assert "1 answer" in embed_text(fake.get_message(ask_card))


async def test_privacy_offers_consent_until_given(db_url: str, db: Database) -> None:
    async with running(db_url, db, consent="explicit") as discord:
        offer = await discord.slash(ANN, "privacy")
        card = discord.with_button(offer, "consent:yes")
        assert embed_of(card)["title"] == "Privacy" and "mydata" in embed_text(card)
        agreed = await discord.click(int(card["id"]), "consent:yes", ANN)
        assert discord.private_text(agreed) == "Thank you: your consent is recorded."
        told = await discord.slash(ANN, "privacy")
        assert "You agreed on" in discord.private_text(told)
        assert button_ids(discord.private(told)[0]) == []


@SQLITE_ONLY
async def test_explicit_consent_for_a_form_answer_is_an_ephemeral_card(
    db_url: str, db: Database
) -> None:
    async with running(db_url, db, consent="explicit") as discord:
        short_id, card, _ = await discord.ask()
        submit = await discord.modal_answer(card, short_id, ANN, "Late opening on Thursdays")
        (consent,) = discord.private(submit)
        assert embed_of(consent)["title"] == "Before we record your answer"
        assert button_ids(consent) == ["consent:yes", "consent:no"]
        labels = [c["label"] for row in consent["components"] for c in row["components"]]
        assert labels == ["I agree", "No thanks"]
        assert await discord.statuses(short_id) == []

        agreed = await discord.click(int(consent["id"]), "consent:yes", ANN)
        assert discord.private_text(agreed).startswith("Thanks, your answer is recorded")
        assert [a["text"] for a in (await discord.tally(short_id))["answers"]] == [
            "Late opening on Thursdays"
        ]
        assert "participant.consent" in [a for _, a, _ in await discord.audit()]


async def test_explicit_consent_for_a_thread_answer_comes_by_direct_message(
    db_url: str, db: Database
) -> None:
    async with running(db_url, db, consent="explicit") as discord:
        fake = discord.fake
        short_id, _, thread = await discord.ask()
        message = await discord.write(thread, EVE, "Plant more trees")
        assert discord.bot_replies_to(message) == []  # nothing about it in public
        (dm_call,) = fake.find_calls(method="POST", path="/users/@me/channels")
        assert int(dm_call.json["recipient_id"]) == EVE.id
        (consent,) = fake.channel_messages(int(dm_call.response["id"]))
        assert not consent["flags"] & FLAG_EPHEMERAL
        assert button_ids(consent) == ["consent:yes", "consent:no"]
        assert await discord.statuses(short_id) == []

        agreed = await discord.click(int(consent["id"]), "consent:yes", EVE)
        ref = ref_in(discord.private_text(agreed))
        assert [a["text"] for a in (await discord.tally(short_id))["answers"]] == [
            "Plant more trees"
        ]
        # Stored with the thread message's own id: the report menu on it finds the answer.
        reported = await discord.report(DAN, message)
        assert "moderator will look" in discord.private_text(reported)
        queue = await discord.slash(MODERATOR, "flagged")
        assert discord.with_button(queue, f"mod:approve:{ref[1:]}")
