"""Is this JSON shaped like a Telegram update, in the fields Townhall reads?

python-telegram-bot's ``de_json`` does not check types, so ``"message_thread_id": "x"`` or a
``chat`` that is a list would fail later, half way through handling. Checked here first, an
update of the wrong shape is acknowledged and ignored (Telegram would resend it forever).
"""

from __future__ import annotations

from typing import Any

ID_LIMIT = 2**63
Spec = dict[str, Any]

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


def problem(update: object) -> str | None:
    """Where the update is not what Telegram sends (a path, no content), or None."""
    return _check(update, UPDATE, "update", depth=0)


def _check(value: object, spec: Any, where: str, depth: int) -> str | None:
    if depth > 8:
        return f"{where}: nested too deep"
    if spec is int:
        ok = type(value) is int and -ID_LIMIT < value < ID_LIMIT
        return None if ok else f"{where}: not an integer"
    if spec in (str, bool, dict):
        return None if type(value) is spec else f"{where}: not a {spec.__name__}"
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{where}: not a list"
        for n, element in enumerate(value):
            found = _check(element, spec[0], f"{where}[{n}]", depth + 1)
            if found:
                return found
        return None
    if not isinstance(value, dict):
        return f"{where}: not an object"
    for key in REQUIRED.get(id(spec), ()):
        if key not in value:
            return f"{where}.{key}: missing"
    for key, sub in spec.items():
        if key in value and not (value[key] is None and key not in REQUIRED.get(id(spec), ())):
            found = _check(value[key], sub, f"{where}.{key}", depth + 1)
            if found:
                return found
    return None
