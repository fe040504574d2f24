"""A fake Discord platform (REST API + websocket gateway) for tests.

The real ``discord.py`` (2.7.x) library talks to this fake over 127.0.0.1, so adapter
code is exercised exactly as in production: login, gateway handshake, command sync,
interactions, views, modals, followups, rate limits and permission errors.

Quick start::

    from tests.fakes.discord import ROUTE_INTERACTION_CALLBACK, FakeDiscord

    async with FakeDiscord() as fake:  # starts the server and points discord.py at it
        client = MyClient(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        async with fake.running(client):  # client.start(fake.token) ... client.close()
            await client.tree.sync(guild=discord.Object(fake.guild.id))
            payload = fake.slash_command(
                fake.guild.id, fake.channel.id, fake.alice, "townhall", "poll",
                {"question": "Lunch?"},
            )
            await fake.dispatch("INTERACTION_CREATE", payload)
            call = await fake.wait_for_call(route=ROUTE_INTERACTION_CALLBACK)
            assert call.json["type"] == 4
            message_id = fake.interaction(payload).original_message_id
            click = fake.component_click(message_id, "townhall:poll:yes", fake.bob)
            await fake.dispatch("INTERACTION_CREATE", click)
        fake.assert_no_unhandled()

Main pieces (see the docstrings of each):

* Lifecycle: ``FakeDiscord(guilds=[...])`` used as ``async with`` or ``await start()`` /
  ``await stop()``.  ``api_base`` / ``gateway_url`` are the local URLs.  By default
  ``start()`` patches ``discord.http.Route.BASE`` and
  ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` and ``stop()`` restores them
  (``patch_discord_py=False`` to do it yourself with ``fake.configure_discord_py()``).
* ``fake.running(client)``: starts ``client.start(token)`` in a task, waits for READY
  (and, by default, for discord.py's own ``wait_until_ready``), and closes it on exit.
* Recording: ``fake.calls`` (every REST call, as :class:`Call`), ``fake.unhandled``
  (routes / opcodes the fake does not implement; those get 404 / are logged),
  ``fake.messages`` / ``fake.channel_messages(cid)``, ``fake.interactions``
  (:class:`InteractionRecord` per interaction id: callbacks, original message,
  followups, modal), ``fake.commands`` (synced application commands per guild id,
  ``None`` = global), ``fake.sessions`` (gateway sessions), ``fake.gateway_log``.
* Fault injection: ``rate_limit_next(method, path_regex, retry_after=0.2, count=1)``,
  ``fail_next(method, path_regex, status, body)``, ``forbid(channel_id)``,
  ``block_dms(user_id)``, ``request_reconnect()`` (op 7), ``invalidate_session()``.
* Waiting without sleeps: ``wait_for_call(...)``, ``wait_for_calls(..., count=n)``,
  ``wait_until_ready(sessions=n)``, ``wait_until_disconnected()``.
* Sharding, as on Discord: IDENTIFY may carry ``shard: [id, count]`` (0 <= id < count,
  else close 4010); a session gets READY / GUILD_CREATE for, and events of, only the guilds
  with ``shard_of(guild_id, count) == id`` (``(guild_id >> 22) % count``); DMs go to shard
  0. Without ``shard`` a session is shard 0 of 1 (every guild). ``GET /gateway/bot``
  recommends ``recommended_shards`` (1 by default).
* Gateway events: ``await fake.dispatch(event_name, data)``; payload builders
  ``slash_command``, ``autocomplete``, ``component_click``, ``modal_submit``,
  ``message_context_menu``, ``user_context_menu``, ``user_message``.  Every built
  interaction has a fresh snowflake id and token; dispatching the same payload twice
  simulates a duplicated delivery (the second response then gets 400 / code 40060,
  like Discord's "Interaction has already been acknowledged").

Things discord.py needs that are easy to get wrong (all handled here):

* REST answers must be ``Content-Type: application/json`` exactly (no charset).
* The interaction callback must return 200 with ``{"interaction": {...}, "resource":
  {...}}`` (discord.py asks for ``?with_response=1``); discord.py registers a view sent
  with ``response.send_message(view=...)`` under ``interaction.response_message_id``.
* A 429 is only retried if the response has a ``Via`` header and a JSON body with
  ``retry_after``; a 5xx is retried with 1 s, 3 s, ... sleeps, so the fake never
  answers unimplemented routes with 5xx (it answers 404 and records them).
* discord.py asks for ``compress=zlib-stream``; the fake honours it (binary frames,
  one ``Z_SYNC_FLUSH`` per message) unless ``gateway_compression=False`` (text frames).

Timing notes for tests (none of them needs a sleep):

* discord.py fires ``on_ready`` ``guild_ready_timeout`` (default 2 s) after the last
  GUILD_CREATE: give test clients ``guild_ready_timeout=0.05``.  The guild cache is
  filled as soon as GUILD_CREATE is parsed, so interactions work before that anyway.
* ``wait_for_call`` returns once the fake *answered*; discord.py may not have
  processed the answer yet (e.g. stored the view of ``send_message(view=...)``).
  When the next step depends on that, wait for something the bot does afterwards.
* ``client.close()`` makes discord.py (with aiohttp 3.x) close the gateway with code
  4000, so the session stays resumable; a new client IDENTIFYs a new session.
  ``running()`` waits until the fake saw the close, so a "restart" is deterministic.
* RESUME (after ``request_reconnect()``) is immediate; a re-IDENTIFY on the *same*
  client object (after ``invalidate_session()``) waits 5 s in discord.py's
  ``before_identify_hook``.
"""

# The wait helpers take ``timeout=`` on purpose (test API); the default token is a fake.
# ruff: noqa: ASYNC109, S107

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import hashlib
import json
import logging
import re
import secrets
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, TypeVar

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from tests.fakes.base import Call as BaseCall
from tests.fakes.base import FakeServer, times_or_count

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_ALICE_ID",
    "DEFAULT_BOB_ID",
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_CHANNEL_ID",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "DEFAULT_GUILD_ID",
    "FLAG_EPHEMERAL",
    "FLAG_LOADING",
    "ROUTE_CHANNEL_MESSAGE",
    "ROUTE_CHANNEL_MESSAGES",
    "ROUTE_GLOBAL_COMMANDS",
    "ROUTE_GUILD_COMMANDS",
    "ROUTE_INTERACTION_CALLBACK",
    "ROUTE_MESSAGE_THREADS",
    "ROUTE_WEBHOOK",
    "ROUTE_WEBHOOK_MESSAGE",
    "Call",
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordTimeout",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "GatewayFrame",
    "GatewaySession",
    "InteractionRecord",
    "Unhandled",
    "UploadedFile",
]

_log = logging.getLogger(__name__)


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """Discord's shard for a guild's events: ``(guild_id >> 22) % shard_count``; DMs (no
    guild) go to shard 0."""
    return (guild_id >> 22) % shard_count if guild_id else 0


Payload: TypeAlias = dict[str, Any]
UserLike: TypeAlias = "FakeUser | FakeMember | int"
T = TypeVar("T")

DISCORD_EPOCH_MS = 1_420_070_400_000

# Gateway intents (bits) that change what the fake sends.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message_content

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_HAS_THREAD = 1 << 5
FLAG_IS_COMPONENTS_V2 = 1 << 15

ALL_PERMISSIONS: int = discord.Permissions.all().value
ADMINISTRATOR = discord.Permissions(administrator=True).value
SEND_MESSAGES = discord.Permissions(send_messages=True).value
DEFAULT_EVERYONE_PERMISSIONS: int = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    use_external_emojis=True,
    read_message_history=True,
    use_application_commands=True,
    change_nickname=True,
    connect=True,
    speak=True,
).value
DEFAULT_BOT_PERMISSIONS: int = (
    DEFAULT_EVERYONE_PERMISSIONS
    | discord.Permissions(manage_threads=True, manage_messages=False).value
)

# Defaults for FakeDiscord() without arguments.
DEFAULT_BOT_ID = 900_000_000_000_000_001
DEFAULT_GUILD_ID = 900_000_000_000_000_100
DEFAULT_CHANNEL_ID = 900_000_000_000_000_200
DEFAULT_ALICE_ID = 900_000_000_000_000_301
DEFAULT_BOB_ID = 900_000_000_000_000_302

# Route templates as recorded in ``Call.route``.
ROUTE_INTERACTION_CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
ROUTE_WEBHOOK = "/webhooks/{application_id}/{interaction_token}"
ROUTE_WEBHOOK_MESSAGE = "/webhooks/{application_id}/{interaction_token}/messages/{message_id}"
ROUTE_CHANNEL_MESSAGES = "/channels/{channel_id}/messages"
ROUTE_CHANNEL_MESSAGE = "/channels/{channel_id}/messages/{message_id}"
ROUTE_MESSAGE_THREADS = "/channels/{channel_id}/messages/{message_id}/threads"
ROUTE_GLOBAL_COMMANDS = "/applications/{application_id}/commands"
ROUTE_GUILD_COMMANDS = "/applications/{application_id}/guilds/{guild_id}/commands"

_JSON_CT = "application/json"
_MAX_CONTENT = 2000
_COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")
_MENTION_USER_RE = re.compile(r"<@!?(\d+)>")
_MENTION_ROLE_RE = re.compile(r"<@&(\d+)>")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _iso(dt: datetime.datetime | None = None) -> str:
    return (dt or _now()).isoformat()


def _sid(value: int | None) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------------------
# Configuration / state objects
# --------------------------------------------------------------------------------------


@dataclass
class FakeUser:
    """A Discord user.  ``to_payload()`` gives the API user object."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None

    def to_payload(self) -> Payload:
        data: Payload = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": self.avatar,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class FakeRole:
    """A guild role.  The ``@everyone`` role has the guild's id."""

    id: int
    name: str
    permissions: int = 0
    position: int = 1
    color: int = 0
    managed: bool = False
    hoist: bool = False
    mentionable: bool = False

    def to_payload(self) -> Payload:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@dataclass
class FakeMember:
    """A guild member: a user plus role ids (``@everyone`` is implicit)."""

    user: FakeUser
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=_iso)

    def to_payload(self, *, permissions: int | None = None, with_user: bool = True) -> Payload:
        data: Payload = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "avatar_decoration_data": None,
        }
        if with_user:
            data["user"] = self.user.to_payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class FakeChannel:
    """A channel.  ``type``: 0 text, 1 DM, 2 voice, 4 category, 5 announcement,
    11 public thread, 12 private thread, 15 forum."""

    id: int
    name: str = "general"
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    owner_id: int | None = None
    recipients: list[FakeUser] = field(default_factory=list)
    auto_archive_duration: int = 1440
    created_at: str = field(default_factory=_iso)

    @property
    def is_thread(self) -> bool:
        return self.type in (10, 11, 12)

    @property
    def is_messageable(self) -> bool:
        return self.type in (0, 1, 2, 3, 5, 10, 11, 12, 13)

    def to_payload(self, *, permissions: int | None = None) -> Payload:
        if self.type in (1, 3):
            data: Payload = {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": None,
                "flags": 0,
                "recipients": [u.to_payload() for u in self.recipients],
            }
        elif self.is_thread:
            data = {
                "id": str(self.id),
                "type": self.type,
                "guild_id": _sid(self.guild_id),
                "parent_id": _sid(self.parent_id),
                "owner_id": _sid(self.owner_id),
                "name": self.name,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "message_count": 0,
                "member_count": 1,
                "total_message_sent": 0,
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": self.created_at,
                    "locked": False,
                    "create_timestamp": self.created_at,
                },
            }
        else:
            data = {
                "id": str(self.id),
                "type": self.type,
                "guild_id": _sid(self.guild_id),
                "name": self.name,
                "position": self.position,
                "permission_overwrites": [],
                "parent_id": _sid(self.parent_id),
                "topic": self.topic,
                "nsfw": False,
                "rate_limit_per_user": 0,
                "last_message_id": None,
                "flags": 0,
            }
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class FakeGuild:
    """A guild with channels, roles and members.

    ``channels``' ``guild_id`` is filled in; an ``@everyone`` role (id == guild id,
    :data:`DEFAULT_EVERYONE_PERMISSIONS`) is added when missing; ``owner_id`` defaults to
    the first member.  :class:`FakeDiscord` deep-copies guilds and adds the bot's member
    and managed role.
    """

    id: int
    name: str = "Fake Guild"
    channels: list[FakeChannel] = field(default_factory=list)
    roles: list[FakeRole] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)
    owner_id: int | None = None
    preferred_locale: str = "en-US"

    def __post_init__(self) -> None:
        for channel in self.channels:
            channel.guild_id = self.id
        if not any(r.id == self.id for r in self.roles):
            self.roles.insert(
                0,
                FakeRole(
                    id=self.id,
                    name="@everyone",
                    permissions=DEFAULT_EVERYONE_PERMISSIONS,
                    position=0,
                ),
            )
        if self.owner_id is None and self.members:
            self.owner_id = self.members[0].user.id

    @property
    def everyone(self) -> FakeRole:
        return next(r for r in self.roles if r.id == self.id)

    def get_member(self, user_id: int) -> FakeMember | None:
        return next((m for m in self.members if m.user.id == user_id), None)

    def get_role(self, role_id: int) -> FakeRole | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def permissions_for(self, member: FakeMember) -> int:
        """Guild-level permissions (channel overwrites are not modelled)."""
        if member.user.id == self.owner_id:
            return ALL_PERMISSIONS
        value = self.everyone.permissions
        for role_id in member.roles:
            role = self.get_role(role_id)
            if role is not None:
                value |= role.permissions
        if value & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return value


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(kw_only=True)
class Call(BaseCall):
    """One REST request the fake received, with the answer it gave (``method`` is the HTTP
    verb; ``at``, alias ``timestamp``, when it was answered)."""

    index: int
    path: str  # below the API base, e.g. "/channels/123/messages"
    route: str | None  # template, e.g. "/channels/{channel_id}/messages"; None if unhandled
    params: dict[str, str]
    query: dict[str, str]
    json: Any  # parsed JSON body (``payload_json`` for multipart), else None
    body: bytes
    headers: dict[str, str]  # Authorization, Content-Type, User-Agent, X-Audit-Log-Reason
    files: list[UploadedFile]
    status: int
    injected: bool = False  # answered by rate_limit_next / fail_next / forbid

    def __repr__(self) -> str:
        return f"<Call #{self.index} {self.method} {self.path} -> {self.status}>"


@dataclass
class Unhandled:
    """Something the fake does not implement (REST route or gateway opcode)."""

    kind: Literal["http", "gateway", "error"]
    method: str
    path: str
    body: Any
    detail: str = ""


@dataclass
class GatewayFrame:
    direction: Literal["send", "recv"]
    op: int | None
    t: str | None
    s: int | None
    d: Any
    session_id: str | None


@dataclass
class InteractionRecord:
    """What the bot did with one interaction (by id)."""

    id: int
    token: str
    type: int
    guild_id: int | None
    channel_id: int
    user_id: int
    payload: Payload
    message_id: int | None = None  # message the component/modal belongs to
    callbacks: list[Payload] = field(default_factory=list)  # every callback body received
    response_type: int | None = None
    original_message_id: int | None = None
    followup_message_ids: list[int] = field(default_factory=list)
    modal: Payload | None = None
    autocomplete_choices: list[Payload] | None = None
    deliveries: int = 0

    @property
    def responded(self) -> bool:
        return self.response_type is not None


class _GatewayConnection:
    def __init__(self, fake: FakeDiscord, ws: web.WebSocketResponse, compress: bool) -> None:
        self.fake = fake
        self.ws = ws
        self.zlib = zlib.compressobj() if compress else None
        self.lock = asyncio.Lock()
        self.session: GatewaySession | None = None
        self.closed = False
        self.close_code: int | None = None
        self.query: dict[str, str] = {}

    async def send(self, frame: Payload) -> None:
        text = json.dumps(frame, separators=(",", ":"))
        async with self.lock:
            if self.closed or self.ws.closed:
                raise ConnectionResetError("gateway connection is closed")
            self.fake._log_frame("send", frame, self.session)
            if self.zlib is not None:
                data = self.zlib.compress(text.encode()) + self.zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)


@dataclass
class GatewaySession:
    """A gateway session (IDENTIFY → READY); survives RESUMEs."""

    number: int
    session_id: str
    identify: Payload
    intents: int
    seq: int = 0
    events: list[Payload] = field(default_factory=list)
    ready: bool = False
    invalidated: bool = False
    resumes: int = 0
    heartbeats: int = 0
    connection: _GatewayConnection | None = field(default=None, repr=False)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    #: (shard id, shard count) from IDENTIFY; (0, 1) without sharding.
    shard: tuple[int, int] = (0, 1)
    #: Live sessions of the same shard when this one IDENTIFYed (a shard run twice at once).
    alongside: list[int] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.closed

    @property
    def live(self) -> bool:
        """READY (or RESUMED), connected and not invalidated: events can reach it."""
        return self.ready and self.connected and not self.invalidated

    def serves(self, guild_id: int | None) -> bool:
        """Whether Discord sends this session the events of ``guild_id`` (None: a DM)."""
        return shard_of(guild_id, self.shard[1]) == self.shard[0]


class FakeDiscordTimeout(TimeoutError):
    """Raised by the ``wait_*`` helpers."""


class _ApiError(Exception):
    def __init__(
        self, status: int, message: str, code: int = 0, errors: Payload | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = errors

    def body(self) -> Payload:
        data: Payload = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


def _form_error(path: str, code: str, message: str) -> _ApiError:
    errors: Payload = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        errors = {part: errors}
    return _ApiError(400, "Invalid Form Body", 50035, errors)


@dataclass
class _Request:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    headers: Mapping[str, str]

    def body(self) -> Payload:
        return self.json if isinstance(self.json, dict) else {}


@dataclass
class _Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


_Handler: TypeAlias = Callable[[_Request], Awaitable[_Response]]


@dataclass(frozen=True)
class _RouteSpec:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: _Handler
    auth: bool


@dataclass
class _Injection:
    method: str
    regex: re.Pattern[str]
    remaining: int
    status: int
    body: Any
    headers: dict[str, str]
    after_effect: bool = False


def _compile_template(template: str) -> re.Pattern[str]:
    out = []
    for part in re.split(r"(\{\w+\})", template):
        if part.startswith("{") and part.endswith("}"):
            out.append(f"(?P<{part[1:-1]}>[^/]+)")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


def _bucket_hash(method: str, template: str) -> str:
    return hashlib.sha1(f"{method} {template}".encode(), usedforsecurity=False).hexdigest()[:16]


def _shard_field(value: Any) -> tuple[int, int] | None:
    """IDENTIFY's ``shard``: absent is (0, 1); anything but [id, count] with
    0 <= id < count is invalid (None; Discord closes with 4010)."""
    if value is None:
        return (0, 1)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 0 <= value[0] < value[1]
    ):
        return (value[0], value[1])
    return None


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


# --------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------


class FakeDiscord(FakeServer):
    """Fake Discord REST API + gateway on 127.0.0.1 (OS-assigned port).

    Args:
        guilds: guilds the bot is in (deep-copied).  Default: one guild
            (:data:`DEFAULT_GUILD_ID`) with a text channel ``#general`` and members
            ``alice`` (owner) and ``bob``.
        token: the bot token; REST calls need ``Authorization: Bot <token>`` (else 401,
            which discord.py turns into ``LoginFailure``) and IDENTIFY needs it too
            (else the gateway closes with 4004).
        bot_user: the bot's user; application id defaults to its id.
        users: extra users known to the fake (e.g. for DMs).
        bot_permissions: permissions of the bot's managed role in every guild.
        heartbeat_interval_ms: HELLO's interval.
        gateway_compression: honour ``compress=zlib-stream`` (binary frames).
        echo_events: also send MESSAGE_CREATE / MESSAGE_UPDATE / MESSAGE_DELETE /
            THREAD_CREATE to the client for messages the bot creates (subject to
            intents), like Discord does.  Off by default to keep tests quiet.
        patch_discord_py: point discord.py at the fake in ``start()`` and restore in
            ``stop()``.
        enabled_privileged_intents: privileged intents (members, presences,
            message_content) switched on in the "developer portal"; IDENTIFYing with
            others closes the gateway with 4014 (discord.py raises
            ``PrivilegedIntentsRequired``).  ``None`` (default): all enabled.
    """

    def __init__(
        self,
        guilds: Sequence[FakeGuild] | None = None,
        *,
        token: str = "fake-bot-token",
        bot_user: FakeUser | None = None,
        application_id: int | None = None,
        application_flags: int = 0,
        users: Sequence[FakeUser] = (),
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        heartbeat_interval_ms: int = 41_250,
        gateway_compression: bool = True,
        echo_events: bool = False,
        patch_discord_py: bool = True,
        enabled_privileged_intents: discord.Intents | int | None = None,
        host: str = "127.0.0.1",
        recommended_shards: int = 1,
    ) -> None:
        self.token = token
        self.recommended_shards = recommended_shards
        self.bot_user = bot_user or FakeUser(id=DEFAULT_BOT_ID, username="Townhall", bot=True)
        self.application_id = application_id or self.bot_user.id
        self.application_flags = application_flags
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.gateway_compression = gateway_compression
        self.echo_events = echo_events
        self.patch_discord_py = patch_discord_py
        self.enabled_privileged_intents: int | None = (
            enabled_privileged_intents.value
            if isinstance(enabled_privileged_intents, discord.Intents)
            else enabled_privileged_intents
        )
        self.host = host

        if guilds is None:
            alice = FakeUser(id=DEFAULT_ALICE_ID, username="alice", global_name="Alice")
            bob = FakeUser(id=DEFAULT_BOB_ID, username="bob", global_name="Bob")
            guilds = [
                FakeGuild(
                    id=DEFAULT_GUILD_ID,
                    name="Town",
                    channels=[FakeChannel(id=DEFAULT_CHANNEL_ID, name="general")],
                    members=[FakeMember(alice), FakeMember(bob)],
                    owner_id=alice.id,
                )
            ]
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        for user in users:
            self.users[user.id] = user

        self._last_snowflake = 0
        for guild in copy.deepcopy(list(guilds)):
            self._add_guild(guild, bot_permissions)

        self.messages: dict[int, Payload] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.commands: dict[int | None, dict[str, Payload]] = {}
        self.modals: list[Payload] = []
        self.calls: list[Call] = []
        self.unhandled: list[Unhandled] = []
        self.sessions: list[GatewaySession] = []
        self.gateway_log: list[GatewayFrame] = []
        self.presence_updates: list[Payload] = []
        self.forbidden_channels: set[int] = set()
        self.dm_blocked_users: set[int] = set()

        self._injections: list[_Injection] = []
        self._nonces: dict[tuple[int, str], int] = {}
        self._connections: list[_GatewayConnection] = []
        self._routes: list[_RouteSpec] = []
        self._cond: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._saved_discord_py: tuple[str, yarl.URL] | None = None
        self._register_routes()

    # ---------------------------------------------------------------- setup helpers

    def _add_guild(self, guild: FakeGuild, bot_permissions: int) -> None:
        guild.__post_init__()
        if guild.get_member(self.bot_user.id) is None:
            role_id = self.snowflake()
            guild.roles.append(
                FakeRole(
                    id=role_id,
                    name=self.bot_user.username,
                    permissions=bot_permissions,
                    managed=True,
                    position=len(guild.roles),
                )
            )
            guild.members.append(FakeMember(self.bot_user, roles=[role_id]))
        self.guilds[guild.id] = guild
        for channel in guild.channels:
            channel.guild_id = guild.id
            self.channels[channel.id] = channel
        for member in guild.members:
            self.users.setdefault(member.user.id, member.user)

    def snowflake(self) -> int:
        """A fresh, strictly increasing snowflake based on the current time."""
        value = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        if value <= self._last_snowflake:
            value = self._last_snowflake + 1
        self._last_snowflake = value
        return value

    # Convenience accessors for the default setup.
    @property
    def guild(self) -> FakeGuild:
        """The first guild."""
        return next(iter(self.guilds.values()))

    @property
    def channel(self) -> FakeChannel:
        """The first text channel of the first guild."""
        return next(c for c in self.guild.channels if c.type == 0)

    @property
    def alice(self) -> FakeUser:
        """The first non-bot member of the first guild."""
        return next(m.user for m in self.guild.members if not m.user.bot)

    @property
    def bob(self) -> FakeUser:
        """The second non-bot member of the first guild."""
        return [m.user for m in self.guild.members if not m.user.bot][1]

    # ---------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeDiscord is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Gateway URL (also sent as READY's ``resume_gateway_url``)."""
        return f"ws://{self.host}:{self.port}/gateway"

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._cond = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway_handler)
        app.router.add_route("*", "/{tail:.*}", self._http_handler)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])
        if self.patch_discord_py:
            self._patch()
        _log.debug("FakeDiscord listening on %s", self.base_url)

    async def stop(self) -> None:
        if self._runner is None:
            return
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001, message=b"fake discord stopping")
        await self._runner.cleanup()
        self._runner = None
        self._unpatch()

    label = "FakeDiscord"

    def _patch(self) -> None:
        if self._saved_discord_py is None:
            self._saved_discord_py = (
                discord.http.Route.BASE,
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            )
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    def _unpatch(self) -> None:
        if self._saved_discord_py is not None:
            base, gateway = self._saved_discord_py
            discord.http.Route.BASE = base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
            self._saved_discord_py = None

    @contextlib.contextmanager
    def configure_discord_py(self) -> Iterator[None]:
        """Point discord.py at this fake for the ``with`` block (restores afterwards).

        Only needed with ``patch_discord_py=False``; these are process-wide class
        attributes, so run one fake per process at a time.
        """
        saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved

    @contextlib.asynccontextmanager
    async def running(
        self,
        client: discord.Client,
        *,
        wait_until_ready: bool = True,
        timeout: float = 10.0,
    ) -> AsyncIterator[discord.Client]:
        """Run ``client.start(self.token)`` for the ``async with`` block.

        Waits until the fake sent READY + GUILD_CREATEs to this client and, with
        ``wait_until_ready``, until discord.py dispatched ``on_ready`` (which happens
        ``guild_ready_timeout`` seconds after the last GUILD_CREATE: create test clients
        with e.g. ``guild_ready_timeout=0.05``).  On exit closes the client and awaits
        its task (and until the fake saw the gateway close); errors of the task
        (e.g. ``LoginFailure``) are raised.
        """
        before = len(self.sessions)
        task = asyncio.create_task(client.start(self.token), name="fake-discord-client")
        body_failed = False
        try:
            waiter = asyncio.create_task(
                self.wait_until_ready(sessions=before + 1, timeout=timeout)
            )
            done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError, FakeDiscordTimeout):
                    await waiter
                task.result()
                raise RuntimeError("discord client stopped before READY")
            await waiter
            if wait_until_ready:
                try:
                    async with asyncio.timeout(timeout):
                        await client.wait_until_ready()
                except TimeoutError:
                    raise FakeDiscordTimeout(
                        f"client.wait_until_ready() did not return within {timeout}s"
                    ) from None
            yield client
        except BaseException:
            body_failed = True
            raise
        finally:
            await client.close()
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.wait({task})
            except TimeoutError:
                task.cancel()
            # Let the fake see the close too, so the next client starts from a clean slate.
            with contextlib.suppress(FakeDiscordTimeout):
                await self._wait(
                    lambda: None if any(s.connected for s in self.sessions[before:]) else True,
                    timeout,
                    "the client's gateway connection to close",
                )
            if not body_failed and task.done() and not task.cancelled():
                task.result()

    # ---------------------------------------------------------------- recording helpers

    async def _notify(self) -> None:
        if self._cond is None:
            return
        async with self._cond:
            self._cond.notify_all()

    async def _wait(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        if self._cond is None:
            raise RuntimeError("FakeDiscord is not started")
        try:
            async with asyncio.timeout(timeout):
                async with self._cond:
                    while True:
                        result = check()
                        if result is not None:
                            return result
                        await self._cond.wait()
        except TimeoutError:
            recent = ", ".join(repr(c) for c in self.calls[-8:]) or "none"
            raise FakeDiscordTimeout(
                f"timed out after {timeout}s waiting for {what}; recent calls: {recent}; "
                f"unhandled: {self.unhandled!r}"
            ) from None

    def _log_frame(
        self, direction: Literal["send", "recv"], frame: Payload, session: GatewaySession | None
    ) -> None:
        self.gateway_log.append(
            GatewayFrame(
                direction=direction,
                op=frame.get("op"),
                t=frame.get("t"),
                s=frame.get("s"),
                d=frame.get("d"),
                session_id=session.session_id if session else None,
            )
        )

    def mark(self) -> int:
        """Index of the next call (use as ``since=`` in the wait helpers)."""
        return len(self.calls)

    def _call_matches(
        self,
        call: Call,
        predicate: Callable[[Call], bool] | None,
        method: str | None,
        path: str | None,
        route: str | None,
    ) -> bool:
        if method is not None and call.method != method.upper():
            return False
        if route is not None and call.route != route:
            return False
        if path is not None and re.fullmatch(path, call.path) is None:
            return False
        return predicate is None or predicate(call)

    def find_calls(
        self,
        predicate: Callable[[Call], bool] | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        route: str | None = None,
        since: int = 0,
    ) -> list[Call]:
        """Recorded calls matching all given filters.

        ``path`` is a regex matched with ``re.fullmatch`` against :attr:`Call.path`;
        ``route`` is compared with the template (see :attr:`Call.route`).
        """
        return [
            c for c in self.calls[since:] if self._call_matches(c, predicate, method, path, route)
        ]

    async def wait_for_call(
        self,
        predicate: Callable[[Call], bool] | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        route: str | None = None,
        since: int = 0,
        timeout: float = 5.0,
    ) -> Call:
        """First call (index >= ``since``) matching the filters; waits for it.

        Returns when the fake has *answered* the call; discord.py may still be
        processing the answer (e.g. registering a view), so synchronise on something
        the bot does afterwards when that matters.
        """
        calls = await self.wait_for_calls(
            predicate, method=method, path=path, route=route, since=since, count=1, timeout=timeout
        )
        return calls[0]

    async def wait_for_calls(
        self,
        predicate: Callable[[Call], bool] | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        route: str | None = None,
        since: int = 0,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """The first ``count`` matching calls (index >= ``since``); waits for them."""

        def check() -> list[Call] | None:
            found = self.find_calls(predicate, method=method, path=path, route=route, since=since)
            return found[:count] if len(found) >= count else None

        return await self._wait(
            check, timeout, f"{count} call(s) method={method} path={path} route={route}"
        )

    async def wait_until_ready(self, *, sessions: int = 1, timeout: float = 5.0) -> GatewaySession:
        """Wait until at least ``sessions`` sessions were IDENTIFYed and the newest one
        got READY + its GUILD_CREATEs and is connected."""

        def check() -> GatewaySession | None:
            if len(self.sessions) < sessions:
                return None
            newest = self.sessions[-1]
            if newest.ready and newest.connected and not newest.invalidated:
                return newest
            return None

        return await self._wait(check, timeout, f"gateway session #{sessions} to be ready")

    async def wait_until_disconnected(self, *, timeout: float = 5.0) -> None:
        """Wait until no gateway connection is open."""
        await self._wait(
            lambda: True if not self._connections else None, timeout, "gateway disconnect"
        )

    async def wait_for(
        self, check: Callable[[], T | None], *, timeout: float = 5.0, what: str = "condition"
    ) -> T:
        """Wait until ``check()`` returns non-None; re-checked whenever the fake records
        a call or a gateway change."""
        return await self._wait(check, timeout, what)

    def _unhandled_lines(self) -> list[str]:
        return [
            f"  {u.kind} {u.method} {u.path} {u.detail} body={u.body!r}" for u in self.unhandled
        ]

    # ---------------------------------------------------------------- store accessors

    def get_message(self, message_id: int) -> Payload:
        try:
            return self.messages[int(message_id)]
        except KeyError:
            raise KeyError(f"no message {message_id} in the fake") from None

    def channel_messages(self, channel_id: int, *, include_ephemeral: bool = True) -> list[Payload]:
        """Messages in a channel, oldest first (ephemeral ones have flags & 64)."""
        cid = str(channel_id)
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == cid and (include_ephemeral or not m["flags"] & FLAG_EPHEMERAL)
        ]

    def interaction(self, interaction: Payload | int) -> InteractionRecord:
        """The record of an interaction (payload or id)."""
        iid = int(interaction["id"]) if isinstance(interaction, dict) else int(interaction)
        return self.interactions[iid]

    def last_modal(self) -> Payload:
        """``data`` of the most recent modal (type 9) response."""
        if not self.modals:
            raise AssertionError("the bot has not opened any modal")
        return self.modals[-1]

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        path_regex: str | None = None,
        status: int | None = None,
        body: Any = None,
        *,
        count: int = 1,
        times: int | None = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        after_effect: bool = False,
    ) -> None:
        """Answer the next ``count`` (or ``times``) matching requests with ``status`` /
        ``body``.

        ``after_effect``: the request is carried out first and only its answer is replaced
        (a gateway error after Discord took the message).

        ``method`` may be ``"*"``; ``path_regex`` is ``re.fullmatch``-ed against the
        path below the API base (e.g. ``r"/channels/\\d+/messages"``); the form shared by
        every fake puts both in ``method``: ``fail_next("POST /channels/\\d+/messages",
        status=429, retry_after=0.2)``. 429 is :meth:`rate_limit_next`. Note that
        discord.py retries 500/502/504 (and webhooks any 5xx) with 1 s, 3 s, ... sleeps.
        """
        if path_regex is None:
            method, _, path_regex = method.partition(" ")
        if status is None:
            raise TypeError("fail_next needs a status")
        count = times_or_count(times, count)
        if status == 429 and body is None:
            self.rate_limit_next(method, path_regex, retry_after or 0.2, count)
            return
        if body is None:
            body = {"message": f"{status}: injected by FakeDiscord", "code": 0}
        self._injections.append(
            _Injection(
                method=method.upper(),
                regex=re.compile(path_regex),
                remaining=count,
                status=status,
                body=body,
                headers=dict(headers or {}),
                after_effect=after_effect,
            )
        )

    def rate_limit_next(
        self,
        method: str,
        path_regex: str,
        retry_after: float = 0.2,
        count: int = 1,
        *,
        global_: bool = False,
    ) -> None:
        """Answer the next ``count`` matching requests with a 429 discord.py honours."""
        reset = time.time() + retry_after
        headers = {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{reset:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Scope": "global" if global_ else "user",
            "Retry-After": str(max(1, int(retry_after + 0.999))),
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        self.fail_next(
            method,
            path_regex,
            429,
            {
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": global_,
            },
            count=count,
            headers=headers,
        )

    def forbid(self, channel_id: int) -> None:
        """Message posts (and thread creation) in the channel answer 403 / 50013.

        Interaction responses and followups still work there (as on Discord); the
        channel's ``app_permissions`` in built interactions lack SEND_MESSAGES.
        """
        self.forbidden_channels.add(int(channel_id))

    def allow(self, channel_id: int) -> None:
        self.forbidden_channels.discard(int(channel_id))

    def block_dms(self, user_id: int) -> None:
        """DMs to the user answer 403 / 50007 "Cannot send messages to this user"."""
        self.dm_blocked_users.add(int(user_id))

    # ---------------------------------------------------------------- HTTP server

    def _register_routes(self) -> None:
        def add(method: str, template: str, handler: _Handler, *, auth: bool = True) -> None:
            self._routes.append(
                _RouteSpec(method, template, _compile_template(template), handler, auth)
            )

        add("GET", "/users/@me", self._h_get_me)
        add("GET", "/oauth2/applications/@me", self._h_get_application)
        add("GET", "/applications/@me", self._h_get_application)
        add("GET", "/gateway", self._h_get_gateway)
        add("GET", "/gateway/bot", self._h_get_gateway_bot)
        add("POST", "/users/@me/channels", self._h_create_dm)
        add("GET", "/users/{user_id}", self._h_get_user)
        for base in (ROUTE_GLOBAL_COMMANDS, ROUTE_GUILD_COMMANDS):
            add("PUT", base, self._h_put_commands)
            add("GET", base, self._h_get_commands)
            add("POST", base, self._h_post_command)
            add("GET", base + "/{command_id}", self._h_get_command)
            add("DELETE", base + "/{command_id}", self._h_delete_command)
        add("GET", "/channels/{channel_id}", self._h_get_channel)
        add("POST", ROUTE_CHANNEL_MESSAGES, self._h_create_message)
        add("GET", ROUTE_CHANNEL_MESSAGES, self._h_list_messages)
        add("GET", ROUTE_CHANNEL_MESSAGE, self._h_get_message)
        add("PATCH", ROUTE_CHANNEL_MESSAGE, self._h_edit_message)
        add("DELETE", ROUTE_CHANNEL_MESSAGE, self._h_delete_message)
        reaction = ROUTE_CHANNEL_MESSAGE + "/reactions/{emoji}/@me"
        add("PUT", reaction, self._h_reaction)
        add("DELETE", reaction, self._h_reaction)
        add("POST", ROUTE_MESSAGE_THREADS, self._h_thread_from_message)
        add("POST", "/channels/{channel_id}/threads", self._h_thread_without_message)
        add("POST", "/channels/{channel_id}/typing", self._h_typing)
        add("GET", "/guilds/{guild_id}", self._h_get_guild)
        add("GET", "/guilds/{guild_id}/channels", self._h_get_guild_channels)
        add("GET", "/guilds/{guild_id}/roles", self._h_get_guild_roles)
        add("GET", "/guilds/{guild_id}/members/{user_id}", self._h_get_guild_member)
        add("POST", ROUTE_INTERACTION_CALLBACK, self._h_interaction_callback, auth=False)
        add("POST", ROUTE_WEBHOOK, self._h_webhook_execute, auth=False)
        add("GET", ROUTE_WEBHOOK_MESSAGE, self._h_webhook_get, auth=False)
        add("PATCH", ROUTE_WEBHOOK_MESSAGE, self._h_webhook_edit, auth=False)
        add("DELETE", ROUTE_WEBHOOK_MESSAGE, self._h_webhook_delete, auth=False)

    @staticmethod
    def _ratelimit_headers(method: str, template: str) -> dict[str, str]:
        return {
            "X-RateLimit-Bucket": _bucket_hash(method, template),
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
        }

    async def _read_body(self, request: web.Request) -> tuple[Any, bytes, list[UploadedFile]]:
        content_type = request.content_type
        files: list[UploadedFile] = []
        if content_type.startswith("multipart/"):
            payload: Any = None
            raw = b""
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                data = await part.read(decode=False)
                if part.name == "payload_json":
                    raw = bytes(data)
                    payload = json.loads(raw)
                else:
                    files.append(
                        UploadedFile(
                            field=part.name or "",
                            filename=part.filename,
                            content_type=part.headers.get("Content-Type"),
                            data=bytes(data),
                        )
                    )
            return payload, raw, files
        raw = await request.read()
        if not raw:
            return None, raw, files
        try:
            return json.loads(raw), raw, files
        except ValueError:
            return None, raw, files

    async def _http_handler(self, request: web.Request) -> web.StreamResponse:
        full_path = request.path
        match = re.match(r"^/api/v\d+(/.*)$", full_path)
        path = match.group(1) if match else full_path
        method = request.method.upper()
        body, raw, files = await self._read_body(request)
        query = {k: v for k, v in request.query.items()}
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "content-type", "user-agent", "x-audit-log-reason")
        }
        route_spec: _RouteSpec | None = None
        params: dict[str, str] = {}
        if match:
            for spec in self._routes:
                if spec.method != method:
                    continue
                m = spec.regex.fullmatch(path)
                if m:
                    route_spec, params = spec, m.groupdict()
                    break

        injected = False
        response: _Response
        injection = next(
            (
                i
                for i in self._injections
                if i.remaining > 0 and i.method in ("*", method) and i.regex.fullmatch(path)
            ),
            None,
        )
        late = injection if injection is not None and injection.after_effect else None
        if late is not None:
            injection = None
        if injection is not None:
            injection.remaining -= 1
            if injection.remaining <= 0:
                self._injections.remove(injection)
            injected = True
            extra = dict(injection.headers)
            if route_spec is not None:
                extra.setdefault("X-RateLimit-Bucket", _bucket_hash(method, route_spec.template))
            response = _Response(injection.status, injection.body, extra)
        elif route_spec is None:
            detail = "no such route in FakeDiscord"
            self.unhandled.append(Unhandled("http", method, path, body, detail))
            _log.warning("FakeDiscord: unhandled %s %s", method, path)
            response = _Response(
                404,
                {
                    "message": f"404: Not Found (FakeDiscord does not implement {method} {path})",
                    "code": 0,
                },
            )
        elif route_spec.auth and request.headers.get("Authorization") != f"Bot {self.token}":
            response = _Response(401, {"message": "401: Unauthorized", "code": 0})
        else:
            req = _Request(method, path, params, query, body, files, request.headers)
            try:
                response = await route_spec.handler(req)
            except _ApiError as exc:
                response = _Response(exc.status, exc.body())
            except Exception as exc:
                _log.exception("FakeDiscord handler for %s %s crashed", method, path)
                self.unhandled.append(Unhandled("error", method, path, body, repr(exc)))
                # Not 5xx: discord.py would retry it with sleeps.
                response = _Response(
                    400, {"message": f"FakeDiscord internal error: {exc!r}", "code": 0}
                )
            response.headers = {
                **self._ratelimit_headers(method, route_spec.template),
                **response.headers,
            }
            if late is not None:  # carried out, but the answer is an error
                late.remaining -= 1
                if late.remaining <= 0:
                    self._injections.remove(late)
                injected = True
                response = _Response(late.status, late.body, dict(late.headers))

        call = Call(
            index=len(self.calls),
            method=method,
            path=path,
            route=route_spec.template if route_spec else None,
            params=params,
            query=query,
            json=body,
            body=raw,
            headers=headers,
            files=files,
            status=response.status,
            response=response.body,
            injected=injected,
        )
        self.calls.append(call)
        _log.debug("FakeDiscord %s %s -> %s", method, path, response.status)
        await self._notify()

        out_headers = {"Via": "1.1 google", **response.headers}
        if response.status == 204 or response.body is None:
            return web.Response(status=response.status, headers=out_headers)
        out_headers["Content-Type"] = _JSON_CT
        return web.Response(
            status=response.status,
            body=json.dumps(response.body, separators=(",", ":")).encode(),
            headers=out_headers,
        )

    # ---------------------------------------------------------------- lookups

    def _get_channel(self, channel_id: str | int) -> FakeChannel:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise _ApiError(404, "Unknown Channel", 10003) from None

    def _get_guild(self, guild_id: str | int) -> FakeGuild:
        try:
            return self.guilds[int(guild_id)]
        except (KeyError, ValueError):
            raise _ApiError(404, "Unknown Guild", 10004) from None

    def _get_channel_message(self, channel_id: str | int, message_id: str | int) -> Payload:
        try:
            msg = self.messages[int(message_id)]
        except (KeyError, ValueError):
            raise _ApiError(404, "Unknown Message", 10008) from None
        if msg["channel_id"] != str(channel_id):
            raise _ApiError(404, "Unknown Message", 10008)
        return msg

    def _check_can_post(self, channel: FakeChannel) -> None:
        if channel.id in self.forbidden_channels or (
            channel.parent_id is not None and channel.parent_id in self.forbidden_channels
        ):
            raise _ApiError(403, "Missing Permissions", 50013)
        if channel.type == 1 and any(u.id in self.dm_blocked_users for u in channel.recipients):
            raise _ApiError(403, "Cannot send messages to this user", 50007)

    def _resolve_user(self, user: UserLike | None) -> FakeUser:
        if user is None:
            return self.alice
        if isinstance(user, FakeMember):
            user = user.user
        if isinstance(user, FakeUser):
            self.users.setdefault(user.id, user)
            return user
        try:
            return self.users[int(user)]
        except KeyError:
            raise ValueError(f"unknown user id {user}; pass a FakeUser") from None

    def _app_info(self) -> Payload:
        owner = next(
            (self.users[g.owner_id] for g in self.guilds.values() if g.owner_id in self.users),
            self.bot_user,
        )
        return {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": owner.to_payload(),
            "team": None,
            "flags": self.application_flags,
            "interactions_endpoint_url": None,
            "bot": self.bot_user.to_payload(),
            "rpc_origins": [],
            "tags": [],
            "redirect_uris": [],
            "approximate_guild_count": len(self.guilds),
        }

    # ---------------------------------------------------------------- REST handlers

    async def _h_get_me(self, req: _Request) -> _Response:
        data = self.bot_user.to_payload()
        data.update({"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})
        return _Response(body=data)

    async def _h_get_application(self, req: _Request) -> _Response:
        return _Response(body=self._app_info())

    async def _h_get_gateway(self, req: _Request) -> _Response:
        return _Response(body={"url": self.gateway_url})

    async def _h_get_gateway_bot(self, req: _Request) -> _Response:
        return _Response(
            body={
                "url": self.gateway_url,
                "shards": self.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - len(self.sessions),
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _h_get_user(self, req: _Request) -> _Response:
        try:
            return _Response(body=self.users[int(req.params["user_id"])].to_payload())
        except (KeyError, ValueError):
            raise _ApiError(404, "Unknown User", 10013) from None

    async def _h_create_dm(self, req: _Request) -> _Response:
        recipient_id = int(req.body().get("recipient_id", 0))
        user = self.users.get(recipient_id)
        if user is None:
            raise _ApiError(404, "Unknown User", 10013)
        for channel in self.channels.values():
            if channel.type == 1 and channel.recipients and channel.recipients[0].id == user.id:
                return _Response(body=channel.to_payload())
        channel = FakeChannel(id=self.snowflake(), name="", type=1, recipients=[user])
        self.channels[channel.id] = channel
        return _Response(body=channel.to_payload())

    # -- application commands

    def _validate_command(self, cmd: Payload, index: int) -> None:
        where = f"{index}"
        name = cmd.get("name")
        ctype = cmd.get("type", 1)
        if not isinstance(name, str) or not (1 <= len(name) <= 32):
            raise _form_error(
                f"{where}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."
            )
        if ctype == 1:
            if not _COMMAND_NAME_RE.match(name) or name != name.lower():
                raise _form_error(
                    f"{where}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            desc = cmd.get("description", "")
            if not (1 <= len(desc) <= 100):
                raise _form_error(
                    f"{where}.description",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
        self._validate_options(cmd.get("options") or [], f"{where}.options")

    def _validate_options(self, options: list[Payload], where: str) -> None:
        if len(options) > 25:
            raise _form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        seen_optional = False
        names: set[str] = set()
        for i, opt in enumerate(options):
            name = opt.get("name", "")
            if not _COMMAND_NAME_RE.match(name) or name != name.lower():
                raise _form_error(
                    f"{where}.{i}.name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid name"
                )
            if name in names:
                raise _form_error(
                    f"{where}.{i}.name",
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    "Duplicate name",
                )
            names.add(name)
            if not (1 <= len(opt.get("description", "")) <= 100):
                raise _form_error(
                    f"{where}.{i}.description",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            if opt.get("type") in (1, 2):
                self._validate_options(opt.get("options") or [], f"{where}.{i}.options")
                continue
            if opt.get("required"):
                if seen_optional:
                    raise _form_error(
                        f"{where}.{i}.required",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
            choices = opt.get("choices") or []
            if len(choices) > 25:
                raise _form_error(
                    f"{where}.{i}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )

    def _store_command(self, scope: int | None, cmd: Payload, existing: Payload | None) -> Payload:
        stored = copy.deepcopy(cmd)
        stored["id"] = existing["id"] if existing else str(self.snowflake())
        stored["application_id"] = str(self.application_id)
        stored["version"] = str(self.snowflake())
        stored.setdefault("type", 1)
        stored.setdefault("description", "")
        stored.setdefault("default_member_permissions", None)
        stored.setdefault("nsfw", False)
        if scope is not None:
            stored["guild_id"] = str(scope)
        else:
            stored.setdefault("contexts", None)
            stored.setdefault("integration_types", [0])
        return stored

    def _command_scope(self, req: _Request) -> int | None:
        if int(req.params["application_id"]) != self.application_id:
            raise _ApiError(403, "Missing Access", 50001)
        if "guild_id" in req.params:
            return self._get_guild(req.params["guild_id"]).id
        return None

    async def _h_put_commands(self, req: _Request) -> _Response:
        scope = self._command_scope(req)
        if not isinstance(req.json, list):
            raise _form_error("_", "BASE_TYPE_ARRAY", "Must be an array.")
        if len(req.json) > 100:
            raise _form_error("_", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        for i, cmd in enumerate(req.json):
            self._validate_command(cmd, i)
        old = self.commands.get(scope, {})
        new: dict[str, Payload] = {}
        for cmd in req.json:
            key = f"{cmd.get('type', 1)}:{cmd['name']}"
            new[key] = self._store_command(scope, cmd, old.get(key))
        self.commands[scope] = new
        return _Response(body=list(new.values()))

    async def _h_get_commands(self, req: _Request) -> _Response:
        scope = self._command_scope(req)
        return _Response(body=list(self.commands.get(scope, {}).values()))

    async def _h_post_command(self, req: _Request) -> _Response:
        scope = self._command_scope(req)
        cmd = req.body()
        self._validate_command(cmd, 0)
        bucket = self.commands.setdefault(scope, {})
        key = f"{cmd.get('type', 1)}:{cmd['name']}"
        existed = key in bucket
        bucket[key] = self._store_command(scope, cmd, bucket.get(key))
        return _Response(200 if existed else 201, bucket[key])

    def _find_command_by_id(self, req: _Request) -> tuple[dict[str, Payload], str]:
        scope = self._command_scope(req)
        for key, cmd in self.commands.get(scope, {}).items():
            if cmd["id"] == req.params["command_id"]:
                return self.commands[scope], key
        raise _ApiError(404, "Unknown application command", 10063)

    async def _h_get_command(self, req: _Request) -> _Response:
        bucket, key = self._find_command_by_id(req)
        return _Response(body=bucket[key])

    async def _h_delete_command(self, req: _Request) -> _Response:
        bucket, key = self._find_command_by_id(req)
        del bucket[key]
        return _Response(204)

    # -- channels & messages

    async def _h_get_channel(self, req: _Request) -> _Response:
        return _Response(body=self._get_channel(req.params["channel_id"]).to_payload())

    def _validate_components(
        self, components: list[Payload], flags: int, where: str = "components"
    ) -> None:
        if flags & FLAG_IS_COMPONENTS_V2:
            if len(components) > 40:
                raise _form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length.")
            return
        if len(components) > 5:
            raise _form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        custom_ids: set[str] = set()
        for r, row in enumerate(components):
            if row.get("type") != 1:
                raise _form_error(
                    f"{where}.{r}.type",
                    "UNION_TYPE_CHOICES",
                    "Top-level components must be action rows",
                )
            children = row.get("components") or []
            if not (1 <= len(children) <= 5):
                raise _form_error(
                    f"{where}.{r}.components",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 5 in length.",
                )
            if any(c.get("type") != 2 for c in children) and len(children) != 1:
                raise _form_error(
                    f"{where}.{r}.components",
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "A select must be alone in its row",
                )
            for c, child in enumerate(children):
                here = f"{where}.{r}.components.{c}"
                custom_id = child.get("custom_id")
                is_link = child.get("type") == 2 and child.get("style") in (5, 6)
                if not is_link:
                    if not isinstance(custom_id, str) or not (1 <= len(custom_id) <= 100):
                        raise _form_error(
                            f"{here}.custom_id",
                            "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 100 in length.",
                        )
                    if custom_id in custom_ids:
                        raise _form_error(
                            f"{here}.custom_id",
                            "COMPONENT_CUSTOM_ID_DUPLICATED",
                            "Component custom id cannot be duplicated",
                        )
                    custom_ids.add(custom_id)
                if child.get("type") == 2 and len(child.get("label") or "") > 80:
                    raise _form_error(
                        f"{here}.label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length."
                    )
                if child.get("type") == 3:
                    options = child.get("options") or []
                    if not (1 <= len(options) <= 25):
                        raise _form_error(
                            f"{here}.options",
                            "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 25 in length.",
                        )
                    for o, option in enumerate(options):
                        if len(option.get("label", "")) > 100 or len(option.get("value", "")) > 100:
                            raise _form_error(
                                f"{here}.options.{o}",
                                "BASE_TYPE_MAX_LENGTH",
                                "Must be 100 or fewer in length.",
                            )

    def _validate_message(
        self, payload: Payload, files: list[UploadedFile], *, creating: bool
    ) -> None:
        content = payload.get("content")
        if content is not None and len(content) > _MAX_CONTENT:
            raise _form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = payload.get("embeds") or []
        if len(embeds) > 10:
            raise _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        for e, embed in enumerate(embeds):
            if len(embed.get("title") or "") > 256:
                raise _form_error(
                    f"embeds.{e}.title", "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length."
                )
            if len(embed.get("description") or "") > 4096:
                raise _form_error(
                    f"embeds.{e}.description",
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 4096 or fewer in length.",
                )
            if len(embed.get("fields") or []) > 25:
                raise _form_error(
                    f"embeds.{e}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
        components = payload.get("components")
        if components:
            self._validate_components(components, int(payload.get("flags") or 0))
        poll = payload.get("poll")
        if poll is not None:
            question = (poll.get("question") or {}).get("text") or ""
            if not (1 <= len(question) <= 300):
                raise _form_error(
                    "poll.question.text",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 300 in length.",
                )
            answers = poll.get("answers") or []
            if not (1 <= len(answers) <= 10):
                raise _form_error(
                    "poll.answers", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 10 in length."
                )
        if creating and not (
            content or embeds or components or files or poll or payload.get("sticker_ids")
        ):
            raise _ApiError(400, "Cannot send an empty message", 50006)

    def _attachments(
        self, channel_id: int, files: list[UploadedFile], payload: Payload
    ) -> list[Payload]:
        described = {
            str(a.get("id")): a for a in payload.get("attachments") or [] if isinstance(a, dict)
        }
        out: list[Payload] = []
        for index, f in enumerate(files):
            aid = self.snowflake()
            meta = described.get(str(index), {})
            filename = meta.get("filename") or f.filename or f"file{index}"
            url = f"{self.base_url}/attachments/{channel_id}/{aid}/{filename}"
            out.append(
                {
                    "id": str(aid),
                    "filename": filename,
                    "description": meta.get("description"),
                    "content_type": f.content_type,
                    "size": len(f.data),
                    "url": url,
                    "proxy_url": url,
                }
            )
        return out

    def _mentions(self, content: str, guild_id: int | None) -> tuple[list[Payload], list[str]]:
        users = [
            self.users[int(uid)].to_payload()
            for uid in dict.fromkeys(_MENTION_USER_RE.findall(content))
            if int(uid) in self.users
        ]
        roles: list[str] = []
        guild = self.guilds.get(guild_id) if guild_id else None
        if guild is not None:
            roles = [rid for rid in _MENTION_ROLE_RE.findall(content) if guild.get_role(int(rid))]
        return users, roles

    def _build_poll(self, poll: Payload) -> Payload:
        duration_h = int(poll.get("duration") or 24)
        return {
            "question": {"text": poll["question"]["text"]},
            "answers": [
                {"answer_id": i + 1, "poll_media": a.get("poll_media", {})}
                for i, a in enumerate(poll.get("answers") or [])
            ],
            "expiry": _iso(_now() + datetime.timedelta(hours=duration_h)),
            "allow_multiselect": bool(poll.get("allow_multiselect")),
            "layout_type": poll.get("layout_type", 1),
            "results": {"is_finalized": False, "answer_counts": []},
        }

    def _new_message(
        self,
        channel: FakeChannel,
        payload: Payload,
        files: list[UploadedFile],
        *,
        author: FakeUser,
        flags: int = 0,
        message_type: int = 0,
        webhook: bool = False,
        interaction: InteractionRecord | None = None,
    ) -> Payload:
        mid = self.snowflake()
        content = payload.get("content") or ""
        mentions, mention_roles = self._mentions(content, channel.guild_id)
        allowed_flags = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_IS_COMPONENTS_V2
        if interaction is not None or webhook:
            allowed_flags |= FLAG_EPHEMERAL
        msg: Payload = {
            "id": str(mid),
            "type": message_type,
            "channel_id": str(channel.id),
            "author": author.to_payload(),
            "content": content,
            "timestamp": _iso(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts")),
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": mention_roles,
            "attachments": self._attachments(channel.id, files, payload),
            "embeds": copy.deepcopy(payload.get("embeds") or []),
            "pinned": False,
            "flags": (int(payload.get("flags") or 0) & allowed_flags) | flags,
            "components": copy.deepcopy(payload.get("components") or []),
        }
        if payload.get("nonce") is not None:
            msg["nonce"] = payload["nonce"]
        if payload.get("poll"):
            msg["poll"] = self._build_poll(payload["poll"])
        ref = payload.get("message_reference")
        if ref:
            ref_mid = int(ref["message_id"])
            msg["message_reference"] = {
                "type": ref.get("type", 0),
                "message_id": str(ref_mid),
                "channel_id": str(ref.get("channel_id") or channel.id),
                "guild_id": _sid(channel.guild_id),
            }
            if ref_mid in self.messages:
                msg["referenced_message"] = copy.deepcopy(self.messages[ref_mid])
            elif ref.get("fail_if_not_exists", True):
                raise _form_error(
                    "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
            if message_type == 0:
                msg["type"] = 19
        if webhook or interaction is not None:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
        if interaction is not None:
            meta: Payload = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self.users[interaction.user_id].to_payload(),
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if interaction.original_message_id is not None:
                meta["original_response_message_id"] = str(interaction.original_message_id)
            if interaction.message_id is not None:
                meta["interacted_message_id"] = str(interaction.message_id)
            msg["interaction_metadata"] = meta
        self.messages[mid] = msg
        return msg

    def _apply_edit(self, msg: Payload, payload: Payload, files: list[UploadedFile]) -> None:
        if "content" in payload:
            msg["content"] = payload["content"] or ""
            guild_id = self.channels[int(msg["channel_id"])].guild_id
            msg["mentions"], msg["mention_roles"] = self._mentions(msg["content"], guild_id)
        if "embeds" in payload:
            msg["embeds"] = copy.deepcopy(payload["embeds"] or [])
        if "components" in payload:
            msg["components"] = copy.deepcopy(payload["components"] or [])
        if "flags" in payload and payload["flags"] is not None:
            keep = msg["flags"] & ~(FLAG_SUPPRESS_EMBEDS | FLAG_LOADING)
            msg["flags"] = keep | (int(payload["flags"]) & FLAG_SUPPRESS_EMBEDS)
        if "attachments" in payload or files:
            keep_ids = {
                str(a.get("id")) for a in payload.get("attachments") or [] if isinstance(a, dict)
            }
            kept = [a for a in msg["attachments"] if a["id"] in keep_ids]
            msg["attachments"] = kept + self._attachments(int(msg["channel_id"]), files, payload)
        msg["flags"] &= ~FLAG_LOADING
        msg["edited_timestamp"] = _iso()

    async def _h_create_message(self, req: _Request) -> _Response:
        channel = self._get_channel(req.params["channel_id"])
        if not channel.is_messageable:
            raise _ApiError(400, "Cannot send messages in a non-text channel", 50008)
        self._check_can_post(channel)
        payload = req.body()
        self._validate_message(payload, req.files, creating=True)
        nonce = payload.get("nonce")
        if payload.get("enforce_nonce") and nonce is not None:
            # Discord: the same nonce again within minutes returns the message already made.
            seen = self._nonces.get((channel.id, str(nonce)))
            if seen is not None and seen in self.messages:
                return _Response(body=self.messages[seen])
        msg = self._new_message(channel, payload, req.files, author=self.bot_user)
        if payload.get("enforce_nonce") and nonce is not None:
            self._nonces[(channel.id, str(nonce))] = int(msg["id"])
        await self._echo("MESSAGE_CREATE", msg, channel)
        return _Response(body=msg)

    async def _h_list_messages(self, req: _Request) -> _Response:
        channel = self._get_channel(req.params["channel_id"])
        limit = max(1, min(100, int(req.query.get("limit", 50))))
        msgs = [m for m in self.channel_messages(channel.id) if not m["flags"] & FLAG_EPHEMERAL]
        if "before" in req.query:
            msgs = [m for m in msgs if int(m["id"]) < int(req.query["before"])]
        if "after" in req.query:
            msgs = [m for m in msgs if int(m["id"]) > int(req.query["after"])]
            return _Response(body=list(reversed(msgs[:limit])))
        return _Response(body=list(reversed(msgs))[:limit])

    async def _h_get_message(self, req: _Request) -> _Response:
        msg = self._get_channel_message(req.params["channel_id"], req.params["message_id"])
        return _Response(body=msg)

    async def _h_edit_message(self, req: _Request) -> _Response:
        channel = self._get_channel(req.params["channel_id"])
        msg = self._get_channel_message(channel.id, req.params["message_id"])
        if msg["author"]["id"] != str(self.bot_user.id):
            raise _ApiError(403, "Cannot edit a message authored by another user", 50005)
        payload = req.body()
        self._validate_message(payload, req.files, creating=False)
        self._apply_edit(msg, payload, req.files)
        await self._echo("MESSAGE_UPDATE", msg, channel)
        return _Response(body=msg)

    async def _h_delete_message(self, req: _Request) -> _Response:
        channel = self._get_channel(req.params["channel_id"])
        msg = self._get_channel_message(channel.id, req.params["message_id"])
        if msg["author"]["id"] != str(self.bot_user.id) and channel.id in self.forbidden_channels:
            raise _ApiError(403, "Missing Permissions", 50013)
        del self.messages[int(msg["id"])]
        await self._echo(
            "MESSAGE_DELETE", {"id": msg["id"], "channel_id": msg["channel_id"]}, channel
        )
        return _Response(204)

    async def _h_reaction(self, req: _Request) -> _Response:
        self._get_channel_message(req.params["channel_id"], req.params["message_id"])
        return _Response(204)

    async def _h_typing(self, req: _Request) -> _Response:
        self._get_channel(req.params["channel_id"])
        return _Response(204)

    def _new_thread(
        self, parent: FakeChannel, body: Payload, *, thread_id: int, thread_type: int
    ) -> FakeChannel:
        if parent.type not in (0, 5, 15):
            raise _ApiError(400, "Cannot create a thread in this channel", 50024)
        self._check_can_post(parent)
        name = body.get("name") or ""
        if not (1 <= len(name) <= 100):
            raise _form_error(
                "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        thread = FakeChannel(
            id=thread_id,
            name=name,
            type=thread_type,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=self.bot_user.id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        self.channels[thread.id] = thread
        return thread

    def _thread_payload(self, thread: FakeChannel) -> Payload:
        data = thread.to_payload()
        data["member"] = {
            "id": str(thread.id),
            "user_id": str(self.bot_user.id),
            "join_timestamp": thread.created_at,
            "flags": 0,
        }
        return data

    async def _h_thread_from_message(self, req: _Request) -> _Response:
        parent = self._get_channel(req.params["channel_id"])
        msg = self._get_channel_message(parent.id, req.params["message_id"])
        if int(msg["id"]) in self.channels:
            raise _ApiError(400, "A thread has already been created for this message", 160004)
        thread = self._new_thread(parent, req.body(), thread_id=int(msg["id"]), thread_type=11)
        msg["flags"] |= FLAG_HAS_THREAD
        msg["thread"] = thread.to_payload()
        data = self._thread_payload(thread)
        await self._echo("THREAD_CREATE", {**data, "newly_created": True}, parent)
        return _Response(201, data)

    async def _h_thread_without_message(self, req: _Request) -> _Response:
        parent = self._get_channel(req.params["channel_id"])
        body = req.body()
        thread = self._new_thread(
            parent, body, thread_id=self.snowflake(), thread_type=int(body.get("type") or 12)
        )
        data = self._thread_payload(thread)
        await self._echo("THREAD_CREATE", {**data, "newly_created": True}, parent)
        return _Response(201, data)

    # -- guilds

    async def _h_get_guild(self, req: _Request) -> _Response:
        guild = self._get_guild(req.params["guild_id"])
        data = self._guild_payload(guild, members=False)
        for key in ("channels", "members", "threads", "voice_states", "presences"):
            data.pop(key, None)
        return _Response(body=data)

    async def _h_get_guild_channels(self, req: _Request) -> _Response:
        guild = self._get_guild(req.params["guild_id"])
        return _Response(body=[c.to_payload() for c in guild.channels])

    async def _h_get_guild_roles(self, req: _Request) -> _Response:
        guild = self._get_guild(req.params["guild_id"])
        return _Response(body=[r.to_payload() for r in guild.roles])

    async def _h_get_guild_member(self, req: _Request) -> _Response:
        guild = self._get_guild(req.params["guild_id"])
        member = guild.get_member(int(req.params["user_id"]))
        if member is None:
            raise _ApiError(404, "Unknown Member", 10007)
        return _Response(body=member.to_payload())

    # -- interactions

    def _interaction_by_token(self, application_id: str, token: str) -> InteractionRecord:
        if application_id != str(self.application_id):
            raise _ApiError(404, "Unknown Webhook", 10015)
        for record in self.interactions.values():
            if record.token == token:
                return record
        raise _ApiError(404, "Unknown Webhook", 10015)

    def _validate_modal(self, data: Payload) -> None:
        if not (1 <= len(data.get("title") or "") <= 45):
            raise _form_error(
                "data.title", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length."
            )
        if not (1 <= len(data.get("custom_id") or "") <= 100):
            raise _form_error(
                "data.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        components = data.get("components") or []
        if not (1 <= len(components) <= 5):
            raise _form_error(
                "data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
            )
        for i, comp in enumerate(components):
            where = f"data.components.{i}"
            if comp.get("type") == 1:
                inner = comp.get("components") or []
                if len(inner) != 1:
                    raise _form_error(
                        f"{where}.components", "BASE_TYPE_BAD_LENGTH", "Must be 1 in length."
                    )
                child = inner[0]
                if len(child.get("label") or "") > 45:
                    raise _form_error(
                        f"{where}.components.0.label",
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 45 or fewer in length.",
                    )
            elif comp.get("type") == 18:
                if not (1 <= len(comp.get("label") or "") <= 45):
                    raise _form_error(
                        f"{where}.label",
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 45 in length.",
                    )
                child = comp.get("component") or {}
            else:
                continue
            if "custom_id" in child and not (1 <= len(child["custom_id"]) <= 100):
                raise _form_error(
                    f"{where}.custom_id",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            if child.get("type") == 4:
                if len(child.get("placeholder") or "") > 100:
                    raise _form_error(
                        f"{where}.placeholder",
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 100 or fewer in length.",
                    )
                if len(child.get("value") or "") > 4000:
                    raise _form_error(
                        f"{where}.value", "BASE_TYPE_MAX_LENGTH", "Must be 4000 or fewer in length."
                    )

    async def _h_interaction_callback(self, req: _Request) -> _Response:
        try:
            record = self.interactions[int(req.params["interaction_id"])]
        except (KeyError, ValueError):
            raise _ApiError(404, "Unknown interaction", 10062) from None
        if record.token != req.params["interaction_token"]:
            raise _ApiError(404, "Unknown interaction", 10062)
        body = req.body()
        record.callbacks.append(copy.deepcopy(body))
        if record.responded:
            raise _ApiError(400, "Interaction has already been acknowledged.", 40060)
        rtype = int(body.get("type", 0))
        data: Payload = body.get("data") or {}
        allowed = {
            1: {1},
            2: {4, 5, 9},
            3: {4, 5, 6, 7, 9},
            4: {8},
            5: {4, 5, 6, 7} if record.message_id is not None else {4, 5},
        }.get(record.type, set())
        if rtype not in allowed:
            raise _form_error(
                "type",
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Response type {rtype} is invalid here",
            )
        channel = self.channels[record.channel_id]
        message: Payload | None = None
        message_type = 0
        if record.type == 2:
            command_type = (record.payload.get("data") or {}).get("type", 1)
            message_type = 20 if command_type == 1 else 23
        if rtype == 4:
            self._validate_message(data, req.files, creating=True)
            message = self._new_message(
                channel,
                data,
                req.files,
                author=self.bot_user,
                message_type=message_type,
                interaction=record,
            )
            record.original_message_id = int(message["id"])
        elif rtype == 5:
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._new_message(
                channel,
                {},
                [],
                author=self.bot_user,
                flags=flags,
                message_type=message_type,
                interaction=record,
            )
            record.original_message_id = int(message["id"])
        elif rtype in (6, 7):
            assert record.message_id is not None
            record.original_message_id = record.message_id
            if rtype == 7:
                target = self.messages.get(record.message_id)
                if target is None:
                    raise _ApiError(404, "Unknown Message", 10008)
                self._validate_message(data, req.files, creating=False)
                self._apply_edit(target, data, req.files)
                message = target
        elif rtype == 8:
            record.autocomplete_choices = list(data.get("choices") or [])
        elif rtype == 9:
            self._validate_modal(data)
            record.modal = copy.deepcopy(data)
            self.modals.append(record.modal)
        record.response_type = rtype

        if message is not None and not message["flags"] & FLAG_EPHEMERAL:
            await self._echo("MESSAGE_UPDATE" if rtype == 7 else "MESSAGE_CREATE", message, channel)

        callback: Payload = {"id": str(record.id), "type": record.type}
        if message is not None:
            callback["response_message_id"] = message["id"]
            callback["response_message_loading"] = rtype == 5
            callback["response_message_ephemeral"] = bool(message["flags"] & FLAG_EPHEMERAL)
        result: Payload = {"interaction": callback}
        if rtype in (4, 5, 7) and message is not None:
            result["resource"] = {"type": rtype, "message": message}
        return _Response(body=result)

    def _webhook_message(self, record: InteractionRecord, message_id: str) -> Payload:
        if message_id == "@original":
            if record.original_message_id is None:
                raise _ApiError(404, "Unknown Message", 10008)
            mid = record.original_message_id
        else:
            mid = int(message_id)
            if mid != record.original_message_id and mid not in record.followup_message_ids:
                raise _ApiError(404, "Unknown Message", 10008)
        msg = self.messages.get(mid)
        if msg is None:
            raise _ApiError(404, "Unknown Message", 10008)
        return msg

    async def _h_webhook_execute(self, req: _Request) -> _Response:
        record = self._interaction_by_token(
            req.params["application_id"], req.params["interaction_token"]
        )
        if not record.responded:
            # Discord: followups need an acknowledged interaction.
            raise _ApiError(404, "Unknown Webhook", 10015)
        payload = req.body()
        self._validate_message(payload, req.files, creating=True)
        channel = self.channels[record.channel_id]
        msg = self._new_message(
            channel, payload, req.files, author=self.bot_user, webhook=True, interaction=record
        )
        record.followup_message_ids.append(int(msg["id"]))
        if not msg["flags"] & FLAG_EPHEMERAL:
            await self._echo("MESSAGE_CREATE", msg, channel)
        if _truthy(req.query.get("wait")):
            return _Response(body=msg)
        return _Response(204)

    async def _h_webhook_get(self, req: _Request) -> _Response:
        record = self._interaction_by_token(
            req.params["application_id"], req.params["interaction_token"]
        )
        return _Response(body=self._webhook_message(record, req.params["message_id"]))

    async def _h_webhook_edit(self, req: _Request) -> _Response:
        record = self._interaction_by_token(
            req.params["application_id"], req.params["interaction_token"]
        )
        msg = self._webhook_message(record, req.params["message_id"])
        payload = req.body()
        self._validate_message(payload, req.files, creating=False)
        self._apply_edit(msg, payload, req.files)
        if not msg["flags"] & FLAG_EPHEMERAL:
            await self._echo("MESSAGE_UPDATE", msg, self.channels[int(msg["channel_id"])])
        return _Response(body=msg)

    async def _h_webhook_delete(self, req: _Request) -> _Response:
        record = self._interaction_by_token(
            req.params["application_id"], req.params["interaction_token"]
        )
        msg = self._webhook_message(record, req.params["message_id"])
        del self.messages[int(msg["id"])]
        return _Response(204)

    # ---------------------------------------------------------------- gateway

    def _guild_payload(self, guild: FakeGuild, *, members: bool) -> Payload:
        listed = (
            guild.members
            if members
            else [m for m in guild.members if m.user.id == self.bot_user.id]
        )
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": _sid(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.to_payload() for r in guild.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": guild.preferred_locale,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_video_channel_users": 25,
            "joined_at": _iso(),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(guild.members),
            "members": [m.to_payload() for m in listed],
            "channels": [c.to_payload() for c in guild.channels if not c.is_thread],
            "threads": [
                c.to_payload()
                for c in self.channels.values()
                if c.is_thread and c.guild_id == guild.id
            ],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        compress = request.query.get("compress") == "zlib-stream" and self.gateway_compression
        conn = _GatewayConnection(self, ws, compress)
        conn.query = dict(request.query)
        self._connections.append(conn)
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    try:
                        frame = json.loads(msg.data)
                    except ValueError:
                        self.unhandled.append(
                            Unhandled("gateway", "TEXT", "/gateway", msg.data, "bad json")
                        )
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                        break
                    self._log_frame("recv", frame, conn.session)
                    await self._on_gateway_frame(conn, frame)
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    self.unhandled.append(
                        Unhandled(
                            "gateway", "BINARY", "/gateway", msg.data, "binary frame from client"
                        )
                    )
                else:
                    break
        except ConnectionResetError:
            pass
        finally:
            conn.closed = True
            conn.close_code = ws.close_code
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
                if conn.close_code in (1000, 1001):
                    # A clean close by the client ends the session (no RESUME possible).
                    # NB: discord.py 2.7.1 + aiohttp 3.x actually sends 4000 from
                    # client.close(), so its sessions stay resumable, as on Discord.
                    session.invalidated = True
            if conn in self._connections:
                self._connections.remove(conn)
            await self._notify()
        return ws

    async def _on_gateway_frame(self, conn: _GatewayConnection, frame: Payload) -> None:
        op = frame.get("op")
        data = frame.get("d")
        if op == 1:
            if conn.session is not None:
                conn.session.heartbeats += 1
            await conn.send({"op": 11})
        elif op == 2:
            await self._on_identify(conn, data or {})
        elif op == 6:
            await self._on_resume(conn, data or {})
        elif op == 3:
            self.presence_updates.append(data or {})
        elif op == 8:
            await self._on_request_members(conn, data or {})
        else:
            self.unhandled.append(
                Unhandled("gateway", f"op {op}", "/gateway", data, "opcode not implemented")
            )

    async def _on_identify(self, conn: _GatewayConnection, data: Payload) -> None:
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        if conn.session is not None:
            await conn.ws.close(code=4005, message=b"Already authenticated.")
            return
        requested = int(data.get("intents") or 0) & PRIVILEGED_INTENTS
        if (
            self.enabled_privileged_intents is not None
            and requested & ~self.enabled_privileged_intents
        ):
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = _shard_field(data.get("shard"))
        if shard is None:
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        session = GatewaySession(
            number=len(self.sessions) + 1,
            session_id=secrets.token_hex(16),
            identify=copy.deepcopy(data),
            intents=int(data.get("intents") or 0),
            shard=shard,
        )
        session.alongside = [s.number for s in self.sessions if s.live and s.shard == shard]
        conn.session = session
        session.connection = conn
        self.sessions.append(session)
        ready: Payload = {
            "v": 10,
            "user": {
                **self.bot_user.to_payload(),
                "verified": True,
                "mfa_enabled": False,
                "email": None,
            },
            "guilds": [
                {"id": str(g.id), "unavailable": True}
                for g in self.guilds.values()
                if session.serves(g.id)
            ],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["fake-discord"],
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await self._send_dispatch(session, "READY", ready)
        if session.intents & INTENT_GUILDS:
            members = bool(session.intents & INTENT_GUILD_MEMBERS)
            for guild in self.guilds.values():
                if not session.serves(guild.id):
                    continue  # another shard's guild
                await self._send_dispatch(
                    session, "GUILD_CREATE", self._guild_payload(guild, members=members)
                )
        session.ready = True
        await self._notify()

    async def _on_resume(self, conn: _GatewayConnection, data: Payload) -> None:
        session = next((s for s in self.sessions if s.session_id == data.get("session_id")), None)
        if session is None or session.invalidated or data.get("token") != self.token:
            await conn.send({"op": 9, "d": False})
            return
        seq = int(data.get("seq") or 0)
        async with session.lock:
            old = session.connection
            conn.session = session
            session.connection = conn
            session.resumes += 1
            if old is not None and old is not conn:
                old.session = None
                with contextlib.suppress(Exception):
                    await old.ws.close(code=4000)
            for event in session.events:
                if event["s"] > seq:
                    await conn.send(event)
            session.seq += 1
            resumed = {"op": 0, "t": "RESUMED", "s": session.seq, "d": {"_trace": ["fake-discord"]}}
            session.events.append(resumed)
            await conn.send(resumed)
        await self._notify()

    async def _on_request_members(self, conn: _GatewayConnection, data: Payload) -> None:
        session = conn.session
        if session is None:
            return
        guild = self.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        members = guild.members
        if data.get("user_ids"):
            wanted = {int(u) for u in data["user_ids"]}
            members = [m for m in members if m.user.id in wanted]
        elif data.get("query"):
            q = str(data["query"]).lower()
            members = [m for m in members if m.user.username.lower().startswith(q)]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: Payload = {
            "guild_id": str(guild.id),
            "members": [m.to_payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send_dispatch(self, session: GatewaySession, event: str, data: Payload) -> int:
        async with session.lock:
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.events.append(frame)
            conn = session.connection
            if conn is not None and not conn.closed:
                try:
                    await conn.send(frame)
                except (ConnectionResetError, RuntimeError):
                    _log.debug("FakeDiscord: %s not delivered, connection closing", event)
            return session.seq

    def _current_session(self, guild_id: int | None = None) -> GatewaySession | None:
        """The newest session that gets ``guild_id``'s events (None: DMs, shard 0), if it is
        live; without sharding, simply the newest session."""
        newest = next((s for s in reversed(self.sessions) if s.serves(guild_id)), None)
        if newest is not None and newest.live:
            return newest
        return None

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The live session that would get ``guild_id``'s events now (None: a DM)."""
        return self._current_session(guild_id)

    async def dispatch(self, event: str, data: Payload, *, timeout: float = 5.0) -> int:
        """Send a DISPATCH (op 0) event to the connected client; returns its sequence.

        Goes to the session of the event's shard (its ``guild_id``; shard 0 without one).
        Waits (up to ``timeout``) for the newest such session to be READY (or RESUMED)
        and connected, so an event dispatched during a reconnect is delivered after the
        RESUME.  ``INTERACTION_CREATE`` payloads not made by the builders are
        registered so their callbacks are accepted.
        """
        guild_id = int(data["guild_id"]) if data.get("guild_id") else None
        shard = f"a ready gateway session (for shard of guild {guild_id})"
        session = await self._wait(lambda: self._current_session(guild_id), timeout, shard)
        data = copy.deepcopy(data)
        if event == "INTERACTION_CREATE":
            self._register_interaction(data).deliveries += 1
        return await self._send_dispatch(session, event, data)

    async def dispatch_interaction(
        self, payload: Payload, *, timeout: float = 5.0
    ) -> InteractionRecord:
        """``dispatch("INTERACTION_CREATE", payload)`` and return its record."""
        await self.dispatch("INTERACTION_CREATE", payload, timeout=timeout)
        return self.interaction(payload)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes (code 4000) and RESUMEs."""
        session = self._current_session()
        if session is None or session.connection is None:
            raise RuntimeError("no connected gateway session")
        await session.connection.send({"op": 7, "d": None})

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION.  Note: discord.py then re-IDENTIFYs on the same
        client, and its default ``before_identify_hook`` sleeps 5 s first."""
        session = self._current_session()
        if session is None or session.connection is None:
            raise RuntimeError("no connected gateway session")
        if not resumable:
            session.invalidated = True
        await session.connection.send({"op": 9, "d": resumable})

    async def _echo(self, event: str, message: Payload, channel: FakeChannel) -> None:
        if not self.echo_events:
            return
        session = self._current_session(channel.guild_id)
        if session is None or not session.connected:
            return
        if channel.type in (1, 3):
            needed = INTENT_DIRECT_MESSAGES
        elif event == "THREAD_CREATE":
            needed = INTENT_GUILDS
        else:
            needed = INTENT_GUILD_MESSAGES
        if not session.intents & needed:
            return
        data = copy.deepcopy(message)
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
            guild = self.guilds[channel.guild_id]
            author_id = int(data.get("author", {}).get("id", 0))
            member = guild.get_member(author_id)
            if member is not None and event in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
                data["member"] = member.to_payload(with_user=False)
        await self._send_dispatch(session, event, data)

    # ---------------------------------------------------------------- payload builders

    def _register_interaction(self, payload: Payload) -> InteractionRecord:
        iid = int(payload["id"])
        record = self.interactions.get(iid)
        if record is not None:
            return record
        user_data = (payload.get("member") or {}).get("user") or payload.get("user") or {}
        message = payload.get("message")
        channel_id = int(payload.get("channel_id") or payload["channel"]["id"])
        record = InteractionRecord(
            id=iid,
            token=payload["token"],
            type=int(payload["type"]),
            guild_id=int(payload["guild_id"]) if payload.get("guild_id") else None,
            channel_id=channel_id,
            user_id=int(user_data.get("id", 0)),
            payload=copy.deepcopy(payload),
            message_id=int(message["id"]) if message else None,
        )
        if record.user_id and record.user_id not in self.users:
            self.users[record.user_id] = FakeUser(
                id=record.user_id, username=user_data.get("username", "user")
            )
        self.interactions[iid] = record
        return record

    def _pick_channel(self, guild_id: int | None, channel_id: int | None) -> FakeChannel:
        if channel_id is not None:
            channel = self.channels.get(int(channel_id))
            if channel is None:
                raise ValueError(f"unknown channel {channel_id}")
            return channel
        guild = self.guilds[int(guild_id)] if guild_id is not None else self.guild
        return next(c for c in guild.channels if c.type == 0)

    def _member_payload(self, guild: FakeGuild, user: FakeUser, permissions: int | None) -> Payload:
        member = guild.get_member(user.id) or FakeMember(user)
        perms = guild.permissions_for(member) if permissions is None else permissions
        return member.to_payload(permissions=perms)

    def _base_interaction(
        self,
        itype: int,
        data: Payload | None,
        *,
        guild_id: int | None,
        channel_id: int | None,
        user: UserLike | None,
        message: Payload | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
    ) -> Payload:
        channel = self._pick_channel(guild_id, channel_id)
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        who = self._resolve_user(user)
        iid = self.snowflake()
        app_perms = ALL_PERMISSIONS
        if guild is not None:
            bot_member = guild.get_member(self.bot_user.id)
            app_perms = guild.permissions_for(bot_member) if bot_member else 0
            if channel.id in self.forbidden_channels:
                app_perms &= ~SEND_MESSAGES
        payload: Payload = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "token": f"fake-interaction-token-{iid}-{secrets.token_hex(8)}",
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel.to_payload(permissions=ALL_PERMISSIONS if guild is None else None),
            "locale": locale,
            "app_permissions": str(app_perms),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if data is not None:
            payload["data"] = data
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {
                "id": str(guild.id),
                "locale": guild.preferred_locale,
                "features": [],
            }
            payload["guild_locale"] = guild.preferred_locale
            member = self._member_payload(guild, who, permissions)
            payload["member"] = member
            payload["channel"]["permissions"] = member["permissions"]
            payload["authorizing_integration_owners"] = {"0": str(guild.id)}
            payload["context"] = 0
        else:
            payload["user"] = who.to_payload()
            payload["authorizing_integration_owners"] = {"1": str(who.id)}
            payload["context"] = 1
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        self._register_interaction(payload)
        return payload

    def _find_synced_command(
        self, guild_id: int | None, name: str, command_type: int
    ) -> tuple[int | None, Payload] | None:
        key = f"{command_type}:{name}"
        if guild_id is not None and key in self.commands.get(guild_id, {}):
            return guild_id, self.commands[guild_id][key]
        if key in self.commands.get(None, {}):
            return None, self.commands[None][key]
        return None

    def _option_value(
        self,
        name: str,
        value: Any,
        otype: int | None,
        guild: FakeGuild | None,
        resolved: Payload,
    ) -> tuple[int, Any]:
        if otype is None:
            if isinstance(value, bool):
                otype = 5
            elif isinstance(value, int):
                otype = 4
            elif isinstance(value, float):
                otype = 10
            elif isinstance(value, (FakeUser, FakeMember)):
                otype = 6
            elif isinstance(value, FakeChannel):
                otype = 7
            elif isinstance(value, FakeRole):
                otype = 8
            else:
                otype = 3
        if otype == 3:
            return otype, str(value)
        if otype == 4:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"option {name!r} needs an int, got {value!r}")
            return otype, value
        if otype == 5:
            return otype, bool(value)
        if otype == 10:
            return otype, float(value)
        if otype in (6, 9) and not isinstance(value, (FakeRole, FakeChannel)):
            if otype == 9 and isinstance(value, int) and guild and guild.get_role(value):
                value = guild.get_role(value)
            else:
                user = self._resolve_user(value)
                resolved.setdefault("users", {})[str(user.id)] = user.to_payload()
                member = guild.get_member(user.id) if guild else None
                if member is not None:
                    resolved.setdefault("members", {})[str(user.id)] = member.to_payload(
                        permissions=guild.permissions_for(member) if guild else None,
                        with_user=False,
                    )
                return otype, str(user.id)
        if otype in (8, 9):
            role = (
                value
                if isinstance(value, FakeRole)
                else (guild.get_role(int(value)) if guild else None)
            )
            if role is None:
                raise ValueError(f"option {name!r}: unknown role {value!r}")
            resolved.setdefault("roles", {})[str(role.id)] = role.to_payload()
            return otype, str(role.id)
        if otype == 7:
            channel = value if isinstance(value, FakeChannel) else self.channels.get(int(value))
            if channel is None:
                raise ValueError(f"option {name!r}: unknown channel {value!r}")
            resolved.setdefault("channels", {})[str(channel.id)] = channel.to_payload(
                permissions=ALL_PERMISSIONS
            )
            return otype, str(channel.id)
        raise ValueError(f"option {name!r}: option type {otype} is not supported by the builder")

    def _build_options(
        self,
        options: Mapping[str, Any],
        schema: list[Payload] | None,
        guild: FakeGuild | None,
        resolved: Payload,
        focused: str | None = None,
    ) -> list[Payload]:
        by_name = {o["name"]: o for o in schema} if schema is not None else {}
        if schema is not None:
            unknown = set(options) - set(by_name)
            if unknown:
                raise ValueError(f"options {sorted(unknown)} are not in the synced command")
            missing = [
                o["name"]
                for o in schema
                if o.get("required") and o["name"] not in options and o["name"] != focused
            ]
            if missing:
                raise ValueError(f"required options {missing} are missing")
        out: list[Payload] = []
        for name, value in options.items():
            spec = by_name.get(name)
            otype = int(spec["type"]) if spec else None
            if name == focused:
                out.append({"type": otype or 3, "name": name, "value": str(value), "focused": True})
                continue
            otype, converted = self._option_value(name, value, otype, guild, resolved)
            if (
                spec
                and spec.get("choices")
                and converted not in [c["value"] for c in spec["choices"]]
            ):
                raise ValueError(f"option {name!r}: {converted!r} is not one of the choices")
            out.append({"type": otype, "name": name, "value": converted})
        return out

    def _command_data(
        self,
        itype: int,
        guild_id: int | None,
        channel_id: int | None,
        name: str,
        subcommand: str | None,
        options: Mapping[str, Any] | None,
        group: str | None,
        focused: str | None = None,
    ) -> Payload:
        channel = self._pick_channel(guild_id, channel_id)
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        found = self._find_synced_command(guild.id if guild else None, name, 1)
        data: Payload = {"id": str(self.snowflake()), "name": name, "type": 1}
        schema: list[Payload] | None = None
        if found is not None:
            scope, cmd = found
            data["id"] = cmd["id"]
            if scope is not None:
                data["guild_id"] = str(scope)
            schema = cmd.get("options") or []
            for level in (group, subcommand):
                if level is None:
                    continue
                sub = next((o for o in schema if o["name"] == level and o["type"] in (1, 2)), None)
                if sub is None:
                    raise ValueError(f"/{name} has no subcommand (group) {level!r}")
                schema = sub.get("options") or []
        resolved: Payload = {}
        leaf = self._build_options(options or {}, schema, guild, resolved, focused)
        if subcommand is not None:
            leaf = [{"type": 1, "name": subcommand, "options": leaf}]
            if group is not None:
                leaf = [{"type": 2, "name": group, "options": leaf}]
        data["options"] = leaf
        if resolved:
            data["resolved"] = resolved
        return data

    def slash_command(
        self,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user: UserLike | None = None,
        name: str = "townhall",
        subcommand: str | None = "poll",
        options: Mapping[str, Any] | None = None,
        *,
        group: str | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
    ) -> Payload:
        """INTERACTION_CREATE payload for a chat-input command (type 2, data.type 1).

        ``/name [group] subcommand option=value ...``.  If the command was synced to the
        guild (or globally) its id, ``guild_id`` and option types come from the sync and
        the options are checked against it (unknown / missing required / not a choice
        → ``ValueError``); otherwise types are inferred from the Python values.
        Users / channels / roles may be given as Fake* objects (or ids) and end up in
        ``data.resolved``.  ``guild_id`` / ``channel_id`` / ``user`` default to the
        first guild, its first text channel and ``alice``.  ``permissions`` overrides
        the member's computed permissions.
        """
        channel = self._pick_channel(guild_id, channel_id)
        data = self._command_data(2, guild_id, channel.id, name, subcommand, options, group)
        return self._base_interaction(
            2,
            data,
            guild_id=guild_id,
            channel_id=channel.id,
            user=user,
            permissions=permissions,
            locale=locale,
        )

    def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user: UserLike | None,
        name: str,
        subcommand: str | None,
        options: Mapping[str, Any],
        focused: str,
        *,
        group: str | None = None,
    ) -> Payload:
        """APPLICATION_COMMAND_AUTOCOMPLETE (type 4) payload; ``focused`` names the
        option being typed (its value is sent as a string)."""
        channel = self._pick_channel(guild_id, channel_id)
        data = self._command_data(
            4, guild_id, channel.id, name, subcommand, options, group, focused
        )
        return self._base_interaction(4, data, guild_id=guild_id, channel_id=channel.id, user=user)

    def _message_arg(self, message: Payload | int) -> Payload:
        if isinstance(message, dict):
            return message
        return self.get_message(int(message))

    @staticmethod
    def _walk_components(components: list[Payload]) -> Iterator[Payload]:
        for comp in components:
            yield comp
            yield from FakeDiscord._walk_components(comp.get("components") or [])
            if isinstance(comp.get("component"), dict):
                yield from FakeDiscord._walk_components([comp["component"]])
            if isinstance(comp.get("accessory"), dict):
                yield from FakeDiscord._walk_components([comp["accessory"]])

    def component_click(
        self,
        message: Payload | int,
        custom_id: str,
        user: UserLike | None = None,
        *,
        values: Sequence[str] | None = None,
        component_type: int | None = None,
        check: bool = True,
    ) -> Payload:
        """MESSAGE_COMPONENT (type 3) payload: ``user`` clicks ``custom_id`` on ``message``
        (a message payload or the id of a message in the fake).

        The component type is taken from the message (button 2, string select 3 with
        ``values``, ...).  With ``check`` (default) a missing or disabled component raises
        ``ValueError`` since a real user could not click it.  The payload includes the
        message, so discord.py finds views stored by message id or persistent ones.
        """
        msg = self._message_arg(message)
        comp = next(
            (
                c
                for c in self._walk_components(msg.get("components") or [])
                if c.get("custom_id") == custom_id
            ),
            None,
        )
        if check and comp is None:
            raise ValueError(f"message {msg['id']} has no component with custom_id {custom_id!r}")
        if check and comp is not None and comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} on message {msg['id']} is disabled")
        ctype = component_type or (int(comp["type"]) if comp else (3 if values is not None else 2))
        data: Payload = {"custom_id": custom_id, "component_type": ctype}
        if ctype in (3, 5, 6, 7, 8):
            data["values"] = list(values or [])
        channel = self.channels[int(msg["channel_id"])]
        return self._base_interaction(
            3, data, guild_id=channel.guild_id, channel_id=channel.id, user=user, message=msg
        )

    def modal_submit(
        self,
        custom_id: str,
        values: Mapping[str, str | bool | Sequence[str]],
        user: UserLike | None = None,
        *,
        source: Payload | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        message: Payload | int | None = None,
        shape: Literal["auto", "action_row", "label"] = "auto",
    ) -> Payload:
        """MODAL_SUBMIT (type 5) payload for the modal ``custom_id`` with ``values``
        keyed by the inputs' custom ids (``str`` for text inputs / radio groups,
        list of str for selects / checkbox groups, ``bool`` for a checkbox).

        ``source``: the interaction payload that opened the modal; user, channel and
        message default to its.  With ``shape="auto"`` the submitted components mirror
        the modal the bot sent (action rows of text inputs, or the newer label
        components, type 18, that discord.py 2.7 uses for ``ui.Label``); missing text
        inputs are sent as "".  Unknown custom ids raise ``ValueError``.
        """
        if source is not None:
            src_user = (source.get("member") or {}).get("user") or source.get("user")
            if user is None and src_user:
                user = int(src_user["id"])
            channel_id = channel_id if channel_id is not None else int(source["channel_id"])
            if message is None and source.get("message"):
                message = source["message"]
        modal = next((m for m in reversed(self.modals) if m.get("custom_id") == custom_id), None)
        remaining = dict(values)

        def submitted(child: Payload) -> Payload:
            cid = child.get("custom_id", "")
            ctype = int(child.get("type", 4))
            out: Payload = {"type": ctype, "custom_id": cid}
            if "id" in child:
                out["id"] = child["id"]
            value = remaining.pop(cid, None)
            if ctype in (4, 21):
                out["value"] = "" if value is None else str(value)
            elif ctype == 23:
                out["value"] = bool(value)
            else:
                out["values"] = [] if value is None else [str(v) for v in value]  # type: ignore[union-attr]
            return out

        components: list[Payload] = []
        if modal is not None and shape == "auto":
            for comp in modal.get("components") or []:
                if comp.get("type") == 1:
                    components.append(
                        {
                            "type": 1,
                            "components": [submitted(c) for c in comp.get("components") or []],
                        }
                    )
                elif comp.get("type") == 18:
                    inner = comp.get("component") or {}
                    label: Payload = {"type": 18, "component": submitted(inner)}
                    if "id" in comp:
                        label["id"] = comp["id"]
                    components.append(label)
            if remaining:
                raise ValueError(f"modal {custom_id!r} has no inputs {sorted(remaining)}")
        else:
            for cid, value in values.items():
                if isinstance(value, bool):
                    child = {"type": 23, "custom_id": cid}
                elif isinstance(value, str):
                    child = {"type": 4, "custom_id": cid}
                else:
                    child = {"type": 3, "custom_id": cid}
                if shape == "label":
                    components.append({"type": 18, "component": submitted(child)})
                else:
                    components.append({"type": 1, "components": [submitted(child)]})
        data: Payload = {"custom_id": custom_id, "components": components}
        msg = self._message_arg(message) if message is not None else None
        if msg is not None and channel_id is None:
            channel_id = int(msg["channel_id"])
        return self._base_interaction(
            5, data, guild_id=guild_id, channel_id=channel_id, user=user, message=msg
        )

    def message_context_menu(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user: UserLike | None,
        name: str,
        message: Payload | int,
    ) -> Payload:
        """Message context-menu command (type 2, data.type 3) on ``message``."""
        msg = self._message_arg(message)
        channel = self._pick_channel(
            guild_id, channel_id if channel_id is not None else int(msg["channel_id"])
        )
        data: Payload = {
            "id": str(self.snowflake()),
            "name": name,
            "type": 3,
            "target_id": msg["id"],
            "resolved": {"messages": {msg["id"]: copy.deepcopy(msg)}},
        }
        found = self._find_synced_command(channel.guild_id, name, 3)
        if found is not None:
            data["id"] = found[1]["id"]
            if found[0] is not None:
                data["guild_id"] = str(found[0])
        return self._base_interaction(2, data, guild_id=guild_id, channel_id=channel.id, user=user)

    def user_context_menu(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user: UserLike | None,
        name: str,
        target: UserLike,
    ) -> Payload:
        """User context-menu command (type 2, data.type 2) on ``target``."""
        channel = self._pick_channel(guild_id, channel_id)
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        target_user = self._resolve_user(target)
        resolved: Payload = {"users": {str(target_user.id): target_user.to_payload()}}
        member = guild.get_member(target_user.id) if guild else None
        if guild is not None and member is not None:
            resolved["members"] = {
                str(target_user.id): member.to_payload(
                    permissions=guild.permissions_for(member), with_user=False
                )
            }
        data: Payload = {
            "id": str(self.snowflake()),
            "name": name,
            "type": 2,
            "target_id": str(target_user.id),
            "resolved": resolved,
        }
        found = self._find_synced_command(channel.guild_id, name, 2)
        if found is not None:
            data["id"] = found[1]["id"]
            if found[0] is not None:
                data["guild_id"] = str(found[0])
        return self._base_interaction(2, data, guild_id=guild_id, channel_id=channel.id, user=user)

    def user_message(
        self,
        channel_id: int | None = None,
        user: UserLike | None = None,
        content: str = "hello",
        **extra: Any,
    ) -> Payload:
        """Store a message written by ``user`` and return its MESSAGE_CREATE payload
        (dispatch it with ``fake.dispatch("MESSAGE_CREATE", payload)`` if wanted;
        note discord.py only sees ``content`` with the message_content intent)."""
        channel = self._pick_channel(None, channel_id)
        who = self._resolve_user(user)
        msg = self._new_message(channel, {"content": content, **extra}, [], author=who)
        data = copy.deepcopy(msg)
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
            member = self.guilds[channel.guild_id].get_member(who.id)
            if member is not None:
                data["member"] = member.to_payload(with_user=False)
        return data
