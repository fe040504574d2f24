"""Who a web chat visitor is: an anonymous id in a signed cookie, with a flash and CSRF token.

The cookie holds a random visitor id (the participant's platform user id on "web"), and the
views to show once on the next page (POST-redirect-GET). It is signed with TOWNHALL_SECRET_KEY,
not encrypted: it holds nothing the visitor may not read. Pages under ``/c/`` may be framed by
other websites, where the cookie is a third-party one: over HTTPS it is ``SameSite=None;
Secure; Partitioned`` (CHIPS) so that an embedded form keeps working, and over plain HTTP (local
development) ``SameSite=Lax``. Forms carry a CSRF token derived from the visitor id, so a post
from another site, which cannot read the token, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.i18n import supported
from bot.views import View, view_from_dict, view_to_dict

COOKIE = "townhall_chat"
COOKIE_PATH = "/c/"
MAX_AGE = 365 * 24 * 3600  # the visitor keeps one identity (one vote per person) for a year
MAX_COOKIE_BYTES = 3000  # browsers keep about 4 KB per cookie


def new_token() -> str:
    """A random id: visitor ids and per-submission ids (128 bits)."""
    return secrets.token_urlsafe(16)


@dataclass
class Visitor:
    """This browser's identity and what to show it once."""

    id: str
    flash: list[View] = field(default_factory=list)
    #: True when the cookie arrived with the request (False: a first visit, or blocked cookies).
    known: bool = False
    changed: bool = False
    #: The language this browser chose with the page's switch ("" until it does).
    language: str = ""

    def say(self, views: list[View]) -> None:
        self.flash.extend(views)
        self.changed = True


class Identities:
    """Reads and writes the visitor cookie; issues and checks CSRF tokens."""

    def __init__(self, secret_key: str, *, force_secure: bool = False) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="townhall.webchat.visitor")
        self._csrf_key = hashlib.sha256(b"townhall.webchat.csrf:" + secret_key.encode()).digest()
        self.force_secure = force_secure

    def read(self, request: web.Request) -> Visitor:
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data: Any = self._serializer.loads(raw, max_age=MAX_AGE)
                flash = [view_from_dict(v) for v in data.get("f", [])]
                visitor_id = str(data["v"])
                language = supported(str(data.get("l", ""))) or ""
                if 8 <= len(visitor_id) <= 64:
                    return Visitor(visitor_id, flash=flash, known=True, language=language)
            except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
                pass  # tampered, expired or from another key: start afresh
        return Visitor(new_token(), changed=True)

    def _value(self, visitor: Visitor, *, flash: bool = True) -> str:
        data: dict[str, Any] = {"v": visitor.id, "f": []}
        if flash:
            data["f"] = [view_to_dict(v) for v in visitor.flash]
        if visitor.language:
            data["l"] = visitor.language
        return self._serializer.dumps(data)

    def fits(self, visitor: Visitor) -> bool:
        """The visitor's flash is small enough to carry in the cookie."""
        return len(self._value(visitor)) <= MAX_COOKIE_BYTES

    def write(self, response: web.StreamResponse, request: web.Request, visitor: Visitor) -> None:
        """Store the visitor (and any pending flash) in the cookie, if something changed."""
        if not visitor.changed:
            return
        value = self._value(visitor)
        if len(value) > MAX_COOKIE_BYTES:  # too much to carry: keep the identity, drop the flash
            value = self._value(visitor, flash=False)
        secure = self.force_secure or is_secure(request)
        jar: SimpleCookie = SimpleCookie()
        jar[COOKIE] = value
        morsel = jar[COOKIE]
        morsel["max-age"] = str(MAX_AGE)
        morsel["path"] = COOKIE_PATH
        morsel["httponly"] = True
        morsel["secure"] = secure
        morsel["samesite"] = "None" if secure else "Lax"
        # Python's cookie module (before 3.14) has no Partitioned attribute: add it by hand.
        header = morsel.OutputString() + ("; Partitioned" if secure else "")
        response.headers.add("Set-Cookie", header)

    def csrf_token(self, visitor: Visitor) -> str:
        return hmac.new(self._csrf_key, visitor.id.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, visitor: Visitor, token: str) -> bool:
        # bytes: compare_digest refuses str with non-ASCII characters (a forged form may have)
        expected = self.csrf_token(visitor).encode()
        return visitor.known and hmac.compare_digest(expected, token.encode("utf-8", "replace"))


def is_secure(request: web.Request) -> bool:
    """HTTPS, directly or behind a proxy that says so."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
