"""Signing in and out of the dashboard, and where ``/`` sends each role.

Sign-ins are limited per client address and per email address (:mod:`dashboard.limits`).
Every failure shows the same message,
whether or not the email address has an account.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from bot.ratelimit import client_address
from dashboard.core import DASHBOARD, PRESESSION_COOKIE, Dashboard, Staff, require
from dashboard.passwords import needs_rehash
from storage.accounts import AccountRepository
from storage.ledger import AuditLog

log = structlog.get_logger("townhall.dashboard")

MAX_EMAIL = 254
MAX_PASSWORD = 256
BAD_CREDENTIALS = "Enter a correct email address and password"
LIMITED = (
    "Too many failed attempts to sign in. Wait 15 minutes, then try again. "
    "Ask an administrator if you have forgotten your password."
)


def safe_next(value: str) -> str:
    """Only a path on this site: never another host (open redirect) or a scheme."""
    parts = urlsplit(value)
    if (
        not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or parts.scheme
        or parts.netloc
        or any(ord(c) < 32 for c in value)
    ):
        return "/"
    return value


def home_for(staff: Staff) -> str:
    return "/items" if staff.can("policy") else "/moderation"


async def root(request: web.Request) -> web.StreamResponse:
    dash = request.app[DASHBOARD]
    staff = await dash.staff_for(request)
    return dash.redirect(request, "/sign-in" if staff is None else home_for(staff))


def _form(
    dash: Dashboard,
    request: web.Request,
    *,
    email: str = "",
    next_path: str = "/",
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    context = {
        "title": "Sign in",
        "email": email,
        "next": next_path,
        "error": error,
        "error_summary": [{"text": error, "href": "#email"}] if error else [],
    }
    return dash.render(request, "dashboard/sign_in.html", context, status=status)


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    dash = request.app[DASHBOARD]
    next_path = safe_next(request.query.get("next", "/"))
    staff = await dash.staff_for(request)
    if staff is not None:
        return dash.redirect(request, next_path if next_path != "/" else home_for(staff))
    return _form(dash, request, next_path=next_path)


async def sign_in(request: web.Request) -> web.StreamResponse:
    dash = request.app[DASHBOARD]
    if not await dash.csrf_ok(request, presession=True):
        return dash.error(
            request,
            403,
            "Your form could not be sent",
            "The sign-in form had expired. Go back, reload the page and try again.",
        )
    form = await request.post()
    email = str(form.get("email", "")).strip()[:MAX_EMAIL]
    password = str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "/")))
    limits = dash.sign_in_limiter
    keys = [limits.key("addr", client_address(request)), limits.key("email", email.lower())]
    now = dash.townhall.clock()
    if not await limits.attempt(keys, now):
        log.info("dashboard sign-in refused: too many failures")
        return _form(dash, request, email=email, next_path=next_path, error=LIMITED, status=429)

    user = None
    if email and password and len(password) <= MAX_PASSWORD:
        async with dash.townhall.db.transaction() as session:
            found = await AccountRepository(session).by_email(email.lower())
        stored = found.password_hash if found is not None else None
        if await dash.passwords.verify(stored, password):
            new_hash = await dash.passwords.hash(password) if needs_rehash(str(stored)) else None
            async with dash.townhall.db.transaction() as session:
                accounts = AccountRepository(session)
                user = await accounts.by_email(email.lower())
                if user is not None and user.password_hash != stored:
                    user = None  # the password changed meanwhile: sign in again
                if user is not None:
                    if new_hash is not None:
                        await accounts.set_password(user, new_hash)
                    await accounts.signed_in(user, now)
                    subject = f"dashboard:{user.email}"
                    await AuditLog(session).record(
                        subject, "staff.sign_in", subject, now, role=user.role
                    )
    if user is None:
        log.debug("dashboard sign-in failed")
        return _form(
            dash, request, email=email, next_path=next_path, error=BAD_CREDENTIALS, status=400
        )
    await limits.succeeded(keys[0], keys[1], now)
    staff = Staff(id=user.id, email=user.email, role=user.role)
    target = next_path if next_path != "/" else home_for(staff)
    response = dash.redirect(request, target)
    cookie = dash.session_cookie(user, time.time())
    dash.set_session(response, request, cookie)
    response.del_cookie(PRESESSION_COOKIE, path="/")  # the form's token is spent
    return response


@require()
async def sign_out(request: web.Request, staff: Staff) -> web.StreamResponse:
    dash = request.app[DASHBOARD]
    now = dash.townhall.clock()
    async with dash.townhall.db.transaction() as session:
        accounts = AccountRepository(session)
        user = await accounts.by_id(staff.id)
        if user is not None:
            await accounts.end_sessions(user)  # the cookie, wherever a copy is, stops working
        await AuditLog(session).record(staff.subject, "staff.sign_out", staff.subject, now)
    dash.flash(request, "You have signed out.")
    response = dash.redirect(request, "/sign-in")
    dash.clear_session(request, response)
    return response


def routes() -> list[web.RouteDef]:
    return [
        web.get("/", root),
        web.get("/sign-in", sign_in_page),
        web.post("/sign-in", sign_in),
        web.post("/sign-out", sign_out),
    ]
