"""``townhall screen``: plain lines are independent answers; JSON lines replay a sequence."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import env, run

__all__ = ["env"]  # the fixture, shared with test_cli

WORDS = (
    "benches trees bins lights paths flowers toilets fountains swings signs slides nets ponds "
    "tables hedges murals kiosks rails steps gates lawns ramps bridges courts shelters taps "
    "racks maps"
)
CLEAN = [f"Idea number {n}: more {word} in the park" for n, word in enumerate(WORDS.split(" "))]


def verdicts(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_plain_lines_are_never_a_flood(env: dict[str, str]) -> None:
    assert len(set(CLEAN)) == 28
    out = verdicts(run(["screen", "--json"], env, "\n".join(CLEAN) + "\n").stdout)
    assert len(out) == 28
    assert [v for v in out if "spam:flood" in v["reasons"]] == []  # type: ignore[operator]
    assert {v["verdict"] for v in out} == {"ok"}


def test_json_lines_replay_one_persons_sequence(env: dict[str, str], tmp_path: Path) -> None:
    def line(n: int, who: str, minute: int) -> str:
        at = f"2026-12-01T09:{minute:02d}:00Z"
        return json.dumps({"text": f"point {n}", "participant": who, "at": at})

    burst = [line(n, "ann", n) for n in range(4)]  # four within ten minutes
    later = [line(9, "ann", 30)]  # after the window: no flood
    other = [line(5, "bob", 3)]
    repeat = [json.dumps({"text": "Point 1!", "participant": "ann", "at": "2026-12-01T09:31:00"})]
    text = "\n".join([*burst, *other, *later, *repeat, '{"text": 5}', "{not json"]) + "\n"
    limited = {**env, "TOWNHALL_FLOOD_LIMIT": "3"}
    proc = run(["screen", "--json"], limited, text)
    out = verdicts(proc.stdout)
    assert [v["reasons"] for v in out] == [[], [], [], ["spam:flood"], [], [], ["spam:repeat"]]
    assert proc.stderr.splitlines() == [
        'line 8: "text" must be a non-empty string',
        "line 9: not valid JSON (Expecting property name enclosed in double quotes)",
    ]
    default = verdicts(run(["screen", "--json"], env, text).stdout)
    assert all("spam:flood" not in v["reasons"] for v in default)  # type: ignore[operator]
