"""A counting TCP proxy in front of PostgreSQL: what a client sends, per statement kind.

bench/ingest.py ``--count-statements`` points ``townhall run`` at this proxy for a separate,
short run (the proxy costs CPU, so figures from that run are not throughput figures). It reads
the frontend protocol: simple queries (``Q``), statement executions (``B``ind, mapped to the
SQL of its ``P``arse), and round trips (``Q`` and ``S``ync, one wait for the server each).
No log_statement needed, and nothing changes in the server.
"""

from __future__ import annotations

import asyncio
import struct
from collections import Counter


def kind(sql: str) -> str:
    """A statement's kind: its first words, table included (``INSERT INTO votes``)."""
    words = sql.strip().replace("\n", " ").split()
    if not words:
        return "(empty)"
    head = words[0].upper()
    if head in ("INSERT", "DELETE") and len(words) > 2:
        return f"{head} {words[2]}"
    if head == "UPDATE" and len(words) > 1:
        return f"UPDATE {words[1]}"
    if head == "SELECT":
        rest = [w for w in words if w.upper() == "FROM"]
        if rest:
            index = [w.upper() for w in words].index("FROM")
            table = words[index + 1] if index + 1 < len(words) else "?"
            return f"SELECT FROM {table}"
        return f"SELECT {' '.join(words[1:3])}"[:40]
    return head[:30]


class Proxy:
    def __init__(self, upstream_port: int = 5432) -> None:
        self.upstream_port = upstream_port
        self.executions: Counter[str] = Counter()
        self.round_trips = 0
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    def snapshot(self) -> tuple[Counter[str], int, int]:
        return Counter(self.executions), self.round_trips, self.connections

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        back = asyncio.create_task(self._pipe(up_reader, writer))
        try:
            await self._frontend(reader, up_writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            up_writer.close()
            back.cancel()
            writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _frontend(self, reader: asyncio.StreamReader, up: asyncio.StreamWriter) -> None:
        statements: dict[bytes, str] = {}
        started = False
        while True:
            if not started:  # untyped: SSLRequest / GSSENCRequest, then the startup message
                head = await reader.readexactly(4)
                (length,) = struct.unpack("!I", head)
                body = await reader.readexactly(length - 4)
                up.write(head + body)
                code = struct.unpack("!I", body[:4])[0]
                started = code not in (80877103, 80877104)  # SSL / GSS requests come first
                continue
            head = await reader.readexactly(5)
            tag = head[:1]
            (length,) = struct.unpack("!I", head[1:])
            body = await reader.readexactly(length - 4)
            up.write(head + body)
            if tag == b"Q":
                self.round_trips += 1
                self.executions[kind(body.split(b"\0", 1)[0].decode(errors="replace"))] += 1
            elif tag == b"P":
                name, sql, _ = body.split(b"\0", 2)
                statements[name] = kind(sql.decode(errors="replace"))
            elif tag == b"B":
                _, name, _ = body.split(b"\0", 2)
                self.executions[statements.get(name, "?")] += 1
            elif tag == b"S":
                self.round_trips += 1
            elif tag == b"X":
                await up.drain()
                return
            await up.drain()
