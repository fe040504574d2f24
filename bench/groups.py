"""Opinion groups (issue 20): the Polis pipeline of ``services.opinion_groups`` on a planted
10,000 participants × 200 statements vote matrix.

    python bench/groups.py [--people 10000] [--statements 200] [--groups 3] [--runs 3]

Plants ``--groups`` camps (each agrees with its own block of statements and disagrees with the
others' blocks; every camp agrees with the last tenth: the consensus), with half of the cells
not voted and one in ten a pass, then prints, each as the median of ``--runs``:

- ``analyse``: the whole pipeline (matrix, mean imputation, PCA, sparsity scaling, k-means for
  k = 2..5 with the silhouette on a sample, repness, consensus), and whether it found the
  planted camps and consensus;
- baselines measured in the same run: ``numpy SVD`` alone on the filled matrix (the PCA step)
  and plain k-means (k = the planted camps, no PCA, no choice of k) on the raw 200-column matrix.

The target (issue 20) is ``analyse`` ≤ 5 s. Figures only; nothing asserts on time.

``--cards N`` (default 2,000 people on 50 statements, 0: skip) also times, on a temporary
SQLite database, what one card refresh of a statements item costs: ``results.compute`` with the
analysis (what every refresh ran before) beside the count-only path cards now use
(``groups=False``: the voters counted in SQL); the analysis stays for results, the dashboard and
exports.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.cluster import KMeans  # type: ignore[import-untyped]
from sqlalchemy import func, insert, select

from services import results
from services.opinion_groups import analyse
from storage import migrate
from storage.db import Database
from storage.items import ItemRepository, NewItem
from storage.models import Participant, Statement, StatementVote


def planted(people: int, statements: int, camps: int) -> list[tuple[int, int, int]]:
    rng = np.random.default_rng(20)
    consensus = statements // 10
    block = (statements - consensus) // camps
    camp = np.arange(people) % camps
    owner = np.minimum(np.arange(statements) // max(block, 1), camps)  # camps: consensus
    values = np.where(owner[None, :] == camp[:, None], 1, -1)
    values[:, owner == camps] = 1
    values = np.where(rng.random(values.shape) < 0.1, 0, values)
    seen = rng.random(values.shape) < 0.5
    p, s = np.nonzero(seen)
    return list(zip(p.tolist(), (s + 1).tolist(), values[p, s].tolist(), strict=True))


def median_time(run: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--statements", type=int, default=200)
    parser.add_argument("--groups", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cards", type=int, default=2000)
    args = parser.parse_args()
    cells = planted(args.people, args.statements, args.groups)
    print(
        f"{args.people:,} participants × {args.statements} statements, {len(cells):,} votes, "
        f"{args.groups} planted camps; median of {args.runs} runs"
    )
    analyse(cells[:2000])  # warm-up: imports and thread pools

    seconds, found = median_time(lambda: analyse(cells), args.runs)
    planted_consensus = list(
        range(args.statements - args.statements // 10 + 1, args.statements + 1)
    )
    sizes = [g.size for g in found.groups]
    ok = len(sizes) == args.groups and found.consensus == planted_consensus
    print(
        f"  analyse (Polis pipeline)      {seconds:7.3f} s   groups {sizes}, consensus "
        f"{'as planted' if found.consensus == planted_consensus else found.consensus[:5]}"
        f"{'' if ok else '  <-- NOT the planted structure'}"
    )

    matrix = np.zeros((args.people, args.statements))
    for p, s, v in cells:
        matrix[p, s - 1] = v
    svd, _ = median_time(
        lambda: np.linalg.svd(matrix - matrix.mean(0), full_matrices=False), args.runs
    )
    print(f"  baseline: numpy SVD alone     {svd:7.3f} s   (library defaults: every thread)")
    plain, _ = median_time(
        lambda: KMeans(n_clusters=args.groups, n_init=4, random_state=0).fit(matrix), args.runs
    )
    print(f"  baseline: plain k-means (raw) {plain:7.3f} s   (k given, 200 columns, no PCA)")
    print(f"  target: analyse ≤ 5 s: {'met' if seconds <= 5 else 'NOT met'}")
    if args.cards:
        asyncio.run(card_refresh(args.cards, 50, args.groups, args.runs))


async def card_refresh(people: int, statements: int, camps: int, runs: int) -> None:
    """One card refresh of a statements item with and without the analysis, same database."""
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
        try:
            await migrate.ensure_current(db)
            async with db.transaction() as session:
                item = await ItemRepository(session).create(
                    NewItem("statements", "Bench?", [], "bench:o", now)
                )
                rows = [
                    {"item_id": item.id, "text": f"S{n}", "created_at": now}
                    for n in range(statements)
                ]
                await session.execute(insert(Statement), rows)
                await session.execute(
                    insert(Participant),
                    [
                        {"pseudonym": f"{n:064x}", "platform": "web", "created_at": now}
                        for n in range(people)
                    ],
                )
                first = await session.scalar(
                    select(func.min(Statement.id)).where(Statement.item_id == item.id)
                )
                assert first is not None
                cells = planted(people, statements, camps)
                await session.execute(
                    insert(StatementVote),
                    [
                        {
                            "item_id": item.id,
                            "statement_id": first + s - 1,
                            "participant_id": p + 1,
                            "value": v,
                            "platform": "web",
                            "created_at": now,
                        }
                        for p, s, v in cells
                    ],
                )

            async def refresh(groups: bool) -> int:
                async with db.transaction() as session:
                    return (await results.compute(session, item, groups=groups)).participants

            async def timed(groups: bool) -> tuple[float, int]:
                times, out = [], 0
                for _ in range(runs):
                    start = time.perf_counter()
                    out = await refresh(groups)
                    times.append(time.perf_counter() - start)
                return statistics.median(times), out

            await refresh(False)  # warm-up
            full, n_full = await timed(True)
            count, n_count = await timed(False)
            same = "same count" if n_full == n_count else f"COUNTS DIFFER {n_full} / {n_count}"
            print(
                f"card refresh of a statements item, {people:,} people × {statements} statements "
                f"({len(cells):,} votes, SQLite), median of {runs}:"
            )
            print(f"  baseline: with the analysis    {full:7.3f} s   (every refresh, before)")
            print(f"  count-only (cards now)        {count:7.3f} s   {same}, ×{full / count:.0f}")
        finally:
            await db.dispose()


if __name__ == "__main__":
    main()
