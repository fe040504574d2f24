"""The console as a new user meets it: the README's example, comments, long names (issue 12)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from adapters.console import strip_comment
from tests.test_cli import env, ids_from, run

__all__ = ["env"]  # the fixture, shared with test_cli

README = Path(__file__).parent.parent / "README.md"


def readme_console_blocks() -> list[list[str]]:
    """The lines to type in "Try it in the terminal": its code blocks without a language."""
    section = README.read_text().split("## Try it in the terminal", 1)[1].split("\n### ", 1)[0]
    blocks: list[list[str]] = []
    current: list[str] | None = None
    language = ""
    for line in section.splitlines():
        if line.startswith("```") and current is None:
            current, language = [], line[3:].strip()
        elif line.startswith("```") and current is not None:
            if not language:
                blocks.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return blocks


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        (":as bob                      # switch person", ":as bob"),
        ("vote k3m9xq 2                # press button 2", "vote k3m9xq 2"),
        ('poll "Is # one ok?" "A" "B"  # ask', 'poll "Is # one ok?" "A" "B"'),
        ("answer p8d2wa We're #1 for parks # note", "answer p8d2wa We're #1 for parks"),
        ("answer p8d2wa C# and F# classes", "answer p8d2wa C# and F# classes"),
    ],
)
def test_a_trailing_comment_is_ignored(typed: str, read: str) -> None:
    assert strip_comment(typed) == read


def test_the_readme_console_example_works_when_pasted(env: dict[str, str]) -> None:
    first, second = readme_console_blocks()
    assert any("# " in line for line in first + second)  # the example does carry comments
    officer = run(["chat", "--as", "olivia"], env, "\n".join(first) + "\n")
    assert "(you are now bob)" in officer.stdout
    poll, question = ids_from(officer.stdout)
    typed = "\n".join(second).replace("k3m9xq", poll).replace("p8d2wa", question)
    citizen = run(["chat", "--as", "bob"], env, typed + "\n")
    assert "your vote for “No” is recorded" in citizen.stdout
    assert "your answer is recorded" in citizen.stdout
    assert re.search(r"Usage|can't find|Sorry|not understood", citizen.stdout) is None
    # the shell lines after the session, as written but for the ids
    run(["chat", "--as", "carol"], env, f"vote {poll} 1\n")
    counted = json.loads(run(["results", poll, "--json"], env).stdout)
    assert [o["votes"] for o in counted["options"]] == [1, 1]
    assert json.loads(run(["results", question, "--json"], env).stdout)["answers"] == [
        {
            "text": "More benches, fewer empty shops",
            "platform": "console",
            "status": "visible",
            "language": "en",
        }
    ]
