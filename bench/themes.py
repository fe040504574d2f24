"""Suggested themes: quality against the labelled set, and time and memory for 10,000 answers.

    .venv/bin/python bench/themes.py            # every method, quality then speed
    .venv/bin/python bench/themes.py --quality  # quality only (seconds)

Quality: for each question of tests/data/themes_labelled.csv (human themes, "off-topic" one of
them), the suggestions of each method with k chosen automatically, scored by the adjusted Rand
index (ARI) and normalised mutual information (NMI) against the human themes; answers that fit
no suggestion count as one group of their own (the human "off-topic" is meant to land there).
The figures are the mean over the questions, and the same with k given as the human number of
themes. ``top-word`` (each answer under its most frequent word) is the trivial baseline.

Speed: 10,000 answers resampled from the labelled set, each perturbed (words dropped, swapped
or misspelt, a neighbour's words added) with a fixed seed; the wall time of ``suggest`` and its
peak extra memory (resident set, sampled every 5 ms, above the level before the call, the model
already loaded). Each method runs in a fresh process so one's memory does not hide another's.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services import themes  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "themes_labelled.csv"


def labelled() -> dict[str, list[tuple[str, str]]]:
    """Each question's (answer, human theme) pairs, in file order."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with LABELLED.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            found[row["question"]].append((row["answer"], row["theme"]))
    return dict(found)


def predicted(result: themes.Suggestions, n: int) -> list[int]:
    labels = [-1] * n
    for suggestion in result.suggestions:
        for answer in suggestion.answers:
            labels[answer] = suggestion.id
    return labels


def quality(method: str, with_k: bool) -> tuple[float, float, dict[str, tuple[float, float]]]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    per: dict[str, tuple[float, float]] = {}
    for question, rows in labelled().items():
        truth = [theme for _, theme in rows]
        k = len(set(truth) - {"off-topic"}) if with_k else None
        result = themes.suggest(enumerate(a for a, _ in rows), k=k, method=method)
        guess = predicted(result, len(rows))
        per[question] = (
            adjusted_rand_score(truth, guess),
            normalized_mutual_info_score(truth, guess),
        )
    ari = sum(a for a, _ in per.values()) / len(per)
    nmi = sum(b for _, b in per.values()) / len(per)
    return ari, nmi, per


def synthetic(n: int, seed: int = 0) -> list[tuple[int, str]]:
    """``n`` answers resampled from the whole labelled set (every question), each perturbed."""
    rng = random.Random(seed)
    pool = [a for rows in labelled().values() for a, _ in rows]
    out = []
    for i in range(n):
        words = rng.choice(pool).split()
        if len(words) > 3 and rng.random() < 0.5:
            del words[rng.randrange(len(words))]
        if len(words) > 2 and rng.random() < 0.3:
            j = rng.randrange(len(words) - 1)
            words[j], words[j + 1] = words[j + 1], words[j]
        if rng.random() < 0.3:
            j = rng.randrange(len(words))
            w = words[j]
            if len(w) > 3:
                k = rng.randrange(1, len(w) - 1)
                words[j] = w[:k] + w[k + 1 :]
        if rng.random() < 0.2:
            words += rng.choice(pool).split()[:4]
        out.append((i + 1, " ".join(words)))
    return out


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096 / 2**20


def speed(method: str, n: int) -> dict[str, float]:
    """Time and peak extra memory of one ``suggest`` on ``n`` answers (run in this process)."""
    answers = synthetic(n)
    if method == "embed-kmeans":
        themes._wordllama()  # the model loads once per process, not per suggestion
    themes.suggest(answers[:200], method=method)  # imports and first-call costs
    before = _rss_mb()
    peak = before
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_mb())
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    start, cpu = time.perf_counter(), time.process_time()
    result = themes.suggest(answers, method=method)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    done.set()
    watcher.join()
    return {
        "seconds": round(seconds, 2),
        "cpu": round(cpu, 2),
        "extra_mb": round(max(peak, _rss_mb()) - before, 1),
        "groups": len(result.suggestions),
        "unassigned": len(result.unassigned),
    }


def model_load() -> dict[str, float]:
    before = _rss_mb()
    start = time.perf_counter()
    themes._wordllama()
    return {"seconds": round(time.perf_counter() - start, 2), "mb": round(_rss_mb() - before, 1)}


def load_average() -> str:
    with open("/proc/loadavg") as handle:
        return handle.read().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quality", action="store_true", help="quality figures only")
    parser.add_argument("--n", type=int, default=10_000, help="answers for the speed figures")
    parser.add_argument("--speed-of", help=argparse.SUPPRESS)  # one method, in a child process
    parser.add_argument("--methods", default=",".join(themes.METHODS))
    args = parser.parse_args()
    if args.speed_of:
        print(json.dumps(speed(args.speed_of, args.n)))
        return
    methods = args.methods.split(",")
    load = model_load() if "embed-kmeans" in methods else None
    total = sum(len(rows) for rows in labelled().values())
    print(f"labelled set: {total} answers, {len(labelled())} questions ({LABELLED.name})")
    print(f"{'method':<14} {'ARI':>6} {'NMI':>6}   {'ARI k=true':>10} {'NMI k=true':>10}")
    for method in methods:
        ari, nmi, per = quality(method, with_k=False)
        ari_k, nmi_k, _ = quality(method, with_k=True)
        print(f"{method:<14} {ari:6.3f} {nmi:6.3f}   {ari_k:10.3f} {nmi_k:10.3f}")
        print("    " + "  ".join(f"{q} {a:.2f}/{b:.2f}" for q, (a, b) in per.items()))
    if args.quality:
        return
    print(f"\nspeed: suggest on {args.n:,} answers (k chosen automatically), one process each")
    print(f"(load average {load_average()} on {os.cpu_count()} cores: wall time counts it)")
    for method in methods:
        out = subprocess.run(  # noqa: S603 (this script, with its own arguments)
            [sys.executable, __file__, "--speed-of", method, "--n", str(args.n)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{method:<14} {figures['seconds']:6.2f} s (CPU {figures['cpu']:5.2f} s)  "
            f"peak +{figures['extra_mb']:6.1f} MB  "
            f"{figures['groups']} groups, {figures['unassigned']} unassigned"
        )
    if load is not None:
        print(f"WordLlama model load: {load['seconds']} s, +{load['mb']} MB resident (once)")


if __name__ == "__main__":
    main()
