"""Fuzzing helpers: payloads mutated from real ones by Hypothesis, and a log that is watched.

Payloads are generated up front (``derandomize=True``: the same cases on every run), then
replayed against the running server, a few at a time. Each endpoint's test runs on both
databases; together they send about 13,700 cases per run of the suite (6,850 per database;
Discord interactions through the fake gateway included).
Every base payload carries marker ids and words; the captured log must never contain them, nor
a traceback.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot import logs

#: Scales every endpoint's case count (CI runs the default; 0.1 for a quick local look).
SCALE = float(os.environ.get("TOWNHALL_FUZZ_SCALE", "1"))
#: In every base payload: a person's words and ids that must never reach the log.
SECRET_WORDS = "Marigold zebra crossing"
CONCURRENCY = 8

Path = tuple[Any, ...]

ODD_STRINGS = [
    "",
    "\x00",
    "a\x00b",
    "²",
    "١٢",
    "-1",
    "1e999",
    "99999999999999999999",
    "A99999999999999999999",
    "\u200b\u200d\ufeff",
    "\ud800",
    "vote:ABCDEF:²",
    "vote::",
    "::::",
    "x" * 5000,
    "/poll",
    "report A1",
]
ODD_NUMBERS = [0, -1, 2**31, 2**63, 2**64 + 1, -(2**63) - 1, 10**30, 1.5, -0.0, 1e300]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(ODD_NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(ODD_STRINGS),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
DELETE = object()


def raw_bodies(max_size: int) -> st.SearchStrategy[bytes]:
    """Request bodies that are not a payload at all: bytes, or JSON of any shape."""
    return st.one_of(
        st.binary(max_size=max_size), values.map(lambda v: json.dumps(v).encode("utf-8"))
    )


def paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every key path in a JSON document (the document itself excluded)."""
    items: Any = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def apply(base: Any, changes: Sequence[tuple[Path, Any]]) -> Any:
    doc = copy.deepcopy(base)
    for path, value in changes:
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if value is DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced a parent
    return doc


@dataclass(frozen=True)
class Mutant:
    """A base payload with some fields changed; shown as the base's number and the changes."""

    doc: Any
    base: int
    changes: tuple[tuple[Path, Any], ...]

    def __repr__(self) -> str:
        shown = [(p, "<deleted>" if v is DELETE else v) for p, v in self.changes]
        return f"base #{self.base} with {shown!r}"


def mutations(bases: Sequence[Any]) -> st.SearchStrategy[Mutant]:
    """One of ``bases`` with up to three fields replaced by odd values or removed."""

    def mutate(index: int) -> st.SearchStrategy[Mutant]:
        base = bases[index]
        where = list(paths(base))
        change = st.tuples(st.sampled_from(where), st.one_of(values, st.just(DELETE)))
        return st.lists(change, min_size=1, max_size=3).map(
            lambda cs: Mutant(apply(base, cs), index, tuple(cs))
        )

    return st.sampled_from(range(len(bases))).flatmap(mutate)


def examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` cases of ``strategy``, the same on every run."""
    out: list[Any] = []

    @settings(
        max_examples=max(1, int(count * SCALE)),
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(case: Any) -> None:
        out.append(case)

    collect()
    return out


@dataclass
class Findings:
    """What went wrong across a fuzz run (kept short: the first few of each kind)."""

    cases: int = 0
    bad: list[str] = field(default_factory=list)

    def record(self, what: str) -> None:
        if len(self.bad) < 5:
            self.bad.append(what[:600])
        else:
            self.bad.append("...")
            del self.bad[5:-1]


async def replay(
    cases: Sequence[Any], send: Callable[[Any], Awaitable[int]], findings: Findings
) -> None:
    """Send every case (a few at a time); anything answered 5xx or raising is a finding."""
    queue = list(cases)

    async def worker() -> None:
        while queue:
            case = queue.pop()
            findings.cases += 1
            try:
                status = await send(case)
            except Exception as exc:
                findings.record(f"{type(exc).__name__}: {exc} for {case!r}")
                continue
            if status >= 500:
                findings.record(f"{status} for {case!r}")

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


@contextmanager
def watched_log() -> Iterator[io.StringIO]:
    """Townhall's own logging set-up, our loggers at DEBUG and libraries at INFO, into a buffer."""
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    import sys

    real = sys.stderr
    sys.stderr = buffer  # logs.configure writes to sys.stderr as it is when called
    try:
        logs.configure("INFO", "json")
        logging.getLogger("townhall").setLevel(logging.DEBUG)
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    finally:
        sys.stderr = real
    try:
        yield buffer
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
        structlog.reset_defaults()


@contextmanager
def fuzzing(secrets: Sequence[str]) -> Iterator[tuple[Findings, io.StringIO]]:
    """A fuzz run: its findings and the watched log, checked (:func:`check`) when it ends."""
    findings = Findings()
    with watched_log() as log:
        yield findings, log
    check(findings, log.getvalue(), secrets)


def check(findings: Findings, log: str, secrets: Sequence[str]) -> None:
    """No 5xx, no exception, no traceback, no secret in the log.

    ``TOWNHALL_FUZZ_LOG=path`` keeps the whole log there for a closer look.
    """
    keep = os.environ.get("TOWNHALL_FUZZ_LOG")
    if keep:
        with open(keep, "w") as out:
            out.write("\n".join(findings.bad) + "\n\n" + log)
    assert not findings.bad, findings.bad
    found = leaks(log, secrets)
    assert not found, found[0][:2000]


def leaks(log: str, secrets: Sequence[str]) -> list[str]:
    """Secrets (raw ids, people's words) and tracebacks found in the log text."""
    found = [s for s in secrets if s in log]
    if "Traceback" in log:
        start = log.index("Traceback")
        found.append("a traceback: " + log[max(0, start - 300) : start + 1500])
    return found


@asynccontextmanager
async def nothing() -> AsyncIterator[None]:
    yield
