"""Small-number suppression for every breakdown shown or exported (page, JSON, CSV, ODS).

A breakdown is a table of counts: rows are the groups of a profile question (age bands, ...),
columns an item's options; each row has a total, and the column totals and the overall total
are public anyway (they are the item's ordinary results). So what is published must not let
anyone work out a count below ``TOWNHALL_MIN_CELL``:

- primary: every cell (a row total too) below the minimum is withheld, shown as "fewer than N";
- secondary, repeated until nothing changes:

  * a row or column holding withheld cells must hold at least two, and what is withheld in it
    must leave each of them at least two possible values (counting that a "fewer than N" cell
    is 0..N-1 and any other withheld cell is at least N): otherwise the smallest published
    cell of it is withheld too;
  * taken together the rows and columns must not pin a withheld cell either: a cell is pinned
    exactly when it is a bridge of the graph whose nodes are rows and columns and whose edges
    are the withheld cells (one not on any cycle), so such a cell gets a partner that closes
    a cycle through it (the smallest published cell that can).

Withheld cells are ``None``; :attr:`Protected.fewer` says which are below the minimum.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Cell = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Protected:
    """A table as it may be published: ``cells[i][j]`` is None where withheld; the last
    column is each row's total. ``fewer`` holds the withheld cells below the minimum."""

    cells: list[list[int | None]]
    fewer: frozenset[Cell]
    column_totals: list[int]
    total: int

    def withheld(self, i: int, j: int) -> bool:
        return self.cells[i][j] is None


def protect(counts: Sequence[Sequence[int]], min_cell: int) -> Protected:
    """Suppress ``counts`` (rows of cells, without totals) for publication with its row totals
    (withheld or not), its column totals and its overall total."""
    table = [[*row, sum(row)] for row in counts]
    width = len(table[0]) if table else 0
    column_totals = [sum(row[j] for row in table) for j in range(width - 1)]
    fewer = {(i, j) for i, row in enumerate(table) for j, n in enumerate(row) if n < min_cell}
    hidden = set(fewer)
    while _widen(table, hidden, fewer, min_cell) or _close_bridge(table, hidden):
        pass
    cells: list[list[int | None]] = [
        [None if (i, j) in hidden else n for j, n in enumerate(row)] for i, row in enumerate(table)
    ]
    return Protected(cells, frozenset(fewer), column_totals, sum(column_totals))


def _lines(rows: int, width: int) -> Iterable[list[Cell]]:
    for i in range(rows):
        yield [(i, j) for j in range(width)]
    for j in range(width):
        yield [(i, j) for i in range(rows)]


def _widen(table: list[list[int]], hidden: set[Cell], fewer: set[Cell], min_cell: int) -> bool:
    """Withhold one more cell in the first row or column that does not protect its own."""
    width = len(table[0]) if table else 0
    for line in _lines(len(table), width):
        held = [c for c in line if c in hidden]
        shown = [c for c in line if c not in hidden]
        if not held or not shown:
            continue
        if len(held) == 1 or not _each_open(table, held, fewer, min_cell):
            hidden.add(min(shown, key=lambda c: (table[c[0]][c[1]], c)))
            return True
    return False


def _each_open(table: list[list[int]], held: list[Cell], fewer: set[Cell], min_cell: int) -> bool:
    """Whether every withheld cell of a line keeps two possible values, knowing what is
    withheld in the line adds up to a known sum (ignoring signs: a row's total is minus)."""
    if any(j == len(table[0]) - 1 for _, j in held) and any(
        j != len(table[0]) - 1 for _, j in held
    ):
        return True  # a withheld row total beside its cells: their sum is not published
    low = {c: 0 if c in fewer else min_cell for c in held}
    high = {c: min_cell - 1 if c in fewer else None for c in held}
    total = sum(table[i][j] for i, j in held)
    for cell in held:
        others = [c for c in held if c != cell]
        top = total - sum(low[c] for c in others)
        caps = [high[c] for c in others]
        bottom = total - sum(c for c in caps if c is not None) if None not in caps else 0
        own_high = high[cell]
        upper = top if own_high is None else min(top, own_high)
        if upper - max(low[cell], bottom) < 1:
            return False
    return True


def _close_bridge(table: list[list[int]], hidden: set[Cell]) -> bool:
    """Withhold a partner for a withheld cell that the totals alone would pin."""
    for bridge in sorted(hidden):
        rest = hidden - {bridge}
        side = _component(("r", bridge[0]), rest)
        if ("c", bridge[1]) in side:
            continue  # on a cycle: not pinned
        other = _component(("c", bridge[1]), rest)
        candidates = [
            (i, j)
            for i, row in enumerate(table)
            for j in range(len(row))
            if (i, j) not in hidden
            and (
                (("r", i) in side and ("c", j) in other) or (("r", i) in other and ("c", j) in side)
            )
        ]
        if candidates:
            hidden.add(min(candidates, key=lambda c: (table[c[0]][c[1]], c)))
            return True
    return False


def _component(start: tuple[str, int], edges: set[Cell]) -> set[tuple[str, int]]:
    seen = {start}
    todo = [start]
    while todo:
        kind, n = todo.pop()
        for i, j in edges:
            if (kind == "r" and i == n) or (kind == "c" and j == n):
                node = ("c", j) if kind == "r" else ("r", i)
                if node not in seen:
                    seen.add(node)
                    todo.append(node)
    return seen
