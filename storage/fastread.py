"""Reads for the short CLI commands (``townhall results``, ``list``) on the bare drivers.

``townhall results ID --json`` runs in scripts, so its start-up is most of its cost: importing
SQLAlchemy alone takes longer than the whole answer should (docs/performance.md, CLI start-up).
These reads therefore use the stdlib ``sqlite3`` module or ``asyncpg`` directly, with the same
SQL the repositories build (items, options, the vote counters of migration 0009, answers), in
one read-only transaction that also checks the schema revision. Each read is a *plan*: a
generator that yields ``(sql, args)`` and receives the rows, run by either driver. SQL uses
``$1``-style parameters (SQLite reads them as ``?1``).

:class:`Unavailable` means "take the ordinary path" (an unusual URL, a driver error); the
ordinary path then answers, or fails, exactly as it always did.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from storage.revisions import SchemaBehind, heads_on_disk

T = TypeVar("T")
Rows = list[tuple[Any, ...]]
Plan = Generator[tuple[str, tuple[Any, ...]], Rows, T]

PUBLIC_STATUSES = ("visible",)
ALL_STATUSES = ("visible", "held", "hidden")
#: Consultation items whose whys and comments are their answers (services.consultations).
WITH_TEXT = ("rating", "clause")


class Unavailable(Exception):
    """This reader cannot answer here; the caller takes the ordinary (SQLAlchemy) path."""


@dataclass(frozen=True, slots=True)
class Results:
    """What ``services.results.ItemResults`` holds, as plain values."""

    id: str
    kind: str
    question: str
    status: str
    participants: int
    responses: int
    #: (label, votes, percent), by position
    options: list[tuple[str, int, float]] = field(default_factory=list)
    by_platform: dict[str, int] = field(default_factory=dict)
    #: (text, platform, status, language or None), oldest first
    answers: list[tuple[str, str, str, str | None]] = field(default_factory=list)


def _statuses(include_hidden: bool) -> str:
    """Constants only (never user input): an ``IN`` list both databases read the same way."""
    chosen = ALL_STATUSES if include_hidden else PUBLIC_STATUSES
    return ", ".join(f"'{s}'" for s in chosen)


def _checked(plan: Plan[T]) -> Plan[T]:
    """Any plan, after the schema check (``SchemaBehind`` unless the database is at head)."""
    heads = heads_on_disk()
    if heads is None:
        raise Unavailable("migration files not in the plain form")
    found = {row[0] for row in (yield "SELECT version_num FROM alembic_version", ())}
    if found != heads:
        raise SchemaBehind(found, heads)
    return (yield from plan)


def list_items(status: str | None, limit: int) -> Plan[Rows]:
    """``ItemRepository.list``: (short_id, kind, question, status), newest first."""
    where = " WHERE status = $1" if status else ""
    rows = yield (
        f"SELECT short_id, kind, question, status FROM items{where} "  # noqa: S608
        f"ORDER BY created_at DESC, id DESC LIMIT {int(limit)}",
        (status,) if status else (),
    )
    return rows


def item_results(short_id: str, include_hidden: bool) -> Plan[Results | None]:
    """``services.consultations.item_results`` from the counters; None for an unknown id."""
    found = yield (
        "SELECT id, short_id, kind, question, status FROM items WHERE short_id = $1",
        (short_id.strip().lower(),),
    )
    if not found:
        return None
    item_id, short, kind, question, status = found[0]
    statuses = _statuses(include_hidden)
    answers_sql = (
        f"SELECT text, platform, status, language FROM answers WHERE item_id = $1 "  # noqa: S608
        f"AND status IN ({statuses}) ORDER BY created_at, id"
    )
    if kind == "ask":
        per_platform = yield (
            "SELECT platform, count(id), count(DISTINCT participant_id) FROM answers "  # noqa: S608
            f"WHERE item_id = $1 AND status IN ({statuses}) GROUP BY platform",
            (item_id,),
        )
        answers = yield answers_sql, (item_id,)
        return Results(
            short,
            kind,
            question,
            status,
            sum(int(people) for _, _, people in per_platform),
            sum(int(n) for _, n, _ in per_platform),
            by_platform={platform: int(people) for platform, _, people in per_platform},
            answers=[tuple(a) for a in answers],
        )
    options = yield (
        "SELECT id, label FROM options WHERE item_id = $1 ORDER BY position",
        (item_id,),
    )
    counted = yield (
        "SELECT option_id, votes FROM option_tallies WHERE item_id = $1",
        (item_id,),
    )
    platforms = yield (
        "SELECT platform, participants FROM platform_tallies "
        "WHERE item_id = $1 AND participants != 0",
        (item_id,),
    )
    counts = {option_id: int(n) for option_id, n in counted}
    by_platform = {platform: int(n) for platform, n in platforms}
    votes = [(label, counts.get(option_id, 0)) for option_id, label in options]
    participants, responses = sum(by_platform.values()), sum(n for _, n in votes)
    # Single choice: share of votes. Multi choice: share of participants who chose it.
    base = participants if kind == "multi" else responses
    text = (yield answers_sql, (item_id,)) if kind in WITH_TEXT else []
    return Results(
        short,
        kind,
        question,
        status,
        participants,
        responses,
        options=[(label, n, round(100 * n / base, 1) if base else 0.0) for label, n in votes],
        by_platform=by_platform,
        answers=[tuple(a) for a in text],
    )


def run(url: str, plan: Plan[T]) -> T:
    """Run ``plan`` after the schema check, in one read-only transaction on ``url``.

    Raises :class:`SchemaBehind` (not at the newest revision) or :class:`Unavailable`.
    """
    if "?" in url or "#" in url:  # driver options: only the ordinary path reads those
        raise Unavailable("URL with options")
    if url.startswith("sqlite+aiosqlite:///"):
        return _run_sqlite(url.removeprefix("sqlite+aiosqlite:///"), _checked(plan))
    if url.startswith("postgresql+asyncpg://") and "," not in url:
        import asyncio

        dsn = "postgresql://" + url.removeprefix("postgresql+asyncpg://")
        return asyncio.run(_run_postgres(dsn, _checked(plan)))
    raise Unavailable("not a URL this reader knows")


@dataclass(frozen=True, slots=True)
class _Done(Generic[T]):
    value: T


def _advance(plan: Plan[T], rows: Rows | None) -> tuple[str, tuple[Any, ...]] | _Done[T]:
    """The plan's next query, or its result (``rows`` None: the first query)."""
    try:
        return plan.send(rows)  # type: ignore[arg-type]  # send(None) starts a generator
    except StopIteration as done:
        return _Done(done.value)


def _failed(sql: str, why: object, *, no_table: bool) -> Exception:
    """A query failed: no ``alembic_version`` table means no schema; else the ordinary path."""
    if no_table and "alembic_version" in sql:
        return SchemaBehind(None, heads_on_disk() or set())
    return Unavailable(str(why))


def _run_sqlite(path: str, plan: Plan[T]) -> T:
    import sqlite3

    if path in ("", ":memory:"):
        raise Unavailable("an in-memory database")
    if not Path(path).exists():
        # no file: no schema (the ordinary path would create an empty file, this one does not)
        raise _failed("alembic_version", path, no_table=True)
    try:
        conn = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=rw", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise Unavailable(str(exc)) from None
    try:
        conn.isolation_level = None
        conn.execute("BEGIN")  # one snapshot for every read (WAL: writers carry on)
        step = _advance(plan, None)
        while not isinstance(step, _Done):
            sql, args = step
            try:
                rows = conn.execute(sql.replace("$", "?"), args).fetchall()
            except sqlite3.Error as exc:
                raise _failed(sql, exc, no_table="no such table" in str(exc)) from None
            step = _advance(plan, rows)
        return step.value
    finally:
        conn.close()


async def _run_postgres(dsn: str, plan: Plan[T]) -> T:
    import asyncpg  # type: ignore[import-untyped]

    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise Unavailable(str(exc)) from None
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            step = _advance(plan, None)
            while not isinstance(step, _Done):
                sql, args = step
                try:
                    rows = [tuple(r) for r in await conn.fetch(sql, *args)]
                except asyncpg.PostgresError as exc:
                    raise _failed(sql, exc, no_table="no such table" in str(exc)) from None
                step = _advance(plan, rows)
            return step.value
    finally:
        await conn.close()
