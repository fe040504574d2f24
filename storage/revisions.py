"""The newest schema revision, read from ``migrations/versions`` without Alembic or SQLAlchemy.

Light on purpose: the short CLI commands (``townhall results``, ``list``) compare the database's
``alembic_version`` with this and refuse a database that is not at it, with one line.
"""

from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN = re.compile(r"^down_revision[^=]*=(.*)$", re.M)


class SchemaBehind(Exception):
    """The database is not at the newest revision this code knows (``found`` is None when it
    has no ``alembic_version`` table at all)."""

    def __init__(self, found: set[str] | None, heads: set[str]) -> None:
        super().__init__(f"database at {sorted(found or [])}, code at {sorted(heads)}")
        self.found = found
        self.heads = heads


def heads_on_disk() -> set[str] | None:
    """The newest revisions in ``migrations/versions``, read from the files without Alembic;
    None when a file is not in the plain form this reader understands."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        downs.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    return (revisions - downs) or None
