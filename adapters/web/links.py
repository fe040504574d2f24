"""Where an item lives on the web chat, and the iframe snippet that embeds it elsewhere."""

from __future__ import annotations

import re
from html import escape

#: The one "channel" of the web chat: publishing an item to ("web", PUBLIC_CHANNEL) lists it
#: as public on the web; its page is /c/<item id> either way.
PUBLIC_CHANNEL = "public"
CHAT_PREFIX = "/c/"
SHORT_ID = re.compile(r"^[0-9a-z]{4,12}$")


def chat_path(short_id: str) -> str:
    """The web chat page of an item, relative to Townhall's base URL: ``/c/k3m9xq``."""
    return f"{CHAT_PREFIX}{short_id}"


def chat_url(base_url: str, short_id: str) -> str:
    """The absolute address of an item's web chat page."""
    return base_url.rstrip("/") + chat_path(short_id)


def embed_snippet(short_id: str, base_url: str = "", *, title: str = "") -> str:
    """HTML another website pastes to embed the item's web chat (an iframe; works without JS).

    ``base_url`` is Townhall's public address (e.g. ``https://consult.example.gov.uk``); the
    dashboard passes the address it is served on. ``title`` names the frame for screen readers.
    """
    src = escape(chat_url(base_url, short_id), quote=True)
    name = escape(title or "Have your say", quote=True)
    return (
        f'<iframe src="{src}" title="{name}" width="100%" height="640" '
        'style="border:0;max-width:720px" loading="lazy"></iframe>'
    )
