"""CPU per Bot API call through python-telegram-bot: Townhall's aiohttp transport beside PTB's
default (httpx), measured in the same run.

Each round sends ``--messages`` privacy-notice-sized ``sendMessage`` calls, ``--concurrency``
at a time, through a real PTB ``Bot`` to the bench's fake Bot API (bench/ingest_fakeapi.py),
which runs in a child process so that only the client's CPU is counted. Rounds alternate
between the transports; the median per transport is printed.

    python bench/telegram_transport.py --messages 2000 --concurrency 32 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from ingest_fakeapi import FakeAPI  # noqa: E402
from ingest_payloads import TELEGRAM_TOKEN  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from adapters.telegram.http import AiohttpRequest  # noqa: E402

TEXT = (
    "Townhall stores your answers for the policy team under a pseudonym, never your name. "
    "Send /mydata to see what is stored about you and /forget to erase it. " * 2
)


def serve(port_out: multiprocessing.SimpleQueue[int]) -> None:
    async def main() -> None:
        api = FakeAPI()
        await api.start()
        port_out.put(api.port)
        await asyncio.Event().wait()

    asyncio.run(main())


async def round_(base: str, request: BaseRequest, messages: int, concurrency: int) -> float:
    """CPU milliseconds per sendMessage of this process."""
    bot = Bot(TELEGRAM_TOKEN, base_url=base, request=request, get_updates_request=request)
    async with bot:
        gate = asyncio.Semaphore(concurrency)

        async def one(n: int) -> None:
            async with gate:
                await bot.send_message(1000 + n, TEXT, parse_mode="HTML")

        await asyncio.gather(*(one(n) for n in range(50)))  # warm up
        started = time.process_time()
        await asyncio.gather(*(one(n) for n in range(messages)))
        return (time.process_time() - started) * 1000 / messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ports: multiprocessing.SimpleQueue[int] = multiprocessing.SimpleQueue()
    server = multiprocessing.Process(target=serve, args=(ports,), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{ports.get()}/bot"
    makers = {
        "aiohttp (Townhall)": lambda: AiohttpRequest(),
        "httpx (PTB default)": lambda: HTTPXRequest(connection_pool_size=256),
    }
    figures: dict[str, list[float]] = {name: [] for name in makers}
    try:
        for _ in range(args.rounds):
            for name, make in makers.items():
                ms = asyncio.run(round_(base, make(), args.messages, args.concurrency))
                figures[name].append(ms)
    finally:
        server.terminate()
    print(f"sendMessage through PTB, {args.messages} calls, {args.concurrency} at a time")
    print(f"  {'transport':<22} {'CPU ms/call (median)':>22}  rounds")
    for name, values in figures.items():
        rounds = " ".join(f"{v:.2f}" for v in values)
        print(f"  {name:<22} {statistics.median(values):>22.2f}  {rounds}")


if __name__ == "__main__":
    main()
