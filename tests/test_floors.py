"""The floors: an import may only point down (docs/architecture.md).

storage < bot < services < handlers < {adapters, dashboard} < townhall. Adapters and the
dashboard are peers that never import each other. Every import counts, including those inside
functions and under ``TYPE_CHECKING``: a type-only dependency upward is still one. tests/ and
bench/ sit outside the floors and may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RANK = {
    "storage": 0,
    "bot": 1,
    "services": 2,
    "handlers": 3,
    "adapters": 4,
    "dashboard": 4,
    "townhall": 5,
}


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module) for every import statement in the file at ``path``.

    ``package`` is the dotted package holding the file (for relative imports).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def violations(root: Path) -> list[str]:
    """Every import under ``root`` that runs up a floor or sideways between peers."""
    problems: list[str] = []
    for floor in RANK:
        for path in sorted((root / floor).rglob("*.py")):
            relative = path.relative_to(root)
            package = ".".join(relative.parts[:-1])  # a module's package, or the package itself
            for line, module in imported_modules(path, package):
                target = module.split(".")[0]
                if target not in RANK or target == floor:
                    continue
                upward = RANK[target] > RANK[floor]
                sideways = RANK[target] == RANK[floor]
                if upward or sideways:
                    problems.append(
                        f"{relative}:{line}: {floor}/ imports {module} "
                        f"({'a floor above' if upward else 'a peer'})"
                    )
    return problems


def test_no_import_runs_upward() -> None:
    assert violations(ROOT) == []


def test_every_package_has_a_floor() -> None:
    """A new top-level package must be given a floor here, or it escapes the check."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - {"tests", "bench"} == set(RANK)


def _plant(root: Path, files: dict[str, str]) -> Path:
    for floor in RANK:
        (root / floor).mkdir(parents=True, exist_ok=True)
        (root / floor / "__init__.py").write_text("")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("bot/events.py", "from handlers import polls\n", "bot/ imports handlers"),
        ("storage/db.py", "import bot.config\n", "storage/ imports bot.config"),
        ("services/cards.py", "from handlers.polls import router\n", "services/ imports"),
        (
            "handlers/polls.py",
            "def later():\n    from townhall.app import Townhall\n",
            "handlers/ imports townhall.app",
        ),
        (
            "dashboard/core.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from adapters import web\n",
            "a peer",
        ),
        ("adapters/web/pages.py", "from dashboard import core\n", "a peer"),
        ("bot/sub/mod.py", "from ...services import cards\n", "bot/ imports services"),
    ],
)
def test_checker_catches_a_planted_upward_import(
    tmp_path: Path, name: str, text: str, needle: str
) -> None:
    root = _plant(tmp_path, {name: text})
    found = violations(root)
    assert len(found) == 1, found
    assert needle in found[0]
    assert found[0].startswith(f"{name}:")


def test_checker_allows_downward_and_same_floor_imports(tmp_path: Path) -> None:
    root = _plant(
        tmp_path,
        {
            "townhall/app.py": "import adapters.web\nfrom dashboard import core\n",
            "handlers/polls.py": "from services import cards\nfrom bot.views import Card\n",
            "adapters/web/pages.py": "from bot import views\nfrom . import html\n",
            "storage/db.py": "import sqlalchemy\nfrom storage import models\n",
        },
    )
    assert violations(root) == []
