"""The shape check's quick walk (``Shape.fits``) says yes exactly when the path-building walk
(``Shape.problem``) finds nothing, on mutated Telegram updates and Discord interactions."""

from __future__ import annotations

from typing import Any

from adapters.discord import shape as discord_shape
from adapters.telegram import shape as telegram_shape
from tests.fuzz import examples, mutations

CALLBACK_UPDATE: dict[str, Any] = {
    "update_id": 10,
    "callback_query": {
        "id": "4382",
        "from": {"id": 7319046628, "is_bot": False, "first_name": "Zelda", "language_code": "cy"},
        "chat_instance": "-72",
        "data": "vote|A1:2",
        "message": {
            "message_id": 5,
            "date": 1765000000,
            "chat": {"id": -1009731904662, "type": "supergroup", "title": "Town square"},
            "text": "Bins?",
            "entities": [{"type": "bold", "offset": 0, "length": 5}],
            "reply_to_message": {
                "message_id": 4,
                "date": 1765000000,
                "chat": {"id": -1009731904662, "type": "supergroup"},
            },
        },
    },
}
COMPONENT_CLICK: dict[str, Any] = {
    "id": "1180000000000000001",
    "application_id": "1180000000000000002",
    "type": 3,
    "token": "t0k3n",
    "version": 1,
    "guild_id": "1180000000000000003",
    "channel_id": "1180000000000000004",
    "member": {
        "user": {"id": "1180000000000000005", "username": "zelda", "discriminator": "0"},
        "roles": [],
    },
    "data": {"custom_id": "vote:A1:2", "component_type": 2},
    "message": {
        "id": "1180000000000000006",
        "channel_id": "1180000000000000004",
        "content": "",
        "components": [
            {"type": 1, "components": [{"type": 2, "custom_id": "vote:A1:2", "style": 1}]}
        ],
    },
}


def test_the_quick_walk_agrees_with_the_path_walk_on_telegram_updates() -> None:
    shape, spec = telegram_shape.SHAPE, telegram_shape.UPDATE
    assert shape.fits(CALLBACK_UPDATE, spec)
    agreed = refused = 0
    for mutant in examples(mutations([CALLBACK_UPDATE]), 400):
        found = shape.problem(mutant.doc, spec, "update")
        assert shape.fits(mutant.doc, spec) is (found is None), mutant
        agreed += 1
        refused += found is not None
    assert agreed and refused  # both answers were exercised


def test_the_quick_walk_agrees_with_the_path_walk_on_discord_interactions() -> None:
    shape, spec = discord_shape.SHAPE, discord_shape.INTERACTION
    refused = 0
    for mutant in examples(mutations([COMPONENT_CLICK]), 400):
        found = shape.problem(mutant.doc, spec, "interaction")
        assert shape.fits(mutant.doc, spec) is (found is None), mutant
        refused += found is not None
    assert refused


def test_a_payload_nested_too_deep_is_refused_by_both_walks() -> None:
    shape, spec = telegram_shape.SHAPE, telegram_shape.UPDATE
    message: dict[str, Any] = {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "group"}}
    deep = message
    for _ in range(12):
        deep["reply_to_message"] = {**message}
        deep = deep["reply_to_message"]
    update = {"update_id": 1, "message": message}
    assert not shape.fits(update, spec)
    found = shape.problem(update, spec, "update")
    assert found is not None
    assert found.startswith("update.message.reply_to_message.")
    assert found.endswith(": nested too deep")
