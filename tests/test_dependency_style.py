"""One dependency style: handlers reach the database through the repositories on ``Context``,
and SQL is written only in storage/ (docs/architecture.md, "The floors").

Read from the source with ``ast``, like tests/test_floors.py; the exceptions are listed here,
each with its reason, so a new one is a visible decision.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("bot", "services", "handlers", "adapters", "dashboard", "townhall")

#: Handlers may hand their transaction to these domain services (which share it with the
#: dashboard, the CLI and the scheduler and so take a session, not a Context).
SESSION_SERVICES = frozenset(
    {
        "results.compute",
        "lifecycle.request_refresh",
        "lifecycle.close_item",
        "consultation_response.respond",
        "consultation_response.headline",
    }
)
#: Query builders: a module outside storage/ that imports one is writing SQL.
QUERY_BUILDERS = frozenset({"select", "insert", "update", "delete", "text"})
#: Reaching into a session directly instead of through a repository method.
SESSION_QUERIES = frozenset({"get", "execute", "scalar", "scalars", "stream", "stream_scalars"})


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def handler_problems(tree: ast.AST) -> list[tuple[int, str]]:
    """``ctx.session`` anywhere in a handler except as an argument to ``SESSION_SERVICES``."""
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _dotted(node.func) in SESSION_SERVICES:
            allowed.update(id(a) for a in node.args if _dotted(a) == "ctx.session")
    return [
        (node.lineno, f"uses ctx.session ({ast.unparse(node)}): add a repository to Context")
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and _dotted(node) == "ctx.session"
        and id(node) not in allowed
    ]


def query_problems(tree: ast.AST) -> list[tuple[int, str]]:
    """SQLAlchemy query builders imported, or a session queried directly."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            for alias in node.names:
                if alias.name in QUERY_BUILDERS:
                    found.append((node.lineno, f"imports {node.module}.{alias.name}"))
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted.startswith("sqlalchemy.") and node.attr in QUERY_BUILDERS:
                found.append((node.lineno, f"uses {dotted}"))
            elif node.attr in SESSION_QUERIES and _dotted(node.value).endswith("session"):
                found.append((node.lineno, f"queries the session directly ({dotted})"))
    return found


def violations(root: Path) -> list[str]:
    problems: list[str] = []
    for floor in PRODUCTION:
        for path in sorted((root / floor).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            found = query_problems(tree)
            if floor == "handlers":
                found += handler_problems(tree)
            problems += [f"{path.relative_to(root)}:{line}: {why}" for line, why in found]
    return problems


def test_sql_stays_in_storage_and_handlers_use_context_repositories() -> None:
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        (
            "handlers/polls.py",
            "async def h(ctx):\n    await ItemRepository(ctx.session).list()\n",
            "uses ctx.session",
        ),
        (
            "handlers/polls.py",
            "async def h(ctx):\n    await ctx.session.get(Item, 1)\n",
            "uses ctx.session",
        ),
        ("services/exports.py", "from sqlalchemy import func, select\n", "sqlalchemy.select"),
        ("townhall/demo/x.py", "import sqlalchemy\nq = sqlalchemy.text('1')\n", "sqlalchemy.text"),
        (
            "dashboard/pages/item.py",
            "async def f(session):\n    await session.execute(q)\n",
            "queries the session directly",
        ),
        (
            "bot/delivery.py",
            "async def f(self):\n    await self.session.scalar(q)\n",
            "queries the session directly",
        ),
    ],
)
def test_checker_catches_a_planted_violation(
    tmp_path: Path, name: str, text: str, needle: str
) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True)
    path.write_text(text)
    found = violations(tmp_path)
    assert found and all(f.startswith(f"{name}:") for f in found), found
    assert any(needle in f for f in found), found


def test_checker_allows_storage_sql_and_handing_the_session_to_a_service(tmp_path: Path) -> None:
    files = {
        "storage/items.py": (
            "from sqlalchemy import select\nasync def f(session):\n    await session.execute(1)\n"
        ),
        "handlers/admin.py": (
            "async def h(ctx):\n"
            "    await results.compute(ctx.session, item)\n"
            "    await ctx.items.get(1)\n"
        ),
        "services/x.py": "from sqlalchemy.ext.asyncio import AsyncSession\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert violations(tmp_path) == []
