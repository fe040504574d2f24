"""Top frames of a py-spy ``--format raw`` profile (collapsed stacks), by share of samples.

    python bench/ingest_profile.py profile.txt [--top 30]

Inclusive share: samples with the frame anywhere on the stack (what it and its callees cost).
Self share: samples with the frame on top (where the CPU actually was).
By package: self samples grouped by the top frame's package (sqlalchemy, asyncpg, telegram,
httpcore, aiohttp, asyncio, ours...). SQLAlchemy's async layer runs statements on greenlets,
which py-spy shows as separate stacks rooted at ``Session.execute`` and the like: the package
view counts them where they belong, the inclusive view does not see their callers.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::\d+)?\)$")


def short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "/lib/python3", "/i16b/", "/work/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})"


def package(frame: str) -> str:
    """``sqlalchemy``, ``asyncio``, ``bot``... (py-spy names files relative to sys.path)."""
    match = _FRAME.match(frame)
    path = match["file"] if match else frame
    for marker in ("site-packages/", "/lib/python3.11/", "/lib/python3.12/", "/i16b/"):
        path = path.split(marker, 1)[-1]
    return path.split("/", 1)[0].removesuffix(".py") if "/" in path else path


def summarise(raw: Path, top: int = 30) -> str:
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [short(f) for f in stack.split(";")]
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        leaf[frames[-1]] += n
        packages[package(stack.split(";")[-1])] += n
    lines = [f"{total} samples", "inclusive (frame anywhere on the stack):"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    lines.append("self, by package of the top frame:")
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in packages.most_common(15)]
    lines.append("self (frame on top of the stack):")
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in leaf.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("raw", type=Path)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    print(summarise(args.raw, args.top))


if __name__ == "__main__":
    main()
