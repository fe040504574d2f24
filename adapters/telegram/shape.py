"""Is this JSON shaped like a Telegram update, in the fields Townhall reads?

python-telegram-bot's ``de_json`` does not check types, so ``"message_thread_id": "x"`` or a
``chat`` that is a list would fail later, half way through handling. Checked here first, an
update of the wrong shape is acknowledged and ignored (Telegram would resend it forever).
"""

from __future__ import annotations

from bot.shapes import Shape, Spec

ID_LIMIT = 2**63

USER: Spec = {
    "id": int,
    "is_bot": bool,
    "first_name": str,
    "last_name": str,
    "username": str,
    "language_code": str,
}
CHAT: Spec = {
    "id": int,
    "type": str,
    "title": str,
    "username": str,
    "first_name": str,
    "last_name": str,
    "is_forum": bool,
}
ENTITY: Spec = {"type": str, "offset": int, "length": int}
MESSAGE: Spec = {
    "message_id": int,
    "date": int,
    "chat": CHAT,
    "from": USER,
    "text": str,
    "caption": str,
    "entities": [ENTITY],
    "caption_entities": [ENTITY],
    "message_thread_id": int,
    "is_topic_message": bool,
    "forum_topic_created": dict,
}
MESSAGE["reply_to_message"] = MESSAGE
CALLBACK: Spec = {
    "id": str,
    "from": USER,
    "data": str,
    "chat_instance": str,
    "message": MESSAGE,
}
UPDATE: Spec = {"update_id": int, "message": MESSAGE, "callback_query": CALLBACK}
REQUIRED: dict[int, tuple[str, ...]] = {
    id(USER): ("id", "is_bot", "first_name"),
    id(CHAT): ("id", "type"),
    id(MESSAGE): ("message_id", "date", "chat"),
    id(CALLBACK): ("id", "from", "chat_instance"),
    id(UPDATE): ("update_id",),
    id(ENTITY): ("type", "offset", "length"),
}


SHAPE = Shape(required=REQUIRED, int_limit=ID_LIMIT)


def problem(update: object) -> str | None:
    """Where the update is not what Telegram sends (a path, no content), or None."""
    return SHAPE.problem(update, UPDATE, "update")
