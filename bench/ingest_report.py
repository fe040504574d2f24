"""What bench/ingest.py prints: the table of paths, statements per vote."""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass

import ingest_load
from ingest_fakeapi import FakeAPI
from ingest_pgcount import Proxy


@dataclass
class Row:
    path: str
    load: ingest_load.LoadResult
    cpu: float  # server CPU seconds during the measured window
    acked_total: int  # warm-up included
    rows: int | None  # None: no database (bare)
    duplicates: int = 0

    @property
    def cpu_per_vote(self) -> float:
        return self.cpu / self.load.acked if self.load.acked else float("nan")

    @property
    def consistent(self) -> bool:
        return self.rows is None or (self.rows == self.acked_total and self.duplicates == 0)


def print_statements(proxy: Proxy, before: tuple[Counter[str], int, int], votes: int) -> None:
    executions = proxy.executions - before[0]
    trips = proxy.round_trips - before[1]
    connects = proxy.connections - before[2]
    per = max(votes, 1)
    print(f"\nstatements sent to PostgreSQL per acknowledged vote ({votes} votes):")
    print(f"  new database connections during the run: {connects}")
    print(f"  round trips (Query + Sync) per vote: {trips / per:.2f}")
    print(f"  statements executed per vote: {sum(executions.values()) / per:.2f}")
    for name, n in executions.most_common():
        print(f"    {n / per:6.2f}  {name}")


def report(args: argparse.Namespace, rows: list[Row], fake: FakeAPI) -> bool:
    print(
        f"\n{args.platform} on {args.db}: {args.concurrency} connections, {args.seconds:g} s "
        f"(after {args.warmup:g} s warm-up), unique event and person per request"
    )
    grouped = next((r.load.rate for r in rows if r.path == "grouped"), None)
    print(
        f"  {'path':<10} {'votes/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/vote':>12} "
        f"{'failed':>7} {'rows = acked':>18} {'vs grouped':>10}"
    )
    for r in rows:
        check = "-" if r.rows is None else f"{r.rows} = {r.acked_total}"
        if not r.consistent:
            check += f" MISMATCH (dup {r.duplicates})"
        share = f"{r.load.rate / grouped:.3f}" if grouped else "-"
        print(
            f"  {r.path:<10} {r.load.rate:9.0f} {r.load.quantile(0.5) * 1e3:8.1f} "
            f"{r.load.quantile(0.99) * 1e3:8.1f} {r.cpu_per_vote * 1e3:12.2f} "
            f"{r.load.failed:7d} {check:>18} {share:>10}"
        )
        odd = {s: n for s, n in r.load.statuses.items() if s not in (200, 303)}
        if odd:
            print(f"  {'':<10} statuses other than success: {odd}")
    rates = {r.path: r.load.rate for r in rows}
    # The Slack and Discord target: at least 0.5 of a bare app of the same library.
    library = {"slack": ("bolt", "slack-bolt"), "discord": ("bare", "discord.py")}
    if args.platform in library and "townhall" in rates:
        path, name = library[args.platform]
        if rates.get(path):
            share = rates["townhall"] / rates[path]
            print(f"  townhall / bare {name} app that only acknowledges (same run): {share:.2f}")
    calls = ", ".join(f"{k} {v}" for k, v in sorted(fake.calls.items()))
    print(f"  fake platform API calls (all paths): {calls or 'none'}")
    ok = all(r.consistent for r in rows)
    verdict = "OK" if ok else "FAIL"
    print(f"  check: vote rows = acknowledged requests, no double counts: {verdict}")
    return ok
