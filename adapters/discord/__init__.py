"""Discord: a discord.py gateway bot with the ``/townhall`` command, buttons and forms.

Started by ``townhall run`` when ``TOWNHALL_DISCORD_TOKEN`` is set. Only translates: Discord
interactions and messages become core events (see :mod:`.translate`, :mod:`.interactions`),
core views become embeds with buttons (see :mod:`.render`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, Literal

import aiohttp
import discord
import structlog
from aiohttp import web

from adapters.discord.client import TownhallClient
from adapters.discord.endpoints import Endpoints, api_base
from adapters.discord.interactions import Bridge, Settled
from adapters.discord.render import MessageParts, message_parts
from adapters.discord.translate import PLATFORM
from bot.adapter import Capabilities, Dispatch, SendRates
from bot.config import ConfigError, Settings
from bot.errors import DeliveryError
from bot.events import MessageRef, Target
from bot.grammar import CommandSpec
from bot.leases import Role, per_bot
from bot.views import Card, View, clip

__all__ = ["DiscordAdapter", "api_base", "delivery_error", "from_settings"]

log = structlog.get_logger("townhall.discord")
#: Under a lease, how long start waits for READY (less than a lease lasts unrenewed).
LEASED_READY_WAIT = 3.0

THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080  # a week: consultations run for days


def from_settings(settings: Settings, commands: Sequence[CommandSpec] = ()) -> DiscordAdapter:
    """``commands``: the core's; each offered as a slash command becomes a ``/townhall``
    subcommand (see commands.py)."""
    assert settings.discord_token is not None
    return DiscordAdapter(
        settings.discord_token.get_secret_value(),
        api_url=settings.discord_api_url,
        gateway_url=settings.discord_gateway_url,
        guild_ids=settings.guild_ids,
        policy_role=settings.discord_policy_role,
        thread_answers=settings.discord_thread_answers,
        commands=commands,
        shards=settings.discord_shards,
    )


class DiscordAdapter:
    """The Discord side of Townhall (see the module docstring)."""

    name = PLATFORM

    def __init__(
        self,
        token: str,
        *,
        api_url: str | None = None,
        gateway_url: str | None = None,
        guild_ids: list[int] | tuple[int, ...] = (),
        policy_role: str | None = None,
        thread_answers: bool = False,
        guild_ready_timeout: float = 2.0,
        defer_after: float = 1.5,
        ready_timeout: float = 30.0,
        commands: Sequence[CommandSpec] = (),
        shards: int = 1,
    ) -> None:
        if shards < 1:
            raise ValueError("shards must be at least 1")
        self._token = token
        #: Gateway shards: 1 is one session (a lease for the whole gateway); more are one
        #: session each, each under its own lease, so several workers share them.
        self.shards = shards
        self.api_url = api_url
        self.gateway_url = gateway_url
        self.guild_ids = list(guild_ids)
        self.policy_role = policy_role
        self.thread_answers = thread_answers
        self.guild_ready_timeout = guild_ready_timeout
        self.defer_after = defer_after
        self.ready_timeout = ready_timeout
        #: The core's commands; those offered as slash commands become ``/townhall`` ones.
        self.commands = tuple(commands)
        # The outbox key is sent as an enforced nonce: sends are idempotent.
        self.capabilities = Capabilities(
            modals=True,
            threads=thread_answers,
            ephemeral=True,
            max_text=2000,
            idempotent_sends=True,
            # Discord's global limit and a channel's message bucket; discord.py follows the
            # exact per-route buckets from the X-RateLimit headers within each worker.
            send_rates=SendRates(overall="50/second", per_chat="5/5seconds"),
        )
        #: How each interaction / message ended, by its id (awaitable; used by tests).
        self.settled = Settled()
        #: With several shards, ``client`` only sends over REST; these run the shards this
        #: worker holds (shard id -> its client and gateway task).
        self.shard_clients: dict[int, TownhallClient] = {}
        self._shard_tasks: dict[int, asyncio.Task[None]] = {}
        self.client: TownhallClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self._dispatch: Dispatch | None = None
        #: The gateway is run under a lease by the app (see roles()).
        self._leased = False
        #: Under a lease, the application commands are synced by the worker that first opens
        #: the gateway (once per process), not by every worker at login.
        self._commands_synced = False

    def http_routes(self) -> list[web.RouteDef]:
        return []  # everything arrives through the gateway

    # -- lifecycle ------------------------------------------------------------------------

    def roles(self) -> list[Role]:
        """The gateway: one session per bot token (per shard, with several), so one worker at
        a time (a lease each); the others send over the REST API only. Once asked, ``start``
        leaves the gateway to the leases."""
        self._leased = True
        bot = f"{self.api_url or ''} {self._token}"  # the same bot at the same Discord
        if self.shards == 1:
            name = per_bot("discord-gateway", bot)
            return [Role(name, self._open_gateway, self._close_gateway)]
        return [self._shard_role(shard, bot) for shard in range(self.shards)]

    def _shard_role(self, shard: int, bot: str) -> Role:
        # The count is in the name: workers configured with another count (during a change
        # of TOWNHALL_DISCORD_SHARDS) hold other leases, as Discord allows such sessions.
        # Spread: the live workers take a fair share of the shards each.
        name = per_bot(f"discord-gateway-shard-{shard}-of-{self.shards}", bot)

        async def open_shard() -> None:
            await self._open_shard(shard)

        async def close_shard() -> None:
            await self._close_shard(shard)

        return Role(name, open_shard, close_shard, spread=True)  # shared out between workers

    async def start(self, dispatch: Dispatch) -> None:
        """Log in (a bad token fails here), sync commands; unless the gateway goes by a lease
        (:meth:`roles`), connect and wait for READY. Under a lease, the worker that opens the
        gateway syncs the commands (one worker, not all of them at once)."""
        self._dispatch = dispatch
        await self._log_in()
        if self._leased:
            return
        if self.shards == 1:
            await self._open_gateway()
            return
        for shard in range(self.shards):
            await self._open_shard(shard)

    async def _log_in(self) -> None:
        client = self._new_client(sync_on_login=not self._leased and self.shards == 1)
        self.client = client
        try:
            await client.login(self._token)
        except discord.LoginFailure:
            await self.stop()
            raise ConfigError("TOWNHALL_DISCORD_TOKEN: Discord rejected the bot token") from None
        except BaseException:
            await self.stop()
            raise

    def _new_client(
        self, *, sync_on_login: bool, shard: tuple[int, int] | None = None
    ) -> TownhallClient:
        assert self._dispatch is not None
        bridge = Bridge(
            self._dispatch,
            capabilities=self.capabilities,
            policy_role=self.policy_role,
            defer_after=self.defer_after,
            settled=self.settled,
        )
        client = TownhallClient(
            bridge,
            guild_ids=self.guild_ids,
            thread_answers=self.thread_answers,
            guild_ready_timeout=self.guild_ready_timeout,
            endpoints=Endpoints.from_urls(self.api_url, self.gateway_url),
            commands=self.commands,
            sync_on_login=sync_on_login,
            shard=shard,
        )
        return client

    async def _open_gateway(self) -> None:
        client = self.client
        if client is None or self._dispatch is None:
            return  # stopped
        if client.is_closed():  # the session this worker held before: a fresh client
            await self._log_in()
            client = self.client
            assert client is not None
        if self._leased and not self._commands_synced:
            self._commands_synced = True
            await client.sync_commands()  # a failure is logged; buttons and forms still work
        self._task = asyncio.create_task(self._connect(client), name="discord-gateway")
        # Under a lease, not longer than it lasts unrenewed (READY may come later).
        await self._wait_until_ready(
            client, min(self.ready_timeout, LEASED_READY_WAIT) if self._leased else None
        )

    async def _open_shard(self, shard: int) -> None:
        """Run one shard of the gateway in a client of its own (sending stays with
        ``client``). The worker that opens shard 0 syncs the commands, once per process."""
        if self.client is None or self._dispatch is None or shard in self.shard_clients:
            return  # stopped, or already running
        client = self._new_client(sync_on_login=False, shard=(shard, self.shards))
        self.shard_clients[shard] = client
        try:
            await client.login(self._token)
            if shard == 0 and not self._commands_synced:
                self._commands_synced = True
                await client.sync_commands()  # a failure is logged; buttons still work
        except BaseException:
            await self._close_shard(shard)
            raise
        task = asyncio.create_task(self._connect(client), name=f"discord-gateway-shard-{shard}")
        self._shard_tasks[shard] = task
        within = min(self.ready_timeout, LEASED_READY_WAIT) if self._leased else None
        ready = await self._ready_or_failed(client, task, within)
        if not ready:
            failure = self._failure
            await self._close_shard(shard)
            raise RuntimeError(f"Discord gateway shard {shard} failed: {failure!r}") from failure
        log.info("Discord shard opened", shard=shard, shards=self.shards)

    async def _close_shard(self, shard: int) -> None:
        """Lease lost or handed over: end this shard's session (the REST client stays)."""
        client = self.shard_clients.pop(shard, None)
        task = self._shard_tasks.pop(shard, None)
        await _close(client, task)

    async def _close_gateway(self) -> None:
        """Lease lost or handed over: end the session; keep a client for sending over REST."""
        dispatch = self._dispatch
        await self.stop()
        self._dispatch = dispatch
        if dispatch is None:
            return
        try:
            await self._log_in()
        except Exception as exc:  # the outbox retries its sends until a client is back
            log.warning("Discord REST client not restarted", error=type(exc).__name__)

    async def _connect(self, client: TownhallClient) -> None:
        """The gateway loop (discord.py reconnects by itself); a fatal end is logged here."""
        try:
            await client.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired as exc:
            self._failure = exc
            log.error(
                "Discord refused the message-content intent: switch on MESSAGE CONTENT INTENT "
                "in the developer portal, or set TOWNHALL_DISCORD_THREAD_ANSWERS=false"
            )
        except Exception as exc:
            self._failure = exc
            log.exception("Discord gateway connection ended")

    async def _wait_until_ready(self, client: TownhallClient, within: float | None = None) -> None:
        assert self._task is not None
        if not await self._ready_or_failed(client, self._task, within):
            failure = self._failure
            await self.stop()
            raise RuntimeError(f"Discord gateway connection failed: {failure!r}") from failure

    async def _ready_or_failed(
        self, client: TownhallClient, task: asyncio.Task[None], within: float | None
    ) -> bool:
        """Wait for READY (at most ``within``); False if the gateway task ended first."""
        ready = asyncio.ensure_future(client.wait_until_ready())
        within = self.ready_timeout if within is None else within
        done, _ = await asyncio.wait(
            {ready, task}, timeout=within, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
        if task in done:
            return False
        if ready not in done:
            log.warning("Discord gateway not ready yet; carrying on", waited=within)
        else:
            log.info("Discord ready", guilds=len(client.guilds))
        return True

    @property
    def connected(self) -> bool:
        """Ready on the gateway; under a lease, a worker without it is connected for sending
        once logged in."""
        client = self.client
        if client is None or client.is_closed():
            return False
        if self.shards > 1:  # sending over REST, and every shard held here is ready
            shards = self.shard_clients.values()
            return client.user is not None and all(c.is_ready() for c in shards)
        if self._leased and self._task is None:
            return client.user is not None
        return client.is_ready()

    async def stop(self) -> None:
        client, task = self.client, self._task
        self.client, self._task, self._dispatch = None, None, None
        try:
            for shard in sorted(self.shard_clients):
                await self._close_shard(shard)
        finally:
            await _close(client, task)

    # -- outgoing -------------------------------------------------------------------------

    def _client(self) -> TownhallClient:
        client = self.client
        if client is None or client.is_closed() or client.user is None:
            raise DeliveryError("the Discord client is not running")
        return client

    async def send(
        self, target: Target, view: View, *, reply_to: str | None = None, key: str | None = None
    ) -> MessageRef:
        """Post into the channel (or thread); ``target.private``: a direct message to the user
        whose id is ``target.channel_id``."""
        client = self._client()
        parts = message_parts(view)
        try:
            channel: discord.abc.Messageable
            if target.private:
                dm = await client.create_dm(discord.Object(int(target.channel_id)))
                channel, channel_id = dm, dm.id
            else:
                channel_id = int(target.thread_id or target.channel_id)
                channel = client.get_partial_messageable(channel_id)
            reference = None
            if reply_to and reply_to.isdigit():
                reference = discord.MessageReference(
                    message_id=int(reply_to), channel_id=channel_id, fail_if_not_exists=False
                )
            try:
                message = await self._post(channel, parts, reference, key)
            except discord.Forbidden:
                if reference is None:
                    raise
                # Replying needs Read Message History; post it without the reply instead.
                log.warning("reply not allowed here; posting without it")
                message = await self._post(channel, parts, None, key)
        except Exception as exc:
            raise delivery_error(exc) from exc
        if self.thread_answers and isinstance(view, Card) and view.accepts_replies:
            await self._open_thread(client, channel_id, message.id, view.title)
        if target.private:
            return MessageRef(PLATFORM, str(channel_id), str(message.id))
        return MessageRef(PLATFORM, target.channel_id, str(message.id), target.thread_id)

    @staticmethod
    async def _post(
        channel: discord.abc.Messageable,
        parts: MessageParts,
        reference: discord.MessageReference | None,
        key: str | None,
    ) -> discord.Message:
        # The outbox row's key as the message nonce: discord.py sends it with
        # ``enforce_nonce``, so if a post timed out after Discord took it, the retry gets the
        # message already created instead of a second copy (Discord keeps nonces a few
        # minutes; the outbox retries within seconds).
        once: dict[str, Any] = {"nonce": key[-25:]} if key else {}
        return await channel.send(
            **once,
            content=parts.content,
            embeds=parts.embeds,
            view=parts.view,  # type: ignore[arg-type]
            reference=reference,  # type: ignore[arg-type]
            allowed_mentions=discord.AllowedMentions.none(),
        )

    async def _open_thread(
        self, client: TownhallClient, channel_id: int, message_id: int, title: str
    ) -> None:
        """A thread on the question's message (same id), where members answer by writing.
        Never fails the send: the card is out, and re-sending it would duplicate it."""
        try:
            await client.http.start_thread_with_message(
                channel_id,
                message_id,
                name=clip(title, 100),
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.HTTPException as exc:
            log.warning("could not open an answer thread", status=exc.status, code=exc.code)

    async def channel_name(self, target: Target) -> str | None:
        """``#name`` of the channel (and the thread's name, when published in one)."""
        if target.private:
            return None
        client = self._client()
        names: list[str] = []
        for channel_id in (target.channel_id, target.thread_id):
            if channel_id is None or not channel_id.isdigit():
                continue
            channel = client.get_channel(int(channel_id)) or await client.fetch_channel(
                int(channel_id)
            )
            name = getattr(channel, "name", None)
            if name:
                names.append(str(name))
        if not names:
            return None
        return " › ".join([f"#{names[0]}", *names[1:]])

    async def edit(self, ref: MessageRef, view: View) -> None:
        client = self._client()
        channel_id = int(ref.thread_id or ref.channel_id)
        message = client.get_partial_messageable(channel_id).get_partial_message(
            int(ref.message_id)
        )
        parts = message_parts(view)
        try:
            await message.edit(
                content=parts.content,
                embeds=parts.embeds,
                view=parts.view,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except Exception as exc:
            raise delivery_error(exc) from exc


async def _close(client: TownhallClient | None, task: asyncio.Task[None] | None) -> None:
    """Close a client and wait (a bounded time) for its gateway task to end."""
    try:
        if client is not None:
            await client.close()
        if task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                async with asyncio.timeout(10):
                    await task
    finally:
        if task is not None and not task.done():
            task.cancel()


def delivery_error(exc: BaseException) -> DeliveryError:
    """A discord.py failure → what the outbox should do about it."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, discord.RateLimited):
        return DeliveryError("rate limited by Discord", retry_after=exc.retry_after, code="429")
    if isinstance(exc, discord.Forbidden):
        return DeliveryError(
            f"missing permission in this channel (Discord code {exc.code})",
            permanent=True,
            code=str(exc.code),
        )
    if isinstance(exc, discord.NotFound):
        return DeliveryError(
            f"channel or message gone (Discord code {exc.code})", permanent=True, code=str(exc.code)
        )
    if isinstance(exc, discord.HTTPException):
        code = str(exc.code or exc.status)
        if exc.status == 429:
            retry = exc.response.headers.get("Retry-After", "1")
            return DeliveryError("rate limited by Discord", retry_after=_seconds(retry), code=code)
        if exc.status >= 500:
            return DeliveryError(f"Discord server error {exc.status}", code=code)
        return DeliveryError(
            f"rejected by Discord: {exc.status} (code {exc.code})",
            permanent=exc.status != 408,
            code=code,
        )
    if isinstance(exc, ValueError):  # not a Discord id: it will never work
        return DeliveryError(f"bad Discord id: {exc}", permanent=True, code="bad_id")
    code = type(exc).__name__
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        return DeliveryError(f"network error: {code}", code=code)
    return DeliveryError(f"{code} while talking to Discord", code=code)


def _seconds(value: str) -> float:
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0
