"""A small closed-loop HTTP/1.1 load generator on raw asyncio streams (for bench/ingest.py).

``concurrency`` keep-alive connections each send one request, wait for the whole response, and
send the next, until the time is up; requests in flight at the deadline are awaited, so every
request sent is either acknowledged or counted as failed (the database check relies on that).

Why not aiohttp's client or wrk: aiohttp's client costs ~3× more CPU per request on this
2-core machine, which would cap the fast baselines; wrk (not installed here) stops at its
deadline with requests in flight, which breaks "rows = acknowledged".

``rotate``: after that many requests a connection is replaced by one from a new source address
in 127.0.0.0/8 (the web chat limits each client address to 60 posts a minute, as it should; a
national audience comes from many addresses).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    sent: int = 0
    acked: int = 0
    failed: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # of acknowledged requests, seconds
    seconds: float = 0.0

    def quantile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def rate(self) -> float:
        return self.acked / self.seconds if self.seconds else 0.0


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


class Counter:
    """Hands out unique request numbers across all connections."""

    def __init__(self, start: int = 0) -> None:
        self.next = start

    def take(self) -> int:
        n = self.next
        self.next += 1
        return n


async def run(
    port: int,
    build: Callable[[int], bytes],
    *,
    ok: int,
    concurrency: int,
    seconds: float,
    counter: Counter,
    rotate: int = 0,
    address_base: int = 0,
) -> LoadResult:
    """Drive ``127.0.0.1:port`` for ``seconds``; a response with status ``ok`` is an ack."""
    result = LoadResult()
    deadline = time.perf_counter() + seconds
    addresses = iter(range(address_base, address_base + 16_000_000))

    def source() -> tuple[str, int] | None:
        if not rotate:
            return None
        a = next(addresses) + 1
        return (f"127.{(a >> 16) & 255 or 1}.{(a >> 8) & 255}.{a & 255 or 1}", 0)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=source())
        used = 0
        try:
            while time.perf_counter() < deadline:
                if rotate and used >= rotate:
                    writer.close()
                    reader, writer = await asyncio.open_connection(
                        "127.0.0.1", port, local_addr=source()
                    )
                    used = 0
                request = build(counter.take())
                result.sent += 1
                used += 1
                started = time.perf_counter()
                try:
                    writer.write(request)
                    status = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    result.failed += 1
                    result.statuses[0] = result.statuses.get(0, 0) + 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(
                        "127.0.0.1", port, local_addr=source()
                    )
                    used = 0
                    continue
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status == ok:
                    result.acked += 1
                    result.latencies.append(time.perf_counter() - started)
                else:
                    result.failed += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result
