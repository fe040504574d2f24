"""scripts/install-system-deps decides what to install like a newcomer's machine needs: as root
or through sudo, skipping what is there, never Debian's npm beside another Node.js."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "install-system-deps"
BASICS = ("bash", "env", "grep", "cut", "sed", "ls", "sort", "tail", "seq", "sleep", "cat")


def machine(tmp_path: Path, *, uid: int, tools: tuple[str, ...], nodejs_from: str = "") -> Path:
    """A PATH holding only the basics, stubs for ``tools``, and a recording apt-get."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in BASICS:
        found = shutil.which(name)
        assert found, name
        (bin_dir / name).symlink_to(found)
    (bin_dir / "python3").symlink_to(Path(sys.executable).resolve())  # 3.11+, with venv
    log = tmp_path / "calls.log"
    stubs = {
        "id": f"echo {uid}",
        "apt-get": f'echo "apt-get $*" >> {log}',
        "dpkg-query": f"echo '{nodejs_from}'",
        "sudo": f'echo "sudo $1" >> {log}; "$@"',
    }
    for name in tools:
        stubs.setdefault(name, "true")
    for name, body in stubs.items():
        path = bin_dir / name
        path.write_text(f"#!{shutil.which('bash')}\n{body}\n")
        path.chmod(0o755)
    log.touch()
    return bin_dir


def install(bin_dir: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    proc = subprocess.run(
        [str(bin_dir / "bash"), str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/root")},
        timeout=60,
        check=False,
    )
    return proc, (bin_dir.parent / "calls.log").read_text()


def test_nothing_to_do_installs_nothing(tmp_path: Path) -> None:
    bin_dir = machine(tmp_path, uid=1000, tools=("node", "npm", "chromium", "soffice"))
    proc, calls = install(bin_dir)
    assert proc.returncode == 0, proc.stderr
    assert "already installed" in proc.stdout and calls == ""


@pytest.mark.parametrize(("uid", "via_sudo"), [(0, False), (1000, True)])
def test_installs_only_what_is_missing_as_root_or_through_sudo(
    tmp_path: Path, uid: int, via_sudo: bool
) -> None:
    bin_dir = machine(tmp_path, uid=uid, tools=("soffice",))
    proc, calls = install(bin_dir, "--tests", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "installing: nodejs npm chromium postgresql" in proc.stdout and calls == ""

    proc, calls = install(bin_dir)
    assert proc.returncode == 0, proc.stderr
    lines = calls.splitlines()
    assert any(line.endswith("apt-get update -qq") for line in lines)
    assert any(line.endswith("apt-get install -y -qq nodejs npm") for line in lines)
    assert ("sudo env" in calls) == via_sudo


def test_no_debian_npm_beside_a_node_from_elsewhere(tmp_path: Path) -> None:
    other = machine(tmp_path, uid=0, tools=("node",), nodejs_from="NodeSource <support@x>")
    proc, calls = install(other)
    assert proc.returncode == 1 and calls == ""
    assert "install npm from the same source as that Node.js" in proc.stderr


def test_debian_node_without_npm_gets_debian_npm(tmp_path: Path) -> None:
    debian = machine(tmp_path, uid=0, tools=("node",), nodejs_from="Debian Javascript Maintainers")
    proc, calls = install(debian)
    assert proc.returncode == 0, proc.stderr
    assert calls.splitlines()[-1].endswith("apt-get install -y -qq npm")


def test_not_root_and_no_sudo_says_so(tmp_path: Path) -> None:
    bin_dir = machine(tmp_path, uid=1000, tools=())
    (bin_dir / "sudo").unlink()
    proc, calls = install(bin_dir)
    assert proc.returncode == 1 and calls == ""
    assert "run this as root, or install sudo" in proc.stderr
