"""Commands in hints, spelled so they run from where the person is (issue 14).

A newcomer who followed the README runs ``.venv/bin/townhall`` without activating the venv; a
hint saying bare ``townhall users add`` would answer them with "command not found".
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def townhall_program(
    executable: str | None = None, path: str | None = None, cwd: str | None = None
) -> str:
    """How to call the ``townhall`` script installed next to this Python, from ``cwd``:
    bare ``townhall`` when that script is the one on PATH, else its (relative) path."""
    script = Path(executable or sys.executable).parent / "townhall"
    if not script.is_file():
        return "townhall"  # not installed as a script (e.g. ``python -m townhall.cli``)
    on_path = shutil.which("townhall", path=os.environ.get("PATH") if path is None else path)
    if on_path is not None and _same(Path(on_path), script):
        return "townhall"
    here = Path(cwd or os.getcwd())
    try:
        relative = script.absolute().relative_to(here.absolute())
    except ValueError:
        return shlex.quote(str(script.absolute()))
    spelled = str(relative) if relative.parent != Path(".") else f"./{relative}"
    return shlex.quote(spelled)


def townhall_command(arguments: str) -> str:
    """``arguments`` after the townhall program as this person can run it."""
    return f"{townhall_program()} {arguments}"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False
