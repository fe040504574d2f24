"""bench/ingest.py keeps working: a one-second run on SQLite completes and every acknowledged
click is one vote row. Figures are printed, never asserted (see docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "ingest.py"


@pytest.mark.parametrize("platform", ["telegram", "web"])
def test_ingest_bench_runs_and_rows_equal_acknowledged(platform: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            *(sys.executable, str(BENCH), "--platform", platform, "--db", "sqlite"),
            *("--seconds", "1", "--warmup", "0.2", "--concurrency", "4"),
            *("--paths", "bare,grouped,townhall", "--logs", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no double counts: OK" in proc.stdout
    (townhall,) = [line.split() for line in proc.stdout.splitlines() if "townhall " in line[:12]]
    rows, equals, acked = townhall[-4:-1]  # "... 128 = 128 0.012"
    assert equals == "=" and int(rows) > 0 and rows == acked
