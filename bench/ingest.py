"""Vote ingestion over the real HTTP endpoint: ``townhall run`` beside three baselines, same run.

    python bench/ingest.py --platform telegram|slack|web|discord --db sqlite|postgresql \\
        [--concurrency 64] [--seconds 10] [--warmup 1] [--paths bare,naive,grouped,bolt,townhall]
        [--workers N]
        [--count-statements] [--profile FILE]

Creates a fresh database (a temporary SQLite file, or a new PostgreSQL database dropped at the
end) with one published poll, starts a fast fake platform API (bench/ingest_fakeapi.py) and then,
one at a time, each path as its own process:

- ``bare``, ``naive``, ``grouped`` (and ``bolt``, Slack only: a bare slack-bolt app that only
  acknowledges): the baselines in bench/ingest_baselines.py;
- ``townhall``: ``townhall run`` with only this platform configured (Telegram in webhook mode
  with a secret, Slack over HTTP with a signing secret; the web chat is always on).

Each is driven by bench/ingest_load.py: ``--concurrency`` keep-alive connections, a unique event
and a unique person per request, for ``--warmup`` and then ``--seconds``. Prints votes/s,
p50/p99 acknowledgement latency, CPU seconds per vote of the server process (from /proc), and
checks that the vote rows in the database equal the acknowledged requests (exit status 1 if
not). Figures only; nothing asserts on time. Results: docs/performance.md.

``--platform discord``: Townhall only, clicks over the test suite's fake Discord gateway
(bench/ingest_discord.py). ``--count-statements`` (PostgreSQL): a separate run through a
counting proxy (bench/ingest_pgcount.py) printing statements and round trips per vote.
``--profile FILE``: py-spy over the measured window (bench/ingest_profile.py summarises).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ingest_load
import ingest_payloads as payloads
from benchdb import fresh_database
from ingest_baselines import table_ddl
from ingest_fakeapi import FakeAPI
from ingest_pgcount import Proxy
from ingest_report import Row, print_statements, report
from sqlalchemy import func, select, text

from storage import migrate
from storage.db import Database
from storage.items import ItemRepository, NewItem, PublicationRepository
from storage.models import Vote

BENCH = Path(__file__).resolve().parent
PATHS = ("bare", "naive", "grouped", "bolt", "townhall")
#: Baselines that exist for one platform only (bolt: a bare slack-bolt app).
ONLY_ON = {"bolt": "slack"}
CHANNELS = {
    "telegram": (str(payloads.TELEGRAM_CHAT), "77"),
    "slack": (payloads.SLACK_CHANNEL, "1765000000.000100"),
    "web": ("public", None),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all threads (fields 14 and 15 of /proc/PID/stat), and of
    its running children (the workers of ``townhall run --workers N``)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = children.read_text().split() if children.exists() else []
    return own + sum(cpu_seconds(int(kid)) for kid in kids)


async def publish_poll(url: str, platform: str) -> tuple[str, int, int]:
    """Create one open poll published on the platform; (short id, item id, option count)."""
    db = Database(url)
    try:
        await migrate.upgrade(db)
        now = datetime.now(UTC)
        options = ["Yes, build it", "No, keep the park", "Not sure yet"]
        async with db.transaction() as session:
            item = await ItemRepository(session).create(
                NewItem("poll", "Build a library on the park site?", options, "bench", now)
            )
            channel, message = CHANNELS[platform]
            pubs = PublicationRepository(session)
            pub = await pubs.add(item, platform, channel, None, now)
            await pubs.set_message_id(pub.id, message or f"/c/{item.short_id}")
            for table in ("naive", "grouped"):
                await session.execute(text(f"DROP TABLE IF EXISTS bench_votes_{table}"))
                await session.execute(text(table_ddl(f"bench_votes_{table}")))
            return item.short_id, item.id, len(options)
    finally:
        await db.dispose()


async def count_rows(url: str, path: str, item_id: int) -> tuple[int, int]:
    """(rows, duplicate people) written by a path."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            if path == "townhall":
                query = select(func.count(), func.count(func.distinct(Vote.participant_id)))
                rows, people = (await session.execute(query.where(Vote.item_id == item_id))).one()
            else:
                table = f"bench_votes_{path}"
                rows, people = (
                    await session.execute(
                        text(f"SELECT count(*), count(DISTINCT user_id) FROM {table}")  # noqa: S608
                    )
                ).one()
            return int(rows), int(rows) - int(people)
    finally:
        await db.dispose()


async def settled_rows(url: str, path: str, item_id: int, acked: int) -> tuple[int, int]:
    """Rows once writing stopped (Slack may acknowledge before a slow commit finishes)."""
    deadline = time.monotonic() + 15
    last = (-1, 0)
    while True:
        now = await count_rows(url, path, item_id)
        if now[0] == acked or (now == last) or time.monotonic() > deadline:
            return now
        last = now
        await asyncio.sleep(0.5)


def townhall_env(args: argparse.Namespace, url: str, port: int, api: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    env.update(
        TOWNHALL_DATABASE_URL=url,
        TOWNHALL_SECRET_KEY=payloads.SECRET_KEY,
        TOWNHALL_HTTP_HOST="127.0.0.1",
        TOWNHALL_HTTP_PORT=str(port),
        TOWNHALL_LOG_LEVEL=args.log_level,
    )
    for setting in args.set:
        name, _, value = setting.partition("=")
        if not name.startswith("TOWNHALL_"):
            raise SystemExit(f"--set {setting!r}: expected TOWNHALL_NAME=value")
        env[name] = value
    if args.platform == "telegram":
        env.update(
            TOWNHALL_TELEGRAM_TOKEN=payloads.TELEGRAM_TOKEN,
            TOWNHALL_TELEGRAM_API_URL=f"http://127.0.0.1:{api}/bot",
            TOWNHALL_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
            TOWNHALL_TELEGRAM_WEBHOOK_SECRET=payloads.TELEGRAM_SECRET,
        )
    elif args.platform == "slack":
        env.update(
            TOWNHALL_SLACK_BOT_TOKEN="xoxb-bench",
            TOWNHALL_SLACK_SIGNING_SECRET=payloads.SLACK_SIGNING_SECRET,
            TOWNHALL_SLACK_API_URL=f"http://127.0.0.1:{api}/api/",
        )
    return env


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)  # noqa: S603


def profile(args: argparse.Namespace, pid: int) -> subprocess.Popen[bytes]:
    """py-spy over the measured window (collapsed stacks; see bench/ingest_profile.py)."""
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--nonblocking"]
    command += ["--duration", str(max(1, int(args.seconds))), "-o", args.profile]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def read(path: Path) -> bytes:
    return path.read_bytes()


def write(path: Path, content: str) -> None:
    path.write_text(content)


async def start_server(
    args: argparse.Namespace,
    path: str,
    url: str,
    port: int,
    api: int,
    log: Path,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    if path == "townhall":
        command = [sys.executable, "-m", "townhall.cli", "run", "--workers", str(args.workers)]
        env = {**townhall_env(args, url, port, api), **(extra_env or {})}
    else:
        command = [sys.executable, str(BENCH / "ingest_baselines.py"), "--kind", path]
        command += ["--platform", args.platform, "--db", url, "--port", str(port)]
        command += ["--table", f"bench_votes_{path}", "--api", f"http://127.0.0.1:{api}/api/"]
        env = {**os.environ, "PYTHONPATH": str(BENCH)}
    proc = spawn(command, env, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{path} exited during start-up; see {log}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            if path != "townhall" or read(log).count(b"Townhall is running") >= args.workers:
                return proc
        await asyncio.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{path} did not start within 120 s; see {log}")


async def measure(
    args: argparse.Namespace,
    path: str,
    url: str,
    poll: tuple[str, int, int],
    fake: FakeAPI,
    proxy: Proxy | None = None,
) -> Row:
    short_id, item_id, options = poll
    port = free_port()
    log = Path(args.logs) / f"ingest-{args.platform}-{path}.log"
    server_url = url
    if proxy is not None:  # the statement-counting run: townhall reaches PostgreSQL through it
        server_url = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    proc = await start_server(args, path, server_url, port, fake.port, log)
    build = payloads.builder(args.platform, short_id, options, f"http://127.0.0.1:{fake.port}/api/")
    _, ok = payloads.ENDPOINTS[args.platform]
    counter = ingest_load.Counter(PATHS.index(path) * 100_000_000)
    rotate = 50 if args.platform == "web" else 0
    common = {"ok": ok, "concurrency": args.concurrency, "counter": counter, "rotate": rotate}
    try:
        if args.pid_file:
            write(Path(args.pid_file), str(proc.pid))
        base = PATHS.index(path) * 2_000_000
        warm = await ingest_load.run(port, build, seconds=args.warmup, address_base=base, **common)
        before = cpu_seconds(proc.pid)
        counted = proxy.snapshot() if proxy else None
        spy = profile(args, proc.pid) if path == "townhall" and args.profile else None
        load = await ingest_load.run(
            port, build, seconds=args.seconds, address_base=base + 1_000_000, **common
        )
        cpu = cpu_seconds(proc.pid) - before
        if spy is not None:
            await asyncio.to_thread(spy.wait)
        if proxy is not None and counted is not None:
            print_statements(proxy, counted, load.acked)
    finally:
        proc.send_signal(signal.SIGINT if path == "townhall" else signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    acked = warm.acked + load.acked
    rows: int | None = None
    duplicates = 0
    if path not in ("bare", "bolt"):  # they store nothing
        rows, duplicates = await settled_rows(url, path, item_id, acked)
    return Row(path, load, cpu, acked, rows, duplicates)


async def measure_discord(args: argparse.Namespace, url: str, fake_api: FakeAPI) -> list[Row]:
    """Clicks over the fake Discord gateway (bench/ingest_discord.py): Townhall, then (path
    ``bare``) a bare discord.py app that only acknowledges, on the same fake and card."""
    import ingest_discord

    async with ingest_discord.fake_discord() as fake:
        port = free_port()
        log = Path(args.logs) / "ingest-discord-townhall.log"
        extra = ingest_discord.env(fake)
        proc = await start_server(args, "townhall", url, port, fake_api.port, log, extra)
        try:
            short_id, card = await ingest_discord.publish(fake)
            db = Database(url)
            async with db.transaction() as session:
                item = await ItemRepository(session).by_short_id(short_id)
                assert item is not None
                item_id = item.id
            await db.dispose()
            warm, load, cpu = await discord_clicks(args, fake, short_id, card, proc.pid, 0)
        finally:
            interrupt(proc)
        acked = warm.acked + load.acked
        rows, duplicates = await settled_rows(url, "townhall", item_id, acked)
        measured = [Row("townhall", load, cpu, acked, rows, duplicates)]
        if "bare" in args.paths.split(","):  # the same clicks, same fake, a bare discord.py app
            measured.insert(0, await measure_discord_bare(args, fake, short_id, card, extra))
    return measured


async def measure_discord_bare(
    args: argparse.Namespace, fake: Any, short_id: str, card: int, extra: dict[str, str]
) -> Row:
    log = Path(args.logs) / "ingest-discord-bare.log"
    sessions = len(fake.sessions)
    proc = spawn(
        [sys.executable, str(BENCH / "ingest_discord_bare.py")], {**os.environ, **extra}, log
    )
    try:
        await fake.wait_until_ready(sessions=sessions + 1, timeout=60)
        warm, load, cpu = await discord_clicks(args, fake, short_id, card, proc.pid, 50_000_000)
    finally:
        interrupt(proc)
    return Row("bare", load, cpu, warm.acked + load.acked, None, 0)


async def discord_clicks(
    args: argparse.Namespace, fake: Any, short_id: str, card: int, pid: int, first: int
) -> tuple[ingest_load.LoadResult, ingest_load.LoadResult, float]:
    """Warm-up, then the measured clicks; (warm-up, measured, CPU seconds of ``pid``)."""
    import ingest_discord

    common = {"concurrency": args.concurrency, "counter": ingest_load.Counter(first)}
    warm = await ingest_discord.run(fake, short_id, card, seconds=args.warmup, **common)
    before = cpu_seconds(pid)
    load = await ingest_discord.run(fake, short_id, card, seconds=args.seconds, **common)
    return warm, load, cpu_seconds(pid) - before


def interrupt(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--platform", choices=[*sorted(payloads.ENDPOINTS), "discord"], default="telegram"
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="townhall run --workers N (PostgreSQL): N processes on one port",
    )
    parser.add_argument("--paths", default=",".join(PATHS), help="comma-separated subset")
    parser.add_argument("--log-level", default="INFO", help="townhall's TOWNHALL_LOG_LEVEL")
    parser.add_argument("--logs", default=tempfile.gettempdir(), help="directory for logs")
    parser.add_argument(
        "--count-statements",
        action="store_true",
        help="PostgreSQL: run townhall through a counting proxy and print statements per vote "
        "(a separate diagnostic run; its throughput is not comparable)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record townhall with py-spy (pip install py-spy) over the measured window, as "
        "collapsed stacks in FILE; summarise with bench/ingest_profile.py",
    )
    parser.add_argument("--pid-file", help="write the last server's pid here (for py-spy)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="TOWNHALL_X=VALUE",
        help="extra setting for townhall (repeatable), e.g. a privacy notice short enough "
        "for a first vote's toast, so no private message is sent with it",
    )
    args = parser.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    if unknown := set(paths) - set(PATHS):
        parser.error(f"unknown paths: {', '.join(sorted(unknown))}")
    paths = [p for p in paths if ONLY_ON.get(p, args.platform) == args.platform]
    if args.workers > 1 and args.db != "postgresql":
        parser.error("--workers needs --db postgresql")
    if args.count_statements and args.db != "postgresql":
        parser.error("--count-statements needs --db postgresql")
    fake = FakeAPI()
    await fake.start()
    proxy = Proxy() if args.count_statements else None
    if proxy is not None:
        await proxy.start()
        paths = ["townhall"]
    try:
        async with fresh_database(args.db, "ingest") as url:
            if args.platform == "discord":
                rows = await measure_discord(args, url, fake)
            else:
                poll = await publish_poll(url, args.platform)
                rows = [await measure(args, path, url, poll, fake, proxy) for path in paths]
    finally:
        await fake.stop()
        if proxy is not None:
            await proxy.stop()
    ok = report(args, rows, fake)
    if args.profile:
        from ingest_profile import summarise

        print(f"\npy-spy profile of townhall ({args.profile}):")
        print(summarise(Path(args.profile), 25))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
