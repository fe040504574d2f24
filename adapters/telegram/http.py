"""python-telegram-bot's Bot API requests over one aiohttp ``ClientSession``.

PTB's default transport (``HTTPXRequest``: httpx over httpcore) cost ~5 ms of CPU per
``sendMessage`` under load here (docs/performance.md): httpcore's pool bookkeeping, its async
backend detection and httpx's request/response models, for a form post and a small JSON answer.
aiohttp, which already serves Townhall's HTTP, does the same work for a fraction of that. PTB
documents custom transports (:class:`telegram.request.BaseRequest`): the ``Bot`` methods, their
parameters and PTB's mapping of Telegram's answers to exceptions (``RetryAfter``, ``Forbidden``,
``BadRequest``, ``ChatMigrated``, ``InvalidToken``, ``NetworkError``) stay PTB's own; only the
bytes on the wire go through here, encoded as PTB's ``HTTPXRequest`` encodes them.

Timeouts mean what they mean for ``HTTPXRequest``: a request that waited longer than the pool
timeout for one of the ``connection_pool_size`` slots was *not* sent and raises ``TimedOut``
with PTB's "Pool timeout" message (the outbox retries those; see ``errors.delivery_error``);
connect, write and read timeouts raise ``TimedOut``; any other transport failure raises
``NetworkError``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]

POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. "
    "Request was *not* sent to Telegram. Consider adjusting the connection "
    "pool size or the pool timeout."
)


class AiohttpRequest(BaseRequest):
    """One aiohttp session for every Bot API call of one ``Bot`` (pass the same instance as
    PTB's ``request`` and ``get_updates_request``: ``initialize``/``shutdown`` are idempotent).
    Defaults as ``HTTPXRequest``'s."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._slots = asyncio.Semaphore(connection_pool_size)
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"User-Agent": self.USER_AGENT}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                skip_auto_headers=("User-Agent",),
                # PTB parses the answer itself; a 4xx/5xx body is read like a 200's.
                raise_for_status=False,
                auto_decompress=True,
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        else:
            write = write_timeout
        body: Any = None
        if files:
            body = aiohttp.FormData(quote_fields=False)
            assert request_data is not None
            for name, value in request_data.json_parameters.items():
                body.add_field(name, value)
            for name, part in files.items():
                if isinstance(part, tuple):
                    filename, content, mimetype = part
                    body.add_field(name, content, filename=filename, content_type=mimetype)
                else:
                    body.add_field(name, part)
        elif request_data is not None:
            body = request_data.json_parameters
        await self._acquire(pool)
        try:
            # aiohttp has no write timeout of its own: sending the request is covered by the
            # total (write + read, as a request is written before its answer is read).
            total = None if read is None or write is None else read + write
            timeout = aiohttp.ClientTimeout(
                total=total, sock_connect=connect, sock_read=read, connect=None
            )
            async with session.request(method, url, data=body, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's ServerTimeoutError is one
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        finally:
            self._slots.release()

    async def _acquire(self, pool_timeout: float | None) -> None:
        """A slot of the pool, as httpx's pool timeout: not sent when none frees in time."""
        if not self._slots.locked():
            await self._slots.acquire()
            return
        try:
            async with asyncio.timeout(pool_timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise TimedOut(POOL_TIMEOUT_MESSAGE) from None
