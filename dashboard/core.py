"""What every dashboard page shares: the signed-in staff member, sessions, CSRF, templates.

Sessions are an itsdangerous-signed cookie holding the account id, when it was issued, a
fingerprint of the password hash (changing the password signs everyone out) and the account's
session generation (signing out bumps it, so a copied cookie stops working too). CSRF tokens are an
HMAC of a random value bound to the session (or, before signing in, to a pre-session cookie).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jinja2
from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.http import SECURITY_HEADERS
from bot.templating import govuk_environment
from dashboard.limits import SignInLimiter
from dashboard.passwords import PasswordChecker
from storage.accounts import AccountRepository
from storage.models import DashboardUser

if TYPE_CHECKING:
    from bot.host import Host as Townhall

TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "townhall_session"
PRESESSION_COOKIE = "townhall_csrf"
FLASH_COOKIE = "townhall_flash"
SESSION_MAX_AGE = 8 * 60 * 60
ROLES = ("admin", "policy", "moderator")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Staff:
    """The signed-in dashboard account."""

    id: int
    email: str
    role: str  # "admin" | "policy" | "moderator"

    def can(self, *roles: str) -> bool:
        """True when the account has one of ``roles``; an admin can do everything."""
        return self.role == "admin" or self.role in roles

    @property
    def subject(self) -> str:
        """How this person appears in the audit log and as an event's actor."""
        return f"dashboard:{self.email}"


@dataclass(frozen=True)
class NavLink:
    text: str
    href: str
    active: bool


@dataclass
class RequestState:
    """What the dashboard knows about one request (kept on the request)."""

    resolved: bool = False
    staff: Staff | None = None
    nonce: str = ""
    new_presession: str = ""
    flash_out: list[dict[str, str]] = field(default_factory=list)


STATE = web.RequestKey("dashboard_state", RequestState)


def state(request: web.Request) -> RequestState:
    if STATE not in request:
        request[STATE] = RequestState()
    return request[STATE]


Handler = Callable[[web.Request, Staff], Awaitable[web.StreamResponse]]
Wrapped = Callable[[web.Request], Awaitable[web.StreamResponse]]


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return govuk_environment(TEMPLATES)


def fingerprint(secret: bytes, password_hash: str) -> str:
    """A short keyed digest of the stored hash: a new password invalidates old sessions."""
    return hmac.new(secret, b"pw|" + password_hash.encode(), hashlib.sha256).hexdigest()[:24]


class Dashboard:
    """The dashboard's shared services, stored on the aiohttp app as ``app[DASHBOARD]``."""

    def __init__(self, townhall: Townhall) -> None:
        self.townhall = townhall
        key = townhall.settings.secret_key.get_secret_value().encode()
        self._secret = hmac.new(key, b"townhall-dashboard", hashlib.sha256).digest()
        self._sessions = URLSafeTimedSerializer(self._secret, salt="townhall-session")
        self._flashes = URLSafeTimedSerializer(self._secret, salt="townhall-flash")
        #: Sign-in attempts per client address and per email address (in the database).
        self.sign_in_limiter = SignInLimiter(townhall.db, self._secret)
        #: Argon2 work, off the event loop.
        self.passwords = PasswordChecker()

    # -- sessions -------------------------------------------------------------------------

    def secure_cookies(self, request: web.Request) -> bool:
        settings = self.townhall.settings
        public = settings.public_url or ""
        return settings.env == "production" or request.secure or public.startswith("https:")

    def session_cookie(self, user: DashboardUser, issued: float) -> str:
        payload = {
            "u": user.id,
            "t": int(issued),
            "f": fingerprint(self._secret, user.password_hash),
            "g": user.session_generation,
            "n": secrets.token_urlsafe(16),
        }
        return self._sessions.dumps(payload)

    def read_session(self, request: web.Request) -> dict[str, Any] | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self._sessions.loads(raw, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), int):
            return None
        return data

    async def staff_for(self, request: web.Request) -> Staff | None:
        """The signed-in account for this request (cached on the request), or None."""
        st = state(request)
        if st.resolved:
            return st.staff
        st.resolved = True
        data = self.read_session(request)
        if data is None:
            return None
        async with self.townhall.db.transaction() as session:
            user = await AccountRepository(session).by_id(data["u"])
        if user is None or user.role not in ROLES:
            return None
        if not hmac.compare_digest(
            str(data.get("f", "")), fingerprint(self._secret, user.password_hash)
        ):
            return None
        if data.get("g") != user.session_generation:  # signed out since
            return None
        st.staff = Staff(id=user.id, email=user.email, role=user.role)
        st.nonce = str(data.get("n", ""))
        return st.staff

    def set_session(self, response: web.StreamResponse, request: web.Request, value: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=SESSION_MAX_AGE,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=self.secure_cookies(request),
        )

    def clear_session(self, request: web.Request, response: web.StreamResponse) -> None:
        response.del_cookie(SESSION_COOKIE, path="/")
        st = state(request)
        st.staff, st.nonce = None, ""

    # -- CSRF -----------------------------------------------------------------------------

    def _csrf_for(self, purpose: str, value: str) -> str:
        message = f"csrf|{purpose}|{value}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def csrf_token(self, request: web.Request) -> str:
        """The token forms on this page must send back (session-bound, else pre-session)."""
        st = state(request)
        if st.staff is not None and st.nonce:
            return self._csrf_for("session", st.nonce)
        pre = request.cookies.get(PRESESSION_COOKIE) or st.new_presession
        if not pre:
            pre = st.new_presession = secrets.token_urlsafe(24)
        return self._csrf_for("pre", pre)

    async def csrf_ok(self, request: web.Request, *, presession: bool = False) -> bool:
        """Whether an unsafe request carries this session's token (form field or header)."""
        sent = request.headers.get("X-CSRF-Token", "")
        if not sent:
            form = await request.post()
            value = form.get("csrf", "")
            sent = value if isinstance(value, str) else ""
        if not sent:
            return False
        if presession:
            pre = request.cookies.get(PRESESSION_COOKIE, "")
            expected = self._csrf_for("pre", pre) if pre else ""
        else:
            nonce = state(request).nonce
            expected = self._csrf_for("session", nonce) if nonce else ""
        # bytes: compare_digest refuses str with non-ASCII characters (a forged form may have)
        return bool(expected) and hmac.compare_digest(
            sent.encode("utf-8", "replace"), expected.encode()
        )

    # -- flash messages -------------------------------------------------------------------

    def flash(self, request: web.Request, text: str, kind: str = "success") -> None:
        """Queue a message for the next page shown (carried by :meth:`redirect`)."""
        state(request).flash_out.append({"text": text, "kind": kind})

    def _take_flashes(self, request: web.Request) -> list[dict[str, str]]:
        messages: list[dict[str, str]] = []
        raw = request.cookies.get(FLASH_COOKIE)
        if raw:
            try:
                loaded = self._flashes.loads(raw, max_age=600)
            except BadSignature:
                loaded = []
            if isinstance(loaded, list):
                messages.extend(
                    {"text": str(m.get("text", "")), "kind": str(m.get("kind", "success"))}
                    for m in loaded
                    if isinstance(m, dict)
                )
        st = state(request)
        messages.extend(st.flash_out)
        st.flash_out = []
        return messages

    def redirect(self, request: web.Request, location: str) -> web.Response:
        """303 See Other to ``location`` carrying any queued flash messages."""
        response = web.Response(status=303, headers={"Location": location})
        pending = state(request).flash_out
        if pending:
            response.set_cookie(
                FLASH_COOKIE,
                self._flashes.dumps(pending[-5:]),
                max_age=600,
                path="/",
                httponly=True,
                samesite="Lax",
                secure=self.secure_cookies(request),
            )
        self._finish(request, response)
        return response

    # -- rendering ------------------------------------------------------------------------

    def nav(self, request: web.Request, staff: Staff | None) -> list[NavLink]:
        if staff is None:
            return []
        path = request.path
        links: list[tuple[str, str]] = []
        if staff.can("policy"):
            links += [("Items", "/items"), ("New item", "/items/new")]
            links += [("Consultations", "/consultations")]
            links += [("Failed deliveries", "/deliveries")]
        if staff.can("moderator"):
            links += [("Moderation", "/moderation"), ("Audit log", "/audit")]

        def active(href: str) -> bool:
            if href == "/items":
                return path == "/items" or (
                    path.startswith("/items/") and not path.startswith("/items/new")
                )
            return path == href or path.startswith(href + "/")

        return [NavLink(text, href, active(href)) for text, href in links]

    def render(
        self,
        request: web.Request,
        template: str,
        context: dict[str, Any],
        *,
        status: int = 200,
    ) -> web.Response:
        """Render a page extending ``dashboard/layout.html`` with the shared context."""
        staff = state(request).staff
        values: dict[str, Any] = {
            "staff": staff,
            "nav": self.nav(request, staff),
            "flashes": self._take_flashes(request),
            "path": request.path,
        }
        values.update(context)
        values["csrf"] = self.csrf_token(request)
        values.setdefault("title", "Townhall")
        html = environment().get_template(template).render(**values)
        response = web.Response(text=html, status=status, content_type="text/html")
        if request.cookies.get(FLASH_COOKIE):
            response.del_cookie(FLASH_COOKIE, path="/")
        self._finish(request, response)
        return response

    def _finish(self, request: web.Request, response: web.StreamResponse) -> None:
        pre = state(request).new_presession
        if pre:
            response.set_cookie(
                PRESESSION_COOKIE,
                pre,
                path="/",
                httponly=True,
                samesite="Lax",
                secure=self.secure_cookies(request),
            )
        response.headers.setdefault("Cache-Control", "no-store")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)

    def error(self, request: web.Request, status: int, title: str, text: str) -> web.Response:
        return self.render(
            request, "dashboard/error.html", {"title": title, "message": text}, status=status
        )


DASHBOARD: web.AppKey[Dashboard] = web.AppKey("dashboard", Dashboard)


def require(*roles: str) -> Callable[[Handler], Wrapped]:
    """Guard a page: signed in, one of ``roles`` (admin always), and CSRF on unsafe methods."""

    def decorate(handler: Handler) -> Wrapped:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            dash = request.app[DASHBOARD]
            staff = await dash.staff_for(request)
            if staff is None:
                target = request.path_qs if request.method == "GET" else request.path
                return dash.redirect(request, "/sign-in?next=" + quote(target, safe="/"))
            if roles and not staff.can(*roles):
                return dash.error(
                    request,
                    403,
                    "You do not have access to this page",
                    "Your account cannot use this page. Ask an administrator if you need access.",
                )
            if request.method in UNSAFE_METHODS and not await dash.csrf_ok(request):
                return dash.error(
                    request,
                    403,
                    "Your form could not be sent",
                    "The form had expired or came from somewhere else. Go back, reload the page "
                    "and try again.",
                )
            return await handler(request, staff)

        return guarded

    return decorate
